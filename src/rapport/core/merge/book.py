"""Letter books: many merged letters streamed into one .docx, one letter per page."""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
from collections.abc import Iterable
from types import TracebackType
from typing import IO, Any, BinaryIO

from lxml import etree

from rapport.core.merge.fields import Fields, lookup
from rapport.core.merge.word import (
    DOCUMENT,
    MergeResult,
    Template,
    compile_docx,
    compile_template,
    parse_xml,
    zip_info,
)
from rapport.errors import Invalid

_RELS = "word/_rels/document.xml.rels"
_TYPES = "[Content_Types].xml"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
# Declared on the book's root (when its first template lacks them) so that the bodies of other templates,
# which use these prefixes without declaring them, can be copied in as they are.
_WORD_NAMESPACES = {
    "wpc": "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "o": "urn:schemas-microsoft-com:office:office",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "v": "urn:schemas-microsoft-com:vml",
    "wp14": "http://schemas.microsoft.com/office/word/2010/wordprocessingDrawing",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "w10": "urn:schemas-microsoft-com:office:word",
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "w14": "http://schemas.microsoft.com/office/word/2010/wordml",
    "w15": "http://schemas.microsoft.com/office/word/2012/wordml",
    "w16": "http://schemas.microsoft.com/office/word/2018/wordml",
    "w16cex": "http://schemas.microsoft.com/office/word/2018/wordml/cex",
    "w16cid": "http://schemas.microsoft.com/office/word/2016/wordml/cid",
    "w16du": "http://schemas.microsoft.com/office/word/2023/wordml/word16du",
    "w16sdtdh": "http://schemas.microsoft.com/office/word/2020/wordml/sdtdatahash",
    "w16se": "http://schemas.microsoft.com/office/word/2015/wordml/symex",
    "wpg": "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
    "wpi": "http://schemas.microsoft.com/office/word/2010/wordprocessingInk",
    "wne": "http://schemas.microsoft.com/office/word/2006/wordml",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
}
_FLUSH_BYTES = 256 * 1024
_TEMPLATES_KEPT = 32


