"""Logged segment pages in-process: list, card with interactions, cancel / un-cancel, follow-up, Delete
Canceled with its confirmation; roles, CSRF, escaping."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import ESCAPED, SCRIPT, api_caller, post, token
from tests.web.test_segments_pages import build_crm, sign_in


@pytest.fixture
def logged(client, admin):
    """Logged segment 1 (description with markup) with the four contacts of Paris."""
    build_crm(client, admin)
    call = api_caller(client, admin)
    no = call("POST", "/segments", {"description": SCRIPT, "interaction_template_code": "LETTER"})["no"]
    call("POST", f"/segments/{no}/add-contacts", {"criteria": {"contact": {"city": "Paris"}}})
    entry_no = call("POST", f"/segments/{no}/log", {})["logged_segment_entry_no"]
    return call, entry_no


def test_the_logged_segment_pages_render_for_a_viewer_escaped_and_without_actions(client, make_user, logged):
    _call, entry_no = logged
    sign_in(client, make_user, "viewer")
    listing = client.get("/logged-segments")
    assert listing.status_code == 200
    assert ESCAPED in listing.text and SCRIPT not in listing.text
    assert "/logged-segments/delete-canceled" not in listing.text
    card = client.get(f"/logged-segments/{entry_no}")
    assert card.status_code == 200
    assert ESCAPED in card.text and SCRIPT not in card.text
    assert len(re.findall(r'href="/interactions/\d+"', card.text)) == 4
    assert f"/logged-segments/{entry_no}/cancel" not in card.text and "/follow-up" not in card.text


def test_a_viewer_cannot_cancel_follow_up_or_delete(client, make_user, logged):
    call, entry_no = logged
    csrf = sign_in(client, make_user, "viewer")
    for url in [
        f"/logged-segments/{entry_no}/cancel",
        f"/logged-segments/{entry_no}/uncancel",
        f"/logged-segments/{entry_no}/follow-up",
        "/logged-segments/delete-canceled",
    ]:
        assert post(client, url, {"csrf_token": csrf, "confirmed": "yes"}).status_code == 403, url
    assert call("GET", f"/logged-segments/{entry_no}")["canceled"] is False


def test_logged_segment_forms_refuse_a_missing_csrf_token(client, make_user, logged):
    call, entry_no = logged
    sign_in(client, make_user, "marketing")
    assert post(client, f"/logged-segments/{entry_no}/cancel", {}).status_code == 403
    assert post(client, "/logged-segments/delete-canceled", {"confirmed": "yes"}).status_code == 403
    assert call("GET", f"/logged-segments/{entry_no}")["canceled"] is False


def test_cancel_and_uncancel_cascade_to_the_interactions(client, make_user, logged):
    call, entry_no = logged
    csrf = sign_in(client, make_user, "marketing")
    assert post(client, f"/logged-segments/{entry_no}/cancel", {"csrf_token": csrf}).status_code == 303
    entries = call("GET", f"/interactions?logged_segment_entry_no={entry_no}")["items"]
    assert len(entries) == 4 and all(e["canceled"] for e in entries)
    card = client.get(f"/logged-segments/{entry_no}")
    assert "This logged segment is canceled." in card.text and "Un-cancel" in card.text
    assert post(client, f"/logged-segments/{entry_no}/uncancel", {"csrf_token": csrf}).status_code == 303
    entries = call("GET", f"/interactions?logged_segment_entry_no={entry_no}")["items"]
    assert not any(e["canceled"] for e in entries)


def test_a_follow_up_segment_gets_the_same_contacts(client, make_user, logged):
    call, entry_no = logged
    csrf = sign_in(client, make_user, "marketing")
    response = post(client, f"/logged-segments/{entry_no}/follow-up", {"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/segments/SEG00002"
    assert len(call("GET", "/segments/SEG00002/lines")["items"]) == 4


def test_delete_canceled_asks_with_the_count_then_deletes(client, make_user, logged):
    call, entry_no = logged
    csrf = sign_in(client, make_user, "marketing")
    bad = post(client, "/logged-segments/delete-canceled", {"csrf_token": csrf, "entry_no_from": "one"})
    assert bad.status_code == 422 and re.search(r'id="e-entry_no_from">[^<]+</p>', bad.text)
    assert 'value="one"' in bad.text
    none = post(client, "/logged-segments/delete-canceled", {"csrf_token": csrf})
    assert "0 canceled logged segments match" in none.text
    call("POST", f"/logged-segments/{entry_no}/cancel")
    ask = post(client, "/logged-segments/delete-canceled", {"csrf_token": csrf, "segment_no": "seg00001"})
    assert ask.status_code == 200 and "1 canceled logged segment matches" in ask.text
    assert len(call("GET", "/logged-segments")["items"]) == 1
    confirmed = post(
        client,
        "/logged-segments/delete-canceled",
        {"csrf_token": token(ask.text), "segment_no": "seg00001", "confirmed": "yes"},
    )
    assert confirmed.status_code == 303
    assert call("GET", "/logged-segments")["items"] == []
    assert len(call("GET", "/interactions?canceled=true")["items"]) == 4
