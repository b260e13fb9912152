"""Interaction groups, interaction templates and their per-language content."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from rapport.db import Base


class InteractionGroup(Base):
    __tablename__ = "interaction_group"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class InteractionTemplate(Base):
    """How a kind of interaction is recorded: cost, duration, direction, channel, content."""

    __tablename__ = "interaction_template"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    interaction_group_code: Mapped[str] = mapped_column(
        ForeignKey("interaction_group.code"), index=True
    )
    description: Mapped[str] = mapped_column(String(100), default="")
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    unit_duration_min: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    information_flow: Mapped[str] = mapped_column(String(20), default="")
    initiated_by: Mapped[str] = mapped_column(String(20), default="")
    campaign_no: Mapped[str] = mapped_column(String(20), default="")
    campaign_target: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_response: Mapped[bool] = mapped_column(Boolean, default=False)
    correspondence_type_default: Mapped[str] = mapped_column(String(20), default="email")
    wizard_action: Mapped[str] = mapped_column(String(20), default="")
    ignore_contact_corres_type: Mapped[bool] = mapped_column(Boolean, default=False)
    language_code_default: Mapped[str] = mapped_column(String(10), default="")


class InteractionTemplateLanguage(Base):
    """The content of a template in one language: description, subject, attachment."""

    __tablename__ = "interaction_template_language"

    interaction_template_code: Mapped[str] = mapped_column(
        ForeignKey("interaction_template.code", ondelete="CASCADE"), primary_key=True
    )
    language_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(100), default="")
    attachment_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
