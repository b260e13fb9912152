"""Campaigns, campaign entries and campaign target groups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core import setup
from rapport.core.base import Code10, Code20, StrictModel, Text100, get_or_404, next_number
from rapport.core.contacts import ContactBusinessRelation
from rapport.core.enums import LinkToTable
from rapport.core.masterdata import check_salesperson
from rapport.db import Base
from rapport.errors import Conflict, Invalid

if TYPE_CHECKING:
    from rapport.core.interactions import InteractionLogEntry

TARGET_CUSTOMER = "customer"
TARGET_CONTACT = "contact"

ACTIVATE_WITHOUT_TARGETS = (
    "To activate the campaign, apply segment lines or interactions to it with Campaign Target set."
)

class Campaign(Base):
    """A marketing campaign that interactions and segments are applied to."""

    __tablename__ = "campaign"

    no: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    starting_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    ending_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    salesperson_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    status_code: Mapped[str] = mapped_column(String(10), default="")


class CampaignEntry(Base):
    """The interactions of one campaign from one segment, document type or manual logging."""

    __tablename__ = "campaign_entry"
    __table_args__ = (Index("ix_campaign_entry_campaign", "campaign_no", "date", "document_type"),)

    # Highest + 1 (domain.md 1.17), given by core.base.next_number under a lock held until commit.
    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    campaign_no: Mapped[str] = mapped_column(ForeignKey("campaign.no"))
    description: Mapped[str] = mapped_column(String(100), default="")
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    user_id: Mapped[str] = mapped_column(String(50), default="")
    segment_no: Mapped[str] = mapped_column(String(20), default="")
    canceled: Mapped[bool] = mapped_column(Boolean, default=False)
    salesperson_code: Mapped[str] = mapped_column(String(20), default="")
    register_no: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    document_type: Mapped[str] = mapped_column(String(50), default="")


class CampaignTargetGroup(Base):
    """A customer or company contact targeted by an activated campaign."""

    __tablename__ = "campaign_target_group"

    type: Mapped[str] = mapped_column(String(10), primary_key=True)
    no: Mapped[str] = mapped_column(String(20), primary_key=True)
    campaign_no: Mapped[str] = mapped_column(
        ForeignKey("campaign.no", ondelete="CASCADE"), primary_key=True, index=True
    )


# --- input schemas -------------------------------------------------------------------------


class CampaignCreate(StrictModel):
    no: Code20 = ""
    description: Text100 = ""
    starting_date: dt.date | None = None
    ending_date: dt.date | None = None
    salesperson_code: Code20 = ""
    status_code: Code10 = ""


class CampaignUpdate(StrictModel):
    description: Text100 | None = None
    starting_date: dt.date | None = None
    ending_date: dt.date | None = None
    salesperson_code: Code20 | None = None
    status_code: Code10 | None = None


_NULLABLE = {"starting_date", "ending_date"}


# --- queries -----------------------------------------------------------------------------


def _log_entry() -> type[InteractionLogEntry]:
    # Imported late: the interaction log calls into this module, and this one reads the log.
    from rapport.core.interactions import InteractionLogEntry

    return InteractionLogEntry


def get_campaign(session: Session, no: str) -> Campaign:
    """The campaign with number `no`, or NotFound."""
    return get_or_404(session, Campaign, no.strip().upper(), "Campaign")


def get_entry(session: Session, entry_no: int) -> CampaignEntry:
    """The campaign entry with number `entry_no`, or NotFound."""
    return get_or_404(session, CampaignEntry, entry_no, "Campaign entry")


def check_campaign(session: Session, no: str, field: str) -> None:
    """Invalid unless the campaign exists (blank is fine)."""
    if no and session.get(Campaign, no) is None:
        raise Invalid(f"Campaign {no} does not exist.", field=field)


def is_activated(session: Session, campaign_no: str) -> bool:
    """Whether the campaign has target group rows (BC's Activated FlowField)."""
    if not campaign_no:
        return False
    return bool(session.scalar(select(exists().where(CampaignTargetGroup.campaign_no == campaign_no))))


def activated_campaigns(session: Session, nos: list[str]) -> set[str]:
    """Which of the given campaigns are activated, in one query."""
    if not nos:
        return set()
    return set(
        session.scalars(
            select(CampaignTargetGroup.campaign_no).where(CampaignTargetGroup.campaign_no.in_(nos)).distinct()
        )
    )


def target_groups(session: Session, campaign_no: str) -> list[CampaignTargetGroup]:
    """The target group rows of a campaign, by type and number."""
    campaign = get_campaign(session, campaign_no)
    return list(
        session.scalars(
            select(CampaignTargetGroup)
            .where(CampaignTargetGroup.campaign_no == campaign.no)
            .order_by(CampaignTargetGroup.type, CampaignTargetGroup.no)
        )
    )


# --- statistics ----------------------------------------------------------------------------


@dataclass
class EntryTotals:
    """No. of Interactions, Cost and Duration of a campaign entry."""

    no_of_interactions: int = 0
    cost: Decimal = Decimal(0)
    duration_min: Decimal = Decimal(0)


@dataclass
class CampaignTotals:
    """Target Contacts Contacted, Contacts Responded, Cost and Duration of a campaign."""

    target_contacts_contacted: int = 0
    contacts_responded: int = 0
    cost: Decimal = Decimal(0)
    duration_min: Decimal = Decimal(0)


def campaign_statistics(
    session: Session,
    nos: list[str],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, CampaignTotals]:
    """Statistics of the given campaigns over non-canceled, non-postponed log entries."""
    result = {no: CampaignTotals() for no in nos}
    if not nos:
        return result
    entry = _log_entry()
    stmt = (
        select(
            entry.campaign_no,
            func.coalesce(func.sum(case((entry.campaign_target.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((entry.campaign_response.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(entry.cost), 0),
            func.coalesce(func.sum(entry.duration_min), 0),
        )
        .where(
            entry.campaign_no.in_(nos),
            entry.canceled.is_(False),
            entry.postponed.is_(False),
        )
        .group_by(entry.campaign_no)
    )
    if date_from is not None:
        stmt = stmt.where(entry.date >= date_from)
    if date_to is not None:
        stmt = stmt.where(entry.date <= date_to)
    for no, targets, responses, cost, duration in session.execute(stmt):
        result[no] = CampaignTotals(int(targets), int(responses), Decimal(cost), Decimal(duration))
    return result


def entry_statistics(session: Session, entry_nos: list[int]) -> dict[int, EntryTotals]:
    """Per campaign entry: its log entries whose Canceled equals the entry's own flag."""
    result = {no: EntryTotals() for no in entry_nos}
    if not entry_nos:
        return result
    entry = _log_entry()
    rows = session.execute(
        select(
            CampaignEntry.entry_no,
            func.count(entry.entry_no),
            func.coalesce(func.sum(entry.cost), 0),
            func.coalesce(func.sum(entry.duration_min), 0),
        )
        .join(
            entry,
            and_(
                entry.campaign_no == CampaignEntry.campaign_no,
                entry.campaign_entry_no == CampaignEntry.entry_no,
                entry.canceled == CampaignEntry.canceled,
            ),
        )
        .where(CampaignEntry.entry_no.in_(entry_nos))
        .group_by(CampaignEntry.entry_no)
    )
    for no, count, cost, duration in rows:
        result[no] = EntryTotals(int(count), Decimal(cost), Decimal(duration))
    return result


# --- campaigns -----------------------------------------------------------------------------


def _check(session: Session, campaign: Campaign) -> None:
    if (
        campaign.starting_date is not None
        and campaign.ending_date is not None
        and campaign.starting_date > campaign.ending_date
    ):
        raise Invalid(
            f"The ending date {campaign.ending_date} is before the starting date "
            f"{campaign.starting_date}; give an ending date on or after the start.",
            field="ending_date",
        )
    check_salesperson(session, campaign.salesperson_code, "salesperson_code")


def create_campaign(session: Session, data: CampaignCreate) -> Campaign:
    """Insert a campaign; without a number it takes the next one of Marketing Setup's series."""
    ms = setup.get_marketing_setup(session)
    values = data.model_dump()
    no = values.pop("no")
    if no:
        setup.check_manual_no(session, ms.campaign_nos, no)
        if session.get(Campaign, no) is not None:
            raise Conflict(f"Campaign {no} already exists.", field="no")
    else:
        no = setup.next_no(session, ms.campaign_nos, "campaign_nos")
        if session.get(Campaign, no) is not None:
            raise Conflict(f"Campaign {no} already exists; the number series is behind.", field="no")
    campaign = Campaign(no=no, **values)
    _check(session, campaign)
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, no: str, data: CampaignUpdate) -> Campaign:
    """Change the given fields of a campaign; the dates must stay in order."""
    campaign = get_campaign(session, no)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name not in _NULLABLE:
            raise Invalid(f"{name} cannot be null.", field=name)
        setattr(campaign, name, value)
    _check(session, campaign)
    session.flush()
    return campaign


def delete_campaign(session: Session, no: str) -> None:
    """Delete a campaign that nothing refers to; campaign entries are history and block it."""
    from rapport.core.templates import InteractionTemplate

    campaign = get_campaign(session, no)
    entry = _log_entry()
    uses = (
        (CampaignEntry.campaign_no, "campaign entries"),
        (entry.campaign_no, "interaction log entries"),
        (InteractionTemplate.campaign_no, "interaction templates"),
    )
    for column, what in uses:
        if session.scalar(select(exists().where(column == campaign.no))):
            raise Conflict(
                f"Campaign {campaign.no} is used by {what}; it is kept as their history and cannot be deleted."
            )
    _clear_targets(session, campaign.no)
    session.delete(campaign)
    session.flush()


# --- campaign entries ----------------------------------------------------------------------


def _find_entry(session: Session, campaign_no: str, segment_no: str, document_type: str) -> int | None:
    return session.scalar(
        select(CampaignEntry.entry_no)
        .where(
            CampaignEntry.campaign_no == campaign_no,
            CampaignEntry.document_type == document_type,
            CampaignEntry.segment_no == segment_no,
        )
        .order_by(CampaignEntry.entry_no)
        .limit(1)
    )


def entry_for(
    session: Session,
    *,
    campaign_no: str,
    segment_no: str,
    document_type: str,
    date: dt.date | None,
    salesperson_code: str,
    user_id: str,
    description: str,
    register_no: int | None = None,
) -> int:
    """The campaign entry for (campaign, segment, document type), created when there is none."""
    found = _find_entry(session, campaign_no, segment_no, document_type)
    if found is not None:
        return found
    # The number first: its lock (held until commit) serializes every new campaign entry, so concurrent
    # loggers agree on one entry per (campaign, segment, document type). Taken before the campaign's row
    # lock, in the one order every transaction takes them in, so that two never wait for each other.
    entry_no = next_number(session, CampaignEntry.entry_no)
    locked = session.scalar(select(Campaign.no).where(Campaign.no == campaign_no).with_for_update())
    if locked is None:
        raise Invalid(f"Campaign {campaign_no} does not exist.", field="campaign_no")
    found = _find_entry(session, campaign_no, segment_no, document_type)
    if found is not None:
        return found
    campaign_entry = CampaignEntry(
        entry_no=entry_no,
        campaign_no=campaign_no,
        description=description[:100],
        date=date,
        user_id=user_id,
        segment_no=segment_no,
        canceled=False,
        salesperson_code=salesperson_code,
        register_no=register_no,
        document_type=document_type,
    )
    session.add(campaign_entry)
    session.flush()
    return campaign_entry.entry_no


def set_entry_canceled(session: Session, entry_no: int, canceled: bool) -> CampaignEntry:
    """Set Canceled on a campaign entry and on all its interaction log entries."""
    campaign_entry = get_entry(session, entry_no)
    campaign_entry.canceled = canceled
    entry = _log_entry()
    session.execute(
        update(entry)
        .where(entry.campaign_no == campaign_entry.campaign_no, entry.campaign_entry_no == entry_no)
        .values(canceled=canceled)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return campaign_entry


# --- target groups -------------------------------------------------------------------------


def _targeted_companies(campaign_no: str, contact_company_no: str | None = None) -> Any:
    """Contact companies that a campaign targets: the one place that knows the sources, the
    non-postponed log entries and the segment lines with Campaign Target set (domain.md 3.4.7)."""
    from rapport.core.segments.models import SegmentLine

    entry = _log_entry()
    sources = []
    for company, *conditions in (
        (
            entry.contact_company_no,
            entry.campaign_no == campaign_no,
            entry.campaign_target.is_(True),
            entry.postponed.is_(False),
        ),
        (SegmentLine.contact_company_no, SegmentLine.campaign_no == campaign_no, SegmentLine.campaign_target.is_(True)),
    ):
        wanted = company != "" if contact_company_no is None else company == contact_company_no
        sources.append(select(company.label("company_no")).where(*conditions, wanted))
    return union_all(*sources)


def _target_key(session: Session, contact_company_no: str) -> tuple[str, str]:
    link_no = session.scalar(
        select(func.min(ContactBusinessRelation.link_no)).where(
            ContactBusinessRelation.contact_no == contact_company_no,
            ContactBusinessRelation.link_to_table == LinkToTable.CUSTOMER.value,
            ContactBusinessRelation.link_no != "",
        )
    )
    if link_no:
        return TARGET_CUSTOMER, link_no
    return TARGET_CONTACT, contact_company_no


def add_target(session: Session, campaign_no: str, contact_company_no: str) -> None:
    """Add the company (or its customer) to the target group of an activated campaign."""
    if not campaign_no or not contact_company_no or not is_activated(session, campaign_no):
        return
    type_, no = _target_key(session, contact_company_no)
    if session.get(CampaignTargetGroup, (type_, no, campaign_no)) is None:
        session.add(CampaignTargetGroup(type=type_, no=no, campaign_no=campaign_no))
        session.flush()


def remove_target_if_unused(session: Session, campaign_no: str, contact_company_no: str) -> None:
    """Remove the company's target row once nothing targets it any more (call after the change)."""
    if not campaign_no or not contact_company_no or not is_activated(session, campaign_no):
        return
    session.flush()
    still = _targeted_companies(campaign_no, contact_company_no).subquery()
    if session.scalar(select(exists().select_from(still))):
        return
    type_, no = _target_key(session, contact_company_no)
    session.execute(
        delete(CampaignTargetGroup).where(
            CampaignTargetGroup.campaign_no == campaign_no,
            CampaignTargetGroup.type == type_,
            CampaignTargetGroup.no == no,
        )
    )
    session.flush()


def activate(session: Session, campaign_no: str) -> Campaign:
    """Fill the campaign's target group from everything that targets it (set-based)."""
    campaign = get_campaign(session, campaign_no)
    targeted = _targeted_companies(campaign.no).subquery()
    companies = select(targeted.c.company_no).distinct().subquery()
    if not session.scalar(select(exists().select_from(companies))):
        raise Conflict(ACTIVATE_WITHOUT_TARGETS)
    links = (
        select(
            ContactBusinessRelation.contact_no,
            func.min(ContactBusinessRelation.link_no).label("link_no"),
        )
        .where(
            ContactBusinessRelation.link_to_table == LinkToTable.CUSTOMER.value,
            ContactBusinessRelation.link_no != "",
        )
        .group_by(ContactBusinessRelation.contact_no)
        .subquery()
    )
    targets = (
        select(
            case(
                (links.c.link_no.is_not(None), literal(TARGET_CUSTOMER, String(10))),
                else_=literal(TARGET_CONTACT, String(10)),
            ).label("type"),
            func.coalesce(links.c.link_no, companies.c.company_no).label("no"),
        )
        .select_from(companies.outerjoin(links, links.c.contact_no == companies.c.company_no))
        .distinct()
        .subquery()
    )
    session.execute(
        insert(CampaignTargetGroup).from_select(
            ["type", "no", "campaign_no"],
            select(targets.c.type, targets.c.no, literal(campaign.no, String(20))).where(
                ~exists().where(
                    CampaignTargetGroup.campaign_no == campaign.no,
                    CampaignTargetGroup.type == targets.c.type,
                    CampaignTargetGroup.no == targets.c.no,
                )
            ),
        )
    )
    session.flush()
    return campaign


def deactivate(session: Session, campaign_no: str) -> Campaign:
    """Empty the campaign's target group."""
    campaign = get_campaign(session, campaign_no)
    _clear_targets(session, campaign.no)
    session.flush()
    return campaign


def _clear_targets(session: Session, campaign_no: str) -> None:
    session.execute(delete(CampaignTargetGroup).where(CampaignTargetGroup.campaign_no == campaign_no))
