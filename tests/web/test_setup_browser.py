"""Setup in a real browser: a group, a template with a language and its attachment, Marketing Setup."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rapport.core import setup, templates
from tests.web.conftest import screenshot

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def open_setup(page, name: str) -> None:
    """Choose a page from the Setup menu of the navigation."""
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Setup", exact=True).click()
    nav.get_by_role("link", name=name, exact=True).click()


def test_an_admin_sets_up_a_template_with_a_language_and_an_attachment(sign_in_page, app):
    page = sign_in_page("ada", "admin")

    open_setup(page, "Languages")
    page.get_by_role("link", name="New").click()
    page.locator("#f-code").fill("en")
    page.get_by_label("Name").fill("English")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/setup/languages/EN$"))

    open_setup(page, "Interaction groups")
    page.get_by_role("link", name="New").click()
    page.locator("#f-code").fill("letters")
    page.get_by_label("Description").fill("Letters and e-mails")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/setup/interaction-groups/LETTERS$"))
    expect(page.get_by_role("status")).to_contain_text("LETTERS was created.")

    open_setup(page, "Interaction templates")
    page.get_by_role("link", name="New").click()
    page.locator("#f-code").fill("welcome")
    page.locator("#f-interaction_group_code").select_option("LETTERS")
    page.get_by_label("Description").fill("Welcome letter")
    page.get_by_label("Unit cost (LCY)").fill("1.25")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/setup/interaction-templates/WELCOME$"))

    # A language row, then its file.
    page.locator("#new-lang-language_code").select_option("EN")
    page.locator("#new-lang-subject").fill("Welcome to Rapport")
    page.get_by_role("button", name="Add language").click()
    expect(page.get_by_role("status")).to_contain_text("Language EN was added.")
    language = page.locator("article#lang-EN")
    language.get_by_label("Upload a file").set_input_files(
        {"name": "welcome.txt", "mimeType": "text/plain", "buffer": b"Dear {{Contact_Name}},\nwelcome."}
    )
    language.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The attachment was uploaded.")
    expect(page.locator("article#lang-EN").get_by_role("link", name="welcome.txt")).to_be_visible()

    # A text file cannot be merged: the Wizard Action rule shows next to the field, input kept.
    page.get_by_label("Language code (default)").select_option("EN")
    page.get_by_label("Wizard action").select_option("merge")
    page.locator("#f-description").fill("Welcome letter, first contact")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#e-wizard_action")).to_contain_text("Wizard Action = merge can not be specified")
    expect(page.locator("#f-description")).to_have_value("Welcome letter, first contact")
    page.get_by_label("Wizard action").select_option("import")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Your changes were saved.")
    screenshot(page, "interaction-template")

    with app.state.sessionmaker() as session:
        template = templates.get_template(session, "WELCOME")
        assert (template.description, template.wizard_action) == ("Welcome letter, first contact", "import")
        assert template.language_code_default == "EN" and float(template.unit_cost) == 1.25
        assert template.correspondence_type_default == "email"  # BC's initial value, offered by the new form
        row = templates.get_template_language(session, "WELCOME", "EN")
        assert row.subject == "Welcome to Rapport" and row.attachment_no is not None

    # The download gives back the uploaded file.
    with page.expect_download() as download:
        page.locator("article#lang-EN").get_by_role("link", name="welcome.txt").click()
    assert download.value.suggested_filename == "welcome.txt"

    open_setup(page, "Marketing setup")
    page.get_by_label("Default language code").select_option("EN")
    page.get_by_label("Default country/region code").fill("fr")
    page.get_by_label("Inherit language code").uncheck()
    page.get_by_label("Attachment storage type").select_option("disk_file")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-attachment_storage_location")).to_be_visible()
    expect(page.get_by_label("Default country/region code")).to_have_value("fr")
    page.get_by_label("Attachment storage type").select_option("embedded")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Marketing Setup was saved.")
    expect(page.get_by_label("Inherit language code")).not_to_be_checked()
    screenshot(page, "marketing-setup")

    with app.state.sessionmaker() as session:
        marketing = setup.get_marketing_setup(session)
        assert (marketing.default_language_code, marketing.default_country_code) == ("EN", "FR")
        assert marketing.inherit_language_code is False and marketing.inherit_salesperson_code is True
