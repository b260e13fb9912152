"""Benchmark: mail merge of letters into one combined .docx, and of HTML e-mail bodies, against a raw limit.

    python bench/merge.py [--letters 10000] [--runs 3]

(run it with the project's virtualenv: `.venv/bin/python bench/merge.py`)

1. Builds a realistic one-page letter template: a letterhead header with the salesperson, an address block,
   date and subject line, a salutation, two paragraphs, Personal_Text and a signature: 14 MERGEFIELDs, every
   paragraph and run carrying the kind of properties Word writes (fonts, size, language, spacing, paraIds).
   `--letters` synthetic contacts get varied names and addresses; one in three has a Personal_Text.
2. letter_book: `merge_letters` of all contacts into one .docx (template parsing included: the cache is
   cleared first). The limit is the same archive written without merging: the template's other parts, then
   `--letters` identical, already encoded copies of its body XML (the fields as Word shows them, «Name»)
   separated by the same page breaks, streamed into word/document.xml with the same compression. It is what
   any merge must at least do (compress and write the letters), so the ratio is the cost of merging itself.
3. merge_docx: one .docx per contact (what each e-mail with a Word attachment costs), for a tenth of the
   letters; no limit.
4. email_bodies: `render_text` (HTML) of a ~2 KB e-mail body with 11 placeholders for `--letters` contacts;
   the limit is `str.replace` of the same placeholders with the raw values (no escaping, no reporting).

Prints one JSON object per operation on stdout: the median seconds of `--runs` runs, per second, output
size, limit seconds and ratio, and the target (>= 200 letters/s); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, log

from rapport.core.merge import make_docx, merge_docx, merge_letters, render_text
from rapport.core.merge.word import compile_template, zip_info

TARGET_LETTERS_PER_SECOND = 200
LETTER = [
    "«Contact_Company_Name»",
    "«Contact_Name»",
    "«Contact_Address»",
    "«Contact_Address_2»",
    "«Contact_Post_Code» «Contact_City»",
    "«Contact_Country»",
    "",
    "«Interaction_Date»",
    "",
    "«Interaction_Subject»",
    "",
    "Dear «Contact_Name»,",
    "Thank you for your interest in our products. As announced in «Campaign_Description», we are pleased to "
    "send you our new catalogue, with this year's range of office furniture, lighting and accessories. Our "
    "customers tell us that the new ergonomic chairs and the height-adjustable desks have changed the way "
    "their teams work, and we would be glad to show them to you in person.",
    "Until the end of the month, every order placed with your salesperson gets free delivery and installation "
    "within two weeks. Should you have any questions, do not hesitate to call or write to us: we are happy to "
    "help you find what suits your offices best.",
    "«Personal_Text»",
    "",
    "Kind regards,",
    "«Salesperson_Name»",
    "«Salesperson_Email» · «Salesperson_Phone»",
]
EMAIL = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{{Interaction_Subject}}</title></head><body>"
    "<p>Dear {{Contact_Name}},</p>"
    + "<p>Thank you for your interest in our products. As announced in {{Campaign_Description}}, we are pleased to "
    "send you our new catalogue, with this year's range of office furniture, lighting and accessories.</p>" * 4
    + "<p>{{ Personal_Text }}</p><p>Kind regards,<br>{{Salesperson_Name}}<br>"
    "<a href=\"mailto:{{Salesperson_Email}}\">{{Salesperson_Email}}</a> · {{Salesperson_Phone}}</p>"
    "<p style=\"font-size:small\">{{Contact_Company_Name}}, {{Contact_Address}}, {{Contact_City}}</p>"
    "</body></html>"
)
# What Word writes around text (fonts, size, language; paragraph spacing and ids): a realistic body size.
RUN_PROPERTIES = (
    '<w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/><w:sz w:val="22"/>'
    '<w:szCs w:val="22"/><w:lang w:val="en-GB"/></w:rPr>'
)
PARAGRAPH_PROPERTIES = '<w:pPr><w:spacing w:after="0" w:line="259" w:lineRule="auto"/>' + RUN_PROPERTIES + "</w:pPr>"


def letter_template() -> bytes:
    """The one-page letter, made with make_docx and dressed with Word's usual run and paragraph properties."""
    plain = make_docx(LETTER, header=["Rapport Office Furniture · «Salesperson_Name»"])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                xml = data.decode().replace(
                    "<w:document ", '<w:document xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
                )
                first, *paragraphs = xml.split("<w:p>")
                xml = first + "".join(
                    f'<w:p w14:paraId="{n:08X}">{PARAGRAPH_PROPERTIES}{rest}' for n, rest in enumerate(paragraphs, 1)
                )
                xml = xml.replace("<w:r>", f"<w:r>{RUN_PROPERTIES}")
                data = xml.encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def contacts(n: int) -> list[dict[str, str | None]]:
    first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus"]
    last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth"]
    cities = [("75001", "Paris", "France"), ("10115", "Berlin", "Germany"), ("EC1A 1BB", "London", "United Kingdom"),
              ("1011", "Amsterdam", "Netherlands"), ("00118", "Roma", "Italy")]
    records = []
    for i in range(n):
        post_code, city, country = cities[i % len(cities)]
        name = f"{first[i % 10]} {last[(i // 10) % 10]} {i}"
        personal = f"P.S. {first[i % 10]}, I will call you next week.\nBest wishes."
        records.append({
            "Contact_No": f"CT{i:06d}", "Contact_Name": name, "Contact_Company_Name": f"Company {i // 5} Ltd.",
            "Contact_Job_Title": "Purchasing Manager", "Contact_Address": f"{i % 300 + 1} Market Street",
            "Contact_Address_2": "Building B" if i % 4 == 0 else "", "Contact_Post_Code": post_code,
            "Contact_City": city, "Contact_Country": country, "Contact_Email": f"contact{i}@example.org",
            "Contact_Phone": f"+33 1 23 45 {i % 100:02d} {i % 97:02d}", "Salesperson_Name": "Annette Hill",
            "Salesperson_Email": "annette.hill@example.com", "Salesperson_Phone": "+44 20 7946 0000",
            "Interaction_Description": "Catalogue letter", "Interaction_Subject": "Our new catalogue",
            "Interaction_Date": "14 March 2026", "Interaction_Language": "ENG", "Segment_No": "SM00042",
            "Campaign_Description": "the Spring trade fair",
            "Personal_Text": personal if i % 3 == 0 else None,
        })
    return records


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def book(template: bytes, records: list[dict[str, str | None]]) -> bytes:
    compile_template.cache_clear()
    return merge_letters((template, record) for record in records).content


