"""Segments through the API, following domain.md 3.1-3.11 and 3.25 scenario by scenario."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from rapport.db import Base

API = "/api/v1"
TODAY = dt.date.today().isoformat()

# Every contact that Add Contacts with no criteria brings in, in BC's line order: stand-alone
# persons first (blank company name), then per company the company before its persons, by name.
ALL_IN_ORDER = ["P3", "C1", "P11", "P12", "C2", "P21"]


_SNAPSHOTS: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
_NOT_DATA = {"user_account", "login_failure"}


def build_once(db_engine: Engine, name: str, build: Callable[[], None]) -> None:
    """Run `build` (requests to the API) the first time per backend; later tests get the rows it
    left restored straight into their emptied database, which is much faster than the requests."""
    key = (db_engine.url.render_as_string(hide_password=False), name)
    tables = [t for t in Base.metadata.sorted_tables if t.name not in _NOT_DATA]
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        build()
        with db_engine.connect() as conn:
            snapshot = {t.name: [dict(row) for row in conn.execute(t.select()).mappings()] for t in tables}
        serial = [t.name for t in tables if snapshot[t.name] and any(c.autoincrement is True for c in t.columns)]
        assert not serial, f"rows with database-generated keys cannot be restored: {serial}"
        _SNAPSHOTS[key] = snapshot
        return
    with db_engine.begin() as conn:
        for t in reversed(tables):
            conn.execute(t.delete())
        for t in tables:
            if snapshot[t.name]:
                conn.execute(t.insert(), snapshot[t.name])


def api_caller(client, headers):
    def call(method, path, body=None, status=None):
        response = client.request(method, API + path, json=body, headers=headers)
        expected = [status] if status else {"POST": [200, 201], "DELETE": [204]}.get(method, [200])
        assert response.status_code in expected, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    return call


def crm_caller(client, admin, db_engine):
    """An API caller on the database of `build_crm` (built once per database, then restored)."""
    call = api_caller(client, admin)
    build_once(db_engine, "crm", lambda: build_crm(call))
    return call


@pytest.fixture
def crm(client, admin, db_engine):
    """Two companies with persons, a stand-alone person, an excluded and a privacy-blocked person,
    master data of every criteria table, two templates, a campaign and a Segment Nos. series."""
    return crm_caller(client, admin, db_engine)


def build_crm(call):
    call("POST", "/number-series", {"code": "SEG", "starting_no": "SEG00001"})
    call("PUT", "/setup/marketing", {"segment_nos": "SEG"})
    for code in ("SP1", "SP2"):
        call("POST", "/salespeople", {"code": code, "name": f"Seller {code}", "email": f"{code.lower()}@example.com"})
    call("POST", "/campaigns", {"no": "CP1", "description": "Spring"})
    call("POST", "/interaction-groups", {"code": "LETTER", "description": "Letters"})
    call("POST", "/interaction-templates", {
        "code": "LETTER", "interaction_group_code": "LETTER", "description": "Letter", "unit_cost": 10,
        "unit_duration_min": 5, "information_flow": "outbound", "initiated_by": "us",
        "correspondence_type_default": "hard_copy",
    })
    call("POST", "/interaction-templates", {
        "code": "MAIL", "interaction_group_code": "LETTER", "description": "Mail", "unit_cost": 2,
        "unit_duration_min": 1, "information_flow": "inbound", "initiated_by": "them",
        "correspondence_type_default": "email", "ignore_contact_corres_type": True,
    })
    for kind, code in (("mailing-groups", "NEWS"), ("industry-groups", "RETAIL"), ("job-responsibilities", "BUYER"),
                       ("business-relations", "CUST")):
        call("POST", f"/{kind}", {"code": code, "description": code.title()})
    answers = [{"answer_code": "BIG"}, {"answer_code": "SMALL"}]
    call("POST", "/profile-questionnaires", {"code": "SIZE", "answers": answers})
    contacts = [
        {"no": "C1", "name": "Alpha", "country_code": "FR", "salesperson_code": "SP1", "email": "alpha@example.com",
         "correspondence_type": "email"},
        {"no": "P11", "type": "person", "name": "Anna", "company_no": "C1", "country_code": "FR",
         "salesperson_code": "SP1", "email": "anna@example.com", "correspondence_type": "email"},
        {"no": "P12", "type": "person", "name": "Bert", "company_no": "C1", "country_code": "FR",
         "salesperson_code": "SP1", "correspondence_type": ""},
        {"no": "C2", "name": "Beta", "country_code": "BE", "salesperson_code": "SP2"},
        {"no": "P21", "type": "person", "name": "Cleo", "company_no": "C2", "country_code": "BE",
         "salesperson_code": "SP2", "correspondence_type": "hard_copy"},
        {"no": "PX", "type": "person", "name": "Xavier", "company_no": "C2", "country_code": "BE",
         "salesperson_code": "SP2", "exclude_from_segment": True},
        {"no": "P3", "type": "person", "name": "Dora", "country_code": "FR", "salesperson_code": "SP2"},
        {"no": "PB", "type": "person", "name": "Bianca", "country_code": "FR", "salesperson_code": "SP2",
         "privacy_blocked": True},
    ]
    for body in contacts:
        call("POST", "/contacts", body)
    call("PUT", "/contacts/P11/mailing-groups", ["NEWS"])
    call("PUT", "/contacts/P3/mailing-groups", ["NEWS"])
    call("PUT", "/contacts/PB/mailing-groups", ["NEWS"])
    call("PUT", "/contacts/P21/job-responsibilities", ["BUYER"])
    call("PUT", "/contacts/C1/industry-groups", ["RETAIL"])
    call("PUT", "/contacts/C2/business-relations",
         [{"business_relation_code": "CUST", "link_to_table": "customer", "link_no": "CU1"}])
    call("PUT", "/contacts/C2/profile-answers", [{"questionnaire_code": "SIZE", "answer_code": "BIG"}])


def segment(crm, **body):
    body.setdefault("description", "Spring mailing")
    body.setdefault("interaction_template_code", "LETTER")
    return crm("POST", "/segments", body)


def add(crm, no, criteria=None, status=200, **options):
    return crm("POST", f"/segments/{no}/add-contacts", {"criteria": criteria or {}, **options}, status=status)


def lines(crm, no):
    return crm("GET", f"/segments/{no}/lines")["items"]


def contact_nos(crm, no):
    return [line["contact_no"] for line in lines(crm, no)]


def actions(crm, no):
    return crm("GET", f"/segments/{no}/criteria")["items"]


# --- 3.1 create / delete -------------------------------------------------------------------------


def test_a_new_segment_takes_its_number_from_segment_nos_and_todays_date(crm):
    first = segment(crm)
    second = segment(crm)
    assert (first["no"], second["no"]) == ("SEG00001", "SEG00002")
    assert first["date"] == TODAY
    assert first["no_of_lines"] == 0 and first["no_of_criteria_actions"] == 0
    assert first["cost"] == 0 and first["duration_min"] == 0
    assert crm("GET", "/segments/SEG00001")["description"] == "Spring mailing"


def test_a_segment_without_number_needs_segment_nos(client, admin, crm):
    crm("PUT", "/setup/marketing", {"segment_nos": ""})
    response = client.post(f"{API}/segments", json={"description": "x"}, headers=admin)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert crm("GET", "/segments")["items"] == []


def test_a_manual_number_is_stored_upper_case_and_a_duplicate_is_a_conflict(client, admin, crm):
    assert segment(crm, no="my-seg")["no"] == "MY-SEG"
    response = client.post(f"{API}/segments", json={"no": "MY-SEG"}, headers=admin)
    assert response.status_code == 409


def test_the_date_is_not_a_create_field_but_patch_may_change_it(client, admin, crm):
    response = client.post(f"{API}/segments", json={"date": "2020-01-01"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "date"
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    patched = crm("PATCH", f"/segments/{no}", {"date": "2026-03-01"})
    assert patched["date"] == "2026-03-01"
    assert lines(crm, no)[0]["date"] == "2026-03-01"


def test_null_in_a_new_segments_field_is_invalid_and_names_the_field(client, admin, crm):
    for field in ("description", "campaign_no", "unit_cost", "campaign_target", "salesperson_code",
                  "interaction_template_code", "language_code_default"):
        response = client.post(f"{API}/segments", json={"no": "SEG-N1", field: None}, headers=admin)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["code"] == "invalid"
        assert response.json()["error"]["field"] == field
    assert crm("GET", "/segments")["items"] == []


def test_deleting_a_segment_removes_its_lines_and_criteria(crm):
    no = segment(crm)["no"]
    add(crm, no)
    crm("DELETE", f"/segments/{no}")
    crm("GET", f"/segments/{no}", status=404)
    crm("GET", f"/segments/{no}/lines", status=404)
    again = segment(crm, no=no)
    assert again["no_of_lines"] == 0 and again["no_of_criteria_actions"] == 0


# --- 3.2 / 3.3 header -----------------------------------------------------------------------------


def test_applying_a_template_copies_its_values_to_the_header(crm):
    header = segment(crm)
    assert header["interaction_template_code"] == "LETTER"
    assert header["interaction_group_code"] == "LETTER"
    assert (header["unit_cost"], header["unit_duration_min"]) == (10, 5)
    assert (header["information_flow"], header["initiated_by"]) == ("outbound", "us")
    assert header["correspondence_type_default"] == "hard_copy"
    assert header["ignore_contact_corres_type"] is False
    changed = crm("PATCH", f"/segments/{header['no']}", {"interaction_template_code": "mail"})
    assert changed["interaction_template_code"] == "MAIL"
    assert (changed["unit_cost"], changed["unit_duration_min"]) == (2, 1)
    assert (changed["information_flow"], changed["initiated_by"]) == ("inbound", "them")
    assert changed["correspondence_type_default"] == "email"
    assert changed["ignore_contact_corres_type"] is True


def test_clearing_or_naming_an_unknown_template_is_invalid(client, admin, crm):
    no = segment(crm)["no"]
    for value in ("", "NOPE"):
        response = client.patch(f"{API}/segments/{no}", json={"interaction_template_code": value}, headers=admin)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "interaction_template_code"
    assert crm("GET", f"/segments/{no}")["interaction_template_code"] == "LETTER"


def test_a_template_change_updates_the_lines_template_and_correspondence_type_only(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    crm("PATCH", f"/segments/{no}", {"interaction_template_code": "MAIL"})
    for line in lines(crm, no):
        assert line["interaction_template_code"] == "MAIL"
        assert line["correspondence_type"] == "email"
        # cost, duration, flow and description are not refreshed (domain.md §5 item 3)
        assert (line["cost"], line["duration_min"], line["information_flow"]) == (10, 5, "outbound")
        assert line["description"] == "Spring mailing"


def test_patch_with_update_lines_changes_the_lines_with_the_header_template(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    first, second = lines(crm, no)
    crm("PATCH", f"/segments/{no}/lines/{second['line_no']}", {"interaction_template_code": "MAIL"})
    crm("PATCH", f"/segments/{no}", {"description": "New text", "unit_cost": 7, "unit_duration_min": 9,
                                     "date": "2026-02-02", "campaign_no": "CP1"})
    first, second = lines(crm, no)
    assert (first["description"], first["cost"], first["duration_min"]) == ("New text", 7, 9)
    assert (first["date"], first["campaign_no"]) == ("2026-02-02", "CP1")
    # the line with another template does not follow
    assert second["interaction_template_code"] == "MAIL"
    assert (second["cost"], second["date"], second["campaign_no"]) == (2, TODAY, "")
    assert second["description"] == "Mail"  # the line's own template description (3.4.4)


def test_patch_with_update_lines_false_changes_the_header_only(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    header = crm("PATCH", f"/segments/{no}", {"description": "Header only", "unit_cost": 99, "update_lines": False})
    assert (header["description"], header["unit_cost"]) == ("Header only", 99)
    line = lines(crm, no)[0]
    assert (line["description"], line["cost"]) == ("Spring mailing", 10)
    crm("PATCH", f"/segments/{no}", {"interaction_template_code": "MAIL", "update_lines": False})
    assert lines(crm, no)[0]["interaction_template_code"] == "LETTER"


def test_a_template_change_without_the_lines_is_a_conflict_while_lines_inherit_an_attachment(client, admin, crm):
    crm("POST", "/languages", {"code": "ENU", "name": "English"})
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    crm("PATCH", f"/segments/{no}", {"language_code_default": "ENU"})
    upload = client.put(f"{API}/segments/{no}/languages/ENU/attachment",
                        files={"file": ("letter.txt", b"Dear {{Contact_Name}}", "text/plain")}, headers=admin)
    assert upload.status_code in (200, 201), upload.text
    attachment_no = upload.json()["attachment_no"]
    header, before = crm("GET", f"/segments/{no}"), lines(crm, no)
    assert {line["attachment_no"] for line in before} == {attachment_no}

    response = client.patch(f"{API}/segments/{no}", json={"interaction_template_code": "MAIL", "update_lines": False},
                            headers=admin)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["field"] == "interaction_template_code"
    # nothing changed: the header, its language and attachment, the lines
    assert crm("GET", f"/segments/{no}") == header and lines(crm, no) == before
    assert crm("GET", f"/segments/{no}/languages/ENU")["attachment_no"] == attachment_no
    assert client.get(f"{API}/attachments/{attachment_no}", headers=admin).content == b"Dear {{Contact_Name}}"

    # together with the lines the change is made, and the lines leave the old attachment
    crm("PATCH", f"/segments/{no}", {"interaction_template_code": "MAIL"})
    assert {(line["interaction_template_code"], line["attachment_no"]) for line in lines(crm, no)} == {("MAIL", None)}


def test_clearing_the_campaign_clears_the_headers_campaign_target_and_response(crm):
    no = segment(crm, campaign_no="CP1", campaign_target=True, campaign_response=True)["no"]
    header = crm("GET", f"/segments/{no}")
    assert (header["campaign_no"], header["campaign_target"], header["campaign_response"]) == ("CP1", True, True)
    cleared = crm("PATCH", f"/segments/{no}", {"campaign_no": ""})
    assert (cleared["campaign_no"], cleared["campaign_target"], cleared["campaign_response"]) == ("", False, False)
    assert crm("GET", f"/segments/{no}") == cleared


def test_the_header_counts_lines_cost_duration_and_criteria_actions(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12"}})
    add(crm, no, {"contact": {"no": "P3"}})
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "P12"}}})
    header = crm("GET", f"/segments/{no}")
    assert header["no_of_lines"] == 2
    assert (header["cost"], header["duration_min"]) == (20, 10)
    assert header["no_of_criteria_actions"] == 3
    listed = crm("GET", "/segments")["items"]
    assert [(s["no"], s["no_of_lines"]) for s in listed] == [(no, 2)]


# --- 3.4 line defaults ------------------------------------------------------------------------------


def test_a_line_takes_its_values_from_the_header(crm):
    no = segment(crm, campaign_no="CP1")["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    line = lines(crm, no)[0]
    assert line["contact_no"] == "P11" and line["contact_company_no"] == "C1"
    assert line["contact_name"] == "Anna" and line["contact_company_name"] == "Alpha"
    assert line["interaction_template_code"] == "LETTER" and line["interaction_group_code"] == "LETTER"
    assert (line["description"], line["cost"], line["duration_min"], line["date"]) == ("Spring mailing", 10, 5, TODAY)
    assert (line["information_flow"], line["initiated_by"], line["campaign_no"]) == ("outbound", "us", "CP1")
    assert line["evaluation"] == "" and line["attempt_failed"] is False


def test_a_line_takes_the_header_salesperson_else_the_contacts(crm):
    plain = segment(crm)["no"]
    forced = segment(crm, salesperson_code="SP2")["no"]
    for no in (plain, forced):
        add(crm, no, {"contact": {"no": "P11"}})
    assert lines(crm, plain)[0]["salesperson_code"] == "SP1"
    assert lines(crm, forced)[0]["salesperson_code"] == "SP2"


def test_correspondence_type_comes_from_the_contact_else_the_template_default(crm):
    no = segment(crm)["no"]  # LETTER: hard_copy, does not ignore the contact's type
    add(crm, no, {"contact": {"no": "P11|P12"}})
    by_contact = {line["contact_no"]: line["correspondence_type"] for line in lines(crm, no)}
    assert by_contact == {"P11": "email", "P12": "hard_copy"}


def test_a_template_that_ignores_the_contacts_type_imposes_its_default(crm):
    no = segment(crm, interaction_template_code="MAIL", ignore_contact_corres_type=False)["no"]
    assert crm("GET", f"/segments/{no}")["ignore_contact_corres_type"] is False
    add(crm, no, {"contact": {"no": "P21"}})  # the contact prefers hard copy
    assert lines(crm, no)[0]["correspondence_type"] == "email"


def test_a_header_that_ignores_the_contacts_type_imposes_its_own_default(crm):
    no = segment(crm, ignore_contact_corres_type=True, correspondence_type_default="hard_copy")["no"]
    add(crm, no, {"contact": {"no": "P11"}})  # the contact prefers e-mail
    assert lines(crm, no)[0]["correspondence_type"] == "hard_copy"


# --- 3.6 Add Contacts over every criteria table -------------------------------------------------------


CRITERIA_CASES = [
    ({}, ALL_IN_ORDER),
    ({"contact": {"country_code": "FR", "type": "person"}}, ["P3", "P11", "P12"]),
    ({"contact": {"name": "@*E*"}}, ["P12", "C2", "P21"]),
    ({"mailing_group": {"code": "news"}}, ["P3", "P11"]),
    ({"job_responsibility": {"code": "BUYER"}}, ["P21"]),
    ({"industry_group": {"code": "RETAIL"}}, ["C1", "P11", "P12"]),
    ({"business_relation": {"code": "CUST", "link_to_table": "customer"}}, ["C2", "P21"]),
    ({"business_relation": {"link_no": "CU2"}}, []),
    ({"profile_answer": {"questionnaire_code": "SIZE", "answer_code": "BIG"}}, ["C2"]),
    ({"contact": {"type": "person"}, "industry_group": {"code": "RETAIL"}}, ["P11", "P12"]),
    ({"contact": {"no": "P3"}, "industry_group": {"code": "RETAIL"}}, []),
]


def test_add_contacts_follows_each_criteria_table(crm):
    for criteria, expected in CRITERIA_CASES:
        no = segment(crm)["no"]
        result = add(crm, no, criteria)
        assert contact_nos(crm, no) == expected, criteria
        assert result["action_no"] == 1
        assert actions(crm, no)[0]["criteria"] == criteria


def test_add_contacts_lines_are_ordered_and_numbered_in_steps_of_10000(crm):
    no = segment(crm)["no"]
    result = add(crm, no)
    assert (result["added"], result["action_no"]) == (6, 1)
    assert result["skipped"] == {"already_present": 0, "excluded": 1, "privacy_blocked": 1}
    rows = lines(crm, no)
    assert [line["line_no"] for line in rows] == [10000, 20000, 30000, 40000, 50000, 60000]
    assert [line["contact_no"] for line in rows] == ALL_IN_ORDER
    add(crm, no, {"contact": {"no": "PX"}}, ignore_exclusion=True)
    assert lines(crm, no)[-1]["line_no"] == 70000


def test_interaction_criteria_match_the_exact_company_and_contact_and_count_canceled_entries(crm):
    anna = crm("POST", "/interactions", {"contact_no": "P11", "interaction_template_code": "LETTER"})
    crm("POST", "/interactions", {"contact_no": "C1", "interaction_template_code": "MAIL"})
    no = segment(crm)["no"]
    add(crm, no, {"interaction": {"interaction_template_code": "LETTER"}})
    assert contact_nos(crm, no) == ["P11"]  # not the company, not the colleague
    crm("POST", "/interactions/cancel", {"entry_nos": [anna["entry_no"]]})
    other = segment(crm)["no"]
    add(crm, other, {"interaction": {"interaction_template_code": "LETTER"}})
    assert contact_nos(crm, other) == ["P11"]
    third = segment(crm)["no"]
    add(crm, third, {"interaction": {"interaction_template_code": "LETTER", "canceled": "false"}})
    assert contact_nos(crm, third) == []
    add(crm, third, {"interaction": {"interaction_template_code": "MAIL"}})
    assert contact_nos(crm, third) == ["C1"]


def test_contacts_already_on_the_segment_are_skipped_unless_allowed(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    skipped = add(crm, no, {"mailing_group": {"code": "NEWS"}})
    assert skipped["skipped"] == {"already_present": 1, "excluded": 0, "privacy_blocked": 1}
    assert sorted(contact_nos(crm, no)) == ["P11", "P3"]
    allowed = add(crm, no, {"mailing_group": {"code": "NEWS"}}, allow_existing_contacts=True)
    assert allowed["skipped"]["already_present"] == 0
    assert sorted(contact_nos(crm, no)) == ["P11", "P11", "P3", "P3"]


def test_expand_companies_turns_a_person_into_its_company_and_colleagues_then_applies_exclusion(crm):
    no = segment(crm)["no"]
    result = add(crm, no, {"contact": {"no": "P21|P3"}}, expand_companies=True)
    assert contact_nos(crm, no) == ["P3", "C2", "P21"]
    assert result["skipped"]["excluded"] == 1  # Xavier, brought in by the expansion
    other = segment(crm)["no"]
    add(crm, other, {"contact": {"no": "P21"}}, expand_companies=True, ignore_exclusion=True)
    assert contact_nos(crm, other) == ["C2", "P21", "PX"]


def test_allow_company_with_persons_adds_the_company_of_each_person(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P3"}}, allow_company_with_persons=True)
    assert contact_nos(crm, no) == ["P3", "C1", "P11"]


def test_excluded_contacts_are_skipped_unless_exclusion_is_ignored(crm):
    no = segment(crm)["no"]
    skipped = add(crm, no, {"contact": {"no": "PX"}})
    assert skipped["skipped"]["excluded"] == 1 and lines(crm, no) == []
    added = add(crm, no, {"contact": {"no": "PX"}}, ignore_exclusion=True)
    assert added["skipped"]["excluded"] == 0 and contact_nos(crm, no) == ["PX"]


def test_privacy_blocked_contacts_are_never_added(crm):
    no = segment(crm)["no"]
    result = add(crm, no, {"contact": {"no": "PB"}}, allow_existing_contacts=True, expand_companies=True,
                 allow_company_with_persons=True, ignore_exclusion=True)
    assert result["skipped"] == {"already_present": 0, "excluded": 0, "privacy_blocked": 1}
    assert lines(crm, no) == []
    assert len(actions(crm, no)) == 1  # the action is recorded even when it adds nothing


INVALID_CRITERIA = [
    ({"nope": {"code": "X"}}, "criteria.nope"),
    ({"contact": {"colour": "red"}}, "criteria.contact.colour"),
    ({"contact": {"post_code": "75*)"}}, "criteria.contact.post_code"),
    ({"interaction": {"date": "yesterday-ish"}}, "criteria.interaction.date"),
    ({"contact": "FR"}, "criteria.contact"),
]


def test_invalid_criteria_are_refused_naming_the_field_and_change_nothing(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|C2"}})
    before = lines(crm, no)
    for criteria, field in INVALID_CRITERIA:
        for route in ("add-contacts", "reduce-contacts", "refine-contacts"):
            response = client.post(f"{API}/segments/{no}/{route}", json={"criteria": criteria}, headers=admin)
            assert response.status_code == 422, (route, response.text)
            assert response.json()["error"]["code"] == "invalid"
            assert response.json()["error"]["field"] == field, (route, criteria)
        preview = client.post(f"{API}/segments/{no}/preview", json={"action": "add_contacts", "criteria": criteria},
                              headers=admin)
        assert preview.status_code == 422 and preview.json()["error"]["field"] == field
    assert len(actions(crm, no)) == 1 and lines(crm, no) == before
    assert crm("GET", f"/segments/{no}")["no_of_criteria_actions"] == 1


def test_an_unknown_option_is_invalid(client, admin, crm):
    no = segment(crm)["no"]
    response = client.post(f"{API}/segments/{no}/add-contacts", json={"criteria": {}, "expand": True}, headers=admin)
    assert response.status_code == 422
    assert actions(crm, no) == []


# --- 3.7 Reduce and Refine ---------------------------------------------------------------------------


REMOVE_CASES = [
    ("reduce-contacts", {"contact": {"no": "P11"}}, False, ["P3", "C1", "P12", "C2", "P21"]),
    ("reduce-contacts", {"contact": {"no": "P11"}}, True, ["P3", "C2", "P21"]),
    # a match on a contact that is not in the segment removes its whole company
    ("reduce-contacts", {"contact": {"no": "PX"}}, False, ALL_IN_ORDER),
    ("reduce-contacts", {"contact": {"no": "PX"}}, True, ["P3", "C1", "P11", "P12"]),
    # a person without company is a company of its own
    ("reduce-contacts", {"contact": {"no": "P3"}}, True, ["C1", "P11", "P12", "C2", "P21"]),
    ("reduce-contacts", {"mailing_group": {"code": "NEWS"}}, False, ["C1", "P12", "C2", "P21"]),
    ("refine-contacts", {"contact": {"no": "P11"}}, False, ["P11"]),
    ("refine-contacts", {"contact": {"no": "P11"}}, True, ["C1", "P11", "P12"]),
    ("refine-contacts", {"contact": {"no": "PX"}}, False, []),
    ("refine-contacts", {"contact": {"no": "PX"}}, True, ["C2", "P21"]),
    ("refine-contacts", {"contact": {"no": "P3"}}, True, ["P3"]),
    ("refine-contacts", {"industry_group": {"code": "RETAIL"}}, False, ["C1", "P11", "P12"]),
]


def test_reduce_and_refine_with_and_without_entire_companies(crm):
    for route, criteria, entire, kept in REMOVE_CASES:
        no = segment(crm)["no"]
        add(crm, no)
        result = crm("POST", f"/segments/{no}/{route}", {"criteria": criteria, "entire_companies": entire})
        case = (route, criteria, entire)
        assert contact_nos(crm, no) == kept, case
        assert result == {"removed": len(ALL_IN_ORDER) - len(kept), "action_no": 2}, case
        last = actions(crm, no)[-1]
        assert last["action"] == route.replace("-", "_")
        assert last["options"] == {"entire_companies": entire}
        assert last["criteria"] == criteria


# --- preview ---------------------------------------------------------------------------------------


def test_preview_counts_and_samples_each_action_and_changes_nothing(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P12|C2"}})
    before_lines, before_actions = lines(crm, no), actions(crm, no)

    def preview(action, criteria, **options):
        return crm("POST", f"/segments/{no}/preview", {"action": action, "criteria": criteria, **options})

    added = preview("add_contacts", {"contact": {"country_code": "FR"}})
    assert added["action"] == "add_contacts" and added["count"] == 2  # C1 and P3; P11/P12 present, PB blocked
    assert sorted(c["no"] for c in added["sample"]) == ["C1", "P3"]
    assert added["skipped"] == {"already_present": 2, "excluded": 0, "privacy_blocked": 1}
    allowed = preview("add_contacts", {"contact": {"country_code": "FR"}}, allow_existing_contacts=True)
    assert allowed["count"] == 4

    reduced = preview("reduce_contacts", {"contact": {"no": "P11"}}, entire_companies=True)
    assert reduced["count"] == 2 and sorted(c["no"] for c in reduced["sample"]) == ["P11", "P12"]
    refined = preview("refine_contacts", {"contact": {"no": "P11"}})
    assert refined["count"] == 2 and sorted(c["no"] for c in refined["sample"]) == ["C2", "P12"]

    assert lines(crm, no) == before_lines and actions(crm, no) == before_actions
    assert crm("GET", f"/segments/{no}")["no_of_criteria_actions"] == 1


def test_preview_of_an_unknown_action_is_invalid(client, admin, crm):
    no = segment(crm)["no"]
    response = client.post(f"{API}/segments/{no}/preview", json={"action": "explode", "criteria": {}}, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["field"] == "action"


# --- 3.9 Go Back --------------------------------------------------------------------------------------


def test_go_back_undoes_any_number_of_actions_then_is_a_conflict(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"industry_group": {"code": "RETAIL"}})
    add(crm, no, {"contact": {"no": "P3"}})
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "C2"}}})  # removes nothing
    assert crm("GET", f"/segments/{no}")["no_of_criteria_actions"] == 3

    def go_back():
        result = crm("POST", f"/segments/{no}/go-back")
        return result["action_no"], result["lines_removed"]

    assert go_back() == (3, 0)
    assert go_back() == (2, 1)
    assert contact_nos(crm, no) == ["C1", "P11", "P12"]
    assert go_back() == (1, 3)
    assert lines(crm, no) == [] and actions(crm, no) == []
    response = client.post(f"{API}/segments/{no}/go-back", headers=admin)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert crm("GET", f"/segments/{no}")["no_of_criteria_actions"] == 0


def test_undoing_an_add_also_removes_its_lines_that_an_undone_reduce_restored(crm):
    no = segment(crm)["no"]
    add(crm, no, {"industry_group": {"code": "RETAIL"}})
    add(crm, no, {"contact": {"no": "P3"}})
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "P11"}}})
    crm("POST", f"/segments/{no}/go-back")  # Anna comes back, on a new line after Dora's
    assert sorted(contact_nos(crm, no)) == ["C1", "P11", "P12", "P3"]
    crm("POST", f"/segments/{no}/go-back")
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 3
    assert lines(crm, no) == []


def test_undoing_a_deletion_appends_new_lines_from_the_highest_deleted_line_no_downwards(crm):
    no = segment(crm)["no"]
    add(crm, no)  # P3, C1, P11, P12, C2, P21 on lines 10000 to 60000
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "C1|P21"}}})
    assert crm("POST", f"/segments/{no}/go-back")["lines_restored"] == 2
    # P21 (line 60000) comes first, as the highest line left + 10000; then C1 (line 20000) after it
    assert [(line["line_no"], line["contact_no"]) for line in lines(crm, no)] == [
        (10000, "P3"), (30000, "P11"), (40000, "P12"), (50000, "C2"), (60000, "P21"), (70000, "C1"),
    ]
    # undoing the Add then removes every line it inserted, the ones that came back on new lines too
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 6
    assert lines(crm, no) == []


def test_undoing_an_add_finds_its_lines_that_came_back_under_each_others_numbers(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P3"}})
    add(crm, no, {"contact": {"no": "P11|P12|P3"}}, allow_existing_contacts=True)  # P3, P11, P12 on 20000-40000
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "P11|P12|P3"}}})
    crm("POST", f"/segments/{no}/go-back")
    # from the highest line no. down: P12 (40000) -> 10000, P11 -> 20000, P3 (20000) -> 30000, P3 (10000) -> 40000
    assert [(line["line_no"], line["contact_no"]) for line in lines(crm, no)] == [
        (10000, "P12"), (20000, "P11"), (30000, "P3"), (40000, "P3"),
    ]
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 3
    assert contact_nos(crm, no) == ["P3"]  # the line of the first Add stays
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 1
    assert lines(crm, no) == []


def test_go_back_after_an_add_with_allow_existing_removes_only_the_inserted_lines(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    original = lines(crm, no)[0]
    add(crm, no, {"contact": {"no": "P11|P3"}}, allow_existing_contacts=True)
    assert sorted(contact_nos(crm, no)) == ["P11", "P11", "P3"]
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 2
    assert lines(crm, no) == [original]


def test_undoing_a_reduce_recreates_lines_with_fresh_defaults(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    line_no = lines(crm, no)[0]["line_no"]
    crm("PATCH", f"/segments/{no}/lines/{line_no}", {"description": "Edited", "cost": 1, "personal_text": "Hi"})
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "P11"}}})
    crm("POST", f"/segments/{no}/go-back")
    restored = lines(crm, no)
    assert len(restored) == 1
    assert (restored[0]["description"], restored[0]["cost"], restored[0]["personal_text"]) == ("Spring mailing", 10, "")


# --- 3.8 manual lines ------------------------------------------------------------------------------


def test_manual_line_edits_are_criteria_actions_undone_by_go_back(crm):
    no = segment(crm)["no"]
    line = crm("POST", f"/segments/{no}/lines", {"contact_no": "p11", "description": "Hand made"})
    assert (line["contact_no"], line["description"], line["cost"]) == ("P11", "Hand made", 10)
    assert [(a["action"], a["criteria"]) for a in actions(crm, no)] == [("add_contacts", {"contact": {"no": "P11"}})]

    changed = crm("PATCH", f"/segments/{no}/lines/{line['line_no']}", {"contact_no": "P21"})
    assert changed["contact_no"] == "P21" and changed["contact_company_no"] == "C2"
    assert changed["description"] == "Spring mailing"  # a new contact re-initialises the line
    assert [(a["action"], a["criteria"]) for a in actions(crm, no)][1:] == [
        ("reduce_contacts", {"contact": {"no": "P11"}}),
        ("add_contacts", {"contact": {"no": "P21"}}),
    ]
    crm("DELETE", f"/segments/{no}/lines/{changed['line_no']}")
    assert lines(crm, no) == []
    assert actions(crm, no)[-1]["action"] == "reduce_contacts"
    assert crm("GET", f"/segments/{no}")["no_of_criteria_actions"] == 4

    crm("POST", f"/segments/{no}/go-back")  # undo the delete
    assert contact_nos(crm, no) == ["P21"]
    crm("POST", f"/segments/{no}/go-back")  # undo the insertion of P21
    crm("POST", f"/segments/{no}/go-back")  # undo the removal of P11
    assert contact_nos(crm, no) == ["P11"]
    crm("POST", f"/segments/{no}/go-back")
    assert lines(crm, no) == [] and actions(crm, no) == []


def test_a_language_that_does_not_exist_is_invalid_on_a_line(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    before = lines(crm, no)[0]
    response = client.patch(f"{API}/segments/{no}/lines/{before['line_no']}", json={"language_code": "XXX"},
                            headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["field"] == "language_code"
    assert lines(crm, no) == [before]


def test_a_lines_template_may_be_cleared_which_resets_what_the_template_gave(crm):
    no = segment(crm, campaign_no="CP1")["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    line = lines(crm, no)[0]
    assert (line["cost"], line["information_flow"], line["correspondence_type"]) == (10, "outbound", "email")
    cleared = crm("PATCH", f"/segments/{no}/lines/{line['line_no']}", {"interaction_template_code": ""})
    assert (cleared["interaction_template_code"], cleared["interaction_group_code"]) == ("", "")
    assert (cleared["cost"], cleared["duration_min"]) == (0, 0)
    assert (cleared["information_flow"], cleared["initiated_by"], cleared["correspondence_type"]) == ("", "", "")
    assert (cleared["language_code"], cleared["subject"], cleared["attachment_no"]) == ("", "", None)
    assert (cleared["campaign_target"], cleared["campaign_response"]) == (False, False)
    # the line's own values stay
    assert (cleared["contact_no"], cleared["description"], cleared["campaign_no"]) == ("P11", "Spring mailing", "CP1")
    assert lines(crm, no) == [cleared]


def test_a_language_the_lines_other_template_lacks_clears_its_subject_and_attachment(client, admin, crm):
    for code, name in (("ENU", "English"), ("DEU", "German")):
        crm("POST", "/languages", {"code": code, "name": name})
    crm("POST", "/interaction-templates/MAIL/languages", {"language_code": "ENU", "subject": "Hello"})
    upload = client.put(f"{API}/interaction-templates/MAIL/languages/ENU/attachment",
                        files={"file": ("mail.txt", b"Hello {{Contact_Name}}", "text/plain")}, headers=admin)
    assert upload.status_code in (200, 201), upload.text
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11"}})
    line_no = lines(crm, no)[0]["line_no"]
    path = f"/segments/{no}/lines/{line_no}"
    mail = crm("PATCH", path, {"interaction_template_code": "MAIL", "language_code": "ENU"})
    assert (mail["language_code"], mail["subject"]) == ("ENU", "Hello")
    assert mail["attachment_no"] == upload.json()["attachment_no"]
    german = crm("PATCH", path, {"language_code": "DEU"})
    assert (german["language_code"], german["subject"], german["attachment_no"]) == ("DEU", "", None)
    assert crm("GET", "/interaction-templates/MAIL/languages/ENU")["subject"] == "Hello"


def test_a_manual_line_for_a_blocked_or_unknown_contact_is_refused(client, admin, crm):
    no = segment(crm)["no"]
    blocked = client.post(f"{API}/segments/{no}/lines", json={"contact_no": "PB"}, headers=admin)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "conflict"
    unknown = client.post(f"{API}/segments/{no}/lines", json={"contact_no": "NOPE"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "contact_no"
    line = crm("POST", f"/segments/{no}/lines", {"contact_no": "P11"})
    changed = client.patch(f"{API}/segments/{no}/lines/{line['line_no']}", json={"contact_no": "PB"}, headers=admin)
    assert changed.status_code == 409
    assert contact_nos(crm, no) == ["P11"] and len(actions(crm, no)) == 1


# --- 3.10 Save and Reuse Criteria ---------------------------------------------------------------------


def test_save_criteria_needs_an_action_and_a_new_code(client, admin, crm):
    no = segment(crm)["no"]
    response = client.post(f"{API}/segments/{no}/save-criteria", json={"code": "EMPTY"}, headers=admin)
    assert response.status_code == 409
    add(crm, no, {"contact": {"country_code": "FR"}}, expand_companies=True)
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"mailing_group": {"code": "NEWS"}}})
    saved = crm("POST", f"/segments/{no}/save-criteria", {"code": "fr", "description": "France"})
    assert (saved["code"], saved["description"], saved["user_id"], saved["no_of_actions"]) == (
        "FR", "France", "admin-user", 2)
    assert saved["actions"][0] == {
        "action_no": 1, "action": "add_contacts", "criteria": {"contact": {"country_code": "FR"}},
        "options": {"allow_existing_contacts": False, "expand_companies": True, "allow_company_with_persons": False,
                    "ignore_exclusion": False},
    }
    assert crm("GET", "/saved-segment-criteria/FR") == saved
    assert [s["code"] for s in crm("GET", "/saved-segment-criteria")["items"]] == ["FR"]
    again = client.post(f"{API}/segments/{no}/save-criteria", json={"code": "FR"}, headers=admin)
    assert again.status_code == 409


def test_reuse_criteria_replays_the_actions_and_applies_entire_companies_to_refine(crm):
    source = segment(crm)["no"]
    add(crm, source)
    refine = {"criteria": {"contact": {"no": "P11"}}, "entire_companies": True}
    crm("POST", f"/segments/{source}/refine-contacts", refine)
    crm("POST", f"/segments/{source}/save-criteria", {"code": "ALPHA"})
    target = segment(crm)["no"]
    add(crm, target, {"contact": {"no": "C2"}})
    result = crm("POST", f"/segments/{target}/reuse-criteria", {"code": "alpha"})
    # the replayed Add skips C2 (already there); the Refine with Entire Companies keeps Alpha only
    assert result == {"added": 5, "removed": 3}
    assert sorted(contact_nos(crm, target)) == ["C1", "P11", "P12"]
    assert [a["action"] for a in actions(crm, target)] == ["add_contacts", "add_contacts", "refine_contacts"]
    assert actions(crm, target)[2]["options"] == {"entire_companies": True}


def test_reuse_of_unknown_saved_criteria_is_invalid_and_saved_criteria_can_be_deleted(client, admin, crm):
    no = segment(crm)["no"]
    response = client.post(f"{API}/segments/{no}/reuse-criteria", json={"code": "NOPE"}, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["field"] == "code"
    add(crm, no)
    crm("POST", f"/segments/{no}/save-criteria", {"code": "ALL"})
    crm("DELETE", "/saved-segment-criteria/ALL")
    crm("GET", "/saved-segment-criteria/ALL", status=404)


# --- 3.25 other functions ------------------------------------------------------------------------------


def test_apply_mailing_group_assigns_every_contact_of_the_segment(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P12|C2"}})
    result = crm("POST", f"/segments/{no}/apply-mailing-group", {"mailing_group_code": "news"})
    assert result["mailing_group_code"] == "NEWS"
    assert crm("GET", "/contacts/P12/mailing-groups") == ["NEWS"]
    assert crm("GET", "/contacts/P3/mailing-groups") == ["NEWS"]  # kept
    crm("POST", f"/segments/{no}/apply-mailing-group", {"mailing_group_code": "NEWS", "delete_old_assignments": True})
    assert crm("GET", "/contacts/P3/mailing-groups") == []
    assert crm("GET", "/contacts/C2/mailing-groups") == ["NEWS"]
    for body in ({}, {"mailing_group_code": ""}, {"mailing_group_code": "NOPE"}):
        response = client.post(f"{API}/segments/{no}/apply-mailing-group", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == "mailing_group_code"


def test_contacts_csv_has_a_header_row_and_one_row_per_line(client, admin, crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|P3"}})
    add(crm, no, {"contact": {"no": "P3"}}, allow_existing_contacts=True)
    response = client.get(f"{API}/segments/{no}/contacts.csv", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["no"] for row in rows] == ["P3", "P11", "P3"]
    assert rows[1]["name"] == "Anna" and rows[1]["email"] == "anna@example.com"
    assert rows[1]["company_no"] == "C1" and rows[1]["type"] == "person"
    contact = crm("GET", "/contacts/P11")
    assert set(rows[0]) <= set(contact)


def test_a_viewer_may_read_but_not_change_a_segment(client, crm, headers_for):
    no = segment(crm)["no"]
    viewer = headers_for("viewer")
    assert client.get(f"{API}/segments/{no}", headers=viewer).status_code == 200
    assert client.post(f"{API}/segments/{no}/add-contacts", json={}, headers=viewer).status_code == 403
    assert client.post(f"{API}/segments/{no}/go-back", headers=viewer).status_code == 403


def test_each_action_reports_the_number_of_lines_it_inserted(crm):
    no = segment(crm)["no"]
    assert add(crm, no)["added"] == 6
    assert add(crm, no, {"contact": {"no": "P11|PB"}})["added"] == 0
    assert add(crm, no, {"contact": {"no": "P11|PX"}}, allow_existing_contacts=True)["added"] == 1
    crm("POST", f"/segments/{no}/reduce-contacts", {"criteria": {"contact": {"no": "C1"}}, "entire_companies": True})
    assert crm("POST", f"/segments/{no}/go-back")["lines_restored"] == 4
    crm("POST", f"/segments/{no}/save-criteria", {"code": "ALL"})
    other = segment(crm)["no"]
    assert crm("POST", f"/segments/{other}/reuse-criteria", {"code": "ALL"}) == {"added": 7, "removed": 0}
    applied = crm("POST", f"/segments/{other}/apply-mailing-group", {"mailing_group_code": "NEWS"})
    assert applied["assigned"] == 4  # P3 and P11 already belong to the group
