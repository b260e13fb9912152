"""The merge engine: Word MERGEFIELDs, letter books, HTML/text renderings, PDF and {{Field}} e-mail bodies."""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from rapport.core.merge import (
    FIELD_NAMES,
    ConversionFailed,
    LetterBook,
    docx_to_html,
    docx_to_text,
    is_html,
    is_word,
    make_docx,
    merge_docx,
    merge_fields_in_docx,
    merge_letters,
    render_text,
    to_pdf,
)
from rapport.errors import Invalid

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # stands for an image: only its bytes are compared


# --- helpers ------------------------------------------------------------------------------------------------------


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def document(body: str, *, namespaces: str = f'xmlns:w="{W}" xmlns:r="{R}"', prefix: str = "w") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{prefix}:document {namespaces}>'
        f"<{prefix}:body>{body}<{prefix}:sectPr/></{prefix}:body></{prefix}:document>"
    )


def with_parts(docx: bytes, parts: dict[str, str | bytes]) -> bytes:
    """`docx` with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info))
        for name, data in parts.items():
            target.writestr(name, data.encode() if isinstance(data, str) else data)
    return out.getvalue()


def template(body: str, **kwargs: str) -> bytes:
    return with_parts(make_docx(["x"]), {"word/document.xml": document(body, **kwargs)})


def part(docx: bytes, name: str = "word/document.xml") -> ET.Element:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return ET.fromstring(archive.read(name))


def paragraphs(docx: bytes, name: str = "word/document.xml") -> list[str]:
    """The text of each paragraph of the body (breaks as \\n, tabs as \\t)."""
    texts = []
    for p in part(docx, name).iter(w("p")):
        text = ""
        for element in p.iter():
            if element.tag == w("t"):
                text += element.text or ""
            elif element.tag == w("br") and element.get(w("type")) != "page":
                text += "\n"
            elif element.tag == w("tab"):
                text += "\t"
        texts.append(text)
    return texts


def assert_valid_docx(docx: bytes) -> None:
    """Every part is well-formed and has a content type; every relationship the document uses exists."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        types = ET.fromstring(archive.read("[Content_Types].xml"))
        defaults = {d.get("Extension", "").lower() for d in types.iter(f"{{{CT}}}Default")}
        overrides = {o.get("PartName") for o in types.iter(f"{{{CT}}}Override")}
        for name in names - {"[Content_Types].xml"}:
            assert f"/{name}" in overrides or name.rsplit(".", 1)[-1].lower() in defaults, name
            if name.endswith((".xml", ".rels")):
                ET.fromstring(archive.read(name))
        assert "/word/document.xml" in overrides
        relationships = {}
        if "word/_rels/document.xml.rels" in names:
            for rel in ET.fromstring(archive.read("word/_rels/document.xml.rels")):
                relationships[rel.get("Id")] = rel
                if rel.get("TargetMode") != "External":
                    assert posixpath.normpath(posixpath.join("word", rel.get("Target", ""))) in names, rel.attrib
        root = ET.fromstring(archive.read("word/document.xml"))
        assert root.tag == w("document") and root.find(w("body")) is not None
        for element in root.iter():
            for attribute, value in element.attrib.items():
                if attribute.startswith(f"{{{R}}}"):
                    assert value in relationships, value


def complex_field(*instruction: str, result: str = "«Field»", result_rpr: str = "") -> str:
    """A complex field as Word writes it, the instruction split over one run per piece."""
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        + "".join(f'<w:r><w:instrText xml:space="preserve">{piece}</w:instrText></w:r>' for piece in instruction)
        + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + f"<w:r>{result_rpr}<w:t>{result}</w:t></w:r>"
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def image_template(text: str) -> bytes:
    """A one-paragraph template holding an inline PNG (a relationship and a media part of its own)."""
    drawing = (
        '<w:r><w:drawing><wp:inline><wp:extent cx="9525" cy="9525"/><wp:docPr id="1" name="logo"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="0" name="logo.png"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip r:embed="rIdLogo"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="9525" cy="9525"/></a:xfrm><a:prstGeom prst="rect"/>'
        "</pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
    namespaces = (
        f'xmlns:w="{W}" xmlns:r="{R}" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
    )
    body = f"<w:p>{drawing}</w:p><w:p><w:r><w:t>{text}</w:t></w:r>{complex_field(' MERGEFIELD Contact_Name ')}</w:p>"
    base = make_docx(["x"])
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        types = archive.read("[Content_Types].xml").decode()
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rIdLogo" Type="{R}/image" Target="media/logo.png"/></Relationships>'
    )
    png_type = '<Default Extension="png" ContentType="image/png"/>'
    types = types.replace("<Default Extension", f"{png_type}<Default Extension", 1)
    return with_parts(base, {
        "word/document.xml": document(body, namespaces=namespaces),
        "word/_rels/document.xml.rels": rels,
        "word/media/logo.png": PNG,
        "[Content_Types].xml": types,
    })