def raw_book(template: bytes, first: dict[str, str | None], letters: int) -> bytes:
    """The limit: the template's other parts and `letters` copies of one merged letter's body, written as the
    book writes them (the same page breaks, chunks and compression), without merging anything."""
    with zipfile.ZipFile(io.BytesIO(template)) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(io.BytesIO(merge_docx(template, first).content)) as letter:
        xml = letter.read("word/document.xml")
    body_start = xml.index(b"<w:body>") + len(b"<w:body>")
    body_end = xml.rindex(b"<w:sectPr")
    head, body, tail = xml[:body_start], xml[body_start:body_end], xml[body_end:]
    page_break = b'<w:p><w:r><w:br w:type="page"/></w:r></w:p>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            if name != "word/document.xml":
                archive.writestr(zip_info(name), data)
        with archive.open(zip_info("word/document.xml"), "w", force_zip64=True) as stream:
            chunk: list[bytes] = [head]
            for n in range(letters):
                if n:
                    chunk.append(page_break)
                chunk.append(body)
                if len(chunk) >= 64:
                    stream.write(b"".join(chunk))
                    chunk = []
            chunk.append(tail)
            stream.write(b"".join(chunk))
    return out.getvalue()


def single_letters(template: bytes, records: list[dict[str, str | None]]) -> int:
    compile_template.cache_clear()
    return sum(len(merge_docx(template, record).content) for record in records)


def email_bodies(records: list[dict[str, str | None]]) -> int:
    return sum(len(render_text(EMAIL, record, html=True).text) for record in records)


def raw_email_bodies(records: list[dict[str, str | None]]) -> int:
    placeholders = re.findall(r"\{\{\s*\w+\s*\}\}", EMAIL)
    total = 0
    for record in records:
        text = EMAIL
        for placeholder in placeholders:
            text = text.replace(placeholder, record.get(placeholder.strip("{} "), None) or "")
        total += len(text)
    return total


def report(operation: str, items: int, runs: list[float], limit_runs: list[float] | None, unit: str,
           **extra: Any) -> None:
    seconds = statistics.median(runs)
    record: dict[str, Any] = {
        "operation": operation, unit: items, "seconds": round(seconds, 3),
        f"{unit}_per_second": round(items / seconds), "runs": [round(r, 3) for r in runs],
    }
    record |= extra
    if limit_runs:
        limit = statistics.median(limit_runs)
        record |= {"limit_seconds": round(limit, 3), "ratio": round(seconds / limit, 2),
                   "limit_runs": [round(r, 3) for r in limit_runs]}
    if operation == "letter_book":
        record |= {"target_per_second": TARGET_LETTERS_PER_SECOND,
                   "ok": items / seconds >= TARGET_LETTERS_PER_SECOND}
    record["load_average"] = load_average()
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    log(f"load average {load_average()}")
    template = letter_template()
    records = contacts(args.letters)
    log(f"template {len(template)} bytes, {args.letters} contacts")

    runs, limits, merged = [], [], b""
    for run in range(args.runs):
        # Alternate which side goes first, so neither always finds the warmer caches.
        for side in ("limit", "merge") if run % 2 == 0 else ("merge", "limit"):
            if side == "merge":
                seconds, content = timed(lambda: book(template, records))
                runs.append(seconds)
                merged = content
            else:
                seconds, content = timed(lambda: raw_book(template, records[0], args.letters))
                limits.append(seconds)
            log(f"letter_book {side:5} {seconds:7.3f} s  {len(content)} bytes")
    with zipfile.ZipFile(io.BytesIO(merged)) as archive:
        breaks = archive.read("word/document.xml").count(b'w:type="page"')
    if breaks != args.letters - 1:
        raise SystemExit(f"the book has {breaks} page breaks, expected {args.letters - 1}")
    report("letter_book", args.letters, runs, limits, "letters", output_bytes=len(merged))

    singles = max(1, args.letters // 10)
    single_runs = []
    for _ in range(args.runs):
        seconds, total = timed(lambda: single_letters(template, records[:singles]))
        single_runs.append(seconds)
        log(f"merge_docx  {seconds:7.3f} s  {singles} documents, {total} bytes")
    report("merge_docx", singles, single_runs, None, "documents", bytes_per_document=total // singles)

    runs, limits = [], []
    for run in range(args.runs):
        for side in ("limit", "merge") if run % 2 == 0 else ("merge", "limit"):
            seconds, _ = timed(lambda: email_bodies(records)) if side == "merge" else timed(
                lambda: raw_email_bodies(records))
            (runs if side == "merge" else limits).append(seconds)
            log(f"email_bodies {side:5} {seconds:7.3f} s")
    report("email_bodies", args.letters, runs, limits, "bodies")
    log(f"load average {load_average()}")


if __name__ == "__main__":
    main()
