"""Word (.docx) templates: MERGEFIELDs compiled once per template into string pieces, rendered by joining."""

from __future__ import annotations

import copy
import io
import re
import secrets
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree

from rapport.core.merge.fields import Fields, lookup
from rapport.errors import Invalid

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOCUMENT = "word/document.xml"
# A zip bomb must not exhaust memory: no Word part comes near this once inflated.
MAX_PART_BYTES = 64 * 1024 * 1024
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_RUN, _RPR, _T, _FLDCHAR, _INSTR, _FLDSIMPLE, _BODY, _SECTPR, _MAILMERGE = (
    f"{{{W}}}{tag}" for tag in ("r", "rPr", "t", "fldChar", "instrText", "fldSimple", "body", "sectPr", "mailMerge")
)
_MERGED_PART = re.compile(r"word/(header|footer|footnotes|endnotes)[^/]*\.xml")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_NEWLINE = re.compile(r"\r\n|\r|\n")
# Characters XML 1.0 cannot carry: a value holding one would make the whole document unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[\x00-\x1f&<>\ud800-\udfff\ufffe\uffff]")
_CASES: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "firstcap": lambda s: s[:1].upper() + s[1:],
    "caps": lambda s: " ".join(word[:1].upper() + word[1:] for word in s.split(" ")),
}


@dataclass(frozen=True, slots=True)
class MergeResult:
    """A merged .docx and the field names (as written in the template) the record did not have."""

    content: bytes
    missing: frozenset[str]


@dataclass(frozen=True, slots=True)
class Slot:
    """One MERGEFIELD: its name as written, and the \\b, \\f and \\* switches that shape its text."""

    name: str
    before: str = ""
    after: str = ""
    case: str = ""
    key: str = field(init=False)  # the name in lower case, as `lookup` keys the record
    plain: bool = field(init=False)  # no switch changes the value

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())
        object.__setattr__(self, "plain", not (self.before or self.after or self.case))

    def text(self, value: str) -> str:
        """The field's text for a non-empty value."""
        if self.case:
            value = _CASES[self.case](value)
        return f"{self.before}{value}{self.after}"


@dataclass(frozen=True, slots=True)
class Fragment:
    """UTF-8 XML with holes: pieces[i] comes before slots[i], and one more piece closes it."""

    pieces: tuple[bytes, ...]
    slots: tuple[Slot, ...]
    w: str  # the prefix bound to the WordprocessingML namespace, with its colon

    def render(self, values: dict[str, str | None], missing: set[str]) -> bytes:
        """The XML with each slot's value (from a `lookup` record); unknown names go into `missing`."""
        pieces = self.pieces
        out = [pieces[0]]
        for n, slot in enumerate(self.slots, 1):
            if slot.key not in values:
                missing.add(slot.name)
            else:
                value = values[slot.key]
                if value:
                    out.append(run_content(value if slot.plain else slot.text(value), self.w).encode())
            out.append(pieces[n])
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: its untouched parts, and the document and headers/footers as fragments."""

    # (name, compression, bytes); None for the parts rendered from `head`/`body`/`tail` and `parts`
    entries: tuple[tuple[str, int, bytes | None], ...]
    head: bytes  # document.xml up to and including <w:body>
    body: Fragment  # the body's content without its final section properties
    tail: bytes  # the final <w:sectPr> and the closing tags
    parts: dict[str, Fragment]
    namespaces: dict[str, str]  # prefix -> URI declared on document.xml's root
    relationships: frozenset[str]  # ids the body refers to, before any prefix

    def raw(self, name: str) -> bytes | None:
        """A part's bytes as stored in the template (fields of merged parts left empty), None when absent."""
        for entry, _, data in self.entries:
            if entry == name:
                if data is None and name in self.parts:
                    return self.parts[name].render({}, set())
                return data
        return None

    def names(self) -> list[str]:
        """The MERGEFIELD names used, in order (body, then headers and footers), each once."""
        seen: dict[str, str] = {}
        for fragment in (self.body, *self.parts.values()):
            for slot in fragment.slots:
                seen.setdefault(slot.name.lower(), slot.name)
        return list(seen.values())


def merge_docx(template: bytes, fields: Fields) -> MergeResult:
    """Merge one record into a .docx template (document, headers and footers)."""
    compiled = compile_template(template)
    values = lookup(fields)
    missing: set[str] = set()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, compression, data in compiled.entries:
            if data is None:
                if name == DOCUMENT:
                    data = compiled.head + compiled.body.render(values, missing) + compiled.tail
                else:
                    data = compiled.parts[name].render(values, missing)
            archive.writestr(zip_info(name, compression), data)
    return MergeResult(out.getvalue(), frozenset(missing))


def merge_fields_in_docx(template: bytes) -> list[str]:
    """The MERGEFIELD names a .docx template uses, as written, in order of appearance."""
    return compile_template(template).names()


@lru_cache(maxsize=16)
def compile_template(template: bytes) -> Template:
    """The compiled template, cached: a template merged again and again is parsed once."""
    return compile_docx(template)


