"""Users in a real browser: an admin adds a viewer, who signs in and can only read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.test_setup_browser import open_setup

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_a_viewer_added_by_an_admin_signs_in_and_sees_no_write_buttons(sign_in_page, app):
    page = sign_in_page("ada", "admin")
    open_setup(page, "Interaction groups")
    expect(page.get_by_role("link", name="New")).to_be_visible()

    open_setup(page, "Users")
    page.locator("#f-username").fill("victor")
    page.locator("#f-role").select_option("viewer")
    page.locator("#f-password").fill("victor-password")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_url(re.compile(r".*/users/victor$"))
    expect(page.get_by_role("status")).to_contain_text("User victor was added.")
    page.get_by_role("button", name="Sign out").click()

    page.wait_for_url(re.compile(r".*/login$"))
    page.get_by_label("Username").fill("victor")
    page.get_by_label("Password").fill("victor-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.locator(".who")).to_contain_text("victor (viewer)")

    open_setup(page, "Interaction groups")
    expect(page.get_by_role("heading", name="Interaction groups")).to_be_visible()
    expect(page.get_by_role("link", name="New")).to_have_count(0)
    open_setup(page, "Marketing setup")
    expect(page.get_by_role("heading", name="Marketing setup")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Users")).to_have_count(0)
    response = page.goto("/users")
    assert response is not None and response.status == 403
