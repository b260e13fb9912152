"""Contacts in a real browser: a company and a person of it through the form, the contact card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rapport.core import contacts
from tests.web.conftest import screenshot
from tests.web.test_contacts_pages import seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_a_company_and_a_person_of_it_are_created_through_the_form(sign_in_page, app):
    page = sign_in_page("carla", "sales")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="New company").click()
    page.get_by_label("No.", exact=True).fill("HERON")
    page.get_by_label("Name").first.fill("Heron Instruments")
    page.get_by_label("City").fill("Leeds")
    page.get_by_label("Email").fill("sales at heron")
    page.get_by_role("button", name="Save").click()
    # Refused on the server: the message sits next to the field and the input is kept.
    expect(page.locator("#e-email")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("City")).to_have_value("Leeds")
    page.get_by_label("Email").fill("sales@heron.test")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/contacts/HERON$"))
    expect(page.get_by_role("status")).to_contain_text("Contact HERON was created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Heron Instruments")

    page.get_by_role("link", name="New person").click()
    expect(page.get_by_label("Company No.")).to_have_value("HERON")
    page.get_by_label("No.", exact=True).fill("HERON-1")
    page.get_by_label("Name").first.fill("Iris Vale")
    page.get_by_label("Job Title").fill("Head of purchasing")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/contacts/HERON-1$"))
    expect(page.get_by_role("link", name="HERON", exact=True)).to_be_visible()
    page.get_by_role("link", name="HERON", exact=True).click()
    expect(page.get_by_role("link", name="Iris Vale")).to_be_visible()

    with app.state.sessionmaker() as s:
        iris = contacts.get_contact(s, "HERON-1")
        assert (iris.type, iris.company_no, iris.company_name, iris.city) == (
            "person",
            "HERON",
            "Heron Instruments",
            "Leeds",
        )
        assert contacts.get_contact(s, "HERON").email == "sales@heron.test"


def test_the_contact_card_shows_persons_statistics_and_the_timeline(sign_in_page, app):
    seed(app, interactions=6, weeks_back=5)
    page = sign_in_page("carla", "marketing")
    page.goto("/contacts/CT100")
    expect(page.get_by_role("heading", name="Persons")).to_be_visible()
    expect(page.get_by_role("link", name="Ada Brook")).to_be_visible()
    stats = page.locator(".stats")
    expect(stats).to_contain_text("No. of Interactions")
    expect(stats.locator("dd").first).to_have_text("6")
    expect(page.locator(".timeline li")).to_have_count(6)
    expect(page.get_by_role("link", name="Create Interaction")).to_be_visible()
    screenshot(page, "contact-card")
    page.get_by_role("link", name="Call 1").click()
    page.wait_for_url(re.compile(r".*/interactions/\d+$"))
