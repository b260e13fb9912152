"""Reads of the interaction log shaped for lists: filters and the names shown beside entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session

from rapport.core.base import INT32_MAX, date_param
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
    postponed = _bool("postponed", query.get("postponed", "false"))
    stmt = stmt.where(E.postponed.is_(postponed))
    if "canceled" in query:
        stmt = stmt.where(E.canceled.is_(_bool("canceled", query["canceled"])))
    days = {name: day for name in ("date_from", "date_to") if (day := date_param(query, name)) is not None}
    if days:
        stmt = stmt.where(*_from(E.date, days), *_up_to(E.date, days))
        first, last = _entry_no_range(postponed, days)
        stmt = stmt.where(E.entry_no >= first, E.entry_no <= last)
    return stmt


def _from(date: Any, days: dict[str, dt.date]) -> list[ColumnElement[bool]]:
    return [date >= days["date_from"]] if "date_from" in days else []


def _up_to(date: Any, days: dict[str, dt.date]) -> list[ColumnElement[bool]]:
    return [date <= days["date_to"]] if "date_to" in days else []


def _entry_no_range(postponed: bool, days: dict[str, dt.date]) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """The first and last entry numbers dated in the range, found with two probes of the
    (postponed, date, entry_no) index per day that has entries (a loose index scan).

    The list walks entries in entry-number order; entries are mostly dated as they are logged, so a
    month two years back starts millions of entries in. Bounding the walk by these numbers lets the
    database start where the range's entries lie and stop after its last one, at any page.
    """
    e = E.__table__.alias("dated")
    logged = e.c.postponed.is_(postponed)

    def next_day(*lower: ColumnElement[bool]) -> ScalarSelect[Any]:
        found = select(e.c.date).where(logged, *lower, *_up_to(e.c.date, days)).order_by(e.c.date).limit(1)
        return found.scalar_subquery()

    range_days = select(next_day(*_from(e.c.date, days)).label("day")).cte("range_days", recursive=True)
    # each step has one lower bound, the day before: SQLite would search from date_from at every step otherwise
    range_days = range_days.union_all(
        select(next_day(e.c.date > range_days.c.day)).where(range_days.c.day.is_not(None))
    )

    def of_day(order: Any) -> ScalarSelect[Any]:
        first = select(e.c.entry_no).where(logged, e.c.date == range_days.c.day).order_by(order).limit(1)
        return first.scalar_subquery()

    bounds = (
        select(func.min(of_day(e.c.entry_no)).label("first"), func.max(of_day(e.c.entry_no.desc())).label("last"))
        .where(range_days.c.day.is_not(None))
        .cte("entry_no_range")
    )
    return select(bounds.c.first).scalar_subquery(), select(bounds.c.last).scalar_subquery()


def contact_names(session: Session, entries: Sequence[E]) -> dict[str, str]:
    """Names of the contacts and companies the entries refer to."""
    nos = {e.contact_no for e in entries} | {e.contact_company_no for e in entries}
    nos.discard("")
    if not nos:
        return {}
    return {no: name for no, name in session.connection().execute(_NAMES, {"nos": list(nos)})}


_NAMES = select(Contact.no, Contact.name).where(Contact.no.in_(bindparam("nos", expanding=True)))