def compile_docx(template: bytes, rel_prefix: str = "", standalone: bool = False) -> Template:
    """Parse a .docx into a Template. For a letter book's other templates, `rel_prefix` renames the body's
    relationship ids and `standalone` declares the namespaces on each body element."""
    files = read_docx(template)
    nonce = secrets.token_hex(8)
    marker = re.compile(f"<!--{nonce}:(\\w+)-->")
    slots: list[Slot] = []
    entries: list[tuple[str, int, bytes | None]] = []
    parts: dict[str, Fragment] = {}
    head = tail = b""
    body: Fragment | None = None
    namespaces: dict[str, str] = {}
    relationships: set[str] = set()
    content = ""
    for info, data in files:
        name = info.filename
        # Word opens a file that still names its mail-merge data source with a "SQL command" prompt.
        if name == "word/settings.xml" and b"mailMerge" in data:
            settings = parse_xml(name, data)
            for element in settings.findall(_MAILMERGE):
                settings.remove(element)
            data = _serialize(settings).encode()
        # Stored (already compressed) media stay stored; everything else is deflated.
        compression = zipfile.ZIP_STORED if info.compress_type == zipfile.ZIP_STORED else zipfile.ZIP_DEFLATED
        if name != DOCUMENT and not _MERGED_PART.fullmatch(name):
            entries.append((name, compression, data))
            continue
        entries.append((name, compression, None))
        root = parse_xml(name, data)
        _replace_fields(root, nonce, slots)
        if name != DOCUMENT:
            parts[name] = _fragment(marker.split(_serialize(root)), slots, _prefix(root))
            continue
        namespaces = {prefix or "": uri for prefix, uri in root.nsmap.items()}
        element = root.find(_BODY)
        if element is None:
            raise Invalid("The Word document has no body (word/document.xml has no w:body element).")
        last = element[-1] if len(element) else None
        final = last if last is not None and last.tag == _SECTPR else None
        if rel_prefix:
            relationships = _prefix_relationships(element, rel_prefix)
        if standalone:
            content = "".join(etree.tostring(child, encoding="unicode") for child in element if child is not final)
        element.insert(0, etree.Comment(f"{nonce}:body"))
        if final is not None:
            final.addprevious(etree.Comment(f"{nonce}:end"))
        else:
            element.append(etree.Comment(f"{nonce}:end"))
        tokens = marker.split(_serialize(root))
        labels = tokens[1::2]
        start, end = 2 * labels.index("body") + 1, 2 * labels.index("end") + 1
        head, tail = tokens[start - 1].encode(), tokens[end + 1].encode()
        body = _fragment(marker.split(content) if standalone else tokens[start + 1 : end], slots, _prefix(root))
    if body is None:
        raise Invalid("The file is not a Word document: it has no word/document.xml.")
    return Template(tuple(entries), head, body, tail, parts, namespaces, frozenset(relationships))


