"""Models of segments: header, lines, criteria actions, history, saved criteria, logged segments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.db import Base


class SegmentHeader(Base):
    """A list of contacts to interact with, and the interaction to log for them."""

    __tablename__ = "segment_header"

    no: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    interaction_template_code: Mapped[str] = mapped_column(String(10), default="")
    interaction_group_code: Mapped[str] = mapped_column(String(10), default="")
    language_code_default: Mapped[str] = mapped_column(String(10), default="")
    subject_default: Mapped[str] = mapped_column(String(100), default="")
    campaign_no: Mapped[str] = mapped_column(String(20), default="", index=True)
    campaign_target: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_response: Mapped[bool] = mapped_column(Boolean, default=False)
    salesperson_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    correspondence_type_default: Mapped[str] = mapped_column(String(20), default="")
    ignore_contact_corres_type: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    unit_duration_min: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    information_flow: Mapped[str] = mapped_column(String(20), default="")
    initiated_by: Mapped[str] = mapped_column(String(20), default="")
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    send_word_docs_as_attachment: Mapped[bool] = mapped_column(Boolean, default=False)


def _segment_fk() -> Any:
    return ForeignKey("segment_header.no", ondelete="CASCADE")


class SegmentLine(Base):
    """One contact of a segment, with the interaction to log for it."""

    __tablename__ = "segment_line"
    __table_args__ = (
        Index("ix_segment_line_contact", "segment_no", "contact_no"),
        Index("ix_segment_line_contact_no", "contact_no"),
    )

    segment_no: Mapped[str] = mapped_column(_segment_fk(), primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contact_no: Mapped[str] = mapped_column(String(20), default="")
    contact_company_no: Mapped[str] = mapped_column(String(20), default="")
    interaction_template_code: Mapped[str] = mapped_column(String(10), default="")
    interaction_group_code: Mapped[str] = mapped_column(String(10), default="")
    description: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(100), default="")
    language_code: Mapped[str] = mapped_column(String(10), default="")
    correspondence_type: Mapped[str] = mapped_column(String(20), default="")
    salesperson_code: Mapped[str] = mapped_column(String(20), default="")
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    time_of_interaction: Mapped[dt.time | None] = mapped_column(Time, nullable=True)
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    duration_min: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    information_flow: Mapped[str] = mapped_column(String(20), default="")
    initiated_by: Mapped[str] = mapped_column(String(20), default="")
    campaign_no: Mapped[str] = mapped_column(String(20), default="")
    campaign_target: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_response: Mapped[bool] = mapped_column(Boolean, default=False)
    evaluation: Mapped[str] = mapped_column(String(20), default="")
    attempt_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    send_word_doc_as_attachment: Mapped[bool] = mapped_column(Boolean, default=False)
    attachment_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_via: Mapped[str] = mapped_column(String(80), default="")
    personal_text: Mapped[str] = mapped_column(Text, default="")


class SegmentCriteriaAction(Base):
    """One criteria action (Add, Reduce, Refine) with its options and filters, in order."""

    __tablename__ = "segment_criteria_action"

    segment_no: Mapped[str] = mapped_column(_segment_fk(), primary_key=True)
    action_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(30))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SegmentHistory(Base):
    """A line inserted or deleted by a criteria action, so that Go Back can undo it."""

    __tablename__ = "segment_history"

    segment_no: Mapped[str] = mapped_column(_segment_fk(), primary_key=True)
    action_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contact_no: Mapped[str] = mapped_column(String(20), default="")
    action_taken: Mapped[str] = mapped_column(String(20))  # insertion | deletion


class SegmentInteractionLanguage(Base):
    """Content per language for the whole segment (line 0) or for one line."""

    __tablename__ = "segment_interaction_language"

    segment_no: Mapped[str] = mapped_column(_segment_fk(), primary_key=True)
    segment_line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(100), default="")
    attachment_no: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SavedSegmentCriteria(Base):
    """Criteria actions saved under a code, to build other segments the same way."""

    __tablename__ = "saved_segment_criteria"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[str] = mapped_column(String(50), default="")


class SavedSegmentCriteriaAction(Base):
    __tablename__ = "saved_segment_criteria_action"

    code: Mapped[str] = mapped_column(ForeignKey("saved_segment_criteria.code", ondelete="CASCADE"), primary_key=True)
    action_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(30))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoggedSegment(Base):
    """A segment that was logged: its interactions and campaign entries point here."""

    __tablename__ = "logged_segment"

    # Highest + 1 (domain.md 1.14), given by core.base.next_number under a lock held until commit.
    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Unique: a segment number is logged at most once, even when two requests race.
    segment_no: Mapped[str] = mapped_column(String(20), unique=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    creation_date: Mapped[dt.date] = mapped_column(Date)
    user_id: Mapped[str] = mapped_column(String(50), default="")
    canceled: Mapped[bool] = mapped_column(Boolean, default=False)


class IdempotencyRecord(Base):
    """The first answer to a request sent with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
