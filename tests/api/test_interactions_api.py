"""The interaction log through the API, following domain.md 3.15-3.20 and 4 step by step."""

from __future__ import annotations

import datetime as dt

import pytest

API = "/api/v1"


@pytest.fixture
def crm(client, admin):
    """A salesperson, a company with a person, an interaction group and a letter template."""

    def post(path, body, status=201):
        response = client.post(API + path, json=body, headers=admin)
        assert response.status_code == status, response.text
        return response.json()

    post("/salespeople", {"code": "SP1", "name": "Sam Seller", "email": "sam@example.com"})
    post("/contacts", {"no": "C1", "name": "Fabrikam", "salesperson_code": "SP1", "phone_no": "+33 1 23"})
    post(
        "/contacts",
        {"no": "P1", "type": "person", "name": "Léa Martin", "company_no": "C1", "email": "lea@fabrikam.example"},
    )
    post("/contacts", {"no": "P2", "type": "person", "name": "No Mail", "company_no": "C1"})
    post("/interaction-groups", {"code": "LETTER", "description": "Letters"})
    post(
        "/interaction-templates",
        {
            "code": "ABSTRACT",
            "interaction_group_code": "LETTER",
            "description": "Abstract of meeting",
            "unit_cost": 12.5,
            "unit_duration_min": 30,
            "information_flow": "outbound",
            "initiated_by": "us",
            "correspondence_type_default": "hard_copy",
        },
    )
    post(
        "/interaction-templates",
        {
            "code": "EMAIL",
            "interaction_group_code": "LETTER",
            "description": "E-mail",
            "correspondence_type_default": "email",
        },
    )
    return post


