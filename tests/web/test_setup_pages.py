"""Setup and master-data pages in-process: rendering, roles, CSRF, validation next to the field, escaping."""

from __future__ import annotations

import re

import pytest

from tests.web import helpers
from tests.web.helpers import ESCAPED, SCRIPT

LIST_PAGES = [
    "/setup/interaction-templates",
    "/setup/interaction-groups",
    "/setup/number-series",
    "/setup/salespeople",
    "/setup/mailing-groups",
    "/setup/industry-groups",
    "/setup/job-responsibilities",
    "/setup/business-relations",
    "/setup/languages",
]
SETUP_PAGES = ["/setup/interaction-template-setup", "/setup/marketing"]


def sign_in(client, make_user, role: str = "admin", username: str | None = None) -> str:
    """Sign a new user of `role` in; returns a CSRF token of the session."""
    return helpers.sign_in(client, make_user, role, username, page="/setup/languages")


@pytest.fixture
def demo(client, admin):
    """A group, a template with a language row and a salesperson, made through the API."""
    for path, body in [
        ("/api/v1/interaction-groups", {"code": "LETTER", "description": SCRIPT}),
        ("/api/v1/languages", {"code": "EN", "name": "English"}),
        (
            "/api/v1/interaction-templates",
            {"code": "MAIL", "interaction_group_code": "LETTER", "description": SCRIPT, "language_code_default": "EN"},
        ),
        ("/api/v1/salespeople", {"code": "JO", "name": SCRIPT}),
        ("/api/v1/mailing-groups", {"code": "NEWS", "description": SCRIPT}),
        ("/api/v1/number-series", {"code": "SEG", "description": SCRIPT, "starting_no": "SEG00001"}),
    ]:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text
    response = client.patch("/api/v1/interaction-templates/MAIL/languages/EN", json={"subject": SCRIPT}, headers=admin)
    assert response.status_code == 200


@pytest.mark.parametrize("url", LIST_PAGES + SETUP_PAGES)
def test_every_page_renders_for_a_viewer_without_write_buttons(client, make_user, url):
    sign_in(client, make_user, "viewer")
    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>" in page.text
    assert ">New<" not in page.text
    assert 'type="submit">Save<' not in page.text


@pytest.mark.parametrize("url", LIST_PAGES)
def test_a_writer_sees_the_new_button_and_the_form(client, make_user, url):
    sign_in(client, make_user, "marketing")
    assert f'href="{url}/new"' in client.get(url).text
    form = client.get(f"{url}/new")
    assert form.status_code == 200
    assert 'id="f-code"' in form.text


def test_the_cards_of_a_viewer_show_values_but_no_forms(client, make_user, demo):
    sign_in(client, make_user, "viewer")
    for url in ["/setup/interaction-templates/MAIL", "/setup/salespeople/JO", "/setup/number-series/SEG"]:
        card = client.get(url)
        assert card.status_code == 200
        assert "/delete" not in card.text
        assert 'method="post" action="/setup' not in card.text
    template = client.get("/setup/interaction-templates/MAIL").text
    assert "Upload" not in template and "Add language" not in template


@pytest.mark.parametrize(
    "url",
    [
        "/setup/interaction-groups",
        "/setup/interaction-groups/LETTER",
        "/setup/interaction-groups/LETTER/delete",
        "/setup/interaction-templates/MAIL/languages",
        "/setup/interaction-templates/MAIL/attachment",
        "/setup/interaction-template-setup",
        "/setup/marketing",
        "/setup/salespeople",
        "/setup/languages/EN/delete",
    ],
)
def test_a_form_post_without_the_csrf_token_is_refused(client, make_user, admin, demo, url):
    sign_in(client, make_user, "admin")
    response = client.post(url, data={"code": "X", "description": "x", "language_code": "EN"})
    assert response.status_code == 403
    assert client.get("/api/v1/interaction-groups/LETTER", headers=admin).json()["description"] == SCRIPT
    assert client.get("/api/v1/languages/EN", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/setup/interaction-groups", {"code": "NEW", "description": "x"}),
        ("/setup/interaction-groups/LETTER", {"description": "changed"}),
        ("/setup/interaction-groups/LETTER/delete", {}),
        ("/setup/interaction-templates/MAIL/languages", {"language_code": "", "description": "x"}),
        ("/setup/interaction-template-setup", {"emails": "MAIL"}),
        ("/setup/marketing", {"default_country_code": "FR"}),
        ("/setup/mailing-groups/NEWS/delete", {}),
    ],
)
def test_a_viewer_cannot_post_changes(client, make_user, admin, demo, url, data):
    csrf = sign_in(client, make_user, "viewer")
    response = client.post(url, data={**data, "csrf_token": csrf})
    assert response.status_code == 403
    assert client.get("/api/v1/interaction-groups/LETTER", headers=admin).json()["description"] == SCRIPT
    assert client.get("/api/v1/interaction-groups/NEW", headers=admin).status_code == 404
    assert client.get("/api/v1/setup/interaction-templates", headers=admin).json()["emails"] == ""
    assert client.get("/api/v1/mailing-groups/NEWS", headers=admin).status_code == 200


