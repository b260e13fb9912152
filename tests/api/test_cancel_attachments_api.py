"""Canceling interactions with "remove unique attachments" (domain.md 1.15 and 3.19): an attachment
is unique to an entry when no other log entry references it, judged entry by entry."""

from __future__ import annotations

import pytest

from tests.api.test_segments_api import add, crm_caller, segment

API = "/api/v1"


@pytest.fixture
def crm(client, admin, db_engine):
    call = crm_caller(client, admin, db_engine)
    call("POST", "/languages", {"code": "ENU", "name": "English"})
    return call


def cancel(client, admin, entry_nos, **body):
    response = client.post(f"{API}/interactions/cancel", json={"entry_nos": entry_nos, **body}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def attachment_exists(client, admin, no):
    return client.get(f"{API}/attachments/{no}", headers=admin).status_code == 200


def logged_segment_sharing_one_attachment(client, admin, crm):
    """Two entries logged from one segment, both pointing at the segment's attachment."""
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    crm("PATCH", f"/segments/{no}", {"language_code_default": "ENU"})
    upload = client.put(
        f"{API}/segments/{no}/languages/ENU/attachment",
        files={"file": ("letter.txt", b"Dear customer", "text/plain")},
        headers=admin,
    )
    assert upload.status_code in (200, 201), upload.text
    crm("POST", f"/segments/{no}/log", {})
    entries = crm("GET", f"/interactions?segment_no={no}")["items"]
    assert len(entries) == 2 and {e["attachment_no"] for e in entries} == {upload.json()["attachment_no"]}
    return [e["entry_no"] for e in entries], upload.json()["attachment_no"]


def entry_with_its_own_attachment(client, admin, crm):
    """A wizard interaction whose template has an attachment: the entry gets its own copy."""
    crm("POST", "/interaction-templates/LETTER/languages", {"language_code": "ENU"})
    upload = client.put(
        f"{API}/interaction-templates/LETTER/languages/ENU/attachment",
        files={"file": ("note.txt", b"Meeting notes", "text/plain")},
        headers=admin,
    )
    assert upload.status_code in (200, 201), upload.text
    crm("PATCH", "/interaction-templates/LETTER", {"language_code_default": "ENU"})
    entry = crm(
        "POST", "/interactions", {"contact_no": "P11", "interaction_template_code": "LETTER", "salesperson_code": "SP1"}
    )
    assert entry["attachment_no"] not in (None, upload.json()["attachment_no"])
    return entry, upload.json()["attachment_no"]


def test_canceling_together_the_entries_that_share_an_attachment_keeps_it_for_all_of_them(client, admin, crm):
    entry_nos, attachment_no = logged_segment_sharing_one_attachment(client, admin, crm)
    items = cancel(client, admin, entry_nos, remove_unique_attachments=True)
    assert [(e["entry_no"], e["canceled"], e["attachment_no"]) for e in items] == [
        (n, True, attachment_no) for n in sorted(entry_nos)
    ]
    assert attachment_exists(client, admin, attachment_no)


def test_canceling_one_of_the_entries_that_share_an_attachment_keeps_it(client, admin, crm):
    entry_nos, attachment_no = logged_segment_sharing_one_attachment(client, admin, crm)
    [item] = cancel(client, admin, entry_nos[:1], remove_unique_attachments=True)
    assert (item["canceled"], item["attachment_no"]) == (True, attachment_no)
    assert attachment_exists(client, admin, attachment_no)


def test_canceling_with_remove_unique_attachments_removes_an_entrys_own_attachment(client, admin, crm):
    entry, template_attachment = entry_with_its_own_attachment(client, admin, crm)
    own = entry["attachment_no"]
    [item] = cancel(client, admin, [entry["entry_no"]], remove_unique_attachments=True)
    assert (item["canceled"], item["attachment_no"]) == (True, None)
    assert not attachment_exists(client, admin, own)
    assert attachment_exists(client, admin, template_attachment)


def test_canceling_keeps_a_unique_attachment_unless_its_removal_is_asked(client, admin, crm):
    entry, _ = entry_with_its_own_attachment(client, admin, crm)
    [item] = cancel(client, admin, [entry["entry_no"]])
    assert (item["canceled"], item["attachment_no"]) == (True, entry["attachment_no"])
    assert attachment_exists(client, admin, entry["attachment_no"])


def test_an_entry_canceled_before_keeps_its_attachment_when_canceled_again_with_removal(client, admin, crm):
    entry, _ = entry_with_its_own_attachment(client, admin, crm)
    cancel(client, admin, [entry["entry_no"]])
    [item] = cancel(client, admin, [entry["entry_no"]], remove_unique_attachments=True)
    assert (item["canceled"], item["attachment_no"]) == (True, entry["attachment_no"])
    assert attachment_exists(client, admin, entry["attachment_no"])


def test_a_selection_mixing_shared_and_own_attachments_removes_only_the_own_one(client, admin, crm):
    entry_nos, shared = logged_segment_sharing_one_attachment(client, admin, crm)
    entry, _ = entry_with_its_own_attachment(client, admin, crm)
    items = cancel(client, admin, [*entry_nos, entry["entry_no"]], remove_unique_attachments=True)
    expected = {**dict.fromkeys(entry_nos, shared), entry["entry_no"]: None}
    assert {e["entry_no"]: e["attachment_no"] for e in items} == expected
    assert attachment_exists(client, admin, shared)
    assert not attachment_exists(client, admin, entry["attachment_no"])
