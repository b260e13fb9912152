"""Segment pages in-process: list, new, the card with its lines, Add/Reduce/Go Back, Log; roles, CSRF,
validation next to the field, escaping of user data."""

from __future__ import annotations

import re

import pytest

from tests.web import helpers
from tests.web.helpers import ESCAPED, SCRIPT, api_caller, post

CONTACTS = [
    {"no": "C1", "name": "Alpha Ltd", "city": "Paris", "country_code": "FR", "salesperson_code": "SP1"},
    {"no": "P11", "type": "person", "name": "Anna Alpha", "company_no": "C1", "city": "Paris", "country_code": "FR"},
    {"no": "P12", "type": "person", "name": "Bert Alpha", "company_no": "C1", "city": "Paris", "country_code": "FR"},
    {"no": "C2", "name": "Beta SA", "city": "Lyon", "country_code": "FR", "salesperson_code": "SP1"},
    {"no": "P21", "type": "person", "name": "Cleo Beta", "company_no": "C2", "city": "Lyon", "country_code": "FR"},
    {"no": "C3", "name": "Gamma GmbH", "city": "Berlin", "country_code": "DE", "salesperson_code": "SP1"},
    {"no": "P31", "type": "person", "name": "Dirk Gamma", "company_no": "C3", "city": "Berlin", "country_code": "DE"},
    {"no": "P4", "type": "person", "name": SCRIPT, "city": "Paris", "country_code": "FR", "salesperson_code": "SP1"},
]


def build_crm(client, headers) -> None:
    """A Segment Nos. series, a salesperson, a letter template, a mailing group and a few contacts."""
    call = api_caller(client, headers)
    call("POST", "/number-series", {"code": "SEG", "starting_no": "SEG00001"})
    call("PUT", "/setup/marketing", {"segment_nos": "SEG"})
    call("POST", "/salespeople", {"code": "SP1", "name": "Sam Seller"})
    call("POST", "/campaigns", {"no": "CP1", "description": "Spring"})
    call("POST", "/interaction-groups", {"code": "LETTER", "description": "Letters"})
    call(
        "POST",
        "/interaction-templates",
        {
            "code": "LETTER",
            "interaction_group_code": "LETTER",
            "description": "Spring letter",
            "unit_cost": 2,
            "correspondence_type_default": "hard_copy",
        },
    )
    call("POST", "/mailing-groups", {"code": "NEWS", "description": "Newsletter"})
    for body in CONTACTS:
        call("POST", "/contacts", body)
    call("PUT", "/contacts/P11/mailing-groups", ["NEWS"])
    call("PUT", "/contacts/P21/mailing-groups", ["NEWS"])


def sign_in(client, make_user, role: str = "marketing") -> str:
    """Sign a new user of `role` in; returns the CSRF token of the session."""
    return helpers.sign_in(client, make_user, role, page="/segments")


@pytest.fixture
def crm(client, admin):
    build_crm(client, admin)
    return api_caller(client, admin)


@pytest.fixture
def segment(crm):
    """SEG00001 with a description holding markup and the letter template."""
    return crm("POST", "/segments", {"description": SCRIPT, "interaction_template_code": "LETTER"})["no"]


def lines(crm, no):
    return [line["contact_no"] for line in crm("GET", f"/segments/{no}/lines")["items"]]


# --- rendering and roles ---------------------------------------------------------------------------


def test_every_segment_page_renders_for_a_viewer_without_write_buttons(client, make_user, crm, segment):
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"city": "Paris"}}})
    sign_in(client, make_user, "viewer")
    listing = client.get("/segments")
    assert listing.status_code == 200 and segment in listing.text
    assert 'href="/segments/new"' not in listing.text
    card = client.get(f"/segments/{segment}")
    assert card.status_code == 200
    assert "Anna Alpha" in card.text
    assert f"/segments/{segment}/add-contacts" not in card.text and f"/segments/{segment}/log" not in card.text
    assert "Save header" not in card.text and "Add line" not in card.text and "Delete segment" not in card.text
    assert "Export Contacts" in card.text


