"""Number series, Marketing Setup, Interaction Template Setup and languages."""

from __future__ import annotations

from tests.api.helpers import assert_error, create

API = "/api/v1"

DOCUMENT_TYPES = [
    "sales_quote",
    "sales_blanket_order",
    "sales_order_confirmation",
    "sales_invoice",
    "sales_shipment_note",
    "sales_credit_memo",
    "sales_statement",
    "sales_reminder",
    "service_order_create",
    "service_order_post",
    "purchase_quote",
    "purchase_blanket_order",
    "purchase_order",
    "purchase_invoice",
    "purchase_receipt",
    "purchase_credit_memo",
    "cover_sheet",
    "sales_return_order",
    "sales_finance_charge_memo",
    "sales_return_receipt",
    "purchase_return_shipment",
    "purchase_return_order_confirmation",
    "service_contract",
    "service_contract_quote",
    "service_quote",
    "sales_draft_invoice",
]
TEMPLATE_SLOTS = [*DOCUMENT_TYPES, "emails", "email_draft", "cover_sheets", "outgoing_calls", "meeting_invitation"]

MARKETING_SETUP_DEFAULTS = {
    "contact_nos": "",
    "segment_nos": "",
    "campaign_nos": "",
    "default_correspondence_type": "",
    "default_language_code": "",
    "default_salesperson_code": "",
    "default_country_code": "",
    "inherit_salesperson_code": True,
    "inherit_language_code": True,
    "inherit_address_details": True,
    "inherit_communication_details": True,
    "attachment_storage_type": "embedded",
    "attachment_storage_location": "",
}






def use_contact_series(client, admin, **series) -> None:
    create(client, admin, "number-series", {"code": "CONT", **series})
    response = client.put(f"{API}/setup/marketing", json={"contact_nos": "CONT"}, headers=admin)
    assert response.status_code == 200, response.text


def new_contact_no(client, admin, body: dict | None = None):
    return client.post(f"{API}/contacts", json={"name": "Acme", **(body or {})}, headers=admin)


# --- number series ----------------------------------------------------------------------------


