"""The UI's four languages: complete catalogs, the choice of language, pages rendered in it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rapport.web import i18n

ROOT = Path(__file__).resolve().parents[2]


def _messages_script():
    spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("language", ["fr", "it", "ru"])
def test_every_message_of_the_ui_is_translated(language):
    found = _messages_script().extract()
    catalog = i18n.translations(language)
    untranslated = []
    for messages in found.values():
        for key in messages:
            singular = key[0] if isinstance(key, tuple) else key
            if isinstance(key, tuple):
                if catalog.ngettext(key[0], key[1], 1) == key[0] and catalog.ngettext(key[0], key[1], 5) == key[1]:
                    untranslated.append(singular)
            elif catalog.gettext(singular) == singular and not _same_in_both(singular, language):
                untranslated.append(singular)
    assert untranslated == [], f"run scripts/messages.py and translate these into {language}"


def _same_in_both(message: str, language: str) -> bool:
    """A message whose translation is spelled like the English (e.g. 'Contacts' in French)."""
    for po in (i18n.LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"):
        if f'msgid "{message}"\nmsgstr "{message}"' in po.read_text(encoding="utf-8"):
            return True
    return False


def test_the_users_own_language_wins_over_the_browsers():
    assert i18n.negotiate("it", "fr-FR,fr;q=0.9") == "it"


def test_the_browsers_preferences_are_followed_by_quality_and_order():
    assert i18n.negotiate("", "de-DE,de;q=0.9,ru;q=0.8,fr;q=0.7") == "ru"
    assert i18n.negotiate(None, "fr-CA, it") == "fr"
    assert i18n.negotiate(None, "it;q=0.4, fr;q=0.5") == "fr"


def test_an_unknown_or_garbled_language_falls_back_to_english():
    assert i18n.negotiate("xx", "de, ja;q=zz") == "en"
    assert i18n.negotiate(None, None) == "en"


def test_the_login_page_follows_the_browsers_language(client):
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="ru">' in page.text
    assert "Вход в Rapport" in page.text


def _catalog(language, area):
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{area}.po").open("rb") as fp:
        return {m.id: m.string for m in read_po(fp, locale=language) if m.id and isinstance(m.id, str) and m.string}


@pytest.mark.parametrize("language", ["fr", "it", "ru"])
def test_the_layouts_messages_read_the_same_on_every_page(language):
    """base.html is rendered inside every area's pages, which look in their own catalog first."""
    base = _catalog(language, "base")
    clashes = []
    for po in (i18n.LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"):
        for message, text in _catalog(language, po.stem).items():
            if message in base and base[message] != text:
                clashes.append((message, po.stem, text, base[message]))
    assert clashes == []


def test_a_message_takes_its_own_areas_translation_first():
    i18n.set_language("fr")
    for area, catalog in (
        (p.stem, _catalog("fr", p.stem)) for p in (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES").glob("*.po")
    ):
        for message, text in list(catalog.items())[:50]:
            assert i18n.translations("fr", area).gettext(message) == text
    i18n.set_area("no-such-area")
    assert i18n.template_gettext("Contacts") == _catalog("fr", "base")["Contacts"]
    i18n.set_language("en")
    i18n.set_area(None)