def test_a_viewer_cannot_post_any_segment_write(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "viewer")
    for url, data in [
        ("/segments/new", {"description": "x"}),
        (f"/segments/{segment}", {"description": "x"}),
        (f"/segments/{segment}/lines", {"new_contact_no": "C1"}),
        (f"/segments/{segment}/add-contacts", {"criteria.contact.city": "Paris"}),
        (f"/segments/{segment}/preview", {"action": "add_contacts"}),
        (f"/segments/{segment}/go-back", {}),
        (f"/segments/{segment}/log", {"idempotency_key": "k"}),
        (f"/segments/{segment}/apply-mailing-group", {"mailing_group_code": "NEWS"}),
        (f"/segments/{segment}/delete", {}),
    ]:
        assert post(client, url, {**data, "csrf_token": csrf}).status_code == 403, url
    assert client.get(f"/segments/{segment}/add-contacts").status_code == 403
    assert lines(crm, segment) == []


def test_segment_forms_refuse_a_missing_csrf_token(client, make_user, crm, segment):
    sign_in(client, make_user, "marketing")
    for url in [
        "/segments/new",
        f"/segments/{segment}",
        f"/segments/{segment}/add-contacts",
        f"/segments/{segment}/log",
        f"/segments/{segment}/preview",
        f"/segments/{segment}/go-back",
    ]:
        assert post(client, url, {"description": "x", "action": "add_contacts"}).status_code == 403, url
    assert crm("GET", f"/segments/{segment}")["description"] == SCRIPT


def test_user_data_is_escaped_on_every_segment_page(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"no": "P4"}}})
    for url in ["/segments", f"/segments/{segment}", f"/segments/{segment}/add-contacts"]:
        page = client.get(url)
        assert SCRIPT not in page.text, url
        assert ESCAPED in page.text, url
    preview = post(client, f"/segments/{segment}/preview", {"csrf_token": csrf, "action": "reduce_contacts"})
    assert SCRIPT not in preview.text and ESCAPED in preview.text
    edit = client.get(f"/segments/{segment}/lines/10000/edit", headers={"HX-Request": "true"})
    assert SCRIPT not in edit.text and ESCAPED in edit.text


# --- list, new, header ------------------------------------------------------------------------------


def test_a_new_segment_takes_the_next_number_and_opens_its_card(client, make_user, crm):
    csrf = sign_in(client, make_user, "marketing")
    response = post(
        client, "/segments/new", {"csrf_token": csrf, "description": "Autumn", "interaction_template_code": "LETTER"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/segments/SEG00001"
    assert crm("GET", "/segments/SEG00001")["description"] == "Autumn"
    assert "Autumn" in client.get("/segments?q=autu").text


def test_a_bad_filter_on_the_list_is_shown_next_to_its_field(client, make_user, crm, segment):
    sign_in(client, make_user, "viewer")
    page = client.get("/segments", params={"no": "SEG(1"})
    assert page.status_code == 422
    assert re.search(r'<p class="field-error" id="e-no">[^<]*SEG\(1', page.text)


def test_a_refused_header_change_is_shown_next_to_the_field_and_nothing_is_saved(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    response = post(
        client,
        f"/segments/{segment}",
        {"csrf_token": csrf, "description": "Kept text", "unit_cost": "-5", "interaction_template_code": "LETTER"},
    )
    assert response.status_code == 422
    assert re.search(r'id="e-unit_cost">[^<]+</p>', response.text)
    assert 'value="Kept text"' in response.text
    assert crm("GET", f"/segments/{segment}")["description"] == SCRIPT


def test_a_header_change_updates_the_lines_when_asked(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"no": "C1|C2"}}})
    form = {"csrf_token": csrf, "description": "Spring", "interaction_template_code": "LETTER", "unit_cost": "2"}
    assert post(client, f"/segments/{segment}", {**form, "update_lines": "true"}).status_code == 303
    assert {line["description"] for line in crm("GET", f"/segments/{segment}/lines")["items"]} == {"Spring"}
    assert post(client, f"/segments/{segment}", {**form, "description": "Summer"}).status_code == 303
    assert crm("GET", f"/segments/{segment}")["description"] == "Summer"
    assert {line["description"] for line in crm("GET", f"/segments/{segment}/lines")["items"]} == {"Spring"}


# --- lines ----------------------------------------------------------------------------------------------


