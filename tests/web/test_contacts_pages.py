"""The contact pages in-process: list, search and filters, card, form, permissions, escaping."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from rapport.core import contacts, masterdata, templates
from rapport.core.contacts import ContactCreate
from rapport.core.interactions.recording import InteractionCreate, create_interaction
from rapport.core.masterdata import Salesperson
from rapport.core.templates import InteractionGroupCreate, InteractionTemplateCreate
from tests.web.helpers import token as csrf

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def seed(app, *, name: str = "Kestrel Trading", interactions: int = 2, weeks_back: int = 0) -> None:
    """A salesperson, a call template, a company with two persons, and some interactions."""
    with app.state.write_sessionmaker() as s:
        masterdata.create_record(s, Salesperson, "Salesperson", {"code": "SAM", "name": "Sam Carter"})
        templates.create_group(s, InteractionGroupCreate(code="CALL", description="Phone calls"))
        templates.create_group(s, InteractionGroupCreate(code="LETTER", description="Letters"))
        templates.create_template(
            s,
            InteractionTemplateCreate(
                code="OUT-CALL",
                interaction_group_code="CALL",
                description="Outgoing call",
                unit_cost=Decimal("2.50"),
                unit_duration_min=Decimal(10),
                information_flow="outbound",
                initiated_by="us",
                correspondence_type_default="",
            ),
        )
        templates.create_template(
            s,
            InteractionTemplateCreate(
                code="LTR",
                interaction_group_code="LETTER",
                description="Letter",
                unit_cost=Decimal("1.20"),
                correspondence_type_default="",
            ),
        )
        contacts.create_contact(
            s, ContactCreate(no="CT100", name=name, city="London", salesperson_code="SAM", email="info@kestrel.test")
        )
        contacts.create_contact(
            s, ContactCreate(no="CT101", type="person", company_no="CT100", name="Ada Brook", job_title="Buyer")
        )
        contacts.create_contact(s, ContactCreate(no="CT102", type="person", company_no="CT100", name="Ben Stone"))
        contacts.create_contact(s, ContactCreate(no="CT200", name="Paris Lumière", city="Paris"))
        today = dt.date.today()
        for i in range(interactions):
            create_interaction(
                s,
                InteractionCreate(
                    contact_no="CT101" if i % 2 == 0 else "CT102",
                    interaction_template_code="OUT-CALL" if i % 3 else "LTR",
                    description=f"Call {i + 1}",
                    date=today - dt.timedelta(days=(7 * weeks_back * i) // max(interactions, 1)),
                ),
                user_id="seed",
            )
        s.commit()


def test_the_contact_list_finds_contacts_by_name_and_by_a_filter_expression(client, app, signed_in):
    seed(app)
    signed_in("viewer")
    page = client.get("/contacts")
    assert page.status_code == 200
    assert "Kestrel Trading" in page.text and "Paris Lumière" in page.text
    searched = client.get("/contacts", params={"q": "lumi"})
    assert "Paris Lumière" in searched.text and "Kestrel Trading" not in searched.text
    filtered = client.get("/contacts", params={"filter_field": "city", "filter_expr": "Lon*|Par*"})
    assert "Kestrel Trading" in filtered.text and "Paris Lumière" in filtered.text
    only_paris = client.get("/contacts", params={"filter_field": "city", "filter_expr": "Par*"})
    assert "Paris Lumière" in only_paris.text and "Kestrel Trading" not in only_paris.text
    # Without @ a text filter is case-sensitive, as in Business Central.
    assert "Paris Lumière" not in client.get("/contacts", params={"filter_field": "city", "filter_expr": "PAR*"}).text


def test_a_wrong_filter_expression_is_shown_next_to_the_filter(client, app, signed_in):
    seed(app)
    signed_in("viewer")
    page = client.get("/contacts", params={"filter_field": "city", "filter_expr": "(LON*"})
    assert page.status_code == 422
    assert 'id="e-filter_expr"' in page.text
    assert 'value="(LON*"' in page.text


def test_the_list_pages_by_fifty_with_a_next_page_link(client, app, signed_in):
    with app.state.write_sessionmaker() as s:
        for i in range(55):
            contacts.create_contact(s, ContactCreate(no=f"K{i:03d}", name=f"Company {i:03d}"))
        s.commit()
    signed_in("viewer")
    first = client.get("/contacts")
    assert "K049" in first.text and "K050" not in first.text
    assert 'rel="next"' in first.text
    link = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', first.text).group(1)
    second = client.get(html.unescape(link))
    assert "K050" in second.text and "K054" in second.text and "K049" not in second.text


def test_the_card_shows_fields_persons_statistics_and_history(client, app, signed_in):
    seed(app, interactions=3)
    signed_in("viewer")
    card = client.get("/contacts/CT100")
    assert card.status_code == 200
    assert "Ada Brook" in card.text and "Ben Stone" in card.text
    assert 'href="/contacts/CT101"' in card.text
    # A company aggregates its persons: three interactions, 2.50 + 2.50 + 1.20.
    assert ">3<" in card.text.replace(" ", "")
    assert "6.20" in card.text
    assert "Call 3" in card.text and "Call 1" in card.text
    assert card.text.index("Call 3") < card.text.index("Call 1"), "the newest interaction comes first"
    person = client.get("/contacts/CT102")
    assert "Call 2" in person.text and "Call 1" not in person.text


def test_a_viewer_sees_no_write_buttons_and_cannot_post(client, app, signed_in):
    seed(app)
    signed_in("viewer")
    card = client.get("/contacts/CT100")
    assert "Create Interaction" not in card.text
    assert "/contacts/CT100/edit" not in card.text
    assert "/contacts/CT100/delete" not in card.text
    assert client.get("/contacts/new").status_code == 403
    token = csrf(card.text)
    assert client.post("/contacts/new", data={"csrf_token": token, "name": "X"}).status_code == 403
    assert client.post("/contacts/CT100/edit", data={"csrf_token": token, "name": "X"}).status_code == 403
    assert client.post("/contacts/CT100/delete", data={"csrf_token": token}).status_code == 403


def test_sales_may_edit_but_not_delete_contacts(client, app, signed_in):
    seed(app)
    signed_in("sales")
    card = client.get("/contacts/CT100")
    assert "/contacts/CT100/edit" in card.text and "/contacts/CT100/delete" not in card.text
    assert client.post("/contacts/CT100/delete", data={"csrf_token": csrf(card.text)}).status_code == 403


def test_contact_forms_refuse_a_post_without_the_csrf_token(client, app, signed_in):
    seed(app)
    signed_in("admin")
    assert client.post("/contacts/new", data={"name": "No token"}).status_code == 403
    assert client.post("/contacts/CT100/edit", data={"name": "No token"}).status_code == 403
    assert client.post("/contacts/CT100/delete", data={}).status_code == 403


def test_creating_a_company_and_a_person_of_it_through_the_form(client, app, signed_in):
    signed_in("sales")
    form = client.get("/contacts/new")
    created = client.post(
        "/contacts/new",
        data={"csrf_token": csrf(form.text), "no": "NEW1", "type": "company", "name": "Heron Ltd", "city": "Leeds"},
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/contacts/NEW1"
    person_form = client.get("/contacts/new?type=person&company_no=NEW1")
    assert 'value="NEW1"' in person_form.text
    person = client.post(
        "/contacts/new",
        data={"csrf_token": csrf(form.text), "no": "NEW2", "type": "person", "company_no": "NEW1", "name": "Ida Fox"},
        follow_redirects=False,
    )
    assert person.status_code == 303
    with app.state.sessionmaker() as s:
        ida = contacts.get_contact(s, "NEW2")
        assert (ida.company_no, ida.company_name, ida.city) == ("NEW1", "Heron Ltd", "Leeds")


def test_a_refused_contact_form_shows_the_error_next_to_the_field_and_keeps_the_input(client, app, signed_in):
    signed_in("admin")
    form = client.get("/contacts/new")
    refused = client.post(
        "/contacts/new",
        data={
            "csrf_token": csrf(form.text),
            "no": "BAD1",
            "type": "company",
            "name": "Typo Ltd",
            "email": "not-an-email",
        },
    )
    assert refused.status_code == 422
    assert 'id="e-email"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="Typo Ltd"' in refused.text and 'value="not-an-email"' in refused.text
    unknown_company = client.post(
        "/contacts/new",
        data={"csrf_token": csrf(form.text), "no": "BAD2", "type": "person", "company_no": "NOPE", "name": "Lost"},
    )
    assert unknown_company.status_code == 422 and 'id="e-company_no"' in unknown_company.text
    with app.state.sessionmaker() as s:
        assert s.get(contacts.Contact, "BAD1") is None and s.get(contacts.Contact, "BAD2") is None


def test_editing_a_company_changes_only_what_was_changed(client, app, signed_in):
    seed(app)
    signed_in("admin")
    form = client.get("/contacts/CT100/edit")
    assert 'value="Kestrel Trading"' in form.text
    saved = client.post(
        "/contacts/CT100/edit",
        data={
            "csrf_token": csrf(form.text),
            "type": "company",
            "name": "Kestrel Trading",
            "city": "Leeds",
            "salesperson_code": "SAM",
            "email": "info@kestrel.test",
            "search_name": "KESTREL TRADING",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with app.state.sessionmaker() as s:
        assert contacts.get_contact(s, "CT100").city == "Leeds"
        # The persons inherited the old city, so they follow the company (Marketing Setup inherits addresses).
        assert contacts.get_contact(s, "CT101").city == "Leeds"


def test_deleting_a_company_deletes_its_persons(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("marketing")
    card = client.get("/contacts/CT100")
    response = client.post("/contacts/CT100/delete", data={"csrf_token": csrf(card.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/contacts"
    with app.state.sessionmaker() as s:
        assert s.get(contacts.Contact, "CT100") is None and s.get(contacts.Contact, "CT101") is None


def test_contact_names_are_escaped_on_every_contact_page(client, app, signed_in):
    seed(app, name=XSS)
    signed_in("admin")
    for url in ("/contacts", "/contacts/CT100", "/contacts/CT101", "/contacts/CT100/edit", "/contacts/new?type=person"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert XSS not in page.text, url
        assert ESCAPED in page.text, url
