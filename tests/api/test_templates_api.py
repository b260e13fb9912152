"""Interaction groups, templates and template languages through the API."""

from __future__ import annotations

import pytest

API = "/api/v1"


@pytest.fixture
def letters(client, admin):
    """Group LETTER, languages ENU and FRA, template ABSTRACT; returns a POST helper."""

    def post(path, body, status=201):
        response = client.post(API + path, json=body, headers=admin)
        assert response.status_code == status, response.text
        return response.json()

    post("/languages", {"code": "ENU", "name": "English"})
    post("/languages", {"code": "FRA", "name": "French"})
    post("/interaction-groups", {"code": "letter", "description": "Letters"})
    post(
        "/interaction-templates",
        {
            "code": "abstract",
            "interaction_group_code": "letter",
            "description": "Abstract of meeting",
            "unit_cost": 12.5,
            "unit_duration_min": 30,
            "information_flow": "outbound",
            "initiated_by": "us",
        },
    )
    return post


def test_a_group_is_created_read_changed_and_deleted(client, admin):
    created = client.post(f"{API}/interaction-groups", json={"code": "mail", "description": "Mail"}, headers=admin)
    assert created.status_code == 201
    assert created.json() == {
        "code": "MAIL",
        "description": "Mail",
        "no_of_interactions": 0,
        "cost": 0,
        "duration_min": 0,
    }
    changed = client.patch(f"{API}/interaction-groups/mail", json={"description": "Post"}, headers=admin)
    assert changed.json()["description"] == "Post"
    assert client.get(f"{API}/interaction-groups/MAIL", headers=admin).json()["description"] == "Post"
    assert client.delete(f"{API}/interaction-groups/MAIL", headers=admin).status_code == 204
    missing = client.get(f"{API}/interaction-groups/MAIL", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_duplicate_group_is_a_conflict_and_an_unknown_field_is_invalid(client, admin, letters):
    duplicate = client.post(f"{API}/interaction-groups", json={"code": "LETTER"}, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "code"
    typo = client.post(f"{API}/interaction-groups", json={"code": "X", "descripton": "x"}, headers=admin)
    assert typo.status_code == 422 and typo.json()["error"] == {
        "code": "invalid",
        "message": "Unknown field 'descripton'; check the spelling against the API reference.",
        "field": "descripton",
    }


def test_a_group_that_templates_use_cannot_be_deleted(client, admin, letters):
    response = client.delete(f"{API}/interaction-groups/LETTER", headers=admin)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_a_template_shows_every_field_with_its_statistics(client, admin, letters):
    template = client.get(f"{API}/interaction-templates/abstract", headers=admin).json()
    assert template == {
        "code": "ABSTRACT",
        "interaction_group_code": "LETTER",
        "description": "Abstract of meeting",
        "unit_cost": 12.5,
        "unit_duration_min": 30,
        "information_flow": "outbound",
        "initiated_by": "us",
        "campaign_no": "",
        "campaign_target": False,
        "campaign_response": False,
        "correspondence_type_default": "email",
        "wizard_action": "",
        "ignore_contact_corres_type": False,
        "language_code_default": "",
        "attachment_no": None,
        "no_of_interactions": 0,
        "cost": 0,
        "duration_min": 0,
    }


def test_a_template_needs_an_existing_group_and_valid_values(client, admin, letters):
    def refused(body):
        response = client.post(f"{API}/interaction-templates", json=body, headers=admin)
        assert response.status_code == 422, response.text
        return response.json()["error"]

    assert refused({"code": "X"})["field"] == "interaction_group_code"
    assert refused({"code": "X", "interaction_group_code": "NOPE"})["field"] == "interaction_group_code"
    assert refused({"code": "X", "interaction_group_code": "LETTER", "unit_cost": -1})["field"] == "unit_cost"
    assert refused({"code": "X", "interaction_group_code": "LETTER", "initiated_by": "me"})["field"] == "initiated_by"
    assert refused({"code": "X", "interaction_group_code": "LETTER", "language_code_default": "XXX"})["field"] == (
        "language_code_default"
    )
    duplicate = client.post(
        f"{API}/interaction-templates", json={"code": "abstract", "interaction_group_code": "LETTER"}, headers=admin
    )
    assert duplicate.status_code == 409


def test_a_template_campaign_must_exist_and_is_stored_upper_case(client, admin, letters):
    unknown = client.patch(f"{API}/interaction-templates/ABSTRACT", json={"campaign_no": "cp1"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "campaign_no"
    client.post(f"{API}/campaigns", json={"no": "CP1", "description": "Spring"}, headers=admin)
    response = client.patch(f"{API}/interaction-templates/ABSTRACT", json={"campaign_no": "cp1"}, headers=admin)
    assert response.status_code == 200 and response.json()["campaign_no"] == "CP1"


def test_setting_the_default_language_creates_the_language_row(client, admin, letters):
    response = client.patch(
        f"{API}/interaction-templates/ABSTRACT", json={"language_code_default": "fra"}, headers=admin
    )
    assert response.status_code == 200 and response.json()["language_code_default"] == "FRA"
    languages = client.get(f"{API}/interaction-templates/ABSTRACT/languages", headers=admin).json()
    assert languages == {
        "items": [{"language_code": "FRA", "description": "Abstract of meeting", "subject": "", "attachment_no": None}],
        "next_cursor": None,
    }


def test_wizard_action_merge_without_content_is_refused(client, admin, letters):
    client.patch(f"{API}/interaction-templates/ABSTRACT", json={"language_code_default": "ENU"}, headers=admin)
    response = client.patch(f"{API}/interaction-templates/ABSTRACT", json={"wizard_action": "merge"}, headers=admin)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "wizard_action"
    assert error["message"].startswith("Wizard Action = merge can not be specified for Interaction Template ABSTRACT")
    null = client.patch(f"{API}/interaction-templates/ABSTRACT", json={"description": None}, headers=admin)
    assert null.status_code == 422 and null.json()["error"]["field"] == "description"


def test_template_languages_are_created_changed_and_deleted(client, admin, letters):
    base = f"{API}/interaction-templates/ABSTRACT/languages"
    created = client.post(
        base, json={"language_code": "enu", "description": "Abstract", "subject": "Hi"}, headers=admin
    )
    assert created.status_code == 201
    assert created.json() == {"language_code": "ENU", "description": "Abstract", "subject": "Hi", "attachment_no": None}
    assert client.post(base, json={"language_code": "ENU"}, headers=admin).status_code == 409
    unknown = client.post(base, json={"language_code": "XXX"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "language_code"
    assert client.patch(f"{base}/enu", json={"subject": "Hello"}, headers=admin).json()["subject"] == "Hello"
    assert client.get(f"{base}/ENU", headers=admin).json()["subject"] == "Hello"
    client.patch(f"{API}/interaction-templates/ABSTRACT", json={"language_code_default": "ENU"}, headers=admin)
    assert client.delete(f"{base}/ENU", headers=admin).status_code == 204
    assert client.get(f"{base}/ENU", headers=admin).status_code == 404
    assert client.get(f"{API}/interaction-templates/ABSTRACT", headers=admin).json()["language_code_default"] == ""
    assert client.get(f"{API}/interaction-templates/NOPE/languages", headers=admin).status_code == 404


def test_deleting_a_template_removes_its_languages(client, admin, letters):
    letters("/interaction-templates/ABSTRACT/languages", {"language_code": "ENU"})
    assert client.delete(f"{API}/interaction-templates/ABSTRACT", headers=admin).status_code == 204
    assert client.get(f"{API}/interaction-templates/ABSTRACT", headers=admin).status_code == 404
    assert client.delete(f"{API}/interaction-templates/ABSTRACT", headers=admin).status_code == 404


def test_a_template_in_interaction_template_setup_cannot_be_deleted(client, admin, letters):
    client.put(f"{API}/setup/interaction-templates", json={"outgoing_calls": "ABSTRACT"}, headers=admin)
    response = client.delete(f"{API}/interaction-templates/ABSTRACT", headers=admin)
    assert response.status_code == 409
    assert "Interaction Template Setup" in response.json()["error"]["message"]


def test_template_lists_are_keyset_pages_with_filters(client, admin, letters):
    for code in ("B1", "B2", "C1"):
        letters(
            "/interaction-templates", {"code": code, "interaction_group_code": "LETTER", "information_flow": "inbound"}
        )
    first = client.get(f"{API}/interaction-templates?limit=2", headers=admin).json()
    assert [t["code"] for t in first["items"]] == ["ABSTRACT", "B1"]
    second = client.get(f"{API}/interaction-templates?limit=2&cursor={first['next_cursor']}", headers=admin).json()
    assert [t["code"] for t in second["items"]] == ["B2", "C1"] and second["next_cursor"] is None
    filtered = client.get(
        f"{API}/interaction-templates",
        params={"filter[code]": "B*", "filter[information_flow]": "Inbound"},
        headers=admin,
    ).json()
    assert [t["code"] for t in filtered["items"]] == ["B1", "B2"]
    groups = client.get(f"{API}/interaction-groups", params={"filter[code]": "LET*"}, headers=admin).json()
    assert [g["code"] for g in groups["items"]] == ["LETTER"]
    bad = client.get(f"{API}/interaction-templates", params={"filter[unit_cost]": "abc"}, headers=admin)
    assert bad.status_code == 422


def test_statistics_of_templates_and_groups_follow_the_interaction_log(client, admin, letters):
    client.post(f"{API}/contacts", json={"no": "C1", "name": "Fabrikam"}, headers=admin)
    client.post(f"{API}/salespeople", json={"code": "SP1", "name": "Sam"}, headers=admin)
    for date in ("2026-03-01", "2026-04-01"):
        response = client.post(
            f"{API}/interactions",
            json={"contact_no": "C1", "interaction_template_code": "ABSTRACT", "salesperson_code": "SP1", "date": date},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    template = client.get(f"{API}/interaction-templates/ABSTRACT", headers=admin).json()
    assert (template["no_of_interactions"], template["cost"], template["duration_min"]) == (2, 25, 60)
    april = client.get(
        f"{API}/interaction-groups/LETTER", params={"date_from": "2026-04-01", "date_to": "2026-04-30"}, headers=admin
    ).json()
    assert april["no_of_interactions"] == 1 and april["cost"] == 12.5
    listed = client.get(f"{API}/interaction-templates", params={"date_to": "2026-03-31"}, headers=admin).json()
    assert listed["items"][0]["no_of_interactions"] == 1
    bad = client.get(f"{API}/interaction-groups/LETTER", params={"date_from": "March"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "date_from"


def test_readers_can_read_but_only_marketing_can_write(client, admin, headers_for, letters):
    viewer = headers_for("viewer")
    assert client.get(f"{API}/interaction-templates", headers=viewer).status_code == 200
    refused = client.post(f"{API}/interaction-groups", json={"code": "X"}, headers=viewer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.delete(f"{API}/interaction-templates/ABSTRACT", headers=headers_for("sales")).status_code == 403
    marketing = headers_for("marketing")
    assert client.post(f"{API}/interaction-groups", json={"code": "X"}, headers=marketing).status_code == 201
    assert client.get(f"{API}/interaction-groups").status_code == 401
