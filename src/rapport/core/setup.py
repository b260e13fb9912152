"""Marketing Setup, number series and Interaction Template Setup."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core.base import INT32_MAX, Code10, Code20, Key20, StrictModel, Text100, get_or_404
from rapport.core.enums import AttachmentStorageType, CorrespondenceType, DocumentType
from rapport.db import Base
from rapport.errors import Conflict, Invalid

# The non-document slots of Interaction Template Setup, after the document types.
TEMPLATE_SETUP_EXTRA_SLOTS = ("emails", "email_draft", "cover_sheets", "outgoing_calls", "meeting_invitation")
# BC's "Cover Sheet" document type logs with the Cover Sheets template: one slot, two names.
TEMPLATE_SETUP_ALIASES = {"cover_sheet": "cover_sheets"}
TEMPLATE_SETUP_SLOTS = (
    tuple(d.value for d in DocumentType if d.value and d.value not in TEMPLATE_SETUP_ALIASES)
    + TEMPLATE_SETUP_EXTRA_SLOTS
)
TEMPLATE_SETUP_FIELDS = tuple(d.value for d in DocumentType if d.value) + TEMPLATE_SETUP_EXTRA_SLOTS

_TAIL = re.compile(r"(\d+)(\D*)$")


class NumberSeries(Base):
    """A series of document numbers: SEG00001, SEG00002, …"""

    __tablename__ = "number_series"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    starting_no: Mapped[str] = mapped_column(String(20), default="")
    ending_no: Mapped[str] = mapped_column(String(20), default="")
    increment_by: Mapped[int] = mapped_column(Integer, default=1)
    last_no_used: Mapped[str] = mapped_column(String(20), default="")
    manual_nos: Mapped[bool] = mapped_column(Boolean, default=True)


class MarketingSetup(Base):
    """The one row of Marketing Setup."""

    __tablename__ = "marketing_setup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_nos: Mapped[str] = mapped_column(String(20), default="")
    segment_nos: Mapped[str] = mapped_column(String(20), default="")
    campaign_nos: Mapped[str] = mapped_column(String(20), default="")
    default_correspondence_type: Mapped[str] = mapped_column(String(20), default="")
    default_language_code: Mapped[str] = mapped_column(String(10), default="")
    default_salesperson_code: Mapped[str] = mapped_column(String(20), default="")
    default_country_code: Mapped[str] = mapped_column(String(10), default="")
    inherit_salesperson_code: Mapped[bool] = mapped_column(Boolean, default=True)
    inherit_language_code: Mapped[bool] = mapped_column(Boolean, default=True)
    inherit_address_details: Mapped[bool] = mapped_column(Boolean, default=True)
    inherit_communication_details: Mapped[bool] = mapped_column(Boolean, default=True)
    attachment_storage_type: Mapped[str] = mapped_column(String(20), default="embedded")
    attachment_storage_location: Mapped[str] = mapped_column(String(250), default="")


class InteractionTemplateSetupSlot(Base):
    """One slot of Interaction Template Setup: a document type (or other use) and its template."""

    __tablename__ = "interaction_template_setup"

    slot: Mapped[str] = mapped_column(String(50), primary_key=True)
    interaction_template_code: Mapped[str] = mapped_column(String(10), default="")


# --- input schemas -------------------------------------------------------------------------


class NumberSeriesCreate(StrictModel):
    code: Key20
    description: Text100 = ""
    starting_no: Code20 = ""
    ending_no: Code20 = ""
    increment_by: int = Field(default=1, ge=1, le=INT32_MAX)
    last_no_used: Code20 = ""
    manual_nos: bool = True


class NumberSeriesUpdate(StrictModel):
    description: Text100 | None = None
    starting_no: Code20 | None = None
    ending_no: Code20 | None = None
    increment_by: int | None = Field(default=None, ge=1, le=INT32_MAX)
    last_no_used: Code20 | None = None
    manual_nos: bool | None = None


class MarketingSetupUpdate(StrictModel):
    contact_nos: Code20 | None = None
    segment_nos: Code20 | None = None
    campaign_nos: Code20 | None = None
    default_correspondence_type: CorrespondenceType | None = None
    default_language_code: Code10 | None = None
    default_salesperson_code: Code20 | None = None
    default_country_code: Code10 | None = None
    inherit_salesperson_code: bool | None = None
    inherit_language_code: bool | None = None
    inherit_address_details: bool | None = None
    inherit_communication_details: bool | None = None
    attachment_storage_type: AttachmentStorageType | None = None
    attachment_storage_location: str | None = Field(default=None, max_length=250)


# --- number series -----------------------------------------------------------------------


def _numeric_value(no: str) -> tuple[str, int] | None:
    match = _TAIL.search(no)
    if not match:
        return None
    return no[: match.start(1)] + "#" + match.group(2), int(match.group(1))


def increment_no(no: str, by: int = 1) -> str:
    """Increment the numeric tail of `no` by `by`, keeping its width: SEG00009 -> SEG00010."""
    match = _TAIL.search(no)
    if not match:
        raise Conflict(f"The number {no} has no digits to increment.")
    digits = match.group(1)
    value = str(int(digits) + by).zfill(len(digits))
    return no[: match.start(1)] + value + match.group(2)


def _beyond(no: str, ending_no: str) -> bool:
    if not ending_no:
        return False
    a, b = _numeric_value(no), _numeric_value(ending_no)
    if a and b and a[0] == b[0]:
        return a[1] > b[1]
    return (len(no), no) > (len(ending_no), ending_no)


def get_number_series(session: Session, code: str) -> NumberSeries:
    return get_or_404(session, NumberSeries, code.upper(), "Number series")


def create_number_series(session: Session, data: NumberSeriesCreate) -> NumberSeries:
    """Add a number series; its code must be new."""
    if session.get(NumberSeries, data.code) is not None:
        raise Conflict(f"Number series {data.code} already exists.", field="code")
    series = NumberSeries(**data.model_dump())
    _check_series(series)
    session.add(series)
    session.flush()
    return series


def update_number_series(session: Session, code: str, data: NumberSeriesUpdate) -> NumberSeries:
    """Change a number series."""
    series = get_number_series(session, code)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
        setattr(series, name, value)
    _check_series(series)
    session.flush()
    return series


def _check_series(series: NumberSeries) -> None:
    if series.starting_no and not _TAIL.search(series.starting_no):
        raise Invalid("The starting number must end in digits, e.g. CT00001.", field="starting_no")
    if series.ending_no and series.starting_no and _beyond(series.starting_no, series.ending_no):
        raise Invalid("The ending number must not be lower than the starting number.", field="ending_no")


def delete_number_series(session: Session, code: str) -> None:
    """Remove a number series that Marketing Setup does not use."""
    series = get_number_series(session, code)
    setup = get_marketing_setup(session)
    for name in ("contact_nos", "segment_nos", "campaign_nos"):
        if getattr(setup, name) == series.code:
            raise Conflict(f"Number series {series.code} is used as {name} in Marketing Setup.")
    session.delete(series)
    session.flush()


def next_no(session: Session, code: str, setup_field: str) -> str:
    """Draw the next number of a series (locking it), or Conflict when unset or exhausted."""
    if not code:
        raise Conflict(
            f"{setup_field} must have a value in Marketing Setup: set up a number series for it, "
            "or give the number yourself.",
            field="no",
        )
    series = session.scalar(select(NumberSeries).where(NumberSeries.code == code).with_for_update())
    if series is None:
        raise Conflict(f"Number series {code} ({setup_field}) does not exist.", field="no")
    if series.last_no_used:
        new = increment_no(series.last_no_used, series.increment_by)
    elif series.starting_no:
        new = series.starting_no
    else:
        raise Conflict(f"Number series {code} has no starting number.", field="no")
    if _beyond(new, series.ending_no):
        raise Conflict(
            f"Number series {code} is exhausted: {new} would pass its ending number {series.ending_no}.",
            field="no",
        )
    series.last_no_used = new
    session.flush()
    return new


def check_manual_no(session: Session, code: str, no: str) -> None:
    """A number typed by the user is allowed unless the series forbids manual numbers."""
    if not code:
        return
    series = session.get(NumberSeries, code)
    if series is not None and not series.manual_nos:
        raise Conflict(f"Number series {code} does not allow manual numbers; omit the number.", field="no")


# --- marketing setup ---------------------------------------------------------------------


def get_marketing_setup(session: Session) -> MarketingSetup:
    """The Marketing Setup row, created with its defaults on first use (once, however many requests
    find it missing at the same time: the INSERT does nothing when another one made the row)."""
    setup = session.get(MarketingSetup, 1)
    if setup is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        # the columns' own defaults fill the rest of the row
        session.execute(insert(MarketingSetup).values(id=1).on_conflict_do_nothing())
        setup = session.get_one(MarketingSetup, 1)
    return setup


def update_marketing_setup(session: Session, data: MarketingSetupUpdate) -> MarketingSetup:
    """Change Marketing Setup; references must exist."""
    from rapport.core import masterdata

    setup = get_marketing_setup(session)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
        if name.endswith("_nos") and value and session.get(NumberSeries, value) is None:
            raise Invalid(f"Number series {value} does not exist.", field=name)
        setattr(setup, name, value)
    if setup.default_language_code:
        masterdata.check_language(session, setup.default_language_code, "default_language_code")
    if setup.default_salesperson_code:
        masterdata.check_salesperson(session, setup.default_salesperson_code, "default_salesperson_code")
    if setup.attachment_storage_type == AttachmentStorageType.DISK_FILE and not setup.attachment_storage_location:
        raise Invalid(
            "attachment_storage_location must have a value when attachments are stored on disk.",
            field="attachment_storage_location",
        )
    session.flush()
    return setup


# --- interaction template setup ----------------------------------------------------------


def get_template_setup(session: Session) -> dict[str, str]:
    """Every slot of Interaction Template Setup with its template code ('' when unset)."""
    rows = session.execute(
        select(InteractionTemplateSetupSlot.slot, InteractionTemplateSetupSlot.interaction_template_code)
    )
    stored = {slot: code for slot, code in rows}
    values = {slot: stored.get(slot, "") for slot in TEMPLATE_SETUP_SLOTS}
    return {name: values[TEMPLATE_SETUP_ALIASES.get(name, name)] for name in TEMPLATE_SETUP_FIELDS}


def template_for(session: Session, slot: str) -> str:
    """The template code set up for a document type or slot ('' when none)."""
    slot = TEMPLATE_SETUP_ALIASES.get(slot, slot)
    row = session.get(InteractionTemplateSetupSlot, slot)
    return row.interaction_template_code if row else ""


def update_template_setup(session: Session, values: dict[str, Any]) -> dict[str, str]:
    """Set templates for the given slots; each must be an existing template or ''."""
    from rapport.core.templates import InteractionTemplate

    resolved: dict[str, str] = {}
    for name, value in values.items():
        if name not in TEMPLATE_SETUP_FIELDS:
            raise Invalid(f"Unknown field '{name}'.", field=name)
        if not isinstance(value, str):
            raise Invalid(f'{name} must be a template code or "".', field=name)
        code = value.strip().upper()
        if code and session.get(InteractionTemplate, code) is None:
            raise Invalid(f"Interaction template {code} does not exist.", field=name)
        slot = TEMPLATE_SETUP_ALIASES.get(name, name)
        if slot in resolved and resolved[slot] != code:
            raise Invalid(f"{name} and {slot} name the same slot; give one value.", field=name)
        resolved[slot] = code
    for slot, code in resolved.items():
        row = session.get(InteractionTemplateSetupSlot, slot)
        if row is None:
            session.add(InteractionTemplateSetupSlot(slot=slot, interaction_template_code=code))
        else:
            row.interaction_template_code = code
    session.flush()
    return get_template_setup(session)