def create(client, headers, status=201, **body):
    body.setdefault("contact_no", "P1")
    body.setdefault("interaction_template_code", "ABSTRACT")
    response = client.post(f"{API}/interactions", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_a_new_interaction_takes_the_defaults_of_its_template_and_contact(client, admin, crm):
    entry = create(client, admin)
    assert entry["contact_no"] == "P1"
    assert entry["contact_company_no"] == "C1"
    assert entry["contact_name"] == "Léa Martin"
    assert entry["contact_company_name"] == "Fabrikam"
    assert entry["description"] == "Abstract of meeting"
    assert entry["subject"] == "Abstract of meeting"
    assert entry["cost"] == 12.5 and entry["duration_min"] == 30
    assert entry["information_flow"] == "outbound" and entry["initiated_by"] == "us"
    assert entry["interaction_group_code"] == "LETTER"
    assert entry["salesperson_code"] == "SP1"  # inherited by the person from its company
    assert entry["correspondence_type"] == "hard_copy"
    assert entry["date"] == dt.date.today().isoformat()
    assert entry["time_of_interaction"].endswith(":00")
    assert entry["user_id"] == "admin-user"
    assert entry["postponed"] is False and entry["canceled"] is False
    assert entry["attempt_failed"] is False
    assert entry["has_comments"] is False


def test_a_given_subject_wins_and_an_omitted_one_follows_the_description(client, admin, crm):
    assert create(client, admin, description="Visit", subject="Our visit")["subject"] == "Our visit"
    assert create(client, admin, description="Visit")["subject"] == "Visit"


def test_given_values_override_the_template(client, admin, crm):
    entry = create(
        client,
        admin,
        cost=3,
        duration_min=7,
        evaluation="positive",
        successful=False,
        date="2026-01-15",
        time_of_interaction="09:30:00",
        information_flow="inbound",
    )
    assert (entry["cost"], entry["duration_min"], entry["evaluation"]) == (3, 7, "positive")
    assert entry["attempt_failed"] is True
    assert (entry["date"], entry["time_of_interaction"]) == ("2026-01-15", "09:30:00")
    assert entry["information_flow"] == "inbound"


def test_an_interaction_without_salesperson_is_refused_naming_the_field(client, admin, crm):
    client.post(f"{API}/contacts", json={"no": "LONE", "type": "person", "name": "Lone"}, headers=admin)
    response = client.post(
        f"{API}/interactions", json={"contact_no": "LONE", "interaction_template_code": "ABSTRACT"}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "salesperson_code"
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact_no": "NOPE", "interaction_template_code": "ABSTRACT"}, "contact_no"),
        ({"contact_no": "P1", "interaction_template_code": "NOPE"}, "interaction_template_code"),
        ({"contact_no": "P1"}, "interaction_template_code"),
        ({"contact_no": "P1", "interaction_template_code": "ABSTRACT", "colour": "red"}, "colour"),
        ({"contact_no": "P1", "interaction_template_code": "ABSTRACT", "description": ""}, "description"),
        ({"contact_no": "P1", "interaction_template_code": "ABSTRACT", "cost": -1}, "cost"),
        ({"contact_no": "P1", "interaction_template_code": "ABSTRACT", "evaluation": "great"}, "evaluation"),
    ],
)
def test_bad_input_is_refused_with_422_naming_the_field(client, admin, crm, body, field):
    response = client.post(f"{API}/interactions", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []


def test_a_privacy_blocked_contact_gets_no_interaction(client, admin, crm):
    client.patch(f"{API}/contacts/P1", json={"privacy_blocked": True}, headers=admin)
    response = client.post(
        f"{API}/interactions", json={"contact_no": "P1", "interaction_template_code": "ABSTRACT"}, headers=admin
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_email_to_a_contact_without_address_is_downgraded_when_not_delivering(client, admin, crm):
    entry = create(client, admin, contact_no="P2", interaction_template_code="EMAIL")
    assert entry["correspondence_type"] == ""
    kept = create(client, admin, contact_no="P1", interaction_template_code="EMAIL")
    assert kept["correspondence_type"] == "email"


def test_delivering_email_to_a_contact_without_address_is_refused_and_nothing_is_logged(client, admin, crm):
    response = client.post(
        f"{API}/interactions",
        json={"contact_no": "P2", "interaction_template_code": "EMAIL", "deliver": True},
        headers=admin,
    )
    assert response.status_code == 409
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []


def test_a_postponed_interaction_is_kept_apart_and_resumes_under_the_same_number(client, admin, crm):
    client.post(f"{API}/campaigns", json={"no": "CP1", "description": "Spring"}, headers=admin)
    postponed = create(
        client, admin, postpone=True, campaign_no="CP1", comments=[{"date": "2026-02-01", "comment": "call back"}]
    )
    assert postponed["postponed"] is True
    assert postponed["campaign_entry_no"] is None
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []
    listed = client.get(f"{API}/interactions?postponed=true", headers=admin).json()["items"]
    assert [e["entry_no"] for e in listed] == [postponed["entry_no"]]
    assert client.get(f"{API}/contacts/C1", headers=admin).json()["no_of_interactions"] == 0

    resumed = client.post(
        f"{API}/interactions/{postponed['entry_no']}/resume", json={"evaluation": "neutral"}, headers=admin
    )
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["entry_no"] == postponed["entry_no"]
    assert body["postponed"] is False
    assert body["campaign_entry_no"] is not None
    assert body["evaluation"] == "neutral"
    assert body["has_comments"] is True  # kept when the resume gives none
    assert body["date"] == dt.date.today().isoformat()
    assert client.get(f"{API}/contacts/C1", headers=admin).json()["no_of_interactions"] == 1

    again = client.post(f"{API}/interactions/{postponed['entry_no']}/resume", json={}, headers=admin)
    assert again.status_code == 409


def test_resuming_with_comments_replaces_them_and_postponing_again_keeps_it_postponed(client, admin, crm):
    entry = create(client, admin, postpone=True, comments=[{"comment": "one"}, {"comment": "two"}])
    response = client.post(
        f"{API}/interactions/{entry['entry_no']}/resume",
        json={"postpone": True, "comments": [{"comment": "three"}]},
        headers=admin,
    )
    assert response.json()["postponed"] is True
    comments = client.get(f"{API}/interactions/{entry['entry_no']}/comments", headers=admin).json()["items"]
    assert [c["comment"] for c in comments] == ["three"]


def test_only_postponed_or_canceled_entries_can_be_deleted(client, admin, crm):
    entry = create(client, admin, comments=[{"comment": "note"}])
    no = entry["entry_no"]
    assert client.delete(f"{API}/interactions/{no}", headers=admin).status_code == 409
    client.post(f"{API}/interactions/cancel", json={"entry_nos": [no]}, headers=admin)
    assert client.delete(f"{API}/interactions/{no}", headers=admin).status_code == 204
    assert client.get(f"{API}/interactions/{no}", headers=admin).status_code == 404
    postponed = create(client, admin, postpone=True)
    assert client.delete(f"{API}/interactions/{postponed['entry_no']}", headers=admin).status_code == 204


def test_cancel_and_uncancel_change_several_entries_and_statistics_follow(client, admin, crm):
    a, b = create(client, admin), create(client, admin)
    response = client.post(
        f"{API}/interactions/cancel", json={"entry_nos": [a["entry_no"], b["entry_no"]]}, headers=admin
    )
    assert response.status_code == 200
    assert [e["canceled"] for e in response.json()["items"]] == [True, True]
    assert client.get(f"{API}/contacts/P1", headers=admin).json()["no_of_interactions"] == 0
    assert client.get(f"{API}/interaction-templates/ABSTRACT", headers=admin).json()["no_of_interactions"] == 0
    back = client.post(f"{API}/interactions/uncancel", json={"entry_nos": [a["entry_no"]]}, headers=admin)
    assert [e["canceled"] for e in back.json()["items"]] == [False]
    assert client.get(f"{API}/contacts/P1", headers=admin).json()["no_of_interactions"] == 1
    missing = client.post(f"{API}/interactions/cancel", json={"entry_nos": [999]}, headers=admin)
    assert missing.status_code == 422


def test_uncancel_is_refused_while_the_campaign_entry_is_canceled(client, admin, crm):
    client.post(f"{API}/campaigns", json={"no": "CP1", "description": "Spring"}, headers=admin)
    entry = create(client, admin, campaign_no="CP1")
    campaign_entry = entry["campaign_entry_no"]
    response = client.post(f"{API}/campaign-entries/{campaign_entry}/cancel", headers=admin)
    assert response.status_code == 200, response.text
    assert client.get(f"{API}/interactions/{entry['entry_no']}", headers=admin).json()["canceled"] is True
    refused = client.post(f"{API}/interactions/uncancel", json={"entry_nos": [entry["entry_no"]]}, headers=admin)
    assert refused.status_code == 409


def test_manual_interactions_of_one_campaign_share_one_campaign_entry(client, admin, crm):
    client.post(f"{API}/campaigns", json={"no": "CP1", "description": "Spring"}, headers=admin)
    first = create(client, admin, campaign_no="CP1")
    second = create(client, admin, contact_no="C1", campaign_no="CP1")
    assert first["campaign_entry_no"] == second["campaign_entry_no"] is not None
    unknown = client.post(
        f"{API}/interactions",
        json={"contact_no": "P1", "interaction_template_code": "ABSTRACT", "campaign_no": "NOPE"},
        headers=admin,
    )
    assert unknown.status_code == 422


def test_evaluate_sets_the_same_value_on_every_selected_entry(client, admin, crm):
    a, b = create(client, admin), create(client, admin)
    response = client.post(
        f"{API}/interactions/evaluate",
        json={"entry_nos": [a["entry_no"], b["entry_no"]], "evaluation": "very_negative"},
        headers=admin,
    )
    assert {e["evaluation"] for e in response.json()["items"]} == {"very_negative"}


def test_comments_given_with_a_new_interaction_are_dated_as_comments_added_later(client, admin, crm):
    given = [{"comment": "one"}, {"comment": "two"}, {"date": "2026-01-05", "comment": "dated"}, {"date": None}]
    no = create(client, admin, comments=given)["entry_no"]
    comments = client.get(f"{API}/interactions/{no}/comments", headers=admin).json()["items"]
    assert [c["date"] for c in comments] == [dt.date.today().isoformat(), None, "2026-01-05", None]


def test_comments_can_be_added_changed_and_removed(client, admin, crm):
    no = create(client, admin)["entry_no"]
    first = client.post(f"{API}/interactions/{no}/comments", json={"comment": "first"}, headers=admin).json()
    second = client.post(f"{API}/interactions/{no}/comments", json={"comment": "second"}, headers=admin).json()
    assert first["date"] == dt.date.today().isoformat()
    assert second["date"] is None  # a comment is already dated today
    assert second["line_no"] > first["line_no"]
    changed = client.patch(
        f"{API}/interactions/{no}/comments/{first['line_no']}", json={"comment": "edited"}, headers=admin
    )
    assert changed.json()["comment"] == "edited"
    assert client.get(f"{API}/interactions/{no}", headers=admin).json()["has_comments"] is True
    for line in (first, second):
        assert client.delete(f"{API}/interactions/{no}/comments/{line['line_no']}", headers=admin).status_code == 204
    assert client.get(f"{API}/interactions/{no}/comments", headers=admin).json()["items"] == []
    assert client.get(f"{API}/interactions/{no}/comments/1", headers=admin).status_code in (404, 405)


def test_delete_canceled_removes_only_canceled_entries_matching_the_filters(client, admin, crm):
    keep = create(client, admin)
    a = create(client, admin, contact_no="C1")
    b = create(client, admin)
    client.post(f"{API}/interactions/cancel", json={"entry_nos": [a["entry_no"], b["entry_no"]]}, headers=admin)
    response = client.post(f"{API}/interactions/delete-canceled", json={"contact_no": "C1"}, headers=admin)
    assert response.json() == {"deleted": 1}
    assert client.post(f"{API}/interactions/delete-canceled", json={}, headers=admin).json() == {"deleted": 1}
    remaining = [e["entry_no"] for e in client.get(f"{API}/interactions", headers=admin).json()["items"]]
    assert remaining == [keep["entry_no"]]


def test_a_phone_call_needs_the_outgoing_calls_template(client, admin, crm):
    refused = client.post(f"{API}/interactions/phone-calls", json={"contact_no": "C1"}, headers=admin)
    assert refused.status_code == 409
    client.put(f"{API}/setup/interaction-templates", json={"outgoing_calls": "ABSTRACT"}, headers=admin)
    call = client.post(f"{API}/interactions/phone-calls", json={"contact_no": "C1", "successful": False}, headers=admin)
    assert call.status_code == 201, call.text
    body = call.json()
    assert body["contact_via"] == "+33 1 23"
    assert body["attempt_failed"] is True
    assert body["interaction_template_code"] == "ABSTRACT"
    assert body["salesperson_code"] == "SP1"
    client.post(
        f"{API}/contacts", json={"no": "MUTE", "name": "No Phone Ltd", "salesperson_code": "SP1"}, headers=admin
    )
    no_phone = client.post(f"{API}/interactions/phone-calls", json={"contact_no": "MUTE"}, headers=admin)
    assert no_phone.status_code == 422
    assert no_phone.json()["error"]["field"] == "contact_via"


def test_a_phone_call_for_a_segment_shares_a_campaign_entry_named_after_the_segment(client, admin, crm):
    crm("/campaigns", {"no": "CP1", "description": "Spring"})
    crm("/interaction-groups", {"code": "CALLS", "description": "Calls"})
    crm("/interaction-templates", {"code": "CALL", "interaction_group_code": "CALLS", "description": "Call",
                                   "campaign_no": "CP1"})
    client.put(f"{API}/setup/interaction-templates", json={"outgoing_calls": "CALL"}, headers=admin)
    crm("/segments", {"no": "SG1", "description": "Spring phoning"})

    def call(**body):
        response = client.post(f"{API}/interactions/phone-calls", json={"contact_no": "C1", **body}, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()["campaign_entry_no"]

    first, second, plain = call(segment_no="SG1"), call(segment_no="SG1"), call()
    assert first == second != plain
    described = {
        e["entry_no"]: e["description"] for e in client.get(f"{API}/campaign-entries", headers=admin).json()["items"]
    }
    assert (described[first], described[plain]) == ("Spring phoning", "Interactions")


def test_a_company_aggregates_the_statistics_of_its_persons(client, admin, crm):
    create(client, admin, contact_no="C1", date="2026-03-01")
    create(client, admin, contact_no="P1", date="2026-04-01")
    failed = create(client, admin, contact_no="P1", date="2026-05-01", successful=False)
    company = client.get(f"{API}/contacts/C1", headers=admin).json()
    person = client.get(f"{API}/contacts/P1", headers=admin).json()
    assert company["no_of_interactions"] == 3
    assert person["no_of_interactions"] == 2
    assert company["cost"] == 37.5
    assert company["date_of_last_interaction"] == "2026-04-01"  # failed attempts don't count
    assert company["last_date_attempted"] == "2026-05-01"
    client.post(f"{API}/interactions/cancel", json={"entry_nos": [failed["entry_no"]]}, headers=admin)
    assert client.get(f"{API}/contacts/C1", headers=admin).json()["last_date_attempted"] == "2026-05-01"
    in_april = client.get(f"{API}/contacts/C1?date_from=2026-04-01&date_to=2026-04-30", headers=admin).json()
    assert in_april["no_of_interactions"] == 1
    group = client.get(f"{API}/interaction-groups/LETTER", headers=admin).json()
    assert group["no_of_interactions"] == 2
    salesperson = client.get(f"{API}/salespeople/SP1", headers=admin).json()
    assert salesperson["no_of_interactions"] == 2


def test_a_contact_with_interactions_keeps_its_type(client, admin, crm):
    create(client, admin, contact_no="P2")
    response = client.patch(f"{API}/contacts/P2", json={"type": "company"}, headers=admin)
    assert response.status_code == 409


def test_deleting_a_person_moves_its_entries_to_the_company(client, admin, crm):
    entry = create(client, admin, contact_no="P2")
    assert client.delete(f"{API}/contacts/P2", headers=admin).status_code == 204
    moved = client.get(f"{API}/interactions/{entry['entry_no']}", headers=admin).json()
    assert (moved["contact_no"], moved["contact_company_no"]) == ("C1", "C1")


def test_deleting_a_company_keeps_its_entries_unlinked(client, admin, crm):
    entry = create(client, admin, contact_no="P1")
    assert client.delete(f"{API}/contacts/C1", headers=admin).status_code == 204
    kept = client.get(f"{API}/interactions/{entry['entry_no']}", headers=admin).json()
    assert (kept["contact_no"], kept["contact_company_no"]) == ("", "")


def test_the_list_filters_by_contact_template_date_and_expression(client, admin, crm):
    a = create(client, admin, contact_no="C1", date="2026-01-10")
    b = create(client, admin, contact_no="P1", interaction_template_code="EMAIL", date="2026-02-10")

    def nos(query):
        response = client.get(f"{API}/interactions?{query}", headers=admin)
        assert response.status_code == 200, response.text
        return [e["entry_no"] for e in response.json()["items"]]

    assert nos("contact_no=c1") == [a["entry_no"]]
    assert nos("contact_company_no=C1") == [a["entry_no"], b["entry_no"]]
    assert nos("interaction_template_code=EMAIL") == [b["entry_no"]]
    assert nos("date_from=2026-02-01") == [b["entry_no"]]
    assert nos("filter[description]=@*e-mail*") == [b["entry_no"]]
    assert nos("canceled=true") == []
    page = client.get(f"{API}/interactions?limit=1", headers=admin).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    bad = client.get(f"{API}/interactions?filter[date]=yesterday..", headers=admin)
    assert bad.status_code == 422


def test_a_sales_user_may_record_but_a_viewer_may_not(client, headers_for, crm):
    assert create(client, headers_for("sales"))["user_id"] == "sales-user"
    refused = client.post(
        f"{API}/interactions",
        json={"contact_no": "P1", "interaction_template_code": "ABSTRACT"},
        headers=headers_for("viewer"),
    )
    assert refused.status_code == 403


def test_deleting_canceled_entries_removes_their_comments_and_unique_attachments(client, admin, crm):
    client.post(f"{API}/languages", json={"code": "ENU", "name": "English"}, headers=admin)
    client.post(f"{API}/interaction-templates/ABSTRACT/languages", json={"language_code": "ENU"}, headers=admin)
    uploaded = client.put(
        f"{API}/interaction-templates/ABSTRACT/languages/ENU/attachment",
        files={"file": ("note.txt", b"Meeting notes", "text/plain")},
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    client.patch(f"{API}/interaction-templates/ABSTRACT", json={"language_code_default": "ENU"}, headers=admin)
    entry = create(client, admin, comments=[{"comment": "keep?"}])
    own = entry["attachment_no"]
    assert own is not None and own != uploaded.json()["attachment_no"]  # the entry's own copy
    assert client.get(f"{API}/attachments/{own}", headers=admin).status_code == 200
    client.post(f"{API}/interactions/cancel", json={"entry_nos": [entry["entry_no"]]}, headers=admin)
    assert client.post(f"{API}/interactions/delete-canceled", json={}, headers=admin).json() == {"deleted": 1}
    assert client.get(f"{API}/attachments/{own}", headers=admin).status_code == 404
    assert client.get(f"{API}/interactions/{entry['entry_no']}/comments", headers=admin).status_code == 404
    template_file = uploaded.json()["attachment_no"]
    assert client.get(f"{API}/attachments/{template_file}", headers=admin).status_code == 200


def test_the_list_filtered_by_dates_has_every_entry_of_the_range_page_by_page_however_they_were_dated(
    client, admin, crm
):
    # entered out of date order: back-dated entries come after later ones
    days = ["2026-03-10", "2026-01-05", "2026-03-01", "2026-02-28", "2026-03-31", "2026-04-01", "2026-02-01",
            "2026-03-15", "2026-01-31", "2026-03-02"]
    made = [create(client, admin, date=day)["entry_no"] for day in days]
    create(client, admin, date="2026-03-05", postpone=True)  # postponed: listed only when asked

    def listed(**params):
        items, cursor = [], None
        while True:
            page = client.get(
                f"{API}/interactions", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=admin,
            ).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return [(item["entry_no"], item["date"]) for item in items]

    def expected(first, last):
        return [(no, day) for no, day in zip(made, days, strict=True) if first <= day <= last]

    assert listed(date_from="2026-03-01", date_to="2026-03-31") == expected("2026-03-01", "2026-03-31")
    assert listed(date_from="2026-02-01") == expected("2026-02-01", "9999")
    assert listed(date_to="2026-02-01") == expected("0000", "2026-02-01")
    assert listed(date_from="2027-01-01") == []
    assert [day for _, day in listed(date_from="2026-03-01", date_to="2026-03-31", postponed="true")] == ["2026-03-05"]


def test_the_answer_to_a_new_interaction_says_whether_it_has_comments_as_reading_it_back_does(client, admin, crm):
    with_comments = create(client, admin, comments=[{"comment": "asked for a brochure"}])
    without = create(client, admin)
    assert (with_comments["has_comments"], without["has_comments"]) == (True, False)
    for entry in (with_comments, without):
        assert client.get(f"{API}/interactions/{entry['entry_no']}", headers=admin).json() == entry