def test_lines_are_added_by_contact_no_edited_inline_and_deleted(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    added = post(client, f"/segments/{segment}/lines", {"csrf_token": csrf, "new_contact_no": "p11"})
    assert added.status_code == 303
    assert lines(crm, segment) == ["P11"]
    htmx = {"HX-Request": "true"}
    bad = post(
        client,
        f"/segments/{segment}/lines/10000",
        {"csrf_token": csrf, "contact_no": "P11", "date": "not-a-date", "personal_text": "Dear Anna"},
        headers=htmx,
    )
    assert bad.status_code == 422
    assert re.search(r'id="e-date-10000">[^<]+</p>', bad.text)
    assert 'value="Dear Anna"' in bad.text
    good = post(
        client,
        f"/segments/{segment}/lines/10000",
        {"csrf_token": csrf, "contact_no": "P11", "evaluation": "positive", "personal_text": "Dear Anna"},
        headers=htmx,
    )
    assert good.status_code == 200 and good.text.lstrip().startswith('<tr id="line-10000">')
    line = crm("GET", f"/segments/{segment}/lines/10000")
    assert (line["evaluation"], line["personal_text"]) == ("positive", "Dear Anna")
    unknown = post(client, f"/segments/{segment}/lines", {"csrf_token": csrf, "new_contact_no": "NOPE"})
    assert unknown.status_code == 422 and re.search(r'id="e-new_contact_no">[^<]*NOPE', unknown.text)
    deleted = post(client, f"/segments/{segment}/lines/10000/delete", {"csrf_token": csrf})
    assert deleted.status_code == 303 and lines(crm, segment) == []


# --- Add / Reduce / Go Back ------------------------------------------------------------------------------


def test_the_preview_counts_what_add_contacts_would_do_and_changes_nothing(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    preview = post(
        client,
        f"/segments/{segment}/preview",
        {"csrf_token": csrf, "action": "add_contacts", "criteria.contact.city": "Paris"},
    )
    assert preview.status_code == 200
    assert '<output id="preview-count">4</output>' in preview.text
    assert "Anna Alpha" in preview.text
    assert lines(crm, segment) == []
    assert crm("GET", f"/segments/{segment}/criteria")["items"] == []


def test_a_malformed_filter_shows_its_error_next_to_the_field_and_adds_nothing(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    form = {"csrf_token": csrf, "action": "add_contacts", "criteria.contact.city": "Par)is"}
    preview = post(client, f"/segments/{segment}/preview", form)
    assert preview.status_code == 422
    assert re.search(r'id="e-criteria-contact-city" hx-swap-oob="true"[^>]*>city: unexpected', preview.text)
    submit = post(client, f"/segments/{segment}/add-contacts", form)
    assert submit.status_code == 422
    assert re.search(r'id="e-criteria-contact-city"[^>]*>city: unexpected', submit.text)
    assert 'value="Par)is"' in submit.text
    assert lines(crm, segment) == []
    assert crm("GET", f"/segments/{segment}/criteria")["items"] == []


def test_add_reduce_and_go_back_change_the_lines_and_say_what_they_did(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    added = post(
        client,
        f"/segments/{segment}/add-contacts",
        {"csrf_token": csrf, "criteria.contact.country_code": "FR", "criteria.contact.type": "person"},
    )
    assert added.status_code == 303
    assert sorted(lines(crm, segment)) == ["P11", "P12", "P21", "P4"]
    assert "4 contacts added" in client.get(added.headers["location"]).text
    reduced = post(
        client, f"/segments/{segment}/reduce-contacts", {"csrf_token": csrf, "criteria.mailing_group.code": "NEWS"}
    )
    assert reduced.status_code == 303
    assert sorted(lines(crm, segment)) == ["P12", "P4"]
    assert "2 lines removed." in client.get(f"/segments/{segment}").text
    panel = client.get(f"/segments/{segment}/go-back")
    assert "Undo action 2" in panel.text and "mailing_group.code = NEWS" in panel.text
    back = post(client, f"/segments/{segment}/go-back", {"csrf_token": csrf})
    assert back.status_code == 303
    assert sorted(lines(crm, segment)) == ["P11", "P12", "P21", "P4"]
    assert "2 lines restored" in client.get(f"/segments/{segment}").text


def test_go_back_without_an_action_explains_itself(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    response = post(client, f"/segments/{segment}/go-back", {"csrf_token": csrf})
    assert response.status_code == 409
    assert "no criteria action to undo" in response.text


def test_criteria_are_saved_and_reused_on_another_segment(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"city": "Lyon"}}})
    missing = post(client, f"/segments/{segment}/save-criteria", {"csrf_token": csrf, "code": "", "description": "x"})
    assert missing.status_code == 422 and 'id="e-code"' in missing.text
    saved = post(client, f"/segments/{segment}/save-criteria", {"csrf_token": csrf, "code": "lyon", "description": "d"})
    assert saved.status_code == 303
    other = crm("POST", "/segments", {"description": "Other"})["no"]
    assert "LYON" in client.get(f"/segments/{other}/reuse-criteria").text
    reused = post(client, f"/segments/{other}/reuse-criteria", {"csrf_token": csrf, "code": "LYON"})
    assert reused.status_code == 303
    assert sorted(lines(crm, other)) == ["C2", "P21"]


def test_apply_mailing_group_and_export_contacts(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"no": "C3|P31"}}})
    refused = post(client, f"/segments/{segment}/apply-mailing-group", {"csrf_token": csrf, "mailing_group_code": ""})
    assert refused.status_code == 422 and 'id="e-mailing_group_code"' in refused.text
    applied = post(
        client, f"/segments/{segment}/apply-mailing-group", {"csrf_token": csrf, "mailing_group_code": "NEWS"}
    )
    assert applied.status_code == 303
    assert "NEWS" in str(crm("GET", "/contacts/P31/mailing-groups"))
    assert "NEWS" not in str(crm("GET", "/contacts/C1/mailing-groups"))
    csv = client.get(f"/segments/{segment}/contacts.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0].startswith("no,") and [r.split(",")[0] for r in rows[1:]] == ["C3", "P31"]


# --- Log ---------------------------------------------------------------------------------------------------


def test_the_log_dialog_turns_deliver_on_only_when_a_line_has_a_correspondence_type(client, make_user, crm, segment):
    sign_in(client, make_user, "marketing")
    empty = client.get(f"/segments/{segment}/log")
    assert re.search(r'name="deliver" value="true"\s*>', empty.text)
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"no": "C1"}}})
    with_line = client.get(f"/segments/{segment}/log")
    assert re.search(r'name="deliver" value="true" checked', with_line.text)


