"""Contacts and their dimensions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select

from rapport.api.deps import (
    ContactDeleter,
    ContactWriter,
    ListParamsDep,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    keyset_page,
    parse_date_param,
)
from rapport.core import contacts, statistics
from rapport.core.contacts import (
    BusinessRelationLink,
    Contact,
    ContactCreate,
    ContactUpdate,
    ProfileAnswerLink,
)
from rapport.filters import contains_text

router = APIRouter(route_class=ReleasingRoute, tags=["contacts"])

CONTACT_FIELDS = contacts.CONTACT_FILTER_FIELDS


class ContactRead(BaseModel):
    no: str
    type: str
    name: str
    company_no: str
    company_name: str
    search_name: str
    address: str
    address_2: str
    post_code: str
    city: str
    country_code: str
    territory_code: str
    phone_no: str
    mobile_phone_no: str
    email: str
    job_title: str
    language_code: str
    salesperson_code: str
    correspondence_type: str
    exclude_from_segment: bool
    privacy_blocked: bool
    minor: bool
    parental_consent_received: bool
    no_of_interactions: int
    cost: float
    duration_min: float
    date_of_last_interaction: dt.date | None
    last_date_attempted: dt.date | None


class ContactPage(BaseModel):
    items: list[ContactRead]
    next_cursor: str | None


class BusinessRelationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    business_relation_code: str
    link_to_table: str
    link_no: str


class ProfileAnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    questionnaire_code: str
    answer_code: str


READ_FIELDS = [f for f in ContactRead.model_fields if f in Contact.__table__.columns]


def contacts_read(session: Any, rows: list[Contact], query: dict[str, str] | None = None) -> list[ContactRead]:
    """Contacts with their statistics (a company aggregates its persons)."""
    query = query or {}
    totals = statistics.contact_totals(
        session, rows, parse_date_param(query, "date_from"), parse_date_param(query, "date_to")
    )
    return [ContactRead(**{f: getattr(c, f) for f in READ_FIELDS}, **vars(totals[c.no])) for c in rows]


@router.get("/contacts", response_model=ContactPage)
def list_contacts(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Contacts by number; `q` searches name, e-mail and number; filter[<field>] narrows."""
    stmt = select(Contact)
    q = params.query.get("q", "").strip()
    if q:
        stmt = stmt.where(or_(*(contains_text(c, q) for c in (Contact.name, Contact.email, Contact.no))))
    rows, cursor = keyset_page(session, stmt, [Contact.no], params, CONTACT_FIELDS)
    return {"items": contacts_read(session, rows, params.query), "next_cursor": cursor}


@router.post("/contacts", response_model=ContactRead, status_code=201)
def create_contact(data: ContactCreate, session: SessionDep, _: ContactWriter) -> ContactRead:
    contact = contacts.create_contact(session, data)
    commit(session)
    return contacts_read(session, [contact])[0]


@router.get("/contacts/{no}", response_model=ContactRead)
def get_contact(no: str, session: SessionDep, params: ListParamsDep, _: Reader) -> ContactRead:
    return contacts_read(session, [contacts.get_contact(session, no)], params.query)[0]


@router.patch("/contacts/{no}", response_model=ContactRead)
def update_contact(no: str, data: ContactUpdate, session: SessionDep, _: ContactWriter) -> ContactRead:
    contact = contacts.update_contact(session, no, data)
    commit(session)
    return contacts_read(session, [contact])[0]


@router.delete("/contacts/{no}", status_code=204)
def delete_contact(no: str, session: SessionDep, _: ContactDeleter) -> Response:
    contacts.delete_contact(session, no)
    commit(session)
    return Response(status_code=204)


def _assignment_routes(kind: str) -> None:
    @router.get(f"/contacts/{{no}}/{kind}", response_model=list[str], name=f"get_contact_{kind}")
    def get_codes(no: str, session: SessionDep, _: Reader) -> list[str]:
        return contacts.get_assigned_codes(session, no, kind)

    @router.put(f"/contacts/{{no}}/{kind}", response_model=list[str], name=f"put_contact_{kind}")
    def put_codes(no: str, session: SessionDep, _: ContactWriter, codes: list[str] = Body(...)) -> list[str]:
        result = contacts.set_assigned_codes(session, no, kind, codes)
        commit(session)
        return result


for _kind in contacts.ASSIGNMENTS:
    _assignment_routes(_kind)


@router.get("/contacts/{no}/business-relations", response_model=list[BusinessRelationRead])
def get_business_relations(no: str, session: SessionDep, _: Reader) -> Any:
    return contacts.get_business_relations(session, no)


@router.put("/contacts/{no}/business-relations", response_model=list[BusinessRelationRead])
def put_business_relations(
    no: str, session: SessionDep, _: ContactWriter, links: list[BusinessRelationLink] = Body(...)
) -> Any:
    result = contacts.set_business_relations(session, no, links)
    commit(session)
    return result


@router.get("/contacts/{no}/profile-answers", response_model=list[ProfileAnswerRead])
def get_profile_answers(no: str, session: SessionDep, _: Reader) -> Any:
    return contacts.get_profile_answers(session, no)


@router.put("/contacts/{no}/profile-answers", response_model=list[ProfileAnswerRead])
def put_profile_answers(
    no: str, session: SessionDep, _: ContactWriter, answers: list[ProfileAnswerLink] = Body(...)
) -> Any:
    result = contacts.set_profile_answers(session, no, answers)
    commit(session)
    return result
