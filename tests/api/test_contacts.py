"""Contacts: companies and persons, inheritance, search, filters, paging, privacy, assignments."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_error, create

API = "/api/v1"
CONTACT_FIELDS = {
    "no",
    "type",
    "name",
    "company_no",
    "company_name",
    "search_name",
    "address",
    "address_2",
    "post_code",
    "city",
    "country_code",
    "territory_code",
    "phone_no",
    "mobile_phone_no",
    "email",
    "job_title",
    "language_code",
    "salesperson_code",
    "correspondence_type",
    "exclude_from_segment",
    "privacy_blocked",
    "minor",
    "parental_consent_received",
    "no_of_interactions",
    "cost",
    "duration_min",
    "date_of_last_interaction",
    "last_date_attempted",
}
ASSIGNMENT_KINDS = ["mailing-groups", "industry-groups", "job-responsibilities"]






def contact(client, headers, no: str) -> dict:
    response = client.get(f"{API}/contacts/{no}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def patch(client, headers, no: str, body: dict) -> dict:
    response = client.patch(f"{API}/contacts/{no}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def nos(client, headers, **params) -> list[str]:
    response = client.get(f"{API}/contacts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [c["no"] for c in response.json()["items"]]


def setup(client, headers, body: dict) -> None:
    response = client.put(f"{API}/setup/marketing", json=body, headers=headers)
    assert response.status_code == 200, response.text


# --- create and read --------------------------------------------------------------------------


def test_a_company_is_its_own_company_with_blank_defaults_and_zero_statistics(client, admin):
    created = create(client, admin, "contacts", {"no": "c1", "name": "Acme Ltd"})
    assert set(created) == CONTACT_FIELDS
    assert created["no"] == "C1"
    assert created["type"] == "company"
    assert created["company_no"] == "C1"
    assert created["company_name"] == "Acme Ltd"
    assert created["search_name"] == "ACME LTD"
    assert created["correspondence_type"] == ""
    assert created["email"] == "" and created["city"] == ""
    assert created["privacy_blocked"] is False and created["exclude_from_segment"] is False
    assert created["no_of_interactions"] == 0 and created["cost"] == 0 and created["duration_min"] == 0
    assert created["date_of_last_interaction"] is None and created["last_date_attempted"] is None
    assert contact(client, admin, "c1") == created


def test_a_person_takes_the_company_name_of_its_company(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme Ltd"})
    person = create(client, admin, "contacts", {"no": "P1", "type": "person", "name": "Ann Smith", "company_no": "c1"})
    assert person["type"] == "person"
    assert person["company_no"] == "C1"
    assert person["company_name"] == "Acme Ltd"
    loner = create(client, admin, "contacts", {"no": "P2", "type": "person", "name": "Bob"})
    assert loner["company_no"] == "" and loner["company_name"] == ""


def test_company_name_is_read_only(client, admin):
    response = client.post(f"{API}/contacts", json={"no": "C1", "name": "Acme", "company_name": "Other"}, headers=admin)
    assert_error(response, 422, "invalid", "company_name")
    assert_error(client.get(f"{API}/contacts/C1", headers=admin), 404, "not_found")


def test_renaming_a_company_renames_it_on_its_persons(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme Ltd"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "name": "Ann", "company_no": "C1"})
    assert patch(client, admin, "C1", {"name": "Acme Group"})["company_name"] == "Acme Group"
    assert contact(client, admin, "P1")["company_name"] == "Acme Group"


def test_a_person_of_an_unknown_company_is_422(client, admin):
    response = client.post(f"{API}/contacts", json={"no": "P1", "type": "person", "company_no": "NOPE"}, headers=admin)
    assert_error(response, 422, "invalid", "company_no")
    assert_error(client.get(f"{API}/contacts/P1", headers=admin), 404, "not_found")


def test_search_name_defaults_to_the_upper_case_name_but_a_given_one_wins(client, admin):
    assert create(client, admin, "contacts", {"no": "C1", "name": "Müller & Co"})["search_name"] == "MÜLLER & CO"
    assert (
        create(client, admin, "contacts", {"no": "C2", "name": "Acme", "search_name": "ACME-X"})["search_name"]
        == "ACME-X"
    )


def test_codes_are_upper_cased_on_input(client, admin):
    create(client, admin, "languages", {"code": "fra"})
    create(client, admin, "salespeople", {"code": "jd"})
    created = create(
        client,
        admin,
        "contacts",
        {
            "no": "c-1",
            "name": "acme",
            "country_code": "fr",
            "territory_code": "north",
            "language_code": "fra",
            "salesperson_code": "jd",
            "post_code": "ab1 2cd",
        },
    )
    assert (created["no"], created["country_code"], created["territory_code"]) == ("C-1", "FR", "NORTH")
    assert (created["language_code"], created["salesperson_code"]) == ("FRA", "JD")
    assert created["name"] == "acme"
    assert contact(client, admin, "C-1")["no"] == "C-1"


def test_a_duplicate_contact_no_is_409(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    assert_error(client.post(f"{API}/contacts", json={"no": "c1", "name": "Other"}, headers=admin), 409, "conflict")
    assert contact(client, admin, "C1")["name"] == "Acme"


def test_unknown_language_or_salesperson_on_a_contact_is_422(client, admin):
    for field in ("language_code", "salesperson_code"):
        assert_error(
            client.post(f"{API}/contacts", json={"no": "C1", field: "NOPE"}, headers=admin), 422, "invalid", field
        )
    assert nos(client, admin) == []


def test_contact_bodies_are_strict_and_typed(client, admin):
    for body, field in (
        ({"no": "C1", "nmae": "typo"}, "nmae"),
        ({"no": "C1", "type": "robot"}, "type"),
        ({"no": "C1", "correspondence_type": "fax"}, "correspondence_type"),
        ({"no": "C1", "email": "not-an-address"}, "email"),
        ({"no": "C1", "minor": "perhaps"}, "minor"),
        ({"no": "C1", "name": ["Acme"]}, "name"),
        ({"no": "C1", "city": "x" * 31}, "city"),
    ):
        assert_error(client.post(f"{API}/contacts", json=body, headers=admin), 422, "invalid", field)
    assert nos(client, admin) == []
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    assert_error(client.patch(f"{API}/contacts/C1", json={"nmae": "x"}, headers=admin), 422, "invalid", "nmae")
    assert_error(
        client.patch(f"{API}/contacts/C1", json={"name": "x", "exclude_from_segment": "x"}, headers=admin),
        422,
        "invalid",
    )
    assert contact(client, admin, "C1")["name"] == "Acme"


# --- Marketing Setup defaults and inheritance -------------------------------------------------


def test_marketing_setup_defaults_fill_a_new_contact(client, admin):
    create(client, admin, "languages", {"code": "FRA"})
    create(client, admin, "salespeople", {"code": "JD"})
    setup(
        client,
        admin,
        {
            "default_correspondence_type": "email",
            "default_language_code": "FRA",
            "default_salesperson_code": "JD",
            "default_country_code": "FR",
        },
    )
    created = create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    assert (created["correspondence_type"], created["language_code"]) == ("email", "FRA")
    assert (created["salesperson_code"], created["country_code"]) == ("JD", "FR")
    create(client, admin, "languages", {"code": "DEU"})
    given = create(
        client,
        admin,
        "contacts",
        {"no": "C2", "correspondence_type": "hard_copy", "language_code": "DEU", "country_code": "DE"},
    )
    assert (given["correspondence_type"], given["language_code"], given["country_code"]) == ("hard_copy", "DEU", "DE")


def _company_and_persons(client, admin) -> None:
    create(client, admin, "languages", {"code": "FRA"})
    create(client, admin, "languages", {"code": "DEU"})
    create(client, admin, "salespeople", {"code": "AA"})
    create(client, admin, "salespeople", {"code": "BB"})
    company = {
        "name": "Acme",
        "city": "Paris",
        "address": "1 Rue",
        "phone_no": "111",
        "salesperson_code": "AA",
        "language_code": "FRA",
    }
    create(client, admin, "contacts", {"no": "C1", **company})
    same = {"city": "Paris", "address": "1 Rue", "phone_no": "111", "salesperson_code": "AA", "language_code": "FRA"}
    own = {"city": "Lyon", "address": "2 Ave", "phone_no": "222", "salesperson_code": "BB", "language_code": "DEU"}
    create(client, admin, "contacts", {"no": "P1", "type": "person", "name": "Same", "company_no": "C1", **same})
    create(client, admin, "contacts", {"no": "P2", "type": "person", "name": "Own", "company_no": "C1", **own})


NEW_COMPANY_VALUES = {
    "city": "Nice",
    "address": "9 Quai",
    "phone_no": "999",
    "salesperson_code": "BB",
    "language_code": "DEU",
}


def test_company_changes_flow_to_persons_that_had_the_old_value(client, admin):
    _company_and_persons(client, admin)
    patch(client, admin, "C1", NEW_COMPANY_VALUES)
    same = contact(client, admin, "P1")
    assert {k: same[k] for k in NEW_COMPANY_VALUES} == NEW_COMPANY_VALUES
    own = contact(client, admin, "P2")
    assert {k: own[k] for k in NEW_COMPANY_VALUES} == {
        "city": "Lyon",
        "address": "2 Ave",
        "phone_no": "222",
        "salesperson_code": "BB",
        "language_code": "DEU",
    }


@pytest.mark.parametrize(
    ("flag", "fields"),
    [
        ("inherit_salesperson_code", ["salesperson_code"]),
        ("inherit_language_code", ["language_code"]),
        ("inherit_address_details", ["city", "address"]),
        ("inherit_communication_details", ["phone_no"]),
    ],
)
def test_a_company_change_does_not_flow_to_persons_when_its_inherit_flag_is_off(client, admin, flag, fields):
    _company_and_persons(client, admin)
    setup(client, admin, {flag: False})
    before = contact(client, admin, "P1")
    patch(client, admin, "C1", NEW_COMPANY_VALUES)
    after = contact(client, admin, "P1")
    for field in fields:
        assert after[field] == before[field], field
    flowing = {k: v for k, v in NEW_COMPANY_VALUES.items() if k not in fields}
    # the other flags are still on
    assert {k: after[k] for k in flowing} == flowing


# --- list, search, filters, paging ------------------------------------------------------------


def _some_contacts(client, admin) -> None:
    for no, name, city, country, email in (
        ("C1", "Alpha SA", "Paris", "FR", "info@alpha.fr"),
        ("C2", "Beta NV", "Brussels", "BE", "hello@beta.be"),
        ("C3", "Gamma GmbH", "Berlin", "DE", "post@gamma.de"),
        ("C4", "Delta SARL", "Paray", "FR", ""),
        ("C5", "Epsilon", "paris", "CH", "x@epsilon.ch"),
    ):
        create(
            client, admin, "contacts", {"no": no, "name": name, "city": city, "country_code": country, "email": email}
        )


def test_q_searches_name_email_and_number(client, admin):
    _some_contacts(client, admin)
    assert nos(client, admin, q="gamma") == ["C3"]
    assert nos(client, admin, q="beta.be") == ["C2"]
    assert nos(client, admin, q="C4") == ["C4"]
    assert nos(client, admin, q="nothing-like-this") == []


@pytest.mark.parametrize("q", ["MÜLLER", "müller", "Müller", "ÖSTERREICH", "ller gm", "MUELLER"])
def test_q_ignores_the_case_of_any_letter_on_either_database(client, admin, q):
    create(client, admin, "contacts", {"no": "C1", "name": "Müller GmbH", "email": "österreich@example.com"})
    create(client, admin, "contacts", {"no": "C2", "name": "Mueller AG"})
    create(client, admin, "contacts", {"no": "C3", "name": "100% Ärger_frei"})
    expected = {"MUELLER": ["C2"], "ÖSTERREICH": ["C1"]}.get(q, ["C1"])
    assert nos(client, admin, q=q) == expected
    assert nos(client, admin, q="% ä") == ["C3"] and nos(client, admin, q="R_F") == ["C3"]
    assert nos(client, admin, q="ü_") == []


def test_filter_expressions_narrow_the_list(client, admin):
    _some_contacts(client, admin)
    assert nos(client, admin, **{"filter[city]": "Par*"}) == ["C1", "C4"]
    assert nos(client, admin, **{"filter[city]": "@par*"}) == ["C1", "C4", "C5"]
    assert nos(client, admin, **{"filter[country_code]": "FR|BE"}) == ["C1", "C2", "C4"]
    assert nos(client, admin, **{"filter[country_code]": "fr"}) == ["C1", "C4"]
    assert nos(client, admin, **{"filter[email]": "''"}) == ["C4"]
    assert nos(client, admin, **{"filter[no]": "C2..C4"}) == ["C2", "C3", "C4"]


def test_several_filters_combine_with_and(client, admin):
    _some_contacts(client, admin)
    assert nos(client, admin, **{"filter[country_code]": "FR|BE", "filter[city]": "Par*"}) == ["C1", "C4"]
    assert nos(client, admin, **{"filter[country_code]": "FR", "filter[email]": "<>''"}) == ["C1"]


def test_an_invalid_filter_expression_is_422_naming_the_field(client, admin):
    _some_contacts(client, admin)
    error = assert_error(
        client.get(f"{API}/contacts", params={"filter[post_code]": "75*)"}, headers=admin), 422, "invalid", "post_code"
    )
    assert "75*)" in error["message"]
    assert_error(
        client.get(f"{API}/contacts", params={"filter[minor]": "sometimes"}, headers=admin), 422, "invalid", "minor"
    )


def test_a_filter_on_an_unknown_field_is_422(client, admin):
    assert_error(
        client.get(f"{API}/contacts", params={"filter[colour]": "red"}, headers=admin), 422, "invalid", "colour"
    )


def test_keyset_pagination_walks_every_contact_exactly_once_in_key_order(client, admin):
    all_nos = [f"C{i:03d}" for i in range(11)]
    for no in reversed(all_nos):
        create(client, admin, "contacts", {"no": no, "name": no})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/contacts", params=params, headers=admin)
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert len(items) <= 4
        seen += [c["no"] for c in items]
        cursor = page.json()["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert seen == all_nos
    assert pages == 3


def test_pagination_combines_with_filters(client, admin):
    for i in range(6):
        create(client, admin, "contacts", {"no": f"C{i}", "city": "Paris" if i % 2 else "Lyon"})
    first = client.get(f"{API}/contacts", params={"limit": 2, "filter[city]": "Paris"}, headers=admin).json()
    assert [c["no"] for c in first["items"]] == ["C1", "C3"]
    second = client.get(
        f"{API}/contacts", params={"limit": 2, "filter[city]": "Paris", "cursor": first["next_cursor"]}, headers=admin
    ).json()
    assert [c["no"] for c in second["items"]] == ["C5"]
    assert second["next_cursor"] is None


def test_the_default_page_is_50_and_limit_1000_is_allowed(client, admin):
    for i in range(51):
        create(client, admin, "contacts", {"no": f"C{i:02d}"})
    first = client.get(f"{API}/contacts", headers=admin).json()
    assert len(first["items"]) == 50
    assert first["next_cursor"] is not None
    rest = client.get(f"{API}/contacts", params={"cursor": first["next_cursor"]}, headers=admin).json()
    assert [c["no"] for c in rest["items"]] == ["C50"]
    assert rest["next_cursor"] is None
    assert len(client.get(f"{API}/contacts", params={"limit": 1000}, headers=admin).json()["items"]) == 51


def test_a_limit_outside_1_to_1000_is_422(client, admin):
    for limit in ("0", "1001", "-1", "ten"):
        assert_error(client.get(f"{API}/contacts", params={"limit": limit}, headers=admin), 422, "invalid", "limit")


def test_a_garbage_cursor_is_422(client, admin):
    create(client, admin, "contacts", {"no": "C1"})
    for cursor in ("garbage!!", "bm90LWpzb24", "WzEsMl0"):
        response = client.get(f"{API}/contacts", params={"cursor": cursor}, headers=admin)
        assert_error(response, 422, "invalid", "cursor")


def test_contact_statistics_accept_date_from_and_date_to(client, admin):
    create(client, admin, "contacts", {"no": "C1"})
    one = client.get(f"{API}/contacts/C1", params={"date_from": "2026-01-01", "date_to": "2026-01-31"}, headers=admin)
    assert one.status_code == 200, one.text
    assert (one.json()["no_of_interactions"], one.json()["cost"], one.json()["duration_min"]) == (0, 0, 0)
    listed = client.get(f"{API}/contacts", params={"date_from": "2026-01-01"}, headers=admin)
    assert listed.status_code == 200, listed.text


# --- change and delete ------------------------------------------------------------------------


def test_a_contact_is_patched_and_deleted(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    patched = patch(client, admin, "c1", {"city": "Rome", "email": "a@acme.it", "exclude_from_segment": True})
    assert (patched["city"], patched["email"], patched["exclude_from_segment"]) == ("Rome", "a@acme.it", True)
    assert contact(client, admin, "C1")["city"] == "Rome"
    assert client.delete(f"{API}/contacts/c1", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/contacts/C1", headers=admin), 404, "not_found")


def test_unknown_contacts_are_404(client, admin):
    assert_error(client.get(f"{API}/contacts/NOPE", headers=admin), 404, "not_found")
    assert_error(client.patch(f"{API}/contacts/NOPE", json={"name": "x"}, headers=admin), 404, "not_found")
    assert_error(client.delete(f"{API}/contacts/NOPE", headers=admin), 404, "not_found")
    for kind in [*ASSIGNMENT_KINDS, "business-relations", "profile-answers"]:
        assert_error(client.get(f"{API}/contacts/NOPE/{kind}", headers=admin), 404, "not_found")
        assert_error(client.put(f"{API}/contacts/NOPE/{kind}", json=[], headers=admin), 404, "not_found")


def test_deleting_a_company_deletes_its_persons(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    create(client, admin, "contacts", {"no": "C2", "name": "Other"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "company_no": "C1"})
    create(client, admin, "contacts", {"no": "P2", "type": "person", "company_no": "C1"})
    create(client, admin, "contacts", {"no": "P3", "type": "person", "company_no": "C2"})
    assert client.delete(f"{API}/contacts/C1", headers=admin).status_code == 204
    assert nos(client, admin) == ["C2", "P3"]


def test_deleting_a_person_keeps_its_company(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "company_no": "C1"})
    assert client.delete(f"{API}/contacts/P1", headers=admin).status_code == 204
    assert nos(client, admin) == ["C1"]


# --- privacy ----------------------------------------------------------------------------------


def test_a_minor_is_privacy_blocked(client, admin):
    assert create(client, admin, "contacts", {"no": "P1", "type": "person", "minor": True})["privacy_blocked"] is True
    create(client, admin, "contacts", {"no": "P2", "type": "person"})
    assert patch(client, admin, "P2", {"minor": True})["privacy_blocked"] is True


def test_privacy_blocked_cannot_be_cleared_for_a_minor_without_parental_consent(client, admin):
    create(client, admin, "contacts", {"no": "P1", "type": "person", "minor": True})
    response = client.patch(f"{API}/contacts/P1", json={"privacy_blocked": False}, headers=admin)
    assert_error(response, 422, "invalid", "privacy_blocked")
    assert contact(client, admin, "P1")["privacy_blocked"] is True


def test_privacy_blocked_can_be_cleared_for_a_minor_once_parental_consent_is_received(client, admin):
    create(client, admin, "contacts", {"no": "P1", "type": "person", "minor": True})
    assert patch(client, admin, "P1", {"parental_consent_received": True})["privacy_blocked"] is True
    assert patch(client, admin, "P1", {"privacy_blocked": False})["privacy_blocked"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"minor": True, "privacy_blocked": False},
        {"minor": True, "parental_consent_received": False, "privacy_blocked": False},
    ],
)
def test_a_request_to_clear_privacy_blocked_that_the_minor_rule_forbids_is_refused_not_ignored(client, admin, body):
    response = client.post(f"{API}/contacts", json={"no": "P1", "type": "person", **body}, headers=admin)
    assert_error(response, 422, "invalid", "privacy_blocked")
    assert client.get(f"{API}/contacts/P1", headers=admin).status_code == 404
    create(client, admin, "contacts", {"no": "P2", "type": "person"})
    assert_error(client.patch(f"{API}/contacts/P2", json=body, headers=admin), 422, "invalid", "privacy_blocked")
    assert contact(client, admin, "P2")["minor"] is False


def test_a_minor_with_parental_consent_may_be_created_or_changed_unblocked_in_one_request(client, admin):
    body = {"minor": True, "parental_consent_received": True, "privacy_blocked": False}
    assert create(client, admin, "contacts", {"no": "P1", "type": "person", **body})["privacy_blocked"] is False
    create(client, admin, "contacts", {"no": "P2", "type": "person", "minor": True})
    changed = patch(client, admin, "P2", {"parental_consent_received": True, "privacy_blocked": False})
    assert changed["privacy_blocked"] is False


def test_withdrawing_a_minor_s_parental_consent_blocks_the_contact_again(client, admin):
    body = {"minor": True, "parental_consent_received": True, "privacy_blocked": False}
    create(client, admin, "contacts", {"no": "P1", "type": "person", **body})
    assert patch(client, admin, "P1", {"parental_consent_received": False})["privacy_blocked"] is True


def test_privacy_blocked_is_set_and_cleared_freely_for_an_adult(client, admin):
    create(client, admin, "contacts", {"no": "P1", "type": "person"})
    assert patch(client, admin, "P1", {"privacy_blocked": True})["privacy_blocked"] is True
    assert patch(client, admin, "P1", {"privacy_blocked": False})["privacy_blocked"] is False


# --- assignments ------------------------------------------------------------------------------


def test_put_replaces_the_set_of_assigned_codes(client, admin):
    create(client, admin, "contacts", {"no": "C1"})
    for kind in ASSIGNMENT_KINDS:
        for code in ("AA", "BB", "CC"):
            create(client, admin, kind, {"code": code})
        url = f"{API}/contacts/C1/{kind}"
        assert client.get(url, headers=admin).json() == []
        response = client.put(url, json=["bb", "AA"], headers=admin)
        assert response.status_code == 200, response.text
        assert sorted(response.json()) == ["AA", "BB"]
        assert sorted(client.get(url, headers=admin).json()) == ["AA", "BB"]
        assert client.put(url, json=["CC"], headers=admin).json() == ["CC"]
        assert client.get(url, headers=admin).json() == ["CC"]
        assert client.put(url, json=[], headers=admin).json() == []
        assert client.get(url, headers=admin).json() == [], kind


def test_an_unknown_assigned_code_is_422_and_nothing_changes(client, admin):
    create(client, admin, "contacts", {"no": "C1"})
    for kind in ASSIGNMENT_KINDS:
        create(client, admin, kind, {"code": "AA"})
        url = f"{API}/contacts/C1/{kind}"
        client.put(url, json=["AA"], headers=admin)
        assert_error(client.put(url, json=["AA", "NOPE"], headers=admin), 422, "invalid")
        assert client.get(url, headers=admin).json() == ["AA"]
        assert_error(client.put(url, json={"codes": ["AA"]}, headers=admin), 422, "invalid")
        assert_error(client.put(url, json=[1, 2], headers=admin), 422, "invalid")
        assert client.get(url, headers=admin).json() == ["AA"], kind


def test_business_relations_of_a_contact_are_replaced_by_put(client, admin):
    create(client, admin, "business-relations", {"code": "CUST"})
    create(client, admin, "business-relations", {"code": "VEND"})
    create(client, admin, "contacts", {"no": "C1"})
    url = f"{API}/contacts/C1/business-relations"
    assert client.get(url, headers=admin).json() == []
    links = [
        {"business_relation_code": "cust", "link_to_table": "customer", "link_no": "k10000"},
        {"business_relation_code": "VEND", "link_to_table": "vendor", "link_no": "V20000"},
    ]
    response = client.put(url, json=links, headers=admin)
    assert response.status_code == 200, response.text
    expected = [
        {"business_relation_code": "CUST", "link_to_table": "customer", "link_no": "K10000"},
        {"business_relation_code": "VEND", "link_to_table": "vendor", "link_no": "V20000"},
    ]
    assert response.json() == expected
    assert client.get(url, headers=admin).json() == expected
    only = [{"business_relation_code": "VEND", "link_to_table": "", "link_no": ""}]
    assert client.put(url, json=only, headers=admin).json() == only
    assert client.get(url, headers=admin).json() == only


def test_bad_business_relations_are_422_and_nothing_changes(client, admin):
    create(client, admin, "business-relations", {"code": "CUST"})
    create(client, admin, "contacts", {"no": "C1"})
    url = f"{API}/contacts/C1/business-relations"
    kept = [{"business_relation_code": "CUST", "link_to_table": "customer", "link_no": "K1"}]
    client.put(url, json=kept, headers=admin)
    for body, field in (
        ([{"business_relation_code": "NOPE"}], "business_relation_code"),
        ([{"business_relation_code": "CUST", "link_to_table": "planet", "link_no": "X"}], "link_to_table"),
        ([{"business_relation_code": "CUST", "link_table": "customer"}], "link_table"),
        ([{"link_to_table": "customer", "link_no": "K1"}], "business_relation_code"),
    ):
        error = assert_error(client.put(url, json=body, headers=admin), 422, "invalid")
        assert field in error.get("field", ""), error
    assert client.get(url, headers=admin).json() == kept


def _questionnaire(client, admin) -> None:
    create(
        client,
        admin,
        "profile-questionnaires",
        {
            "code": "SIZE",
            "answers": [{"answer_code": "SMALL"}, {"answer_code": "LARGE"}],
        },
    )
    create(client, admin, "profile-questionnaires", {"code": "SECTOR", "answers": [{"answer_code": "RETAIL"}]})


def test_profile_answers_of_a_contact_are_replaced_by_put(client, admin):
    _questionnaire(client, admin)
    create(client, admin, "contacts", {"no": "C1"})
    url = f"{API}/contacts/C1/profile-answers"
    assert client.get(url, headers=admin).json() == []
    answers = [
        {"questionnaire_code": "size", "answer_code": "large"},
        {"questionnaire_code": "SECTOR", "answer_code": "RETAIL"},
    ]
    response = client.put(url, json=answers, headers=admin)
    assert response.status_code == 200, response.text
    got = sorted((a["questionnaire_code"], a["answer_code"]) for a in client.get(url, headers=admin).json())
    assert got == [("SECTOR", "RETAIL"), ("SIZE", "LARGE")]
    assert sorted((a["questionnaire_code"], a["answer_code"]) for a in response.json()) == got
    client.put(url, json=[{"questionnaire_code": "SIZE", "answer_code": "SMALL"}], headers=admin)
    assert client.get(url, headers=admin).json() == [{"questionnaire_code": "SIZE", "answer_code": "SMALL"}]


def test_an_answer_that_its_questionnaire_does_not_have_is_422_and_nothing_changes(client, admin):
    _questionnaire(client, admin)
    create(client, admin, "contacts", {"no": "C1"})
    url = f"{API}/contacts/C1/profile-answers"
    kept = [{"questionnaire_code": "SIZE", "answer_code": "SMALL"}]
    client.put(url, json=kept, headers=admin)
    for body in (
        [{"questionnaire_code": "SIZE", "answer_code": "RETAIL"}],
        [{"questionnaire_code": "NOPE", "answer_code": "SMALL"}],
        [{"questionnaire_code": "SIZE", "answer_code": "SMALL", "score": 3}],
        [{"questionnaire_code": "SIZE"}],
    ):
        assert_error(client.put(url, json=body, headers=admin), 422, "invalid")
    assert client.get(url, headers=admin).json() == kept


def test_moving_a_person_to_another_company_takes_that_company_name(client, admin):
    create(client, admin, "contacts", {"no": "C1", "name": "Acme"})
    create(client, admin, "contacts", {"no": "C2", "name": "Globex"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "company_no": "C1"})
    moved = patch(client, admin, "P1", {"company_no": "c2"})
    assert (moved["company_no"], moved["company_name"]) == ("C2", "Globex")
    alone = patch(client, admin, "P1", {"company_no": ""})
    assert (alone["company_no"], alone["company_name"]) == ("", "")


def test_email_addresses_are_checked_for_syntax_only(client, admin):
    for i, email in enumerate(["ann@example.test", "bob@localhost", "c.d+tag@mail.example.invalid"]):
        created = create(client, admin, "contacts", {"no": f"C{i}", "email": email})
        assert created["email"] == email
    for email in ("ann", "ann@", "@example.com", "ann example@x.com"):
        response = client.post(f"{API}/contacts", json={"no": "BAD", "email": email}, headers=admin)
        assert_error(response, 422, "invalid", "email")


def test_enum_and_boolean_filters_take_api_values_and_captions(client, admin):
    create(client, admin, "contacts", {"no": "C1", "correspondence_type": "hard_copy"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "correspondence_type": "email", "minor": True})
    assert nos(client, admin, **{"filter[type]": "person"}) == ["P1"]
    assert nos(client, admin, **{"filter[correspondence_type]": "hard_copy"}) == ["C1"]
    assert nos(client, admin, **{"filter[correspondence_type]": "Hard Copy"}) == ["C1"]
    assert nos(client, admin, **{"filter[privacy_blocked]": "true"}) == ["P1"]
    assert nos(client, admin, **{"filter[minor]": "no"}) == ["C1"]
    assert_error(client.get(f"{API}/contacts", params={"filter[type]": "robot"}, headers=admin), 422, "invalid", "type")


# --- a contact on a segment line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("no", "change"),
    [
        ("P1", {"company_no": "C2"}),
        ("P1", {"company_no": ""}),
        ("P1", {"type": "company"}),
        ("C3", {"type": "person"}),
    ],
)
def test_a_contact_on_an_unlogged_segment_line_keeps_its_company_number(client, admin, no, change):
    create(client, admin, "contacts", {"no": "C1", "name": "One"})
    create(client, admin, "contacts", {"no": "C2", "name": "Two"})
    create(client, admin, "contacts", {"no": "C3", "name": "Three"})
    create(client, admin, "contacts", {"no": "P1", "type": "person", "name": "Ann", "company_no": "C1"})
    before = contact(client, admin, no)
    create(client, admin, "segments", {"no": "SG1", "description": "Mailing"})
    line = create(client, admin, "segments/SG1/lines", {"contact_no": no})
    response = client.patch(f"{API}/contacts/{no}", json=change, headers=admin)
    assert_error(response, 409, "conflict")
    assert "SG1" in response.json()["error"]["message"]
    after = contact(client, admin, no)
    assert (after["type"], after["company_no"]) == (before["type"], before["company_no"])
    shown = client.get(f"{API}/segments/SG1/lines/{line['line_no']}", headers=admin).json()
    assert shown["contact_company_no"] == before["company_no"]
    assert client.delete(f"{API}/segments/SG1/lines/{line['line_no']}", headers=admin).status_code == 204
    assert all(patch(client, admin, no, change)[k] == v for k, v in change.items())
