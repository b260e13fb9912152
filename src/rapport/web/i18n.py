"""The UI's languages: gettext catalogs (one .po file per area and language), chosen per request.

Catalogs live in `web/locale/<language>/LC_MESSAGES/<area>.po` and are read once, at first use,
straight from the .po files, so running Rapport needs no compile step. Each UI area (contacts,
segments, ...) keeps its own catalog, because one English word may need two translations (a
canceled entry and a canceled campaign entry differ in gender in French): a message is looked up
in its own area's catalog first, then in all of them.
"""

from __future__ import annotations

import io
import sys
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
# The UI languages, each named in its own language (what a user looks for in a switcher).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "it": "Italiano", "ru": "Русский"}

_current: ContextVar[str] = ContextVar("rapport_ui_language", default=DEFAULT_LANGUAGE)


def _catalog(po: Path, language: str) -> Translations:
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=po.stem)


@cache
def translations(language: str, area: str | None = None) -> NullTranslations:
    """The catalog of one area of `language`, falling back to every area's (English is the source text)."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    if language == DEFAULT_LANGUAGE or not folder.is_dir():
        return NullTranslations()
    if area is not None:
        own = folder / f"{area}.po"
        if not own.is_file():
            return translations(language)
        part = _catalog(own, language)
        part.add_fallback(translations(language))
        return part
    merged: Translations | None = None
    for po in sorted(folder.glob("*.po")):
        part = _catalog(po, language)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or NullTranslations()


_area: ContextVar[str | None] = ContextVar("rapport_ui_area", default=None)
_TEMPLATES_DIR = Path(__file__).parent / "templates"


def area_of_template(name: str) -> str:
    """`contacts/card.html` -> `contacts`; a template at the top (base, macros, errors) -> `base`."""
    return name.split("/", 1)[0] if "/" in name else "base"


def area_of_module(module: str) -> str:
    """`rapport.web.contacts` -> `contacts` when it has a templates folder, else `base` (as scripts/messages.py)."""
    name = module.rsplit(".", 1)[-1]
    return name if (_TEMPLATES_DIR / name).is_dir() else "base"


def set_area(area: str | None) -> None:
    """The area whose catalog a template being rendered looks in first."""
    _area.set(area)


def template_gettext(message: str) -> str:
    return translations(_current.get(), _area.get()).gettext(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get(), _area.get()).ngettext(singular, plural, n)


def set_language(language: str) -> None:
    """Make `language` the language of what this request renders."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def _caller_area() -> str:
    return area_of_module(str(sys._getframe(2).f_globals.get("__name__", "")))


def gettext(message: str, **variables: object) -> str:
    """The message in the current language (from the calling module's area), `%(name)s` filled in."""
    text = translations(_current.get(), _caller_area()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural form for `n` in the current language (`%(num)s` is n)."""
    text = translations(_current.get(), _caller_area()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def negotiate(user_language: str | None, accept_language: str | None) -> str:
    """The user's own setting when it is a UI language, else the best match of Accept-Language."""
    if user_language in LANGUAGES:
        return str(user_language)
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        if language not in LANGUAGES:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        # Earlier entries win ties, as browsers list them in order of preference.
        quality -= position * 1e-6
        if quality > best_q:
            best, best_q = language, quality
    return best
