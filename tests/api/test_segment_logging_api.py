"""Log Segment, logged segments and Reuse Logged Segment through the API (domain.md 3.11, 3.12, 3.19, 3.21)."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.core import attachments
from tests.api.test_segments_api import add, api_caller, build_crm, build_once, contact_nos, lines, segment

API = "/api/v1"
TODAY = dt.date.today().isoformat()


def logging_crm(client, admin, db_engine, name: str):
    """The contacts and master data of test_segments_api, plus a second campaign and a language, built
    once under `name`; the API caller."""
    call = api_caller(client, admin)

    def build():
        build_crm(call)
        call("POST", "/campaigns", {"no": "CP2", "description": "Autumn"})
        call("POST", "/languages", {"code": "ENU", "name": "English"})

    build_once(db_engine, name, build)
    return call


@pytest.fixture
def crm(client, admin, db_engine):
    return logging_crm(client, admin, db_engine, "crm-logging")


def interactions(crm, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return crm("GET", f"/interactions?limit=1000&{params}")["items"]


def campaign_entries(crm):
    return crm("GET", "/campaign-entries")["items"]


def log(client, headers, no, status=200, key=None, **body):
    extra = {"Idempotency-Key": key} if key else {}
    response = client.post(f"{API}/segments/{no}/log", json=body, headers={**headers, **extra})
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def logged(client, admin, crm):
    """Segment SEG00001 with Alpha's three contacts and Dora on campaign CP1, logged; returns the result."""
    no = segment(crm, campaign_no="CP1")["no"]
    add(crm, no, {"contact": {"no": "C1|P11|P12|P3"}})
    return log(client, admin, no)


# --- 3.12 Log Segment ---------------------------------------------------------------------------


def test_logging_creates_one_interaction_per_line_with_the_lines_values(client, admin, crm):
    no = segment(crm, campaign_no="CP1")["no"]
    add(crm, no, {"contact": {"no": "C1|P11|P12"}})
    second = lines(crm, no)[1]
    crm(
        "PATCH",
        f"/segments/{no}/lines/{second['line_no']}",
        {"description": "Own text", "cost": 3, "duration_min": 4, "date": "2026-01-15", "evaluation": "positive"},
    )
    result = log(client, admin, no)
    assert result["no_of_interactions"] == 3 and result["follow_up_segment_no"] == ""
    assert result["skipped"] == {"privacy_blocked": 0}
    entries = {e["contact_no"]: e for e in interactions(crm, segment_no=no)}
    assert set(entries) == {"C1", "P11", "P12"}
    anna = entries["P11"]
    assert (anna["description"], anna["cost"], anna["duration_min"], anna["date"]) == ("Own text", 3, 4, "2026-01-15")
    assert anna["evaluation"] == "positive"
    alpha = entries["C1"]
    assert (alpha["description"], alpha["cost"], alpha["duration_min"]) == ("Spring mailing", 10, 5)
    assert alpha["date"] == TODAY
    for entry in entries.values():
        assert entry["interaction_template_code"] == "LETTER" and entry["interaction_group_code"] == "LETTER"
        assert (entry["information_flow"], entry["initiated_by"]) == ("outbound", "us")
        assert entry["logged_segment_entry_no"] == result["logged_segment_entry_no"]
        assert entry["segment_no"] == no and entry["campaign_no"] == "CP1"
        assert entry["user_id"] == "admin-user" and entry["salesperson_code"] == "SP1"
        assert entry["canceled"] is False and entry["postponed"] is False
    assert entries["P12"]["correspondence_type"] == "hard_copy"
    assert entries["P11"]["correspondence_type"] == "email"
    crm("GET", f"/segments/{no}", status=404)  # logging deletes the segment


