"""Reads of the interaction log shaped for lists: filters and the names shown beside entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from rapport.core.base import INT32_MAX
from rapport.core.contacts import Contact
from rapport.core.enums import (
    CorrespondenceType,
    DeliveryStatus,
    DocumentType,
    Evaluation,
    InformationFlow,
    InitiatedBy,
    captions,
)
from rapport.core.interactions.models import InteractionLogEntry as E
from rapport.errors import Invalid
from rapport.filters import FieldKind, field_specs

ENTRY_FIELDS = field_specs(
    E,
    kinds={"document_type": FieldKind.ENUM},
    enums={
        "correspondence_type": captions(CorrespondenceType),
        "information_flow": captions(InformationFlow),
        "initiated_by": captions(InitiatedBy),
        "evaluation": captions(Evaluation),
        "delivery_status": captions(DeliveryStatus),
        "document_type": captions(DocumentType),
    },
)

EQUALITY_FILTERS = (
    "contact_no",
    "contact_company_no",
    "salesperson_code",
    "interaction_template_code",
    "interaction_group_code",
    "campaign_no",
    "segment_no",
    "document_type",
    "document_no",
)
# Every plain query parameter `list_statement` reads (the API documents them from here).
LIST_PARAMETERS = (*EQUALITY_FILTERS, "logged_segment_entry_no", "canceled", "postponed", "date_from", "date_to")


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid(f"{name} must be true or false.", field=name)


def list_statement(query: dict[str, str]) -> Select[Any]:
    """Entries matching the list's plain query parameters (postponed defaults to false)."""
    stmt = select(E)
    for name in EQUALITY_FILTERS:
        if name in query:
            value = query[name]
            stmt = stmt.where(getattr(E, name) == (value if name == "document_type" else value.strip().upper()))
    if "logged_segment_entry_no" in query:
        number = query["logged_segment_entry_no"].strip()
        if not number.isdigit() or int(number) > INT32_MAX:
            raise Invalid("logged_segment_entry_no must be an entry number.", field="logged_segment_entry_no")
        stmt = stmt.where(E.logged_segment_entry_no == int(number))
    stmt = stmt.where(E.postponed.is_(_bool("postponed", query.get("postponed", "false"))))
    if "canceled" in query:
        stmt = stmt.where(E.canceled.is_(_bool("canceled", query["canceled"])))
    for name, op in (("date_from", "__ge__"), ("date_to", "__le__")):
        if query.get(name):
            try:
                day = dt.date.fromisoformat(query[name])
            except ValueError as exc:
                raise Invalid(f"{name} must be a date as YYYY-MM-DD.", field=name) from exc
            stmt = stmt.where(getattr(E.date, op)(day))
    return stmt


def contact_names(session: Session, entries: Sequence[E]) -> dict[str, str]:
    """Names of the contacts and companies the entries refer to."""
    nos = {e.contact_no for e in entries} | {e.contact_company_no for e in entries}
    nos.discard("")
    if not nos:
        return {}
    return {no: name for no, name in session.execute(select(Contact.no, Contact.name).where(Contact.no.in_(nos)))}
