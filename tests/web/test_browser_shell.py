"""The UI shell in a real browser: sign in, the navigation, the language switch."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_a_user_signs_in_and_switches_the_ui_to_french_and_back(sign_in_page):
    page = sign_in_page("claire", "marketing")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Segments")
    page.get_by_label("Language").select_option("fr")
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.reload()
    expect(page.get_by_role("link", name="Campagnes")).to_be_visible()
    page.get_by_label("Langue").select_option("en")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_signing_out_returns_to_the_login_page(sign_in_page):
    page = sign_in_page("olga", "viewer")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login$"))
    expect(page.get_by_role("heading", name="Sign in to Rapport")).to_be_visible()
