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


def error_of(response):
    assert response.status_code == 422, response.text
    return response.json()["error"]


def test_a_document_naming_no_account_is_refused_on_the_contact_field(client, admin, books):
    error = error_of(event(client, admin))
    assert error["field"] == "contact_no"
    assert "contact_no" in error["message"] and "customer_no" in error["message"]


@pytest.mark.parametrize(
    ("accounts", "field"),
    [
        ({"contact_no": "C1", "customer_no": "10000"}, "contact_no"),
        ({"customer_no": "10000", "vendor_no": "20000"}, "customer_no"),
    ],
)
def test_a_document_naming_two_accounts_is_refused_on_a_field_it_names(client, admin, books, accounts, field):
    error = error_of(event(client, admin, **accounts))
    assert error["field"] == field
    assert all(name in error["message"] for name in accounts)
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []


def test_a_blank_document_type_is_refused_on_its_field_with_the_types_a_document_can_have(client, admin, books):
    error = error_of(event(client, admin, document_type="", customer_no="10000"))
    assert error["field"] == "document_type"
    assert "'sales_invoice'" in error["message"] and "''" not in error["message"]


def test_an_unknown_document_type_lists_the_types_but_not_blank(client, admin, books):
    error = error_of(event(client, admin, document_type="invoice", customer_no="10000"))
    assert error["field"] == "document_type"
    assert "'sales_draft_invoice'" in error["message"] and "''" not in error["message"]


def test_a_document_interaction_has_a_blank_subject(client, admin, books):
    assert event(client, admin, customer_no="10000").json()["subject"] == ""
    described = event(client, admin, customer_no="10000", description="Invoice INV-1 for March").json()
    assert (described["description"], described["subject"]) == ("Invoice INV-1 for March", "")


def test_documents_of_one_type_share_a_campaign_entry_named_by_the_template_setup_caption(client, admin, books):
    books(client.post(f"{API}/campaigns", json={"no": "CP1", "description": "Spring"}, headers=admin))
    books(client.put(f"{API}/setup/interaction-templates", json={"purchase_invoice": "SINV"}, headers=admin))
    first = books(event(client, admin, customer_no="10000", campaign_no="CP1"))
    second = books(event(client, admin, customer_no="10000", document_no="INV-2", campaign_no="CP1"))
    bought = books(event(client, admin, contact_no="C1", document_type="purchase_invoice", campaign_no="CP1"))
    entries = books(client.get(f"{API}/campaign-entries", params={"campaign_no": "CP1"}, headers=admin))["items"]
    assert [(e["document_type"], e["description"], e["segment_no"]) for e in entries] == [
        ("sales_invoice", "Sales Invoices", ""),
        ("purchase_invoice", "Purch Invoices", ""),
    ]
    assert first["campaign_entry_no"] == second["campaign_entry_no"] == entries[0]["entry_no"]
    assert bought["campaign_entry_no"] == entries[1]["entry_no"]
    assert entries[0]["no_of_interactions"] == 2


def test_a_document_event_with_an_unknown_campaign_is_refused_and_records_nothing(client, admin, books):
    error = error_of(event(client, admin, customer_no="10000", campaign_no="NOPE"))
    assert error["field"] == "campaign_no"
    assert client.get(f"{API}/interactions", headers=admin).json()["items"] == []
    assert client.get(f"{API}/campaign-entries", headers=admin).json()["items"] == []
