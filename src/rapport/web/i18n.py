"""The UI's languages: gettext catalogs (one .po file per area and language), chosen per request.

Catalogs live in `web/locale/<language>/LC_MESSAGES/<area>.po` and are read once, at first use,
straight from the .po files, so running Rapport needs no compile step. Each UI area (contacts,
segments, ...) keeps its own catalog; the catalogs of a language are merged into one.
"""

from __future__ import annotations

import io
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


@cache
def translations(language: str) -> NullTranslations:
    """Every area's catalog of `language`, merged (English is the source text)."""
    merged: NullTranslations | None = None
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")) if language != DEFAULT_LANGUAGE else []:
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(buffer, domain=po.stem)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged or NullTranslations()


def set_language(language: str) -> None:
    """Make `language` the language of what this request renders."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str, **variables: object) -> str:
    """The message in the current language, with `%(name)s` variables filled in."""
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural form for `n` in the current language (`%(num)s` is n)."""
    text = translations(_current.get()).ngettext(singular, plural, n)
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
