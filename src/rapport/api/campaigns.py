"""JSON API routes: campaigns, campaign entries and campaign target groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.api.deps import (
    ListParamsDep,
    MarketingWriter,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    keyset_page,
    parse_date_param,
)
from rapport.core import campaigns
from rapport.core.base import Int32
from rapport.core.campaigns import Campaign, CampaignCreate, CampaignEntry, CampaignUpdate
from rapport.core.enums import DocumentType, captions
from rapport.errors import Invalid
from rapport.filters import field_specs

router = APIRouter(route_class=ReleasingRoute, tags=["campaigns"])

CAMPAIGN_FIELDS = field_specs(Campaign)
ENTRY_FIELDS = field_specs(CampaignEntry, enums={"document_type": captions(DocumentType)})
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class CampaignRead(BaseModel):
    no: str
    description: str
    starting_date: dt.date | None
    ending_date: dt.date | None
    salesperson_code: str
    status_code: str
    activated: bool
    target_contacts_contacted: int
    contacts_responded: int
    cost: float
    duration_min: float


class CampaignPage(BaseModel):
    items: list[CampaignRead]
    next_cursor: str | None


class CampaignEntryRead(BaseModel):
    entry_no: int
    campaign_no: str
    description: str
    date: dt.date | None
    user_id: str
    segment_no: str
    canceled: bool
    salesperson_code: str
    register_no: int | None
    document_type: str
    no_of_interactions: int
    cost: float
    duration_min: float


class CampaignEntryPage(BaseModel):
    items: list[CampaignEntryRead]
    next_cursor: str | None


class TargetGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    type: str
    no: str
    campaign_no: str


_CAMPAIGN_COLUMNS = [c.key for c in Campaign.__table__.columns]
_ENTRY_COLUMNS = [c.key for c in CampaignEntry.__table__.columns]


def campaigns_read(
    session: Session, rows: list[Campaign], query: dict[str, str] | None = None
) -> list[CampaignRead]:
    """Campaigns with their activation and statistics for the requested period."""
    query = query or {}
    nos = [c.no for c in rows]
    totals = campaigns.campaign_statistics(
        session, nos, parse_date_param(query, "date_from"), parse_date_param(query, "date_to")
    )
    activated = campaigns.activated_campaigns(session, nos)
    return [
        CampaignRead(
            **{f: getattr(c, f) for f in _CAMPAIGN_COLUMNS},
            activated=c.no in activated,
            **vars(totals[c.no]),
        )
        for c in rows
    ]


def entries_read(session: Session, rows: list[CampaignEntry]) -> list[CampaignEntryRead]:
    """Campaign entries with their interaction counts and sums."""
    totals = campaigns.entry_statistics(session, [e.entry_no for e in rows])
    return [
        CampaignEntryRead(**{f: getattr(e, f) for f in _ENTRY_COLUMNS}, **vars(totals[e.entry_no]))
        for e in rows
    ]


def _boolean(query: dict[str, str], name: str) -> bool | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    parsed = _BOOLEANS.get(value.strip().lower())
    if parsed is None:
        raise Invalid(f"{name} must be true or false.", field=name)
    return parsed


# --- campaigns -----------------------------------------------------------------------------


@router.get("/campaigns", response_model=CampaignPage)
def list_campaigns(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Campaigns by number; statistics take date_from/date_to."""
    rows, cursor = keyset_page(session, select(Campaign), [Campaign.no], params, CAMPAIGN_FIELDS)
    return {"items": campaigns_read(session, rows, params.query), "next_cursor": cursor}


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(data: CampaignCreate, session: SessionDep, _: MarketingWriter) -> CampaignRead:
    campaign = campaigns.create_campaign(session, data)
    commit(session)
    return campaigns_read(session, [campaign])[0]


@router.get("/campaigns/{no}", response_model=CampaignRead)
def get_campaign(no: str, session: SessionDep, params: ListParamsDep, _: Reader) -> CampaignRead:
    return campaigns_read(session, [campaigns.get_campaign(session, no)], params.query)[0]


@router.patch("/campaigns/{no}", response_model=CampaignRead)
def update_campaign(
    no: str, data: CampaignUpdate, session: SessionDep, _: MarketingWriter
) -> CampaignRead:
    campaign = campaigns.update_campaign(session, no, data)
    commit(session)
    return campaigns_read(session, [campaign])[0]


@router.delete("/campaigns/{no}", status_code=204)
def delete_campaign(no: str, session: SessionDep, _: MarketingWriter) -> Response:
    campaigns.delete_campaign(session, no)
    commit(session)
    return Response(status_code=204)


@router.post("/campaigns/{no}/activate", response_model=CampaignRead)
def activate_campaign(no: str, session: SessionDep, _: MarketingWriter) -> CampaignRead:
    campaign = campaigns.activate(session, no)
    commit(session)
    return campaigns_read(session, [campaign])[0]


@router.post("/campaigns/{no}/deactivate", response_model=CampaignRead)
def deactivate_campaign(no: str, session: SessionDep, _: MarketingWriter) -> CampaignRead:
    campaign = campaigns.deactivate(session, no)
    commit(session)
    return campaigns_read(session, [campaign])[0]


@router.get("/campaigns/{no}/target-groups", response_model=list[TargetGroupRead])
def get_target_groups(no: str, session: SessionDep, _: Reader) -> Any:
    return campaigns.target_groups(session, no)


# --- campaign entries ----------------------------------------------------------------------


@router.get("/campaign-entries", response_model=CampaignEntryPage)
def list_campaign_entries(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Campaign entries by number; `campaign_no` and `canceled` narrow, as does filter[<field>]."""
    stmt = select(CampaignEntry)
    campaign_no = params.query.get("campaign_no", "").strip().upper()
    if campaign_no:
        stmt = stmt.where(CampaignEntry.campaign_no == campaign_no)
    canceled = _boolean(params.query, "canceled")
    if canceled is not None:
        stmt = stmt.where(CampaignEntry.canceled.is_(canceled))
    rows, cursor = keyset_page(session, stmt, [CampaignEntry.entry_no], params, ENTRY_FIELDS)
    return {"items": entries_read(session, rows), "next_cursor": cursor}


@router.get("/campaign-entries/{entry_no}", response_model=CampaignEntryRead)
def get_campaign_entry(entry_no: Int32, session: SessionDep, _: Reader) -> CampaignEntryRead:
    return entries_read(session, [campaigns.get_entry(session, entry_no)])[0]


@router.post("/campaign-entries/{entry_no}/cancel", response_model=CampaignEntryRead)
def cancel_campaign_entry(
    entry_no: Int32, session: SessionDep, _: MarketingWriter
) -> CampaignEntryRead:
    """Cancel a campaign entry and all its interactions."""
    entry = campaigns.set_entry_canceled(session, entry_no, True)
    commit(session)
    return entries_read(session, [entry])[0]


@router.post("/campaign-entries/{entry_no}/uncancel", response_model=CampaignEntryRead)
def uncancel_campaign_entry(
    entry_no: Int32, session: SessionDep, _: MarketingWriter
) -> CampaignEntryRead:
    """Take the cancel mark off a campaign entry and all its interactions."""
    entry = campaigns.set_entry_canceled(session, entry_no, False)
    commit(session)
    return entries_read(session, [entry])[0]