def test_email_to_a_contact_without_address_is_downgraded_when_not_delivering(client, admin, crm):
    no = segment(crm, interaction_template_code="MAIL")["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    assert {line["correspondence_type"] for line in lines(crm, no)} == {"email"}
    log(client, admin, no)
    types = {e["contact_no"]: e["correspondence_type"] for e in interactions(crm, segment_no=no)}
    assert types == {"P11": "email", "P12": ""}


def test_the_logged_segment_records_creation_date_user_and_counts(client, admin, crm, logged):
    entry_no = logged["logged_segment_entry_no"]
    assert logged["no_of_interactions"] == 4
    expected = {
        "entry_no": entry_no,
        "segment_no": "SEG00001",
        "description": "Spring mailing",
        "creation_date": TODAY,
        "user_id": "admin-user",
        "canceled": False,
        "no_of_interactions": 4,
        "no_of_campaign_entries": 1,
    }
    assert crm("GET", f"/logged-segments/{entry_no}") == expected
    assert crm("GET", "/logged-segments")["items"] == [expected]


def test_one_campaign_entry_per_campaign_of_the_segment(client, admin, crm):
    no = segment(crm, campaign_no="CP1", salesperson_code="SP2")["no"]
    add(crm, no, {"contact": {"no": "C1|P11|P12"}})
    last = lines(crm, no)[-1]
    crm("PATCH", f"/segments/{no}/lines/{last['line_no']}", {"campaign_no": "CP2"})
    result = log(client, admin, no)
    entries = {e["campaign_no"]: e for e in campaign_entries(crm)}
    assert set(entries) == {"CP1", "CP2"}
    for entry in entries.values():
        assert entry["register_no"] == result["logged_segment_entry_no"]
        assert (entry["segment_no"], entry["description"], entry["user_id"]) == (no, "Spring mailing", "admin-user")
        assert entry["salesperson_code"] == "SP2" and entry["document_type"] == ""
    assert entries["CP1"]["no_of_interactions"] == 2 and entries["CP2"]["no_of_interactions"] == 1
    by_contact = {e["contact_no"]: e["campaign_entry_no"] for e in interactions(crm, segment_no=no)}
    assert by_contact[last["contact_no"]] == entries["CP2"]["entry_no"]
    assert crm("GET", f"/logged-segments/{result['logged_segment_entry_no']}")["no_of_campaign_entries"] == 2


def test_privacy_blocked_contacts_are_skipped_when_logging(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P3"}})
    crm("PATCH", "/contacts/P3", {"privacy_blocked": True})
    result = log(client, admin, no)
    assert result["skipped"] == {"privacy_blocked": 1} and result["no_of_interactions"] == 1
    assert [e["contact_no"] for e in interactions(crm, segment_no=no)] == ["P11"]


def test_a_follow_up_segment_gets_the_same_contacts_and_campaign(client, admin, crm):
    no = segment(crm, campaign_no="CP1")["no"]
    add(crm, no, {"contact": {"no": "P11|P3"}})
    result = log(client, admin, no, create_follow_up=True)
    follow = result["follow_up_segment_no"]
    assert follow == "SEG00002"
    header = crm("GET", f"/segments/{follow}")
    assert header["description"] == f"Follow-up on segment {no}" and header["campaign_no"] == "CP1"
    assert header["interaction_template_code"] == ""
    assert sorted(contact_nos(crm, follow)) == ["P11", "P3"]
    assert {line["campaign_no"] for line in lines(crm, follow)} == {"CP1"}
    assert header["no_of_criteria_actions"] == 1


def test_logging_is_refused_for_an_empty_segment_or_one_without_description(client, admin, crm):
    empty = segment(crm)["no"]
    assert log(client, admin, empty, status=409)["error"]["code"] == "conflict"
    untitled = segment(crm, description="")["no"]
    add(crm, untitled, {"contact": {"no": "P11"}})
    log(client, admin, untitled, status=409)
    assert crm("GET", "/logged-segments")["items"] == [] and interactions(crm) == []
    assert crm("GET", f"/segments/{untitled}")["no_of_lines"] == 1


def test_a_segment_number_is_logged_only_once(client, admin, crm, logged):
    log(client, admin, "SEG00001", status=409)
    response = client.post(f"{API}/segments", json={"no": "SEG00001"}, headers=admin)
    assert response.status_code == 409
    assert len(crm("GET", "/logged-segments")["items"]) == 1
    assert len(interactions(crm)) == 4


def test_a_repeat_with_the_same_idempotency_key_returns_the_first_answer(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P3"}})
    first = client.post(f"{API}/segments/{no}/log", json={}, headers={**admin, "Idempotency-Key": "k-1"})
    assert first.status_code == 200
    again = client.post(f"{API}/segments/{no}/log", json={}, headers={**admin, "Idempotency-Key": "k-1"})
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    other_key = client.post(f"{API}/segments/{no}/log", json={}, headers={**admin, "Idempotency-Key": "k-2"})
    assert other_key.status_code == 409
    assert len(crm("GET", "/logged-segments")["items"]) == 1 and len(interactions(crm)) == 2


def test_the_same_idempotency_key_on_another_segment_logs_that_segment(client, admin, crm):
    first, second = segment(crm)["no"], segment(crm)["no"]
    add(crm, first, {"contact": {"no": "P11"}})
    add(crm, second, {"contact": {"no": "P12|P3"}})
    one = log(client, admin, first, key="z")
    two = log(client, admin, second, key="z")
    assert two["logged_segment_entry_no"] != one["logged_segment_entry_no"] and two["no_of_interactions"] == 2
    assert log(client, admin, second, key="z") == two
    assert log(client, admin, first, key="z") == one
    assert {e["segment_no"] for e in interactions(crm)} == {first, second}
    assert len(crm("GET", "/logged-segments")["items"]) == 2


def test_the_same_idempotency_key_from_another_user_is_another_request(client, admin, crm, headers_for):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    log(client, admin, no, key="shared")
    # Not the first user's answer replayed: this user's own request, refused as the segment is logged.
    refused = log(client, headers_for("marketing"), no, status=409, key="shared")
    assert "already logged" in refused["error"]["message"]
    assert len(interactions(crm)) == 1


def test_a_refusal_is_the_first_answer_to_its_idempotency_key(client, admin, crm):
    no = segment(crm)["no"]
    refused = log(client, admin, no, status=409, key="empty-first")
    assert "is empty" in refused["error"]["message"]
    add(crm, no, {"contact": {"no": "P11"}})
    # The same request again gets the same answer and changes nothing, though the segment has a line now.
    assert log(client, admin, no, status=409, key="empty-first") == refused
    assert interactions(crm) == [] and crm("GET", f"/segments/{no}")["no_of_lines"] == 1
    assert log(client, admin, no, key="second-attempt")["no_of_interactions"] == 1
    assert log(client, admin, no, status=409, key="empty-first") == refused


def test_delivering_email_to_a_contact_without_address_logs_nothing(client, admin, crm):
    no = segment(crm, interaction_template_code="MAIL")["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    assert log(client, admin, no, status=409, deliver=True)["error"]["code"] == "conflict"
    assert crm("GET", "/logged-segments")["items"] == [] and interactions(crm) == []
    assert campaign_entries(crm) == []
    assert crm("GET", f"/segments/{no}")["no_of_lines"] == 2


def test_logging_makes_the_lines_attachments_read_only_and_keeps_them(client, admin, crm, app):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    crm("PATCH", f"/segments/{no}", {"language_code_default": "ENU"})
    upload = client.put(
        f"{API}/segments/{no}/languages/ENU/attachment",
        files={"file": ("letter.txt", b"Dear {{Contact_Name}}", "text/plain")},
        headers=admin,
    )
    assert upload.status_code in (200, 201), upload.text
    attachment_no = upload.json()["attachment_no"]
    assert {line["attachment_no"] for line in lines(crm, no)} == {attachment_no}
    log(client, admin, no)
    assert {e["attachment_no"] for e in interactions(crm, segment_no=no)} == {attachment_no}
    download = client.get(f"{API}/attachments/{attachment_no}", headers=admin)
    assert download.status_code == 200 and download.content == b"Dear {{Contact_Name}}"
    with app.state.sessionmaker() as session:
        assert attachments.get_attachment(session, attachment_no).read_only is True


# --- 3.19 / 3.21 logged segments -----------------------------------------------------------------


def test_canceling_a_logged_segment_cascades_and_counts_follow_the_parent(client, admin, crm, logged):
    entry_no = logged["logged_segment_entry_no"]
    canceled = crm("POST", f"/logged-segments/{entry_no}/cancel")
    assert canceled["canceled"] is True
    assert (canceled["no_of_interactions"], canceled["no_of_campaign_entries"]) == (4, 1)
    assert all(e["canceled"] for e in interactions(crm))
    assert [e["canceled"] for e in campaign_entries(crm)] == [True]

    entry = interactions(crm)[0]["entry_no"]
    response = client.post(f"{API}/interactions/uncancel", json={"entry_nos": [entry]}, headers=admin)
    assert response.status_code == 409

    restored = crm("POST", f"/logged-segments/{entry_no}/uncancel")
    assert (restored["canceled"], restored["no_of_interactions"], restored["no_of_campaign_entries"]) == (False, 4, 1)
    crm("POST", "/interactions/cancel", {"entry_nos": [entry]})
    assert crm("GET", f"/logged-segments/{entry_no}")["no_of_interactions"] == 3  # canceled equals parent


def test_the_follow_up_route_builds_a_segment_with_the_same_contacts(crm, logged):
    result = crm("POST", f"/logged-segments/{logged['logged_segment_entry_no']}/follow-up")
    assert result == {"segment_no": "SEG00002"}
    header = crm("GET", "/segments/SEG00002")
    assert header["description"] == "Spring mailing"
    assert sorted(contact_nos(crm, "SEG00002")) == ["C1", "P11", "P12", "P3"]


def test_a_follow_up_takes_the_logged_segments_description_cut_to_50_characters(client, admin, crm):
    description = "A spring mailing to every customer who ordered in the autumn and in the winter before"
    assert len(description) > 50
    no = segment(crm, description=description)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    entry_no = log(client, admin, no)["logged_segment_entry_no"]
    assert crm("GET", f"/logged-segments/{entry_no}")["description"] == description
    follow = crm("POST", f"/logged-segments/{entry_no}/follow-up")["segment_no"]
    assert crm("GET", f"/segments/{follow}")["description"] == description[:50]


def test_deleting_canceled_logged_segments_unlinks_interactions_and_campaign_entries(client, admin, crm, logged):
    entry_no = logged["logged_segment_entry_no"]
    other = segment(crm)["no"]
    add(crm, other, {"contact": {"no": "P21"}})
    kept = log(client, admin, other)["logged_segment_entry_no"]
    assert crm("POST", "/logged-segments/delete-canceled", {}) == {"deleted": 0}
    crm("POST", f"/logged-segments/{entry_no}/cancel")
    assert crm("POST", "/logged-segments/delete-canceled", {}) == {"deleted": 1}
    crm("GET", f"/logged-segments/{entry_no}", status=404)
    assert [x["entry_no"] for x in crm("GET", "/logged-segments")["items"]] == [kept]
    unlinked = interactions(crm, segment_no="SEG00001")
    assert len(unlinked) == 4 and {e["logged_segment_entry_no"] for e in unlinked} == {None}
    assert [(e["register_no"], e["canceled"]) for e in campaign_entries(crm)] == [(None, True)]
    assert {e["logged_segment_entry_no"] for e in interactions(crm, segment_no=other)} == {kept}


# --- 3.11 Reuse Logged Segment ---------------------------------------------------------------------


def test_reuse_logged_segment_allows_duplicates_ignores_exclusion_and_skips_blocked_contacts(client, admin, crm):
    source = segment(crm, campaign_no="CP2")["no"]
    add(crm, source, {"contact": {"no": "P11|PX|P3"}}, ignore_exclusion=True)
    entry_no = log(client, admin, source)["logged_segment_entry_no"]
    crm("PATCH", "/contacts/P3", {"privacy_blocked": True})

    target = segment(crm, campaign_no="CP1")["no"]
    add(crm, target, {"contact": {"no": "P11"}})
    result = crm("POST", f"/segments/{target}/reuse-logged-segment", {"logged_segment_entry_no": entry_no})
    assert result["added"] == 2 and result["action_no"] == 2
    assert result["skipped"]["privacy_blocked"] == 1
    assert sorted(contact_nos(crm, target)) == ["P11", "P11", "PX"]
    reused = lines(crm, target)[1:]
    assert {line["campaign_no"] for line in reused} == {"CP2"}  # the campaign of the logged entries
    action = crm("GET", f"/segments/{target}/criteria")["items"][-1]
    assert action["action"] == "add_contacts" and action["options"]["allow_existing_contacts"] is True
    response = client.post(
        f"{API}/segments/{target}/reuse-logged-segment", json={"logged_segment_entry_no": 99}, headers=admin
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "logged_segment_entry_no"


def test_segment_lines_with_campaign_target_activate_a_campaign_and_keep_its_target_group(crm):
    no = segment(crm, campaign_no="CP2", campaign_target=True)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    assert crm("POST", "/campaigns/CP2/activate")["activated"] is True, "an unlogged line is a target too"
    assert [g["no"] for g in crm("GET", "/campaigns/CP2/target-groups")] == ["C1"]
    line = crm("POST", f"/segments/{no}/lines", {"contact_no": "P21", "campaign_no": "CP2", "campaign_target": True})
    # Beta (C2) is customer CU1: the target row names the customer (domain.md 3.4.7).
    assert sorted(g["no"] for g in crm("GET", "/campaigns/CP2/target-groups")) == ["C1", "CU1"]
    crm("PATCH", f"/segments/{no}/lines/{line['line_no']}", {"campaign_target": False})
    assert [g["no"] for g in crm("GET", "/campaigns/CP2/target-groups")] == ["C1"]
    crm("PATCH", f"/segments/{no}/lines/{line['line_no']}", {"campaign_target": True})
    crm("DELETE", f"/segments/{no}/lines/{line['line_no']}")
    assert [g["no"] for g in crm("GET", "/campaigns/CP2/target-groups")] == ["C1"]
