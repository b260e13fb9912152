"""Campaign pages in-process: list, new, card with statistics and entries, edit, activate, cancel /
un-cancel an entry; roles, CSRF, validation next to the field, escaping."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import ESCAPED, SCRIPT, api_caller, post
from tests.web.test_segments_pages import build_crm, sign_in


@pytest.fixture
def campaign(client, admin):
    """Campaign CP1 (from build_crm) given a description with markup, logged on once through a segment."""
    build_crm(client, admin)
    call = api_caller(client, admin)
    call("PATCH", "/campaigns/CP1", {"description": SCRIPT})
    no = call("POST", "/segments", {"description": "Spring", "interaction_template_code": "LETTER"})["no"]
    call("PATCH", f"/segments/{no}", {"campaign_no": "CP1", "campaign_target": True})
    call("POST", f"/segments/{no}/add-contacts", {"criteria": {"contact": {"city": "Lyon"}}})
    call("POST", f"/segments/{no}/log", {})
    return call


def test_the_campaign_pages_render_for_a_viewer_escaped_and_without_actions(client, make_user, campaign):
    sign_in(client, make_user, "viewer")
    listing = client.get("/campaigns")
    assert listing.status_code == 200 and ESCAPED in listing.text and SCRIPT not in listing.text
    assert 'href="/campaigns/new"' not in listing.text
    card = client.get("/campaigns/CP1")
    assert card.status_code == 200 and ESCAPED in card.text and SCRIPT not in card.text
    assert "/campaigns/CP1/activate" not in card.text and "/entries/" not in card.text
    facts = re.sub(r"\s+", " ", card.text)
    assert "<dt>Target Contacts Contacted</dt><dd>2</dd>" in facts


def test_a_viewer_cannot_post_campaign_writes(client, make_user, campaign):
    csrf = sign_in(client, make_user, "viewer")
    entry_no = campaign("GET", "/campaign-entries?campaign_no=CP1")["items"][0]["entry_no"]
    for url in [
        "/campaigns/new",
        "/campaigns/CP1",
        "/campaigns/CP1/activate",
        "/campaigns/CP1/delete",
        f"/campaigns/CP1/entries/{entry_no}/cancel",
    ]:
        assert post(client, url, {"csrf_token": csrf, "no": "CP9", "description": "x"}).status_code == 403, url
    assert campaign("GET", "/campaigns/CP1")["description"] == SCRIPT


def test_campaign_forms_refuse_a_missing_csrf_token(client, make_user, campaign):
    sign_in(client, make_user, "marketing")
    assert post(client, "/campaigns/new", {"no": "CP9"}).status_code == 403
    assert post(client, "/campaigns/CP1", {"description": "x"}).status_code == 403
    assert campaign("GET", "/campaigns/CP1")["description"] == SCRIPT


def test_a_new_campaign_with_dates_out_of_order_is_refused_next_to_the_field(client, make_user, campaign):
    csrf = sign_in(client, make_user, "marketing")
    form = {
        "csrf_token": csrf,
        "no": "CP2",
        "description": "Autumn",
        "starting_date": "2026-09-30",
        "ending_date": "2026-09-01",
    }
    refused = post(client, "/campaigns/new", form)
    assert refused.status_code == 422
    assert re.search(r'id="e-ending_date">[^<]*before the starting date', refused.text)
    assert 'value="Autumn"' in refused.text
    assert [c["no"] for c in campaign("GET", "/campaigns")["items"]] == ["CP1"]
    created = post(client, "/campaigns/new", {**form, "ending_date": "2026-10-31", "salesperson_code": "SP1"})
    assert created.status_code == 303 and created.headers["location"] == "/campaigns/CP2"
    assert campaign("GET", "/campaigns/CP2")["ending_date"] == "2026-10-31"


def test_a_campaign_is_edited_and_activated_from_its_card(client, make_user, campaign):
    csrf = sign_in(client, make_user, "marketing")
    saved = post(client, "/campaigns/CP1", {"csrf_token": csrf, "description": "Spring", "status_code": "open"})
    assert saved.status_code == 303
    assert campaign("GET", "/campaigns/CP1")["status_code"] == "OPEN"
    assert post(client, "/campaigns/CP1/activate", {"csrf_token": csrf}).status_code == 303
    assert campaign("GET", "/campaigns/CP1")["activated"] is True
    assert "Deactivate" in client.get("/campaigns/CP1").text


def test_a_campaign_entry_is_canceled_and_uncanceled_with_its_interactions(client, make_user, campaign):
    csrf = sign_in(client, make_user, "marketing")
    entry_no = campaign("GET", "/campaign-entries?campaign_no=CP1")["items"][0]["entry_no"]
    assert post(client, f"/campaigns/CP1/entries/{entry_no}/cancel", {"csrf_token": csrf}).status_code == 303
    assert all(e["canceled"] for e in campaign("GET", "/interactions?campaign_no=CP1&canceled=true")["items"])
    assert campaign("GET", "/campaigns/CP1")["target_contacts_contacted"] == 0
    assert post(client, f"/campaigns/CP1/entries/{entry_no}/uncancel", {"csrf_token": csrf}).status_code == 303
    assert campaign("GET", "/campaigns/CP1")["target_contacts_contacted"] == 2