# --- field names --------------------------------------------------------------------------------------------------


def test_the_field_names_are_exactly_those_of_the_api() -> None:
    assert FIELD_NAMES == (
        "Contact_No", "Contact_Name", "Contact_Company_Name", "Contact_Job_Title", "Contact_Address",
        "Contact_Address_2", "Contact_Post_Code", "Contact_City", "Contact_Country", "Contact_Email",
        "Contact_Phone", "Salesperson_Name", "Salesperson_Email", "Salesperson_Phone", "Interaction_Description",
        "Interaction_Subject", "Interaction_Date", "Interaction_Language", "Segment_No", "Campaign_Description",
        "Personal_Text",
    )


# --- Word: fields -------------------------------------------------------------------------------------------------


def test_a_template_made_from_text_merges_its_fields_and_keeps_the_text_around_them() -> None:
    docx = make_docx(["Dear «Contact_Name»,", "Your number is «Contact_No»."])

    result = merge_docx(docx, {"Contact_Name": "Ada Lovelace", "Contact_No": "CT000042"})

    assert paragraphs(result.content) == ["Dear Ada Lovelace,", "Your number is CT000042."]
    assert result.missing == frozenset()
    assert_valid_docx(result.content)


def test_a_simple_field_is_replaced_by_a_run_with_the_formatting_of_its_result() -> None:
    docx = template(
        '<w:p><w:r><w:t xml:space="preserve">Hello </w:t></w:r>'
        '<w:fldSimple w:instr=" MERGEFIELD Contact_Name \\* MERGEFORMAT ">'
        "<w:r><w:rPr><w:b/></w:rPr><w:t>«Contact_Name»</w:t></w:r></w:fldSimple></w:p>"
    )

    result = merge_docx(docx, {"Contact_Name": "Grace"})

    assert paragraphs(result.content) == ["Hello Grace"]
    root = part(result.content)
    assert root.find(f".//{w('fldSimple')}") is None
    bold = [r for r in root.iter(w("r")) if r.find(f"{w('rPr')}/{w('b')}") is not None]
    assert [r.findtext(w("t")) for r in bold] == ["Grace"]


def test_a_complex_field_with_its_instruction_split_over_runs_is_replaced_whole() -> None:
    field = complex_field(" MERGE", "FIELD ", "Contact_", "City", " \\* MERGEFORMAT ", result="«Contact_City»",
                          result_rpr="<w:rPr><w:i/></w:rPr>")
    docx = template(f"<w:p><w:r><w:t xml:space=\"preserve\">In </w:t></w:r>{field}<w:r><w:t>!</w:t></w:r></w:p>")

    result = merge_docx(docx, {"Contact_City": "Lyon"})

    assert paragraphs(result.content) == ["In Lyon!"]
    root = part(result.content)
    assert root.find(f".//{w('fldChar')}") is None and root.find(f".//{w('instrText')}") is None
    italic = [r for r in root.iter(w("r")) if r.find(f"{w('rPr')}/{w('i')}") is not None]
    assert [r.findtext(w("t")) for r in italic] == ["Lyon"]


def test_a_run_holding_a_whole_field_is_merged_too() -> None:
    docx = template(
        '<w:p><w:r><w:t xml:space="preserve">Hi </w:t><w:fldChar w:fldCharType="begin"/>'
        '<w:instrText> MERGEFIELD Contact_Name </w:instrText><w:fldChar w:fldCharType="separate"/>'
        '<w:t>«Contact_Name»</w:t><w:fldChar w:fldCharType="end"/><w:t>.</w:t></w:r></w:p>'
    )

    assert paragraphs(merge_docx(docx, {"Contact_Name": "Lin"}).content) == ["Hi Lin."]


