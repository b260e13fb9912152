"""Which numbers come back after the last row is deleted (domain.md 1.15 and §5 item 27): an
interaction log entry's never (a sequence); a logged segment's, a campaign entry's and an
attachment's do (highest + 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.test_segment_logging_api import logging_crm
from tests.api.test_segments_api import add, segment

API = "/api/v1"


@pytest.fixture
def crm(client, admin, db_engine):
    return logging_crm(client, admin, db_engine, "crm-numbers")


def postponed(crm, contact_no: str) -> int:
    body = {"contact_no": contact_no, "interaction_template_code": "LETTER", "postpone": True}
    return int(crm("POST", "/interactions", body, status=201)["entry_no"])


def logged(crm, contact_no: str, **header) -> dict:
    no = segment(crm, **header)["no"]
    add(crm, no, {"contact": {"no": contact_no}})
    return crm("POST", f"/segments/{no}/log", {})


def test_the_number_of_a_deleted_last_interaction_is_never_given_again(crm):
    first, last = postponed(crm, "P11"), postponed(crm, "P12")
    assert last > first
    crm("DELETE", f"/interactions/{last}", status=204)
    again = postponed(crm, "P3")
    assert again > last
    crm("DELETE", f"/interactions/{again}", status=204)
    # A set-based insert (Log Segment) does not take it back either, and numbers its lines in order.
    result = logged(crm, "C1|P11|P12")
    entries = crm("GET", f"/interactions?logged_segment_entry_no={result['logged_segment_entry_no']}")["items"]
    numbers = sorted(e["entry_no"] for e in entries)
    assert numbers == [again + 1, again + 2, again + 3]


def test_the_number_of_a_deleted_canceled_interaction_is_never_given_again(crm):
    entries = crm("GET", f"/interactions?logged_segment_entry_no={logged(crm, 'C1|P11')['logged_segment_entry_no']}")
    last = max(e["entry_no"] for e in entries["items"])
    crm("POST", "/interactions/cancel", {"entry_nos": [last]})
    assert crm("POST", "/interactions/delete-canceled", {})["deleted"] == 1
    assert postponed(crm, "P3") == last + 1


def test_the_number_of_a_deleted_last_logged_segment_is_given_again(crm):
    assert logged(crm, "P11")["logged_segment_entry_no"] == 1
    second = logged(crm, "P12")["logged_segment_entry_no"]
    assert second == 2
    crm("POST", f"/logged-segments/{second}/cancel")
    assert crm("POST", "/logged-segments/delete-canceled", {"entry_no_from": second})["deleted"] == 1
    assert logged(crm, "P3")["logged_segment_entry_no"] == 2


def test_the_number_of_a_deleted_last_campaign_entry_is_given_again(crm, db_engine):
    logged(crm, "P11", campaign_no="CP1")
    logged(crm, "P12", campaign_no="CP2")
    entries = crm("GET", "/campaign-entries")["items"]
    assert sorted(e["entry_no"] for e in entries) == [1, 2]
    with db_engine.begin() as conn:  # no operation deletes a campaign entry: history is kept
        conn.execute(text("DELETE FROM campaign_entry WHERE entry_no = 2"))
    logged(crm, "P3", campaign_no="CP2")
    entries = crm("GET", "/campaign-entries?campaign_no=CP2")["items"]
    assert [e["entry_no"] for e in entries] == [2]


def test_the_number_of_a_deleted_last_attachment_is_given_again(client, admin, crm):
    def upload(template: str) -> int:
        url = f"{API}/interaction-templates/{template}/languages/ENU/attachment"
        response = client.put(url, files={"file": ("body.txt", b"Hello", "text/plain")}, headers=admin)
        assert response.status_code == 201, response.text
        return int(response.json()["attachment_no"])

    for template in ("LETTER", "MAIL"):
        crm("POST", f"/interaction-templates/{template}/languages", {"language_code": "ENU"}, status=201)
    assert upload("LETTER") == 1
    assert upload("MAIL") == 2
    assert client.delete(f"{API}/interaction-templates/MAIL/languages/ENU/attachment", headers=admin).status_code == 204
    assert upload("MAIL") == 2
