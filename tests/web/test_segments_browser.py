"""A segment from start to log in a real browser: create, Add Contacts with the live preview, Reduce,
Go Back, Log with a follow-up segment, the logged segment and its interactions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import screenshot
from tests.web.helpers import API
from tests.web.test_segments_pages import build_crm

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

MORE_CONTACTS = [
    {"no": "C5", "name": "Delta SARL", "city": "Marseille", "country_code": "FR", "salesperson_code": "SP1"},
    {"no": "P51", "type": "person", "name": "Eva Delta", "company_no": "C5", "city": "Marseille", "country_code": "FR"},
    {
        "no": "P52",
        "type": "person",
        "name": "Fred Delta",
        "company_no": "C5",
        "city": "Marseille",
        "country_code": "FR",
    },
]


@pytest.fixture
def crm(client, admin):
    build_crm(client, admin)
    for body in MORE_CONTACTS:
        assert client.post(f"{API}/contacts", json=body, headers=admin).status_code == 201

    def get(path):
        response = client.get(API + path, headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    return get


def line_count(crm, no):
    return len(crm(f"/segments/{no}/lines")["items"])


def test_a_segment_is_built_by_criteria_undone_logged_and_followed_up(sign_in_page, crm):
    page = sign_in_page("mia", "marketing")

    # create
    page.goto("/segments")
    page.get_by_role("link", name="New", exact=True).click()
    page.get_by_label("Description").fill("Spring mailing")
    page.get_by_label("Interaction Template Code").select_option("LETTER")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/segments/SEG00001$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("SEG00001 · Spring mailing")

    # Add Contacts: the preview counts as the user types, then the action adds the lines
    page.get_by_role("link", name="Add Contacts").click()
    expect(page.get_by_role("dialog")).to_contain_text("Add Contacts")
    page.wait_for_url(re.compile(r".*/segments/SEG00001/add-contacts$"))
    count = page.locator("#preview-count")
    expect(count).to_have_text("11")  # no filter yet: every contact
    country = page.get_by_label("Country/Region Code")
    country.press_sequentially("FR", delay=40)
    expect(count).to_have_text("9")
    country.press_sequentially("|D", delay=40)
    expect(count).to_have_text("9")
    country.press_sequentially("E", delay=40)
    expect(count).to_have_text("11")
    expect(page.locator("#preview")).to_contain_text("Anna Alpha")
    city = page.get_by_label("City")
    city.fill("Pa)ris")
    expect(page.locator("#e-criteria-contact-city")).to_contain_text("unexpected ')'")
    city.fill("")
    expect(page.locator("#e-criteria-contact-city")).to_have_text("")
    expect(count).to_have_text("11")
    screenshot(page, "segment-add-contacts")
    page.get_by_role("dialog").get_by_role("button", name="Add Contacts").click()
    page.wait_for_url(re.compile(r".*/segments/SEG00001$"))
    expect(page.locator(".flash")).to_contain_text("11 contacts added")
    expect(page.locator("table.lines tbody tr")).to_have_count(11)
    assert line_count(crm, "SEG00001") == 11
    page.set_viewport_size({"width": 1280, "height": 1300})
    screenshot(page, "segment")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Reduce by the mailing group
    page.get_by_role("link", name="Reduce Contacts").click()
    page.get_by_text("Mailing group", exact=True).click()
    page.get_by_label("Mailing Group Code").fill("NEWS")
    expect(count).to_have_text("2")
    expect(page.locator("#preview")).to_contain_text("lines would be removed")
    page.get_by_role("dialog").get_by_role("button", name="Reduce Contacts").click()
    expect(page.locator(".flash")).to_contain_text("2 lines removed.")
    expect(page.locator("table.lines tbody tr")).to_have_count(9)
    assert {line["contact_no"] for line in crm("/segments/SEG00001/lines")["items"]}.isdisjoint({"P11", "P21"})

    # Go Back restores the removed lines
    page.get_by_role("link", name="Go Back").click()
    expect(page.get_by_role("dialog")).to_contain_text("mailing_group.code = NEWS")
    page.get_by_role("button", name="Undo action 2").click()
    expect(page.locator(".flash")).to_contain_text("2 lines restored")
    expect(page.locator("table.lines tbody tr")).to_have_count(11)
    assert line_count(crm, "SEG00001") == 11

    # Log with a follow-up segment, without delivery
    page.get_by_role("link", name="Log", exact=True).click()
    deliver = page.get_by_label("Send Attachments (deliver the e-mails and letters)")
    expect(deliver).to_be_checked()  # the lines have a correspondence type (Hard Copy)
    deliver.uncheck()
    page.get_by_label("Create Follow-up Segment").check()
    page.get_by_role("dialog").get_by_role("button", name="Log", exact=True).click()
    page.wait_for_url(re.compile(r".*/segments/SEG00001/log-result/.+"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Segment SEG00001 was logged")
    expect(page.locator("dl.seg-facts")).to_contain_text("Interactions created")
    logged = crm("/logged-segments")["items"]
    assert len(logged) == 1 and logged[0]["no_of_interactions"] == 11 and logged[0]["segment_no"] == "SEG00001"
    entry_no = logged[0]["entry_no"]
    assert crm(f"/interactions?logged_segment_entry_no={entry_no}&limit=100")["items"][0]["delivery_status"] == ""

    # the logged segment and its interactions
    page.get_by_role("link", name="Open the logged segment").click()
    page.wait_for_url(re.compile(rf".*/logged-segments/{entry_no}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Logged segment {entry_no} · Spring mailing")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(11)
    expect(rows.first.get_by_role("link")).to_have_attribute("href", re.compile(r"^/interactions/\d+$"))
    expect(page.locator("table")).to_contain_text("Anna Alpha")
    screenshot(page, "logged-segment")

    # the follow-up segment holds the same contacts
    page.go_back()
    page.get_by_role("link", name="Open follow-up segment SEG00002").click()
    page.wait_for_url(re.compile(r".*/segments/SEG00002$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Follow-up on segment SEG00001")
    expect(page.locator("table.lines tbody tr")).to_have_count(11)
    assert line_count(crm, "SEG00002") == 11
    assert crm("/segments")["items"][0]["no"] == "SEG00002"


def test_a_line_is_edited_inline_with_htmx(sign_in_page, crm, client, admin):
    no = client.post(
        f"{API}/segments", json={"description": "Inline", "interaction_template_code": "LETTER"}, headers=admin
    ).json()["no"]
    client.post(f"{API}/segments/{no}/lines", json={"contact_no": "P11"}, headers=admin)
    page = sign_in_page("max", "marketing")
    page.goto(f"/segments/{no}")
    page.get_by_role("link", name="Edit line 10000").click()
    row = page.locator("#line-10000")
    row.get_by_label("Date").fill("")
    row.get_by_label("Personal text").fill("Dear Anna, see you in spring")
    row.get_by_label("Evaluation").select_option("positive")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".field-error")).to_contain_text("date")  # refused (422), shown in the row
    expect(row.get_by_label("Personal text")).to_have_value("Dear Anna, see you in spring")
    row.get_by_label("Date").fill("2026-05-04")
    row.get_by_role("button", name="Save").click()
    expect(row).not_to_have_class("editing")
    expect(row).to_contain_text("Dear Anna, see you in spring")
    expect(row).to_contain_text("Positive")
    line = crm(f"/segments/{no}/lines/10000")
    assert (line["personal_text"], line["evaluation"], line["date"]) == (
        "Dear Anna, see you in spring",
        "positive",
        "2026-05-04",
    )
    assert page.url.endswith(f"/segments/{no}")  # swapped in place, no page load