def test_field_names_are_matched_without_regard_to_case() -> None:
    docx = template(f"<w:p>{complex_field(' MERGEFIELD contact_NAME ')}</w:p>")

    result = merge_docx(docx, {"Contact_Name": "Edsger"})

    assert paragraphs(result.content) == ["Edsger"]
    assert result.missing == frozenset()


def test_an_unknown_field_renders_empty_and_is_reported_as_written() -> None:
    docx = make_docx(["A«Contact_Nmae»B«Contact_Email»C«Personal_Text»D"])

    result = merge_docx(docx, {"Contact_Email": None, "Personal_Text": ""})

    assert paragraphs(result.content) == ["ABCD"]
    assert result.missing == {"Contact_Nmae"}


def test_hostile_values_are_escaped_and_come_out_as_the_same_text() -> None:
    hostile = '<script>alert("x")</script> & ]]> <w:t>not xml</w:t> \x00\x1b'
    docx = make_docx(["«Contact_Name»"], header=["«Contact_Name»"])

    result = merge_docx(docx, {"Contact_Name": hostile})

    clean = hostile.replace("\x00", "").replace("\x1b", "")
    assert paragraphs(result.content) == [clean]
    assert paragraphs(result.content, "word/header1.xml") == [clean]
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert b"<script>" not in archive.read("word/document.xml")
    assert_valid_docx(result.content)


def test_newlines_in_a_value_become_line_breaks_and_tabs_become_tabs() -> None:
    docx = make_docx(["«Contact_Address»"])

    result = merge_docx(docx, {"Contact_Address": "Main Street 1\r\nFloor 2\nRoom\t3"})

    assert paragraphs(result.content) == ["Main Street 1\nFloor 2\nRoom\t3"]
    assert len(list(part(result.content).iter(w("br")))) == 2


def test_the_before_and_after_switches_apply_only_to_a_value_that_is_not_empty() -> None:
    field = complex_field(' MERGEFIELD Contact_Company_Name \\b "at " \\f "," \\* MERGEFORMAT ')
    docx = template(f"<w:p><w:r><w:t xml:space=\"preserve\">Ada </w:t></w:r>{field}</w:p>")

    assert paragraphs(merge_docx(docx, {"Contact_Company_Name": "Acme"}).content) == ["Ada at Acme,"]
    assert paragraphs(merge_docx(docx, {"Contact_Company_Name": ""}).content) == ["Ada "]


def test_case_switches_change_the_value_and_unknown_switches_are_ignored() -> None:
    fields = [
        complex_field(" MERGEFIELD Contact_City \\* Upper \\z \\* MERGEFORMAT "),
        complex_field(" MERGEFIELD Contact_Name \\* Caps "),
        complex_field(' MERGEFIELD  "Contact_Job_Title" \\* FirstCap '),
    ]
    docx = template("".join(f"<w:p>{field}</w:p>" for field in fields))

    result = merge_docx(docx, {"Contact_City": "paris", "Contact_Name": "ada lovelace", "Contact_Job_Title": "ceo"})

    assert paragraphs(result.content) == ["PARIS", "Ada Lovelace", "Ceo"]


def test_fields_other_than_mergefield_are_left_as_they_are() -> None:
    field = complex_field(" DATE \\@ dd.MM.yyyy ", result="01.02.2026")
    docx = template(f"<w:p>{field}</w:p>")

    result = merge_docx(docx, {})

    assert paragraphs(result.content) == ["01.02.2026"]
    assert part(result.content).find(f".//{w('instrText')}") is not None


def test_headers_and_footers_are_merged() -> None:
    docx = make_docx(["Body «Contact_Name»"], header=["From «Salesperson_Name»"], footer=["Page of «Contact_No»"])

    result = merge_docx(docx, {"Contact_Name": "Ada", "Salesperson_Name": "Sam", "Contact_No": "C1"})

    assert paragraphs(result.content, "word/header1.xml") == ["From Sam"]
    assert paragraphs(result.content, "word/footer1.xml") == ["Page of C1"]
    assert_valid_docx(result.content)


