"""Small .docx templates made from text, with «Field_Name» tokens turned into real MERGEFIELDs."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

from rapport.core.merge.word import DOCUMENT, R, W, run_content, zip_info

_TOKEN = re.compile(r"«([^«»\r\n]+)»")
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml"


def make_docx(paragraphs: Sequence[str], *, header: Sequence[str] = (), footer: Sequence[str] = ()) -> bytes:
    """A minimal A4 .docx of these paragraphs (and optional header/footer); «Name» becomes a MERGEFIELD Name."""
    parts: dict[str, str] = {}
    kinds = {"word/document.xml": "document.main"}
    references = relationships = ""
    for kind, lines in (("header", header), ("footer", footer)):
        if lines:
            parts[f"word/{kind}1.xml"] = _part(f"{kind[0]}dr", _paragraphs(lines))
            kinds[f"word/{kind}1.xml"] = kind
            relationships += f'<Relationship Id="rId_{kind}" Type="{R}/{kind}" Target="{kind}1.xml"/>'
            references += f'<w:{kind}Reference w:type="default" r:id="rId_{kind}"/>'
    section = (
        f'<w:sectPr>{references}<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1417" w:right="1417" '
        'w:bottom="1134" w:left="1417" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>'
    )
    parts[DOCUMENT] = _part("document", f"<w:body>{_paragraphs(paragraphs)}{section}</w:body>")
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{_MAIN}.{kind}+xml"/>' for name, kind in kinds.items()
    )
    files = {
        "[Content_Types].xml": (
            f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
        ),
        "_rels/.rels": _relationships(
            f'<Relationship Id="rId1" Type="{R}/officeDocument" Target="word/document.xml"/>'
        ),
        "word/_rels/document.xml.rels": _relationships(relationships),
        **parts,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, xml in files.items():
            archive.writestr(zip_info(name), xml.encode())
    return out.getvalue()


def _part(root: str, content: str) -> str:
    return f'{_DECLARATION}<w:{root} xmlns:w="{W}" xmlns:r="{R}">{content}</w:{root}>'


def _relationships(content: str) -> str:
    namespace = "http://schemas.openxmlformats.org/package/2006/relationships"
    return f'{_DECLARATION}<Relationships xmlns="{namespace}">{content}</Relationships>'


def _paragraphs(paragraphs: Sequence[str]) -> str:
    return "".join(f"<w:p>{_runs(text)}</w:p>" for text in paragraphs)


def _runs(text: str) -> str:
    out = []
    for n, piece in enumerate(_TOKEN.split(text)):
        if n % 2 == 0:
            if piece:
                out.append(f"<w:r>{run_content(piece, 'w:')}</w:r>")
            continue
        name = f'"{piece}"' if " " in piece else piece
        # Exactly what Word's Insert Merge Field writes: begin, instruction, separate, «result», end.
        out.append(
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve"> MERGEFIELD {name} \\* MERGEFORMAT </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f"<w:r><w:rPr><w:noProof/></w:rPr>{run_content(f'«{piece}»', 'w:')}</w:r>"
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        )
    return "".join(out)