@pytest.mark.parametrize("url", LIST_PAGES)
def test_names_and_descriptions_are_escaped_on_the_lists(client, make_user, demo, url):
    sign_in(client, make_user, "viewer")
    page = client.get(url)
    assert SCRIPT not in page.text
    if url.rsplit("/", 1)[1] in ("interaction-templates", "interaction-groups", "salespeople", "mailing-groups"):
        assert ESCAPED in page.text


@pytest.mark.parametrize(
    "url",
    [
        "/setup/interaction-templates/MAIL",
        "/setup/interaction-groups/LETTER",
        "/setup/salespeople/JO",
        "/setup/mailing-groups/NEWS",
        "/setup/number-series/SEG",
        "/setup/interaction-template-setup",
        "/setup/marketing",
    ],
)
def test_names_and_descriptions_are_escaped_on_cards_and_setup_pages(client, make_user, demo, url):
    sign_in(client, make_user, "marketing")
    page = client.get(url)
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert ESCAPED in page.text


def test_creating_an_interaction_group_saves_it_and_shows_its_card(client, make_user, admin):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-groups",
        data={"csrf_token": csrf, "code": "phone", "description": "Phone calls"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/setup/interaction-groups/PHONE"
    assert client.get("/api/v1/interaction-groups/PHONE", headers=admin).json()["description"] == "Phone calls"
    card = client.get("/setup/interaction-groups/PHONE")
    assert "PHONE was created." in card.text
    assert "No. of interactions" in card.text


def test_a_blank_code_is_shown_next_to_the_field_with_the_input_kept(client, make_user):
    csrf = sign_in(client, make_user)
    response = client.post("/setup/mailing-groups", data={"csrf_token": csrf, "code": " ", "description": "Kept text"})
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="e-code">[^<]*blank', response.text)
    assert 'value="Kept text"' in response.text


def test_a_duplicate_code_is_a_conflict_shown_next_to_the_code(client, make_user, demo):
    csrf = sign_in(client, make_user)
    response = client.post("/setup/interaction-groups", data={"csrf_token": csrf, "code": "letter"})
    assert response.status_code == 409
    assert re.search(r'id="e-code">Interaction group LETTER already exists', response.text)


def test_a_number_series_without_digits_is_refused_next_to_the_starting_no(client, make_user, admin):
    csrf = sign_in(client, make_user)
    data = {"csrf_token": csrf, "code": "CT", "description": "Contacts", "starting_no": "ABC", "increment_by": "1"}
    response = client.post("/setup/number-series", data=data)
    assert response.status_code == 422
    assert 'id="e-starting_no"' in response.text
    assert 'value="ABC"' in response.text
    assert client.get("/api/v1/number-series/CT", headers=admin).status_code == 404


def test_a_salesperson_with_a_malformed_email_is_refused_next_to_the_field(client, make_user, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/salespeople/JO", data={"csrf_token": csrf, "name": "Jo", "email": "not an address", "phone_no": ""}
    )
    assert response.status_code == 422
    assert 'id="e-email"' in response.text
    assert 'value="not an address"' in response.text


def test_the_salesperson_card_links_to_create_interaction(client, make_user, demo):
    sign_in(client, make_user, "viewer")
    card = client.get("/setup/salespeople/JO")
    assert 'href="/interactions/new?salesperson_code=JO"' in card.text


def test_editing_a_template_saves_every_field(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    data = {
        "csrf_token": csrf,
        "interaction_group_code": "LETTER",
        "description": "Mailing",
        "unit_cost": "2.50",
        "unit_duration_min": "5",
        "information_flow": "outbound",
        "initiated_by": "us",
        "campaign_no": "",
        "campaign_target": "true",
        "correspondence_type_default": "hard_copy",
        "language_code_default": "EN",
        "wizard_action": "open",
        "ignore_contact_corres_type": "true",
    }
    response = client.post("/setup/interaction-templates/MAIL", data=data, follow_redirects=False)
    assert response.status_code == 303
    saved = client.get("/api/v1/interaction-templates/MAIL", headers=admin).json()
    assert saved["unit_cost"] == 2.5 and saved["information_flow"] == "outbound"
    assert saved["campaign_target"] is True and saved["campaign_response"] is False
    assert saved["correspondence_type_default"] == "hard_copy" and saved["wizard_action"] == "open"


def test_merge_without_an_attachment_shows_the_wizard_action_rule_next_to_the_field(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    data = {
        "csrf_token": csrf,
        "interaction_group_code": "LETTER",
        "description": "Changed",
        "language_code_default": "EN",
        "wizard_action": "merge",
        "correspondence_type_default": "email",
    }
    response = client.post("/setup/interaction-templates/MAIL", data=data)
    assert response.status_code == 422
    assert re.search(r'id="e-wizard_action">Wizard Action = merge can not be specified', response.text)
    assert 'value="Changed"' in response.text
    saved = client.get("/api/v1/interaction-templates/MAIL", headers=admin).json()
    assert saved["description"] == SCRIPT and saved["wizard_action"] == ""


def test_a_template_language_gets_an_attachment_that_can_be_downloaded_and_removed(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-templates/MAIL/attachment",
        data={"csrf_token": csrf, "language_code": "EN"},
        files={"file": ("body.html", b"<html><p>Hello {{Contact_Name}}</p></html>", "text/html")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    template = client.get("/api/v1/interaction-templates/MAIL", headers=admin).json()
    assert template["attachment_no"] is not None
    assert template["wizard_action"] == "merge"  # an HTML body is always merged
    card = client.get("/setup/interaction-templates/MAIL")
    assert "body.html" in card.text
    download = client.get("/setup/interaction-templates/MAIL/attachment?language_code=EN")
    assert download.status_code == 200
    assert download.content.startswith(b"<html>")
    assert "body.html" in download.headers["content-disposition"]
    response = client.post(
        "/setup/interaction-templates/MAIL/attachment/delete",
        data={"csrf_token": csrf, "language_code": "EN"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/v1/interaction-templates/MAIL", headers=admin).json()["attachment_no"] is None


def test_an_unaccepted_file_is_refused_next_to_the_file_field(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-templates/MAIL/attachment",
        data={"csrf_token": csrf, "language_code": "EN"},
        files={"file": ("letter.docx", b"MZ", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert re.search(r'class="field-error" id="lang-1-file-error">letter.docx is not a Word document', response.text)
    assert client.get("/api/v1/interaction-templates/MAIL", headers=admin).json()["attachment_no"] is None


def test_language_rows_are_added_edited_and_deleted(client, make_user, admin, demo):
    client.post("/api/v1/languages", json={"code": "FR", "name": "Français"}, headers=admin)
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-templates/MAIL/languages",
        data={"csrf_token": csrf, "language_code": "FR", "description": "Lettre", "subject": "Bonjour"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = client.get("/api/v1/interaction-templates/MAIL/languages/FR", headers=admin).json()
    assert row["subject"] == "Bonjour"
    client.post(
        "/setup/interaction-templates/MAIL/languages/save",
        data={"csrf_token": csrf, "language_code": "FR", "description": "Lettre", "subject": "Salut"},
    )
    assert client.get("/api/v1/interaction-templates/MAIL/languages/FR", headers=admin).json()["subject"] == "Salut"
    client.post("/setup/interaction-templates/MAIL/languages/delete", data={"csrf_token": csrf, "language_code": "FR"})
    assert client.get("/api/v1/interaction-templates/MAIL/languages/FR", headers=admin).status_code == 404


def test_a_language_row_that_exists_is_refused_next_to_the_language_code(client, make_user, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-templates/MAIL/languages",
        data={"csrf_token": csrf, "language_code": "EN", "description": "Again", "subject": "Kept subject"},
    )
    assert response.status_code == 409
    assert 'id="new-lang-language_code-error"' in response.text
    assert 'value="Kept subject"' in response.text


def test_interaction_template_setup_is_saved_at_once(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-template-setup",
        data={"csrf_token": csrf, "emails": "MAIL", "sales_invoice": "mail", "outgoing_calls": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    saved = client.get("/api/v1/setup/interaction-templates", headers=admin).json()
    assert saved["emails"] == "MAIL" and saved["sales_invoice"] == "MAIL" and saved["outgoing_calls"] == ""


def test_an_unknown_template_in_the_setup_is_shown_next_to_its_slot(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/setup/interaction-template-setup", data={"csrf_token": csrf, "emails": "MAIL", "sales_quote": "NOPE"}
    )
    assert response.status_code == 422
    assert re.search(r'id="e-sales_quote">Interaction template NOPE does not exist', response.text)
    assert client.get("/api/v1/setup/interaction-templates", headers=admin).json()["emails"] == ""


def test_marketing_setup_saves_every_field_including_the_inherit_flags(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    data = {
        "csrf_token": csrf,
        "contact_nos": "",
        "segment_nos": "SEG",
        "campaign_nos": "",
        "default_correspondence_type": "email",
        "default_language_code": "EN",
        "default_salesperson_code": "JO",
        "default_country_code": "fr",
        "inherit_salesperson_code": "true",
        "attachment_storage_type": "embedded",
        "attachment_storage_location": "",
    }
    response = client.post("/setup/marketing", data=data, follow_redirects=False)
    assert response.status_code == 303
    saved = client.get("/api/v1/setup/marketing", headers=admin).json()
    assert saved["segment_nos"] == "SEG" and saved["default_country_code"] == "FR"
    assert saved["inherit_salesperson_code"] is True and saved["inherit_language_code"] is False


def test_disk_storage_without_a_location_is_refused_next_to_the_location(client, make_user, admin):
    csrf = sign_in(client, make_user)
    data = {"csrf_token": csrf, "attachment_storage_type": "disk_file", "default_country_code": "BE"}
    response = client.post("/setup/marketing", data=data)
    assert response.status_code == 422
    assert 'id="e-attachment_storage_location"' in response.text
    assert 'value="BE"' in response.text
    assert client.get("/api/v1/setup/marketing", headers=admin).json()["attachment_storage_type"] == "embedded"


def test_deleting_a_used_record_shows_why_and_keeps_it(client, make_user, admin, demo):
    csrf = sign_in(client, make_user)
    response = client.post("/setup/interaction-groups/LETTER/delete", data={"csrf_token": csrf})
    assert response.status_code == 409
    assert "used by interaction templates" in response.text
    assert client.get("/api/v1/interaction-groups/LETTER", headers=admin).status_code == 200
    response = client.post("/setup/mailing-groups/NEWS/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/v1/mailing-groups/NEWS", headers=admin).status_code == 404


def test_lists_page_by_fifty_and_filter_with_bc_expressions(client, make_user, admin):
    for n in range(55):
        client.post("/api/v1/industry-groups", json={"code": f"G{n:03d}", "description": f"Group {n}"}, headers=admin)
    sign_in(client, make_user, "viewer")
    first = client.get("/setup/industry-groups")
    assert first.text.count('href="/setup/industry-groups/G') == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    second = client.get(next_url)
    assert second.text.count('href="/setup/industry-groups/G') == 5
    assert 'rel="next"' not in second.text
    filtered = client.get("/setup/industry-groups", params={"field": "code", "filter": "G010..G012|G050"})
    assert filtered.text.count('href="/setup/industry-groups/G') == 4


def test_a_malformed_filter_is_shown_next_to_the_filter_field(client, make_user):
    sign_in(client, make_user, "viewer")
    page = client.get("/setup/languages", params={"field": "code", "filter": "(A"})
    assert page.status_code == 422
    assert 'id="e-filter"' in page.text
    assert 'value="(A"' in page.text