def test_a_number_series_is_created_read_listed_updated_and_deleted(client, admin):
    created = create(
        client,
        admin,
        "number-series",
        {"code": "seg", "description": "Segments", "starting_no": "seg00001", "ending_no": "SEG99999"},
    )
    assert created == {
        "code": "SEG",
        "description": "Segments",
        "starting_no": "SEG00001",
        "ending_no": "SEG99999",
        "increment_by": 1,
        "last_no_used": "",
        "manual_nos": True,
    }
    assert client.get(f"{API}/number-series/seg", headers=admin).json() == created
    listed = client.get(f"{API}/number-series", headers=admin).json()
    assert listed == {"items": [created], "next_cursor": None}
    patched = client.patch(
        f"{API}/number-series/SEG", json={"description": "Seg.", "increment_by": 10, "manual_nos": False}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**created, "description": "Seg.", "increment_by": 10, "manual_nos": False}
    assert client.delete(f"{API}/number-series/SEG", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/number-series/SEG", headers=admin), 404, "not_found")


def test_a_duplicate_number_series_code_is_409(client, admin):
    create(client, admin, "number-series", {"code": "SEG", "starting_no": "S1"})
    assert_error(client.post(f"{API}/number-series", json={"code": "seg"}, headers=admin), 409, "conflict")


def test_an_unknown_number_series_is_404(client, admin):
    assert_error(client.get(f"{API}/number-series/NOPE", headers=admin), 404, "not_found")
    assert_error(client.patch(f"{API}/number-series/NOPE", json={"description": "x"}, headers=admin), 404, "not_found")
    assert_error(client.delete(f"{API}/number-series/NOPE", headers=admin), 404, "not_found")


def test_number_series_bodies_are_strict_and_typed(client, admin):
    assert_error(client.post(f"{API}/number-series", json={"description": "x"}, headers=admin), 422, "invalid", "code")
    assert_error(
        client.post(f"{API}/number-series", json={"code": "A", "start_no": "A1"}, headers=admin),
        422,
        "invalid",
        "start_no",
    )
    assert_error(
        client.post(f"{API}/number-series", json={"code": "A", "increment_by": "many"}, headers=admin),
        422,
        "invalid",
        "increment_by",
    )
    assert client.get(f"{API}/number-series", headers=admin).json()["items"] == []


def test_a_new_series_gives_its_starting_no_first_then_increments_the_numeric_tail(client, admin):
    use_contact_series(client, admin, starting_no="CT0001")
    assert new_contact_no(client, admin).json()["no"] == "CT0001"
    assert new_contact_no(client, admin).json()["no"] == "CT0002"
    assert client.get(f"{API}/number-series/CONT", headers=admin).json()["last_no_used"] == "CT0002"


def test_the_next_number_keeps_the_width_of_the_numeric_tail(client, admin):
    use_contact_series(client, admin, starting_no="CT0001", last_no_used="CT0009")
    assert new_contact_no(client, admin).json()["no"] == "CT0010"
    assert new_contact_no(client, admin).json()["no"] == "CT0011"


def test_the_next_number_steps_by_increment_by(client, admin):
    use_contact_series(client, admin, starting_no="CT0001", increment_by=5)
    assert new_contact_no(client, admin).json()["no"] == "CT0001"
    assert new_contact_no(client, admin).json()["no"] == "CT0006"
    assert new_contact_no(client, admin).json()["no"] == "CT0011"


def test_a_number_past_ending_no_is_409_and_nothing_is_saved(client, admin):
    use_contact_series(client, admin, starting_no="CT0001", ending_no="CT0002")
    assert new_contact_no(client, admin).status_code == 201
    assert new_contact_no(client, admin).status_code == 201
    assert_error(new_contact_no(client, admin), 409, "conflict")
    assert [c["no"] for c in client.get(f"{API}/contacts", headers=admin).json()["items"]] == ["CT0001", "CT0002"]
    assert client.get(f"{API}/number-series/CONT", headers=admin).json()["last_no_used"] == "CT0002"


def test_a_contact_without_no_and_without_a_contact_series_is_409(client, admin):
    assert_error(new_contact_no(client, admin), 409, "conflict")
    assert client.get(f"{API}/contacts", headers=admin).json()["items"] == []


def test_a_series_without_manual_nos_refuses_a_given_number_with_409(client, admin):
    use_contact_series(client, admin, starting_no="CT0001", manual_nos=False)
    assert_error(new_contact_no(client, admin, {"no": "MY1"}), 409, "conflict")
    assert_error(client.get(f"{API}/contacts/MY1", headers=admin), 404, "not_found")
    assert new_contact_no(client, admin).json()["no"] == "CT0001"


def test_a_series_with_manual_nos_accepts_a_given_number_and_does_not_draw_one(client, admin):
    use_contact_series(client, admin, starting_no="CT0001", manual_nos=True)
    assert new_contact_no(client, admin, {"no": "my1"}).json()["no"] == "MY1"
    assert client.get(f"{API}/number-series/CONT", headers=admin).json()["last_no_used"] == ""


# --- marketing setup --------------------------------------------------------------------------


def test_marketing_setup_starts_with_its_defaults(client, admin):
    response = client.get(f"{API}/setup/marketing", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == MARKETING_SETUP_DEFAULTS


def test_marketing_setup_put_saves_the_given_fields(client, admin):
    create(client, admin, "number-series", {"code": "CONT", "starting_no": "CT1"})
    create(client, admin, "number-series", {"code": "SEG", "starting_no": "SEG1"})
    create(client, admin, "languages", {"code": "FRA", "name": "French"})
    create(client, admin, "salespeople", {"code": "JD", "name": "Jane"})
    body = {
        "contact_nos": "cont",
        "segment_nos": "SEG",
        "default_correspondence_type": "email",
        "default_language_code": "fra",
        "default_salesperson_code": "jd",
        "default_country_code": "fr",
        "inherit_language_code": False,
        "attachment_storage_type": "disk_file",
        "attachment_storage_location": "/srv/attachments",
    }
    response = client.put(f"{API}/setup/marketing", json=body, headers=admin)
    assert response.status_code == 200, response.text
    expected = {
        **MARKETING_SETUP_DEFAULTS,
        **body,
        "contact_nos": "CONT",
        "default_language_code": "FRA",
        "default_salesperson_code": "JD",
        "default_country_code": "FR",
    }
    assert response.json() == expected
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == expected


def test_disk_file_storage_without_a_location_is_422_and_nothing_changes(client, admin):
    response = client.put(f"{API}/setup/marketing", json={"attachment_storage_type": "disk_file"}, headers=admin)
    assert_error(response, 422, "invalid", "attachment_storage_location")
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == MARKETING_SETUP_DEFAULTS


def test_an_unknown_number_series_in_marketing_setup_is_422(client, admin):
    for name in ("contact_nos", "segment_nos", "campaign_nos"):
        assert_error(client.put(f"{API}/setup/marketing", json={name: "NOPE"}, headers=admin), 422, "invalid", name)
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == MARKETING_SETUP_DEFAULTS


def test_unknown_default_language_and_salesperson_in_marketing_setup_are_422(client, admin):
    for name in ("default_language_code", "default_salesperson_code"):
        assert_error(client.put(f"{API}/setup/marketing", json={name: "NOPE"}, headers=admin), 422, "invalid", name)
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == MARKETING_SETUP_DEFAULTS


def test_marketing_setup_bodies_are_strict_and_typed(client, admin):
    for body, field in (
        ({"contact_no": "X"}, "contact_no"),
        ({"attachment_storage_type": "cloud"}, "attachment_storage_type"),
        ({"default_correspondence_type": "fax"}, "default_correspondence_type"),
        ({"inherit_address_details": "sometimes"}, "inherit_address_details"),
    ):
        assert_error(client.put(f"{API}/setup/marketing", json=body, headers=admin), 422, "invalid", field)
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == MARKETING_SETUP_DEFAULTS


# --- interaction template setup ---------------------------------------------------------------


def test_interaction_template_setup_has_every_document_type_and_the_other_slots_all_blank(client, admin):
    response = client.get(f"{API}/setup/interaction-templates", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == dict.fromkeys(TEMPLATE_SLOTS, "")


def test_interaction_template_setup_refuses_an_unknown_template_with_422(client, admin):
    response = client.put(f"{API}/setup/interaction-templates", json={"sales_invoice": "NOPE"}, headers=admin)
    assert_error(response, 422, "invalid", "sales_invoice")
    assert client.get(f"{API}/setup/interaction-templates", headers=admin).json() == dict.fromkeys(TEMPLATE_SLOTS, "")


def test_interaction_template_setup_accepts_an_empty_template_code(client, admin):
    response = client.put(
        f"{API}/setup/interaction-templates", json={"sales_invoice": "", "outgoing_calls": ""}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json() == dict.fromkeys(TEMPLATE_SLOTS, "")


def test_interaction_template_setup_refuses_an_unknown_slot(client, admin):
    response = client.put(f"{API}/setup/interaction-templates", json={"sales_invoices": ""}, headers=admin)
    assert_error(response, 422, "invalid", "sales_invoices")


# --- languages --------------------------------------------------------------------------------


def test_a_language_is_created_read_listed_updated_and_deleted(client, admin):
    assert create(client, admin, "languages", {"code": "deu", "name": "German"}) == {"code": "DEU", "name": "German"}
    assert client.get(f"{API}/languages/deu", headers=admin).json() == {"code": "DEU", "name": "German"}
    create(client, admin, "languages", {"code": "ENU", "name": "English"})
    listed = client.get(f"{API}/languages", headers=admin).json()
    assert listed == {
        "items": [{"code": "DEU", "name": "German"}, {"code": "ENU", "name": "English"}],
        "next_cursor": None,
    }
    patched = client.patch(f"{API}/languages/DEU", json={"name": "Deutsch"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json() == {"code": "DEU", "name": "Deutsch"}
    assert client.delete(f"{API}/languages/DEU", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/languages/DEU", headers=admin), 404, "not_found")
    assert [i["code"] for i in client.get(f"{API}/languages", headers=admin).json()["items"]] == ["ENU"]


def test_language_errors_duplicate_409_missing_code_422_unknown_404(client, admin):
    create(client, admin, "languages", {"code": "DEU"})
    assert_error(client.post(f"{API}/languages", json={"code": "deu"}, headers=admin), 409, "conflict")
    assert_error(client.post(f"{API}/languages", json={"name": "French"}, headers=admin), 422, "invalid", "code")
    assert_error(
        client.post(f"{API}/languages", json={"code": "FRA", "nom": "x"}, headers=admin), 422, "invalid", "nom"
    )
    assert_error(client.post(f"{API}/languages", json={"code": 12}, headers=admin), 422, "invalid", "code")
    assert_error(client.get(f"{API}/languages/FRA", headers=admin), 404, "not_found")
    assert_error(client.patch(f"{API}/languages/FRA", json={"name": "x"}, headers=admin), 404, "not_found")
    assert_error(client.delete(f"{API}/languages/FRA", headers=admin), 404, "not_found")
