"""The merge field names and the {{Field_Name}} placeholders of e-mail bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape

FIELD_NAMES: tuple[str, ...] = (
    "Contact_No",
    "Contact_Name",
    "Contact_Company_Name",
    "Contact_Job_Title",
    "Contact_Address",
    "Contact_Address_2",
    "Contact_Post_Code",
    "Contact_City",
    "Contact_Country",
    "Contact_Email",
    "Contact_Phone",
    "Salesperson_Name",
    "Salesperson_Email",
    "Salesperson_Phone",
    "Interaction_Description",
    "Interaction_Subject",
    "Interaction_Date",
    "Interaction_Language",
    "Segment_No",
    "Campaign_Description",
    "Personal_Text",
)

Fields = Mapping[str, str | None]

# Anything between double braces is a placeholder: a name is looked up, never evaluated, so `{{ 7*7 }}` is
# simply an unknown name. Braces and newlines end the match so that stray "{{" cannot swallow a paragraph.
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\r\n]{0,100}?)\s*\}\}")
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class RenderResult:
    """A rendered e-mail body and the placeholder names (as written) that had no field."""

    text: str
    missing: frozenset[str]


def lookup(fields: Fields) -> dict[str, str | None]:
    """The record keyed by lower-case name, since field names are matched without regard to case."""
    return {name.lower(): value for name, value in fields.items()}


def render_text(template: str, fields: Fields, *, html: bool) -> RenderResult:
    """Replace `{{Field_Name}}` placeholders; values are HTML-escaped (newlines become <br>) when `html`."""
    values = lookup(fields)
    missing: set[str] = set()
    pieces, names = _split(template)
    out = [pieces[0]]
    for name, piece in zip(names, pieces[1:], strict=True):
        key = name.lower()
        if key not in values:
            missing.add(name)
        else:
            text = values[key] or ""
            # quote=True: a placeholder may stand inside an attribute, e.g. href="mailto:{{Contact_Email}}".
            out.append(_NEWLINE.sub("<br>\n", escape(text, quote=True)) if html and text else text)
        out.append(piece)
    return RenderResult("".join(out), frozenset(missing))


@lru_cache(maxsize=64)
def _split(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text around the placeholders and their names, once per distinct body (a campaign sends one body)."""
    tokens = _PLACEHOLDER.split(template)
    return tuple(tokens[0::2]), tuple(tokens[1::2])
