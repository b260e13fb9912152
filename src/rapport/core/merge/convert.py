"""Merged Word documents as HTML or plain text (e-mail bodies) and as PDF (through LibreOffice)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from rapport.core.merge.word import DOCUMENT, R, W, parse_xml, read_docx
from rapport.errors import RapportError

_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT, _R, _T, _TAB, _BR, _CR, _HYPERLINK, _RPR, _PPR = (
    f"{{{W}}}{tag}"
    for tag in ("p", "tbl", "tr", "tc", "sdt", "sdtContent", "r", "t", "tab", "br", "cr", "hyperlink", "rPr", "pPr")
)
# Containers whose runs are part of the paragraph's text; anything else (w:del, properties, text boxes) is not.
_INLINE = {f"{{{W}}}{tag}" for tag in ("ins", "smartTag", "fldSimple", "sdt", "sdtContent", "customXml", "dir", "bdo")}
_HEADING = re.compile(r"(?i)heading\s*([1-6])")
_ALIGN = {"center": "center", "right": "right", "end": "right", "both": "justify"}
_SAFE_LINK = re.compile(r"(?i)(https?:|mailto:)")
_RELS = "word/_rels/document.xml.rels"


class ConversionFailed(RapportError):
    """LibreOffice is installed but did not produce a PDF."""

    code = "conversion_failed"


@dataclass(frozen=True, slots=True)
class _Span:
    text: str
    bold: bool
    italic: bool
    underline: bool
    href: str | None


def is_word(extension: str) -> bool:
    """Whether a file extension (with or without its dot) names a Word document."""
    return extension.lower().lstrip(".") in ("doc", "docx")


def is_html(extension: str) -> bool:
    """Whether a file extension (with or without its dot) names an HTML document."""
    return extension.lower().lstrip(".") in ("htm", "html")


def docx_to_html(docx: bytes) -> str:
    """A simple, escaped HTML page of the document: paragraphs, headings, bold/italic/underline, links, tables."""
    body, links = _open(docx)
    return (
        '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body>\n'
        + "\n".join(_html_block(block, links) for block in _blocks(body))
        + "\n</body>\n</html>\n"
    )


def docx_to_text(docx: bytes) -> str:
    """The document as plain text: one line per paragraph, table cells separated by tabs."""
    body, links = _open(docx)
    return "\n".join(_text_block(block, links) for block in _blocks(body)) + "\n"


def to_pdf(docx: bytes, *, timeout: float = 120) -> bytes | None:
    """The document as PDF through LibreOffice (`soffice`/`libreoffice` on PATH); None when it is not installed."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    with tempfile.TemporaryDirectory(prefix="rapport-pdf-") as folder:
        source = Path(folder, "document.docx")
        source.write_bytes(docx)
        # An own profile per conversion: LibreOffice refuses to run twice on one profile.
        command = [office, f"-env:UserInstallation={Path(folder, 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", folder, str(source)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as run:
            try:
                _, errors = run.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                # soffice starts soffice.bin: end the whole process group it leads, not just the launcher.
                os.killpg(run.pid, signal.SIGKILL)
                run.communicate()
                message = f"LibreOffice did not convert the document to PDF within {timeout:g} seconds."
                raise ConversionFailed(message) from exc
        pdf = Path(folder, "document.pdf")
        if not pdf.is_file():
            reason = errors.decode(errors="replace").strip()[-500:] or f"exit status {run.returncode}"
            raise ConversionFailed(f"LibreOffice could not convert the document to PDF: {reason}")
        return pdf.read_bytes()


def _open(docx: bytes) -> tuple[Any, dict[str, str]]:
    files = {info.filename: data for info, data in read_docx(docx, only=(DOCUMENT, _RELS))}
    root = parse_xml(DOCUMENT, files[DOCUMENT])
    links: dict[str, str] = {}
    if _RELS in files:
        for relationship in parse_xml(_RELS, files[_RELS]):
            target = relationship.get("Target", "")
            # Only web and mail links survive: a javascript: or file: target would be a hazard in an e-mail.
            if relationship.get("TargetMode") == "External" and _SAFE_LINK.match(target):
                links[relationship.get("Id", "")] = target
    body = root.find(f"{{{W}}}body")
    return (body if body is not None else root), links


def _blocks(container: Any) -> Iterator[Any]:
    for child in container:
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in (_SDT, _SDT_CONTENT):
            yield from _blocks(child)


def _spans(element: Any, links: dict[str, str], href: str | None = None) -> Iterator[_Span]:
    for child in element:
        if child.tag == _R:
            rpr = child.find(_RPR)
            style = (_on(rpr, "b"), _on(rpr, "i"), _on(rpr, "u"))
            for item in child:
                if item.tag == _T and item.text:
                    yield _Span(item.text, *style, href)
                elif item.tag == _TAB:
                    yield _Span("\t", *style, href)
                elif item.tag == _CR or (item.tag == _BR and item.get(f"{{{W}}}type") != "page"):
                    yield _Span("\n", *style, href)
        elif child.tag == _HYPERLINK:
            yield from _spans(child, links, links.get(child.get(f"{{{R}}}id", "")) or href)
        elif child.tag in _INLINE:
            yield from _spans(child, links, href)


def _on(rpr: Any, name: str) -> bool:
    if rpr is None:
        return False
    flag = rpr.find(f"{{{W}}}{name}")
    return flag is not None and flag.get(f"{{{W}}}val", "true").lower() not in ("0", "false", "off", "none")


def _html_block(block: Any, links: dict[str, str]) -> str:
    if block.tag == _TBL:
        rows = (
            "<tr>" + "".join(
                "<td>" + "".join(_html_block(b, links) for b in _blocks(cell)) + "</td>" for cell in row.findall(_TC)
            ) + "</tr>"
            for row in block.findall(_TR)
        )
        return '<table border="1" cellspacing="0" cellpadding="4">' + "".join(rows) + "</table>"
    tag, attributes = "p", ""
    ppr = block.find(_PPR)
    if ppr is not None:
        style = ppr.find(f"{{{W}}}pStyle")
        heading = _HEADING.fullmatch(style.get(f"{{{W}}}val", "")) if style is not None else None
        tag = f"h{heading.group(1)}" if heading else tag
        align = ppr.find(f"{{{W}}}jc")
        if align is not None and align.get(f"{{{W}}}val") in _ALIGN:
            attributes = f' style="text-align:{_ALIGN[align.get(f"{{{W}}}val")]}"'
    content = "".join(_html_span(span) for span in _spans(block, links))
    return f"<{tag}{attributes}>{content or '<br>'}</{tag}>"


def _html_span(span: _Span) -> str:
    html = escape(span.text, quote=True).replace("\n", "<br>").replace("\t", "&emsp;")
    if span.bold:
        html = f"<strong>{html}</strong>"
    if span.italic:
        html = f"<em>{html}</em>"
    if span.underline and not span.href:
        html = f"<u>{html}</u>"
    if span.href:
        html = f'<a href="{escape(span.href, quote=True)}">{html}</a>'
    return html


def _text_block(block: Any, links: dict[str, str]) -> str:
    if block.tag == _TBL:
        return "\n".join(
            "\t".join(" ".join(_text_block(b, links) for b in _blocks(cell)) for cell in row.findall(_TC))
            for row in block.findall(_TR)
        )
    return "".join(span.text for span in _spans(block, links))
