"""Automatic interactions from documents (domain.md 3.22)."""

from __future__ import annotations

import pytest

API = "/api/v1"


@pytest.fixture
def books(client, admin):
    def ok(response, status=(200, 201)):
        assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
        return response.json()

    ok(client.post(f"{API}/salespeople", json={"code": "SP1", "name": "Sam"}, headers=admin))
    ok(client.post(f"{API}/salespeople", json={"code": "SP2", "name": "Sue"}, headers=admin))
    ok(client.post(f"{API}/contacts", json={"no": "C1", "name": "Fabrikam", "salesperson_code": "SP1"}, headers=admin))
    ok(client.post(f"{API}/business-relations", json={"code": "CUST", "description": "Customer"}, headers=admin))
    ok(
        client.put(
            f"{API}/contacts/C1/business-relations",
            json=[{"business_relation_code": "CUST", "link_to_table": "customer", "link_no": "10000"}],
            headers=admin,
        )
    )
    ok(client.post(f"{API}/interaction-groups", json={"code": "SALES", "description": "Sales"}, headers=admin))
    ok(
        client.post(
            f"{API}/interaction-templates",
            json={
                "code": "SINV",
                "interaction_group_code": "SALES",
                "description": "Sales invoice",
                "unit_cost": 1,
                "correspondence_type_default": "hard_copy",
            },
            headers=admin,
        )
    )
    ok(client.put(f"{API}/setup/interaction-templates", json={"sales_invoice": "SINV"}, headers=admin))
    return ok


def event(client, headers, **body):
    body.setdefault("document_type", "sales_invoice")
    body.setdefault("document_no", "INV-1")
    return client.post(f"{API}/document-events", json=body, headers=headers)


def test_a_document_without_a_set_up_template_records_nothing(client, admin, books):
    response = event(client, admin, document_type="sales_quote", customer_no="10000")
    assert response.status_code == 200
    assert response.json() == {"logged": False, "reason": "no_template"}


def test_a_customer_document_is_logged_for_the_linked_contact_with_today_and_no_salesperson(client, admin, books):
    response = event(client, admin, customer_no="10000", version_no=2, occurrence=1)
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["contact_no"] == "C1"
    assert entry["document_type"] == "sales_invoice" and entry["document_no"] == "INV-1"
    assert entry["version_no"] == 2
    assert entry["description"] == "Sales invoice"
    assert entry["salesperson_code"] == ""  # documents allow a blank salesperson
    assert entry["cost"] == 1


@pytest.mark.parametrize("caption", ["Sales Inv.", "sales inv.", "sales_invoice"])
def test_the_log_filters_on_a_document_type_by_its_value_or_business_central_s_caption(
    client, admin, books, caption
):
    assert event(client, admin, contact_no="C1").status_code == 201
    assert event(client, admin, contact_no="C1", document_type="sales_quote").json()["logged"] is False
    items = client.get(f"{API}/interactions", params={"filter[document_type]": caption}, headers=admin).json()["items"]
    assert [(e["document_type"], e["document_no"]) for e in items] == [("sales_invoice", "INV-1")]
    quotes = client.get(f"{API}/interactions", params={"filter[document_type]": "Sales Qte."}, headers=admin)
    assert quotes.status_code == 200 and quotes.json()["items"] == []


def test_a_contact_document_takes_the_contacts_salesperson_unless_one_is_given(client, admin, books):
    assert event(client, admin, contact_no="C1").json()["salesperson_code"] == "SP1"
    assert event(client, admin, contact_no="C1", salesperson_code="SP2").json()["salesperson_code"] == "SP2"


def test_an_unknown_account_records_nothing(client, admin, books):
    assert event(client, admin, customer_no="99999").json() == {"logged": False, "reason": "no_contact"}
    assert event(client, admin, contact_no="NOPE").json() == {"logged": False, "reason": "no_contact"}


def test_a_privacy_blocked_contact_gets_no_document_interaction(client, admin, books):
    client.patch(f"{API}/contacts/C1", json={"privacy_blocked": True}, headers=admin)
    assert event(client, admin, customer_no="10000").json() == {"logged": False, "reason": "privacy_blocked"}


def test_a_template_with_languages_is_refused_for_documents(client, admin, books):
    client.post(f"{API}/languages", json={"code": "FRA", "name": "French"}, headers=admin)
    created = client.post(f"{API}/interaction-templates/SINV/languages", json={"language_code": "FRA"}, headers=admin)
    assert created.status_code == 201, created.text
    response = event(client, admin, customer_no="10000")
    assert response.status_code == 409


def test_the_account_must_be_named_exactly_once(client, admin, books):
    assert event(client, admin).status_code == 422
    assert event(client, admin, contact_no="C1", customer_no="10000").status_code == 422
