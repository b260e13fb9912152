"""Segment criteria: a map of table -> field filters, compiled to one SQL condition on a contact.

A contact qualifies when it passes every table that has filters (AND across tables); a table passes
when at least one linked row matches all of its filters (EXISTS) — filters.md, "Where criteria apply".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql import FromClause

from rapport.core.contacts import (
    CONTACT_FILTER_FIELDS,
    Contact,
    ContactBusinessRelation,
    ContactIndustryGroup,
    ContactJobResponsibility,
    ContactMailingGroup,
    ContactProfileAnswer,
)
from rapport.core.enums import CorrespondenceType, Evaluation, InformationFlow, InitiatedBy, LinkToTable, captions
from rapport.core.interactions.models import InteractionLogEntry
from rapport.errors import Invalid
from rapport.filters import FieldKind, FieldSpec, compile_filters, field_specs

CriteriaMap = Mapping[str, Mapping[str, str]]

Link = Callable[[Any, Any], ColumnElement[bool]]


def _specs(
    model: type[Any],
    names: dict[str, str],
    kinds: dict[str, FieldKind] | None = None,
    enums: dict[str, dict[str, str]] | None = None,
) -> Callable[[Any], dict[str, FieldSpec]]:
    """Field specs of a linked table, for an alias of its model; `names` maps API field -> column."""

    def build(alias: Any) -> dict[str, FieldSpec]:
        base = field_specs(model, kinds=kinds, enums=enums)
        return {
            api: FieldSpec(
                name=api, column=getattr(alias, column), kind=base[column].kind, enum_values=base[column].enum_values
            )
            for api, column in names.items()
        }

    return build


_ENTRY = InteractionLogEntry
_ENTRY_FIELDS = [
    "date",
    "segment_no",
    "campaign_no",
    "evaluation",
    "interaction_template_code",
    "interaction_group_code",
    "salesperson_code",
    "canceled",
    "postponed",
    "information_flow",
    "initiated_by",
    "logged_segment_entry_no",
    "correspondence_type",
    "description",
    "attempt_failed",
    "document_type",
    "document_no",
]

# table name -> (model, specs for an alias, link between the alias and the contact)
TABLES: dict[str, tuple[type[Any], Callable[[Any], dict[str, FieldSpec]], Link]] = {
    "mailing_group": (
        ContactMailingGroup,
        _specs(ContactMailingGroup, {"code": "mailing_group_code"}),
        lambda a, c: a.contact_no == c.no,
    ),
    "job_responsibility": (
        ContactJobResponsibility,
        _specs(ContactJobResponsibility, {"code": "job_responsibility_code"}),
        lambda a, c: a.contact_no == c.no,
    ),
    "industry_group": (
        ContactIndustryGroup,
        _specs(ContactIndustryGroup, {"code": "industry_group_code"}),
        lambda a, c: a.contact_no == c.company_no,
    ),
    "business_relation": (
        ContactBusinessRelation,
        _specs(
            ContactBusinessRelation,
            {"code": "business_relation_code", "link_to_table": "link_to_table", "link_no": "link_no"},
            kinds={"link_to_table": FieldKind.ENUM},
            enums={"link_to_table": captions(LinkToTable)},
        ),
        lambda a, c: a.contact_no == c.company_no,
    ),
    "interaction": (
        _ENTRY,
        _specs(
            _ENTRY,
            {f: f for f in _ENTRY_FIELDS},
            kinds={"document_type": FieldKind.TEXT},
            enums={
                "evaluation": captions(Evaluation),
                "information_flow": captions(InformationFlow),
                "initiated_by": captions(InitiatedBy),
                "correspondence_type": captions(CorrespondenceType),
            },
        ),
        lambda a, c: and_(a.contact_company_no == c.company_no, a.contact_no == c.no),
    ),
    "profile_answer": (
        ContactProfileAnswer,
        _specs(ContactProfileAnswer, {"questionnaire_code": "questionnaire_code", "answer_code": "answer_code"}),
        lambda a, c: a.contact_no == c.no,
    ),
}
TABLE_NAMES = ("contact", *TABLES)


def _contact_specs(contact: Any) -> dict[str, FieldSpec]:
    if contact is Contact:
        return dict(CONTACT_FILTER_FIELDS)
    return {
        name: FieldSpec(name=name, column=getattr(contact, name), kind=spec.kind, enum_values=spec.enum_values)
        for name, spec in CONTACT_FILTER_FIELDS.items()
    }


def _prefixed(exc: Invalid, table: str) -> Invalid:
    field = f"criteria.{table}.{exc.field}" if exc.field else f"criteria.{table}"
    return Invalid(exc.message, field=field)


def normalize(criteria: Any) -> dict[str, dict[str, str]]:
    """Check the shape of a criteria object and drop empty filters; Invalid names what is wrong."""
    if criteria is None:
        return {}
    if not isinstance(criteria, Mapping):
        raise Invalid('criteria must be an object of tables, e.g. {"contact": {"city": "Paris"}}.', field="criteria")
    result: dict[str, dict[str, str]] = {}
    for table, fields in criteria.items():
        if table not in TABLE_NAMES:
            raise Invalid(
                f"Unknown criteria table '{table}'; use one of {', '.join(TABLE_NAMES)}.", field=f"criteria.{table}"
            )
        if not isinstance(fields, Mapping):
            raise Invalid(f"criteria.{table} must be an object of field filters.", field=f"criteria.{table}")
        kept = {}
        for name, expression in fields.items():
            if not isinstance(expression, str):
                raise Invalid(
                    f"criteria.{table}.{name} must be a filter expression (text).", field=f"criteria.{table}.{name}"
                )
            if expression.strip():
                kept[str(name)] = expression
        if kept:
            result[table] = kept
    return result


def condition(criteria: CriteriaMap, contact: Any = Contact, today: dt.date | None = None) -> ColumnElement[bool]:
    """The condition a contact (`contact`: the Contact model or an alias) must meet."""
    parts: list[ColumnElement[bool]] = []
    for table, filters in criteria.items():
        try:
            if table == "contact":
                parts.extend(compile_filters(_contact_specs(contact), filters, today=today))
                continue
            model, specs, link = TABLES[table]
            alias = aliased(model)
            conditions = compile_filters(specs(alias), filters, today=today)
        except Invalid as exc:
            raise _prefixed(exc, table) from exc
        linked: FromClause = alias  # type: ignore[assignment]
        parts.append(exists().select_from(linked).where(link(alias, contact), *conditions))
    return and_(true(), *parts)


# Tables linked by the contact's own No. (not its company's): rows of them name an existing contact (foreign key).
_BY_CONTACT_NO = frozenset({"mailing_group", "job_responsibility", "profile_answer"})


class _ContactNo:
    """A contact known only by its No. (e.g. a segment line's Contact No.), for `condition`'s links."""

    def __init__(self, no: Any) -> None:
        self.no = no


def condition_on_no(criteria: CriteriaMap, contact_no: Any, today: dt.date | None = None) -> ColumnElement[bool] | None:
    """The condition for the contact whose No. is `contact_no`, without reading the contact, when every table with
    filters links by the contact's own No. (a linked row exists only for an existing contact); None when the
    criteria need the contact row (contact fields, company links, or no filters: then the contact must exist)."""
    if not criteria or any(table not in _BY_CONTACT_NO for table in criteria):
        return None
    return condition(criteria, _ContactNo(contact_no), today)


def validate(criteria: CriteriaMap) -> None:
    """Compile the criteria once so a bad expression is refused before anything changes."""
    condition(criteria)
