"""Contacts: the list with search and filters, the card with its persons and history, the form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from rapport.api.deps import ListParams, SessionDep, decode_cursor, encode_cursor, keyset_page
from rapport.core import contacts, statistics
from rapport.core.contacts import CONTACT_FILTER_FIELDS, Contact, ContactCreate, ContactUpdate
from rapport.core.enums import ContactType
from rapport.core.interactions import InteractionLogEntry as E
from rapport.core.masterdata import Language, Salesperson
from rapport.errors import RapportError
from rapport.filters import contains_text
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _

router = APIRouter()

PAGE_SIZE = 50
TIMELINE_SIZE = 20

# The card's field groups, as Business Central's Contact Card arranges them.
GENERAL = ("no", "type", "name", "company_no", "search_name", "salesperson_code", "job_title")
ADDRESS = (
    "address",
    "address_2",
    "post_code",
    "city",
    "country_code",
    "phone_no",
    "mobile_phone_no",
    "email",
)
SEGMENTATION = ("language_code", "correspondence_type", "territory_code")
FLAGS = ("exclude_from_segment", "privacy_blocked", "minor", "parental_consent_received")
TEXT_FIELDS = GENERAL[2:] + ADDRESS + SEGMENTATION


def labels() -> dict[str, str]:
    """The captions of the contact fields in the user's language."""
    return {
        "no": _("No."),
        "type": _("Type"),
        "name": _("Name"),
        "company_no": _("Company No."),
        "company_name": _("Company Name"),
        "search_name": _("Search Name"),
        "salesperson_code": _("Salesperson Code"),
        "job_title": _("Job Title"),
        "address": _("Address"),
        "address_2": _("Address 2"),
        "post_code": _("Post Code"),
        "city": _("City"),
        "country_code": _("Country/Region Code"),
        "territory_code": _("Territory Code"),
        "phone_no": _("Phone No."),
        "mobile_phone_no": _("Mobile Phone No."),
        "email": _("Email"),
        "language_code": _("Language Code"),
        "correspondence_type": _("Correspondence Type"),
        "exclude_from_segment": _("Exclude from Segment"),
        "privacy_blocked": _("Privacy Blocked"),
        "minor": _("Minor"),
        "parental_consent_received": _("Parental Consent Received"),
    }


def type_options() -> list[tuple[str, str]]:
    return [(ContactType.COMPANY.value, _("Company")), (ContactType.PERSON.value, _("Person"))]


def correspondence_options() -> list[tuple[str, str]]:
    return [("", _("(blank)")), ("hard_copy", _("Hard Copy")), ("email", _("Email"))]


def _choices(session: Session) -> dict[str, Any]:
    """The options of the form's lookups."""
    salespeople = session.execute(select(Salesperson.code, Salesperson.name).order_by(Salesperson.code)).all()
    languages = session.execute(select(Language.code, Language.name).order_by(Language.code)).all()
    companies = session.execute(
        select(Contact.no, Contact.name)
        .where(Contact.type == ContactType.COMPANY.value)
        .order_by(Contact.name, Contact.no)
        .limit(500)
    ).all()
    return {
        "salespeople": [("", "")] + [(code, f"{code} {name}".strip()) for code, name in salespeople],
        "language_options": [("", "")] + [(code, f"{code} {name}".strip()) for code, name in languages],
        "companies": companies,
        "types": type_options(),
        "correspondence_types": correspondence_options(),
    }


# --- the list ----------------------------------------------------------------------------------


@router.get("/contacts")
def contact_list(
    request: Request,
    session: SessionDep,
    q: str = "",
    filter_field: str = "",
    filter_expr: str = "",
    cursor: str = "",
) -> Any:
    user = page_user(request, session)
    stmt = select(Contact)
    q = q.strip()
    if q:
        stmt = stmt.where(or_(*(contains_text(c, q) for c in (Contact.name, Contact.email, Contact.no))))
    filters = {filter_field: filter_expr} if filter_field and filter_expr.strip() else {}
    params = ListParams(limit=PAGE_SIZE, cursor=cursor or None, filters=filters)
    errors: dict[str, str] = {}
    rows: list[Contact] = []
    next_cursor = None
    try:
        rows, next_cursor = keyset_page(session, stmt, [Contact.no], params, CONTACT_FILTER_FIELDS)
    except RapportError as exc:
        errors = {"filter_expr" if exc.field != "cursor" else "_": exc.message}
    next_url = None
    if next_cursor:
        next_url = str(request.url.include_query_params(cursor=next_cursor))
    context = {
        "user": user,
        "rows": rows,
        "q": q,
        "filter_field": filter_field,
        "filter_expr": filter_expr,
        "filter_fields": [(name, labels().get(name, name)) for name in sorted(CONTACT_FILTER_FIELDS)],
        "next_url": next_url,
        "errors": errors,
        "labels": labels(),
    }
    template = "contacts/_rows.html" if request.headers.get("hx-request") else "contacts/list.html"
    return render(request, template, context, status_code=422 if errors else 200)


# --- the form ----------------------------------------------------------------------------------


def _form_context(session: Session, user: Any, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"user": user, "values": values, "labels": labels(), **_choices(session), **extra}