def test_the_merged_document_forgets_the_mail_merge_data_source_and_keeps_other_parts() -> None:
    settings = (
        f'<w:settings xmlns:w="{W}" xmlns:r="{R}"><w:mailMerge><w:mainDocumentType w:val="formLetters"/>'
        '<w:dataSource r:id="rId1"/></w:mailMerge><w:zoom w:percent="100"/></w:settings>'
    )
    docx = with_parts(image_template("Hi "), {"word/settings.xml": settings})

    result = merge_docx(docx, {"Contact_Name": "Ada"})

    merged_settings = part(result.content, "word/settings.xml")
    assert merged_settings.find(w("mailMerge")) is None and merged_settings.find(w("zoom")) is not None
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert archive.read("word/media/logo.png") == PNG


def test_merge_fields_in_docx_lists_the_names_of_body_headers_and_footers_once_each() -> None:
    docx = make_docx(["«Contact_Name» «Contact_City» «contact_name»"], header=["«Salesperson_Name»"],
                     footer=["«Contact_City»"])

    assert merge_fields_in_docx(docx) == ["Contact_Name", "Contact_City", "Salesperson_Name"]


def test_a_file_that_is_not_a_word_document_is_refused_with_a_clear_message() -> None:
    with pytest.raises(Invalid, match="not a Word document"):
        merge_docx(b"%PDF-1.7 not a zip", {})
    no_document = io.BytesIO()
    with zipfile.ZipFile(no_document, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(Invalid, match=r"no word/document\.xml"):
        merge_fields_in_docx(no_document.getvalue())
    with pytest.raises(Invalid, match=r"word/document\.xml is not valid XML"):
        docx_to_html(with_parts(make_docx(["x"]), {"word/document.xml": "<w:document><w:body>"}))


def test_a_document_that_would_unpack_to_an_enormous_size_is_refused() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", document(""))
        archive.writestr("word/media/huge.bin", bytes(65 * 1024 * 1024))

    with pytest.raises(Invalid, match="too large"):
        merge_docx(bomb.getvalue(), {})


def test_a_document_declaring_entities_is_refused() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>'
    )

    with pytest.raises(Invalid, match="DTD"):
        merge_docx(with_parts(make_docx(["x"]), {"word/document.xml": xxe}), {})


# --- letter books -------------------------------------------------------------------------------------------------


def test_a_letter_book_holds_every_letter_in_order_with_a_page_break_between_them() -> None:
    docx = make_docx(["Dear «Contact_Name»,", "«Personal_Text»"])
    names = [f"Contact {n} <&>" for n in range(25)]

    result = merge_letters((docx, {"Contact_Name": name, "Personal_Text": "Hi"}) for name in names)

    assert_valid_docx(result.content)
    root = part(result.content)
    breaks = [br for br in root.iter(w("br")) if br.get(w("type")) == "page"]
    assert len(breaks) == len(names) - 1
    assert [p for p in paragraphs(result.content) if p.startswith("Dear")] == [f"Dear {n}," for n in names]
    assert len(root.find(w("body")).findall(w("sectPr"))) == 1


def test_a_letter_book_streams_into_a_file_and_reports_each_letters_missing_fields(tmp_path: Path) -> None:
    docx = make_docx(["«Contact_Name» «Contact_Fax»"])
    path = tmp_path / "book.docx"

    with path.open("wb") as out, LetterBook(out) as book:
        first = book.add(docx, {"Contact_Name": "A"})
        book.add(docx, {"Contact_Name": "B", "Contact_Fax": "1"})

    assert first == {"Contact_Fax"}
    assert book.letters == 2 and book.missing == {"Contact_Fax"}
    assert paragraphs(path.read_bytes()) == ["A ", "", "B 1"]