def read_docx(template: bytes, only: Collection[str] | None = None) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """The files of a .docx (or `only` those named), or Invalid with what is wrong with it."""
    try:
        with zipfile.ZipFile(io.BytesIO(template)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if not any(info.filename == DOCUMENT for info in infos):
                raise Invalid(
                    "The file is not a Word document: it has no word/document.xml. Save it as a Word Document (.docx)."
                )
            for info in infos:
                if info.file_size > MAX_PART_BYTES:
                    raise Invalid(f"The Word document's part {info.filename} is too large ({info.file_size} bytes).")
            if sum(info.file_size for info in infos) > 4 * MAX_PART_BYTES:
                raise Invalid(f"The Word document is too large once unpacked (over {4 * MAX_PART_BYTES} bytes).")
            return [(info, archive.read(info)) for info in infos if only is None or info.filename in only]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise Invalid(f"The file is not a Word document (.docx): it is not a readable ZIP archive ({exc}).") from exc


def parse_xml(name: str, data: bytes) -> Any:
    """Parse one part without entities, DTDs or network access; Invalid when it is not well-formed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise Invalid(f"The Word document's part {name} is not valid XML ({exc}).") from exc
    # Word never writes a DTD; one here can only be an entity trick, and unresolved entities would not survive.
    if root.getroottree().docinfo.doctype:
        raise Invalid(f"The Word document's part {name} declares a DTD, which Word documents never do.")
    return root


def zip_info(name: str, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A fresh entry header (zipfile fills it in while writing, so one is never shared between archives)."""
    # A fixed date makes the same merge give the same bytes.
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = compression
    return info


def _serialize(root: Any) -> str:
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + etree.tostring(root, encoding="unicode")


def _prefix(root: Any) -> str:
    for prefix, uri in root.nsmap.items():
        if uri == W and prefix:
            return f"{prefix}:"
    return ""


def _fragment(tokens: list[str], slots: list[Slot], w: str) -> Fragment:
    """A fragment from split text: literal pieces alternating with slot numbers."""
    return Fragment(tuple(t.encode() for t in tokens[0::2]), tuple(slots[int(n)] for n in tokens[1::2]), w)


def _prefix_relationships(body: Any, rel_prefix: str) -> set[str]:
    """Rename the relationship ids the body refers to; the ids as they were."""
    found: set[str] = set()
    for element in body.iter(etree.Element):
        for attribute, value in element.attrib.items():
            if attribute.startswith(f"{{{R}}}") or attribute == "{urn:schemas-microsoft-com:office:office}relid":
                found.add(value)
                element.set(attribute, rel_prefix + value)
    return found


def parse_instruction(instruction: str) -> Slot | None:
    """The slot of a ` MERGEFIELD Name \\b "x" \\* Upper ` field code; None for any other field."""
    tokens = [(m.group(1) is not None, _unquote(m.group(1)) if m.group(1) is not None else m.group(2))
              for m in _TOKEN.finditer(instruction)]
    if len(tokens) < 2 or tokens[0][0] or tokens[0][1].upper() != "MERGEFIELD":
        return None
    switches: dict[str, str] = {}
    i = 2
    while i < len(tokens):
        quoted, token = tokens[i]
        if not quoted and token.startswith("\\"):
            switch, argument = token[:2].lower(), token[2:]
            if not argument and switch in ("\\b", "\\f", "\\*", "\\@", "\\#") and i + 1 < len(tokens):
                argument = tokens[i + 1][1]
                i += 1
            if switch in ("\\b", "\\f") or (switch == "\\*" and argument.lower() in _CASES):
                switches[switch] = argument
        i += 1
    case = switches.get("\\*", "").lower()
    return Slot(tokens[1][1], switches.get("\\b", ""), switches.get("\\f", ""), case)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@dataclass
class _OpenField:
    runs: list[Any]
    instruction: list[str]
    rpr: Any
    result: bool = False
    styled: bool = False


def _replace_fields(root: Any, nonce: str, slots: list[Slot]) -> None:
    """Replace every MERGEFIELD (simple or complex) by a run holding only its rPr and a slot marker."""
    for simple in list(root.iter(_FLDSIMPLE)):
        slot = parse_instruction(simple.get(f"{{{W}}}instr", ""))
        if slot is not None:
            rpr = next((r.find(_RPR) for r in simple.iter(_RUN) if r.find(_RPR) is not None), None)
            _put_slot([simple], rpr, slot, nonce, slots)
    _split_field_runs(root)
    stack: list[_OpenField] = []
    for run in list(root.iter(_RUN)):
        for open_field in stack:
            open_field.runs.append(run)
        char = run.find(_FLDCHAR)
        kind = None if char is None else char.get(f"{{{W}}}fldCharType")
        if kind == "begin":
            stack.append(_OpenField([run], [], run.find(_RPR)))
        elif not stack:
            continue
        elif kind == "separate":
            stack[-1].result = True
        elif kind == "end":
            closed = stack.pop()
            slot = parse_instruction("".join(closed.instruction))
            if slot is not None:
                _put_slot(closed.runs, closed.rpr, slot, nonce, slots)
        elif not stack[-1].result:
            instruction = run.find(_INSTR)
            if instruction is not None:
                stack[-1].instruction.append(instruction.text or "")
        elif run.find(_T) is not None and not stack[-1].styled:
            # The first result run shows how the author formatted the field («Contact_Name» in bold...).
            stack[-1].rpr, stack[-1].styled = run.find(_RPR), True


def _split_field_runs(root: Any) -> None:
    """Give every fldChar and instrText a run of its own, as Word writes them, so fields end at run bounds."""
    for run in list(root.iter(_RUN)):
        content = [child for child in run if child.tag != _RPR]
        if len(content) < 2 or not any(child.tag in (_FLDCHAR, _INSTR) for child in content):
            continue
        rpr = run.find(_RPR)
        anchor = run
        for child in content[1:]:
            piece = run.makeelement(_RUN, dict(run.attrib))
            if rpr is not None:
                piece.append(copy.deepcopy(rpr))
            piece.append(child)
            anchor.addnext(piece)
            anchor = piece


def _put_slot(elements: list[Any], rpr: Any, slot: Slot, nonce: str, slots: list[Slot]) -> None:
    first = elements[0]
    run = first.makeelement(_RUN, {})
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    run.append(etree.Comment(f"{nonce}:{len(slots)}"))
    slots.append(slot)
    first.addprevious(run)
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)


def run_content(text: str, w: str) -> str:
    """The inside of a run showing `text`: escaped, newlines as <w:br/>, tabs as <w:tab/>."""
    if _SPECIAL.search(text) is None:
        return f'<{w}t xml:space="preserve">{text}</{w}t>'
    text = _NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out: list[str] = []
    for n, line in enumerate(_NEWLINE.split(text)):
        if n:
            out.append(f"<{w}br/>")
        for m, part in enumerate(line.split("\t")):
            if m:
                out.append(f"<{w}tab/>")
            if part:
                out.append(f'<{w}t xml:space="preserve">{part}</{w}t>')
    return "".join(out)
