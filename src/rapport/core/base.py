"""Shared building blocks of the domain: strict input schemas, code types, lookups."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapport.db import dialect_name
from rapport.errors import Invalid, NotFound


class StrictModel(BaseModel):
    """An input schema: unknown fields are refused, so a typo never silently does nothing; enum fields
    hold their API values (plain strings), ready for the database."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


# Codes are stored and returned upper-case; input in any case is accepted.
Code10 = Annotated[str, BeforeValidator(_upper), StringConstraints(max_length=10)]
Code20 = Annotated[str, BeforeValidator(_upper), StringConstraints(max_length=20)]
Code30 = Annotated[str, BeforeValidator(_upper), StringConstraints(max_length=30)]
Key10 = Annotated[Code10, AfterValidator(_not_blank)]
Key20 = Annotated[Code20, AfterValidator(_not_blank)]
Text30 = Annotated[str, StringConstraints(max_length=30)]
Text50 = Annotated[str, StringConstraints(max_length=50)]
Text80 = Annotated[str, StringConstraints(max_length=80)]
Text100 = Annotated[str, StringConstraints(max_length=100)]
Text250 = Annotated[str, StringConstraints(max_length=250)]

# Record numbers in the range of the column that holds them: a larger one cannot name a record, and
# must be refused as invalid rather than reach the database (which cannot bind it).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
Int32 = Annotated[int, Ge(0), Le(INT32_MAX)]
Int64 = Annotated[int, Ge(0), Le(INT64_MAX)]

M = TypeVar("M")


def get_or_404(session: Session, model: type[M], key: Any, what: str) -> M:
    """The record with primary key `key`, or NotFound naming it."""
    obj = session.get(model, key)
    if obj is None:
        raise NotFound(f"{what} {key} does not exist.")
    return obj


def date_param(query: Mapping[str, str], name: str) -> dt.date | None:
    """A YYYY-MM-DD query parameter, or None when it is missing or blank."""
    value = query.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{name} must be a date as YYYY-MM-DD.", field=name) from exc


def next_number(session: Session, column: Any) -> int:
    """Highest existing + 1 in `column`, the integer key of its table: how Business Central numbers
    attachments, logged segments and campaign entries (domain.md 1.7, 1.14, 1.17), so that the
    number of a deleted last row is given again.

    Two transactions must not both read the same highest number: on PostgreSQL a transaction-level
    advisory lock per table serializes them until commit (the next one then reads the committed
    row); SQLite has one writer at a time, whose write lock does the same."""
    if dialect_name(session) == "postgresql":
        key = zlib.crc32(f"rapport next number {column.table.name}".encode())
        session.execute(select(func.pg_advisory_xact_lock(key)))
    return int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1