def test_letters_from_different_templates_share_one_book_and_bring_their_images() -> None:
    english = make_docx(["Dear «Contact_Name»,"], header=["Letterhead «Salesperson_Name»"])
    german = image_template("Sehr geehrte(r) ")
    french = image_template("Madame, Monsieur ")  # the same image: stored once

    result = merge_letters(
        [(english, {"Contact_Name": "Ada"}), (german, {"Contact_Name": "Bea"}), (french, {"Contact_Name": "Cy"}),
         (german, {"Contact_Name": "Dan"})],
        shared_fields={"Salesperson_Name": "Sam"},
    )

    assert_valid_docx(result.content)
    texts = [p for p in paragraphs(result.content) if p]
    assert texts == ["Dear Ada,", "Sehr geehrte(r) Bea", "Madame, Monsieur Cy", "Sehr geehrte(r) Dan"]
    assert paragraphs(result.content, "word/header1.xml") == ["Letterhead Sam"]
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        images = [name for name in archive.namelist() if name.endswith(".png")]
        assert len(images) == 1 and archive.read(images[0]) == PNG
    blips = [e for e in part(result.content).iter() if e.get(f"{{{R}}}embed")]
    assert len(blips) == 3


def test_a_template_with_other_namespace_prefixes_declares_them_on_its_own_elements() -> None:
    english = make_docx(["Dear «Contact_Name»,"])
    odd = template(
        f"<ns0:p><ns0:r><ns0:t>Hej </ns0:t></ns0:r>{complex_field(' MERGEFIELD Contact_Name ').replace('w:', 'ns0:')}"
        "</ns0:p>",
        namespaces=f'xmlns:ns0="{W}"', prefix="ns0",
    )

    result = merge_letters([(english, {"Contact_Name": "Ada"}), (odd, {"Contact_Name": "Bo"})])

    assert_valid_docx(result.content)
    assert [p for p in paragraphs(result.content) if p] == ["Dear Ada,", "Hej Bo"]


def test_a_book_of_already_merged_documents_keeps_them_all_in_order() -> None:
    letters = [merge_docx(make_docx([f"Letter {n}: «Contact_Name»"]), {"Contact_Name": str(n)}).content
               for n in range(40)]

    result = merge_letters((letter, {}) for letter in letters)

    assert_valid_docx(result.content)
    assert [p for p in paragraphs(result.content) if p] == [f"Letter {n}: {n}" for n in range(40)]


def test_a_letter_book_without_letters_is_refused() -> None:
    with pytest.raises(Invalid, match="at least one letter"):
        merge_letters([])


# --- HTML and text ------------------------------------------------------------------------------------------------


def test_docx_to_html_escapes_the_text_and_keeps_simple_formatting() -> None:
    link_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rIdWeb" Type="{R}/hyperlink" Target="https://example.org/?a=1&amp;b=2" '
        'TargetMode="External"/>'
        f'<Relationship Id="rIdJs" Type="{R}/hyperlink" Target="javascript:alert(1)" TargetMode="External"/>'
        "</Relationships>"
    )
    docx = with_parts(template(
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Title</w:t></w:r></w:p>'
        '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>bold</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>it</w:t></w:r>'
        '<w:r><w:rPr><w:u w:val="single"/><w:b w:val="0"/></w:rPr><w:t>under</w:t></w:r>'
        '<w:r><w:t>&lt;script&gt;x</w:t><w:br/><w:t>&amp; y</w:t></w:r></w:p>'
        '<w:p><w:hyperlink r:id="rIdWeb"><w:r><w:t>web</w:t></w:r></w:hyperlink>'
        '<w:hyperlink r:id="rIdJs"><w:r><w:t>js</w:t></w:r></w:hyperlink>'
        "<w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p><w:p/>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p>"
        "</w:tc></w:tr></w:tbl>"
    ), {"word/_rels/document.xml.rels": link_rels})

    html = docx_to_html(docx)

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong><em>it</em><u>under</u>&lt;script&gt;x<br>&amp; y" in html
    assert '<a href="https://example.org/?a=1&amp;b=2">web</a>js' in html
    assert "javascript" not in html and "gone" not in html and "<script>" not in html
    assert "<p><br></p>" in html
    assert "<tr><td><p>a</p></td><td><p>b</p></td></tr>" in html


