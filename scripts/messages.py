"""Refresh the UI's translation catalogs from the source: `python scripts/messages.py [AREA ...]`.

An area is a web module and its templates folder (`web/contacts.py`, `web/templates/contacts/`);
everything else of the UI (base layout, macros, sign-in, home, errors) is the area `base`.
New messages are added to `web/locale/<language>/LC_MESSAGES/<area>.po` with an empty
translation, vanished ones are dropped, existing translations are kept. Prints what is left to
translate. With no AREA, every area is refreshed.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent.parent / "src" / "rapport" / "web"
LOCALE = WEB / "locale"
LANGUAGES = ("fr", "it", "ru")
BASE_AREA = "base"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def area_of(path: Path) -> str:
    """The catalog a source file's messages belong to."""
    relative = path.relative_to(WEB)
    if relative.parts[0] == "templates" and len(relative.parts) > 2:
        return relative.parts[1]
    if relative.suffix == ".py" and (WEB / "templates" / relative.stem).is_dir():
        return relative.stem
    return BASE_AREA


def extract() -> dict[str, dict[str | tuple[str, str], list[tuple[str, int]]]]:
    """Area -> message id -> where it is used."""
    found: dict[str, dict[str | tuple[str, str], list[tuple[str, int]]]] = defaultdict(dict)
    sources = [(p, "python") for p in WEB.glob("*.py")] + [(p, "jinja2") for p in WEB.glob("templates/**/*.html")]
    for path, method in sorted(sources):
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for lineno, message, _comments, _context in extract_from_file(method, str(path), KEYWORDS, options=options):
            key = message if isinstance(message, str) else (message[0], message[1])
            found[area_of(path)].setdefault(key, []).append((str(path.relative_to(WEB)), lineno))
    return found


def refresh(area: str, messages: dict[str | tuple[str, str], list[tuple[str, int]]]) -> int:
    """Update the area's catalogs; return how many translations are missing."""
    missing = 0
    for language in LANGUAGES:
        po = LOCALE / language / "LC_MESSAGES" / f"{area}.po"
        old = Catalog(locale=language)
        if po.exists():
            with po.open("rb") as fp:
                old = read_po(fp, locale=language)
        new = Catalog(
            locale=language,
            project="Rapport",
            fuzzy=False,
            header_comment=f"# {area}: the {language} translations of this area of the Rapport UI.",
            creation_date=old.creation_date if po.exists() else None,
            revision_date=old.revision_date if po.exists() else None,
        )
        for key, locations in messages.items():
            previous = old.get(key[0] if isinstance(key, tuple) else key)
            string = previous.string if previous is not None else ("", "") if isinstance(key, tuple) else ""
            new.add(key, string, locations=locations)
            if not (all(string) if isinstance(string, tuple) else string):
                missing += 1
                print(f"{language}/{area}: untranslated: {key!r}")
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fp:
            write_po(fp, new, width=120, omit_header=False, sort_output=True)
    return missing


def main(areas: list[str]) -> int:
    found = extract()
    missing = sum(refresh(area, found.get(area, {})) for area in (areas or sorted(found)))
    print(f"{missing} translations missing")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