def _submitted(form: Any) -> dict[str, Any]:
    """The contact fields of a posted form; unticked boxes are false."""
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    values["type"] = str(form.get("type", ContactType.COMPANY.value))
    values["no"] = str(form.get("no", "")).strip()
    for name in FLAGS:
        values[name] = form.get(name) == "true"
    return values


@router.get("/contacts/new")
def new_contact(request: Request, session: SessionDep, type: str = "company", company_no: str = "") -> Any:
    user = page_user(request, session, "contacts.write")
    values: dict[str, Any] = {"type": type if type in ("company", "person") else "company", "company_no": company_no}
    return render(request, "contacts/form.html", _form_context(session, user, values, contact=None))


@router.post("/contacts/new")
async def create_contact(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "contacts.write")
    values = _submitted(form)
    data = {k: v for k, v in values.items() if v not in ("", False)}
    if values["type"] == ContactType.COMPANY.value:
        data.pop("company_no", None)
    try:
        contact = contacts.create_contact(session, ContactCreate(**data))
        no = contact.no
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        context = _form_context(session, user, values, contact=None, errors=form_errors(exc))
        return render(request, "contacts/form.html", context, status_code=422)
    flash(request, _("Contact %(no)s was created.", no=no))
    return redirect(f"/contacts/{no}")


@router.get("/contacts/{no}/edit")
def edit_contact(request: Request, session: SessionDep, no: str) -> Any:
    user = page_user(request, session, "contacts.write")
    contact = contacts.get_contact(session, no)
    values = {name: getattr(contact, name) for name in ("no", "type", *TEXT_FIELDS, *FLAGS)}
    return render(request, "contacts/form.html", _form_context(session, user, values, contact=contact))


@router.post("/contacts/{no}/edit")
async def update_contact(request: Request, session: SessionDep, no: str) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "contacts.write")
    contact = contacts.get_contact(session, no)
    values = _submitted(form)
    values["no"] = contact.no
    # Only what the user changed, so untouched fields keep inheriting from the company.
    changes = {k: v for k, v in values.items() if k != "no" and v != getattr(contact, k)}
    if values["type"] == ContactType.COMPANY.value:
        changes.pop("company_no", None)
    try:
        contacts.update_contact(session, contact.no, ContactUpdate(**changes))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        contact = contacts.get_contact(session, no)
        context = _form_context(session, user, values, contact=contact, errors=form_errors(exc))
        return render(request, "contacts/form.html", context, status_code=422)
    flash(request, _("Contact %(no)s was saved.", no=contact.no))
    return redirect(f"/contacts/{contact.no}")


@router.post("/contacts/{no}/delete")
async def delete_contact(request: Request, session: SessionDep, no: str) -> Any:
    await check_csrf(request)
    page_user(request, session, "contacts.delete")
    try:
        contacts.delete_contact(session, no)
        session.commit()
    except RapportError as exc:
        session.rollback()
        if exc.code == "not_found":
            raise
        flash(request, exc.message, "error")
        return redirect(f"/contacts/{no.upper()}")
    flash(request, _("Contact %(no)s was deleted.", no=no.upper()))
    return redirect("/contacts")


# --- the card ----------------------------------------------------------------------------------


def _history(session: Session, contact: Contact, cursor: str) -> tuple[list[E], str | None]:
    """The contact's interactions, newest first (a company shows its persons' too)."""
    stmt = select(E).where(E.postponed.is_(False))
    if contact.type == ContactType.COMPANY.value:
        stmt = stmt.where(E.contact_company_no == contact.no)
    else:
        stmt = stmt.where(E.contact_company_no == contact.company_no, E.contact_no == contact.no)
    if cursor:
        day, entry_no = decode_cursor(cursor, 2)
        stmt = stmt.where(or_(E.date < day, and_(E.date == day, E.entry_no < entry_no)))
    rows = list(session.scalars(stmt.order_by(E.date.desc(), E.entry_no.desc()).limit(TIMELINE_SIZE + 1)))
    if len(rows) > TIMELINE_SIZE:
        rows = rows[:TIMELINE_SIZE]
        return rows, encode_cursor((rows[-1].date, rows[-1].entry_no))
    return rows, None


@router.get("/contacts/{no}")
def contact_card(request: Request, session: SessionDep, no: str, cursor: str = "") -> Any:
    user = page_user(request, session)
    contact = contacts.get_contact(session, no)
    persons = contacts.persons_of(session, contact.no) if contact.type == ContactType.COMPANY.value else []
    totals = statistics.contact_totals(session, [contact])[contact.no]
    history, next_cursor = _history(session, contact, cursor)
    names = {
        no: name
        for no, name in session.execute(
            select(Contact.no, Contact.name).where(Contact.no.in_({e.contact_no for e in history}))
        )
    }
    context = {
        "user": user,
        "contact": contact,
        "persons": persons,
        "totals": totals,
        "history": history,
        "names": names,
        "next_url": f"/contacts/{contact.no}?cursor={next_cursor}" if next_cursor else None,
        "labels": labels(),
        "types": dict(type_options()),
        "correspondence_types": dict(correspondence_options()),
        "groups": {"general": GENERAL, "address": ADDRESS, "segmentation": SEGMENTATION, "flags": FLAGS},
    }
    if request.headers.get("hx-request") and cursor:
        return render(request, "contacts/_history.html", context)
    return render(request, "contacts/card.html", context)
