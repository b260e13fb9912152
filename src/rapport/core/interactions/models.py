"""Models of the interaction log: entries and their comment lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from rapport.db import Base


class InteractionLogEntry(Base):
    """One recorded interaction with a contact."""

    __tablename__ = "interaction_log_entry"
    __table_args__ = (
        Index("ix_ile_contact", "contact_company_no", "contact_no", "date", "postponed"),
        Index("ix_ile_template", "interaction_template_code", "canceled", "date", "postponed"),
        Index("ix_ile_group", "interaction_group_code", "canceled", "date", "postponed"),
        Index("ix_ile_salesperson", "salesperson_code", "date", "postponed"),
        Index("ix_ile_logged_segment", "logged_segment_entry_no", "postponed"),
        Index("ix_ile_campaign", "campaign_no", "campaign_entry_no"),
        Index("ix_ile_campaign_target", "campaign_no", "contact_company_no", "campaign_target", "postponed"),
        Index("ix_ile_document", "document_type", "document_no"),
        Index("ix_ile_postponed_date", "postponed", "date", "entry_no"),
        # Keyset pages of the list: each filter, then postponed, then the key (read in order, stop early).
        Index("ix_ile_list", "postponed", "entry_no"),
        Index("ix_ile_list_contact", "contact_no", "postponed", "entry_no"),
        Index("ix_ile_list_company", "contact_company_no", "postponed", "entry_no"),
        Index("ix_ile_list_template", "interaction_template_code", "postponed", "entry_no"),
        Index("ix_ile_list_group", "interaction_group_code", "postponed", "entry_no"),
        Index("ix_ile_list_salesperson", "salesperson_code", "postponed", "entry_no"),
        Index("ix_ile_list_campaign", "campaign_no", "postponed", "entry_no"),
        Index("ix_ile_list_segment", "segment_no", "postponed", "entry_no"),
        Index("ix_ile_list_document", "document_type", "document_no", "postponed", "entry_no"),
        # Numbered from a sequence (domain.md 1.15): on SQLite AUTOINCREMENT, so that the number of a
        # deleted last entry is never given again (PostgreSQL's SERIAL never gives one back anyway).
        {"sqlite_autoincrement": True},
    )

    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_no: Mapped[str] = mapped_column(String(20), default="")
    contact_company_no: Mapped[str] = mapped_column(String(20), default="")
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    time_of_interaction: Mapped[dt.time | None] = mapped_column(Time, nullable=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(100), default="")
    interaction_group_code: Mapped[str] = mapped_column(String(10), default="")
    interaction_template_code: Mapped[str] = mapped_column(String(10), default="")
    information_flow: Mapped[str] = mapped_column(String(20), default="")
    initiated_by: Mapped[str] = mapped_column(String(20), default="")
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    duration_min: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    salesperson_code: Mapped[str] = mapped_column(String(20), default="")
    user_id: Mapped[str] = mapped_column(String(50), default="")
    correspondence_type: Mapped[str] = mapped_column(String(20), default="")
    language_code: Mapped[str] = mapped_column(String(10), default="")
    attachment_no: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    evaluation: Mapped[str] = mapped_column(String(20), default="")
    attempt_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled: Mapped[bool] = mapped_column(Boolean, default=False)
    postponed: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_no: Mapped[str] = mapped_column(String(20), default="")
    campaign_entry_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    campaign_target: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_response: Mapped[bool] = mapped_column(Boolean, default=False)
    segment_no: Mapped[str] = mapped_column(String(20), default="")
    logged_segment_entry_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    document_type: Mapped[str] = mapped_column(String(50), default="")
    document_no: Mapped[str] = mapped_column(String(20), default="")
    version_no: Mapped[int] = mapped_column(Integer, default=0)
    doc_no_occurrence: Mapped[int] = mapped_column(Integer, default=0)
    contact_via: Mapped[str] = mapped_column(String(80), default="")
    opportunity_no: Mapped[str] = mapped_column(String(20), default="")
    delivery_status: Mapped[str] = mapped_column(String(20), default="")
    delivery_error: Mapped[str] = mapped_column(String(250), default="")
    # The segment line's own text, kept for merging the letter or e-mail again on resend.
    personal_text: Mapped[str] = mapped_column(Text, default="")
    send_word_docs_as_attachment: Mapped[bool] = mapped_column(Boolean, default=False)


class InteractionComment(Base):
    """A comment line on an interaction log entry."""

    __tablename__ = "interaction_comment"

    entry_no: Mapped[int] = mapped_column(
        ForeignKey("interaction_log_entry.entry_no", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    code: Mapped[str] = mapped_column(String(10), default="")
    comment: Mapped[str] = mapped_column(String(80), default="")
    last_date_modified: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