def test_a_merged_hostile_value_stays_text_in_the_html_rendering() -> None:
    merged = merge_docx(make_docx(["Dear «Contact_Name»"]), {"Contact_Name": "<img src=x onerror=alert(1)>"})

    html = docx_to_html(merged.content)

    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_docx_to_text_gives_one_line_per_paragraph_and_tabs_between_cells() -> None:
    docx = template(
        "<w:p><w:r><w:t>One</w:t><w:br/><w:t>two</w:t></w:r></w:p><w:p/>"
        '<w:p><w:r><w:t xml:space="preserve">a </w:t></w:r>'
        f"{complex_field(' MERGEFIELD Contact_Name ', result='«Contact_Name»')}</w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>y</w:t></w:r></w:p>"
        "</w:tc></w:tr></w:tbl>"
    )

    assert docx_to_text(docx) == "One\ntwo\n\na «Contact_Name»\nx\ty\n"
    assert docx_to_text(merge_docx(docx, {"Contact_Name": "Ada"}).content) == "One\ntwo\n\na Ada\nx\ty\n"


# --- PDF ----------------------------------------------------------------------------------------------------------


def test_to_pdf_gives_none_when_libreoffice_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")

    assert to_pdf(make_docx(["x"])) is None


def fake_office(folder: Path, script: str) -> None:
    path = folder / "soffice"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_to_pdf_runs_libreoffice_into_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for soffice: writes "<outdir>/<stem>.pdf" holding the arguments it was given.
    fake_office(tmp_path, 'for a; do last="$a"; done\n'
                          'args="$*"\n'
                          'while [ "$1" != "--outdir" ]; do shift; done\n'
                          'printf "%%PDF-fake %s" "$args" > "$2/$(basename "$last" .docx).pdf"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    pdf = to_pdf(make_docx(["x"]))

    assert pdf is not None and pdf.startswith(b"%PDF-fake")
    assert b"--headless" in pdf and b"--convert-to pdf" in pdf and pdf.endswith(b"document.docx")


def test_to_pdf_reports_a_failed_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_office(tmp_path, 'echo "Error: source file could not be loaded" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    with pytest.raises(ConversionFailed, match="could not be loaded"):
        to_pdf(make_docx(["x"]))


def test_to_pdf_gives_up_after_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_office(tmp_path, "exec sleep 30\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    with pytest.raises(ConversionFailed, match=r"within 0\.5 seconds"):
        to_pdf(make_docx(["x"]), timeout=0.5)


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
def test_to_pdf_converts_a_merged_letter_with_libreoffice() -> None:
    merged = merge_docx(make_docx(["Dear «Contact_Name»,"]), {"Contact_Name": "Ada"})

    pdf = to_pdf(merged.content)

    assert pdf is not None and pdf.startswith(b"%PDF")


# --- e-mail bodies ------------------------------------------------------------------------------------------------


def test_render_text_in_html_mode_escapes_values_and_turns_newlines_into_breaks() -> None:
    body = '<p>Dear {{ contact_name }},</p><a href="mailto:{{Contact_Email}}">{{Personal_Text}}</a>'

    result = render_text(body, {"Contact_Name": "<script>alert(1)</script>", "Contact_Email": 'a"b@x.org',
                                "Personal_Text": "one & two\nthree"}, html=True)

    assert result.text == (
        "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt;,</p>"
        '<a href="mailto:a&quot;b@x.org">one &amp; two<br>\nthree</a>'
    )
    assert result.missing == frozenset()


def test_render_text_in_text_mode_leaves_values_as_they_are() -> None:
    result = render_text("Hi {{Contact_Name}} <{{Contact_Email}}>", {"contact_name": "A & <B>",
                                                                      "CONTACT_EMAIL": None}, html=False)

    assert result.text == "Hi A & <B> <>"
    assert result.missing == frozenset()


def test_unknown_placeholders_render_empty_and_nothing_is_ever_evaluated() -> None:
    body = "a{{ 7*7 }}b{{__class__}}c{{ Contact_Name.__class__ }}d{{Nope}}e{% for x in y %}{{ x }}{% endfor %}"

    result = render_text(body, {"Contact_Name": "Ada"}, html=True)

    assert result.text == "abcde{% for x in y %}{% endfor %}"
    assert result.missing == {"7*7", "__class__", "Contact_Name.__class__", "Nope", "x"}
    assert "49" not in result.text


def test_is_word_and_is_html_know_the_extensions() -> None:
    assert is_word("DOCX") and is_word(".doc") and not is_word("pdf")
    assert is_html("htm") and is_html(".HTML") and not is_html("txt")