class LetterBook:
    """One .docx written to `out` as letters are added: each letter's merged body, a page break between them.

    The book takes its styles, sections, headers and footers from the first letter's template; fields in
    those headers and footers get `shared_fields` (one contact's values would be wrong on the others' pages).
    Letters from other templates bring their images and links along. Parsed templates are cached per
    distinct template, and a letter is rendered to text and compressed at once, so memory stays flat.
    """

    def __init__(self, out: BinaryIO, *, shared_fields: Fields | None = None) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
        self._shared = lookup(shared_fields or {})
        self._templates: dict[bytes, Template] = {}  # the other templates, latest last
        self._adopted = 0
        self._primary: Template | None = None
        self._primary_source = b""
        self._stream: IO[bytes] | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._namespaces: dict[str, str] = {}
        self._relationships: Any = None
        self._types: Any = None
        self._copies: dict[str, bytes] = {}  # parts of the other templates, written at the end
        self._shared_parts: dict[bytes, str] = {}  # SHA-256 of an image -> its part in the book
        self._page_break = b""
        self.letters = 0
        self.missing: set[str] = set()

    def __enter__(self) -> LetterBook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
            return
        # The caller's error wins; the half-written archive is only closed.
        if self._stream is not None:
            self._stream.close()
        self._zip.close()

    def add(self, template: bytes, fields: Fields) -> frozenset[str]:
        """Merge one letter into the book; the field names it lacked."""
        compiled = self._template(template)
        missing: set[str] = set()
        letter = compiled.body.render(lookup(fields), missing)
        if self.letters:
            self._write(self._page_break)
        self._write(letter)
        self.letters += 1
        self.missing |= missing
        return frozenset(missing)

    def close(self) -> None:
        """Finish the document and the archive (the book needs at least one letter)."""
        if self._primary is None or self._stream is None:
            self._zip.close()
            raise Invalid("A letter book needs at least one letter.")
        self._write(self._primary.tail)
        self._flush()
        self._stream.close()
        for name, data in self._copies.items():
            self._zip.writestr(zip_info(name), data)
        self._zip.writestr(zip_info(_RELS), _xml(self._relationships))
        self._zip.writestr(zip_info(_TYPES), _xml(self._types))
        self._zip.close()

    def _write(self, data: bytes) -> None:
        # Fewer, larger writes: zipfile checksums and compresses each write on its own.
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= _FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._stream is not None and self._buffer:
            self._stream.write(b"".join(self._buffer))
        self._buffer, self._buffered = [], 0

    def _template(self, template: bytes) -> Template:
        if self._primary is None:
            return self._start(template)
        if template == self._primary_source:
            return self._primary
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._adopt(template)
            self._templates[template] = compiled
            # Bounded: a book of already merged documents has as many templates as letters.
            while len(self._templates) > _TEMPLATES_KEPT:
                del self._templates[next(iter(self._templates))]
        return compiled

    def _start(self, template: bytes) -> Template:
        """Write the first template's parts, then open the document and write its head."""
        self._primary = primary = compile_template(template)
        self._primary_source = template
        self._namespaces = {**_WORD_NAMESPACES, **primary.namespaces}
        for name, compression, data in primary.entries:
            if name in (DOCUMENT, _RELS, _TYPES):
                continue
            if data is None:
                data = primary.parts[name].render(self._shared, self.missing)
            self._zip.writestr(zip_info(name, compression), data)
        rels = primary.raw(_RELS)
        self._relationships = parse_xml(_RELS, rels) if rels else etree.Element(f"{{{_PACKAGE_RELS}}}Relationships")
        self._types = parse_xml(_TYPES, primary.raw(_TYPES) or b"")
        _ensure_default(self._types, "rels", "application/vnd.openxmlformats-package.relationships+xml")
        w = primary.body.w
        self._page_break = f'<{w}p><{w}r><{w}br {w}type="page"/></{w}r></{w}p>'.encode()
        extra = "".join(
            f' xmlns:{prefix}="{uri}"' for prefix, uri in _WORD_NAMESPACES.items() if prefix not in primary.namespaces
        ).encode()
        # lxml escapes ">" in attribute values, so the first one after the declaration closes the root's start tag.
        root_end = primary.head.index(b">", primary.head.index(b"?>") + 2)
        self._stream = self._zip.open(zip_info(DOCUMENT), "w", force_zip64=True)
        self._write(primary.head[:root_end] + extra + primary.head[root_end:])
        return primary

    def _adopt(self, template: bytes) -> Template:
        """Compile another template for this book: its body's relationships renamed and their parts copied."""
        self._adopted += 1
        prefix = f"rb{self._adopted}_"
        compiled = compile_docx(template, prefix)
        # A body using a prefix that the book's root (written with the first letter) does not bind the same
        # way declares its namespaces on each of its elements instead.
        if any(self._namespaces.get(p) != uri for p, uri in compiled.namespaces.items()):
            compiled = compile_docx(template, prefix, standalone=True)
        rels = compiled.raw(_RELS)
        types = parse_xml(_TYPES, compiled.raw(_TYPES) or b"")
        for relationship in parse_xml(_RELS, rels) if rels else []:
            rid = relationship.get("Id")
            if rid not in compiled.relationships:
                continue
            copy = etree.SubElement(self._relationships, f"{{{_PACKAGE_RELS}}}Relationship", dict(relationship.attrib))
            copy.set("Id", prefix + rid)
            if relationship.get("TargetMode") != "External":
                source = _resolve(DOCUMENT, relationship.get("Target", ""))
                target = self._copy(compiled, types, source, f"word/rapport{self._adopted}/{source}", share=True)
                copy.set("Target", target[len("word/") :])
        return compiled

    def _copy(self, template: Template, types: Any, source: str, target: str, *, share: bool = False) -> str:
        """Copy a part of another template (and the parts its own relationships name) into the book; where it
        went. With `share`, a part without relationships of its own (an image) is stored once per content."""
        data = template.raw(source)
        if data is None or target in self._copies:
            return target
        folder, name = posixpath.split(source)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        rels_data = template.raw(rels)
        if share and rels_data is None:
            digest = hashlib.sha256(data).digest()
            if digest in self._shared_parts:
                return self._shared_parts[digest]
            self._shared_parts[digest] = target
        self._copies[target] = data
        override = next((o for o in types if o.get("PartName", "").lower() == f"/{source}".lower()), None)
        if override is not None:
            etree.SubElement(self._types, f"{{{_CONTENT_TYPES}}}Override", PartName=f"/{target}",
                             ContentType=override.get("ContentType", ""))
        else:
            extension = posixpath.splitext(source)[1][1:].lower()
            default = next((d for d in types if d.get("Extension", "").lower() == extension), None)
            _ensure_default(self._types, extension, default.get("ContentType", "") if default is not None else
                            "application/octet-stream")
        if rels_data is not None:
            # The copies keep their relative layout, so the part's own relationships stay valid as they are.
            self._copies[posixpath.join(posixpath.dirname(target), "_rels", f"{name}.rels")] = rels_data
            root = target[: len(target) - len(source)]
            for relationship in parse_xml(rels, rels_data):
                if relationship.get("TargetMode") != "External":
                    inner = _resolve(source, relationship.get("Target", ""))
                    self._copy(template, types, inner, root + inner)
        return target


def merge_letters(letters: Iterable[tuple[bytes, Fields]], *, shared_fields: Fields | None = None) -> MergeResult:
    """One .docx of all the letters, each (template, fields) pair merged on its own page."""
    out = io.BytesIO()
    with LetterBook(out, shared_fields=shared_fields) as book:
        for template, fields in letters:
            book.add(template, fields)
    return MergeResult(out.getvalue(), frozenset(book.missing))


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _ensure_default(types: Any, extension: str, content_type: str) -> None:
    if not any(d.get("Extension", "").lower() == extension for d in types if d.get("Extension") is not None):
        default = etree.Element(f"{{{_CONTENT_TYPES}}}Default", Extension=extension, ContentType=content_type)
        types.insert(0, default)


def _xml(root: Any) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + etree.tostring(root)
