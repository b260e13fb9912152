"""Interaction statistics (Business Central's FlowFields), computed in SQL for a page of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from rapport.core.contacts import Contact
from rapport.core.enums import ContactType, InitiatedBy
from rapport.core.interactions import InteractionLogEntry as E


@dataclass
class Totals:
    """No. of Interactions, Cost and Duration of a set of entries."""

    no_of_interactions: int = 0
    cost: Decimal = Decimal(0)
    duration_min: Decimal = Decimal(0)


@dataclass
class ContactTotals(Totals):
    date_of_last_interaction: dt.date | None = None
    last_date_attempted: dt.date | None = None


def _in_period(date_from: dt.date | None, date_to: dt.date | None) -> Any:
    cond: Any = true()
    if date_from is not None:
        cond = and_(cond, E.date >= date_from)
    if date_to is not None:
        cond = and_(cond, E.date <= date_to)
    return cond


def _counted(date_from: dt.date | None, date_to: dt.date | None) -> Any:
    return and_(E.canceled.is_(False), E.postponed.is_(False), _in_period(date_from, date_to))


def _total_columns(date_from: dt.date | None, date_to: dt.date | None) -> list[Any]:
    counted = _counted(date_from, date_to)
    return [
        func.coalesce(func.sum(case((counted, 1), else_=0)), 0),
        func.coalesce(func.sum(case((counted, E.cost), else_=0)), 0),
        func.coalesce(func.sum(case((counted, E.duration_min), else_=0)), 0),
    ]


def totals_by(
    session: Session,
    column: Any,
    keys: list[str],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Totals]:
    """Totals of non-canceled, non-postponed entries grouped by `column` for the given keys."""
    result = {k: Totals() for k in keys}
    if not keys:
        return result
    rows = session.execute(select(column, *_total_columns(date_from, date_to)).where(column.in_(keys)).group_by(column))
    for key, count, cost, duration in rows:
        result[key] = Totals(int(count), Decimal(cost), Decimal(duration))
    return result


def contact_totals(
    session: Session,
    contacts: list[Contact],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, ContactTotals]:
    """Statistics per contact: a company aggregates itself and all its persons."""
    not_postponed = E.postponed.is_(False)
    columns = [
        *_total_columns(date_from, date_to),
        func.max(case((and_(not_postponed, E.attempt_failed.is_(False)), E.date))),
        func.max(case((and_(not_postponed, E.initiated_by == InitiatedBy.US.value), E.date))),
    ]
    result = {c.no: ContactTotals() for c in contacts}
    companies = [c.no for c in contacts if c.type == ContactType.COMPANY.value]
    persons = [c for c in contacts if c.type != ContactType.COMPANY.value]
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    if companies:
        for row in session.execute(
            select(E.contact_company_no, *columns)
            .where(E.contact_company_no.in_(companies))
            .group_by(E.contact_company_no)
        ):
            found[(row[0], "")] = tuple(row[1:])
    if persons:
        for row in session.execute(
            select(E.contact_company_no, E.contact_no, *columns)
            .where(E.contact_no.in_([p.no for p in persons]))
            .group_by(E.contact_company_no, E.contact_no)
        ):
            found[(row[0], row[1])] = tuple(row[2:])
    for c in contacts:
        key = (c.no, "") if c.type == ContactType.COMPANY.value else (c.company_no, c.no)
        values = found.get(key)
        if values:
            count, cost, duration, last, attempted = values
            result[c.no] = ContactTotals(
                int(count), Decimal(cost), Decimal(duration), _as_date(last), _as_date(attempted)
            )
    return result


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