def test_logging_twice_with_the_same_form_logs_once_and_shows_the_result(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    crm("POST", f"/segments/{segment}/add-contacts", {"criteria": {"contact": {"city": "Lyon"}}})
    form = {"csrf_token": csrf, "idempotency_key": "double-click", "create_follow_up": "true"}
    first = post(client, f"/segments/{segment}/log", form)
    second = post(client, f"/segments/{segment}/log", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    logged = crm("GET", "/logged-segments")["items"]
    assert len(logged) == 1 and logged[0]["no_of_interactions"] == 2
    result = client.get(first.headers["location"])
    assert result.status_code == 200
    assert f'href="/logged-segments/{logged[0]["entry_no"]}"' in result.text
    assert 'href="/segments/SEG00002"' in result.text
    assert SCRIPT not in result.text
    assert sorted(lines(crm, "SEG00002")) == ["C2", "P21"]


def test_logging_an_empty_segment_is_refused_in_the_dialog(client, make_user, crm, segment):
    csrf = sign_in(client, make_user, "marketing")
    response = post(client, f"/segments/{segment}/log", {"csrf_token": csrf, "idempotency_key": "k1"})
    assert response.status_code == 409
    assert "is empty" in response.text
    assert crm("GET", "/logged-segments")["items"] == []


def test_a_line_s_e_mail_body_is_previewed_in_a_sandbox_where_its_scripts_do_not_run(client, make_user, admin, crm):
    script_body = b"<html><body><p>Hello</p><script>fetch('/api/v1/users')</script></body></html>"
    crm("POST", "/languages", {"code": "ENU", "name": "English"})
    crm("POST", "/interaction-templates", {"code": "MAIL", "interaction_group_code": "LETTER",
                                           "description": "Mail", "language_code_default": "ENU"})
    uploaded = client.put(
        "/api/v1/interaction-templates/MAIL/languages/ENU/attachment",
        files={"file": ("body.html", script_body, "text/html")},
        headers=admin,
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    no = crm("POST", "/segments", {"description": "Mail", "interaction_template_code": "MAIL"})["no"]
    line = crm("POST", f"/segments/{no}/lines", {"contact_no": "P11"})
    sign_in(client, make_user)
    response = client.get(f"/segments/{no}/lines/{line['line_no']}/document")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Hello" in response.text
    policy = [p.strip() for p in response.headers["content-security-policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert not any(p.startswith("script-src") for p in policy)
    assert response.headers["x-content-type-options"] == "nosniff"
