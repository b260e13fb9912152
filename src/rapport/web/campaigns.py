"""Campaigns: the list, create and edit, statistics, activation and the campaign entries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.accounts import User
from rapport.api.deps import ListParams, SessionDep, keyset_page
from rapport.core import campaigns
from rapport.core.campaigns import Campaign, CampaignCreate, CampaignEntry, CampaignUpdate
from rapport.core.masterdata import Salesperson
from rapport.errors import RapportError
from rapport.filters import compile_filters, field_specs
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _

router = APIRouter()

PAGE_SIZE = 50
CAMPAIGN_FILTERS = field_specs(Campaign)
FIELDS = ("description", "starting_date", "ending_date", "salesperson_code", "status_code")


def _salespeople(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(select(Salesperson.code, Salesperson.name).order_by(Salesperson.code)).all()
    return [("", "")] + [(code, f"{code} - {name}" if name else code) for code, name in rows]


def _values(form: Any) -> dict[str, str]:
    return {k: str(form.get(k, "")) for k in ("no", *FIELDS)}


def _given(values: dict[str, str]) -> dict[str, Any]:
    """Blank dates are no date; other blanks are blank text."""
    return {k: (values[k] or None) if k.endswith("_date") else values[k] for k in FIELDS}


@router.get("/campaigns")
def list_campaigns(request: Request, session: SessionDep) -> Any:
    """Campaigns by number with their statistics; BC filters on number and description."""
    user = page_user(request, session)
    query = request.query_params
    filters = {name: query[name] for name in ("no", "description") if (query.get(name) or "").strip()}
    errors: dict[str, str] = {}
    try:
        compile_filters(CAMPAIGN_FILTERS, filters)
    except RapportError as exc:
        errors, filters = form_errors(exc), {}
    params = ListParams(limit=PAGE_SIZE, cursor=query.get("cursor") or None, filters=filters)
    rows, cursor = keyset_page(session, select(Campaign), [Campaign.no], params, CAMPAIGN_FILTERS)
    nos = [c.no for c in rows]
    values = {"no": query.get("no", ""), "description": query.get("description", "")}
    return render(
        request,
        "campaigns/list.html",
        {
            "user": user,
            "rows": rows,
            "stats": campaigns.campaign_statistics(session, nos),
            "activated": campaigns.activated_campaigns(session, nos),
            "next_url": f"/campaigns?{urlencode({k: v for k, v in {**values, 'cursor': cursor}.items() if v})}"
            if cursor
            else None,
            "values": values,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@router.get("/campaigns/new")
def new_campaign(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session, "marketing.write")
    return render(request, "campaigns/new.html", {"user": user, "values": {}, "salespeople": _salespeople(session)})


@router.post("/campaigns/new")
async def create_campaign(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = _values(form)
    try:
        campaign = campaigns.create_campaign(session, CampaignCreate(no=values["no"], **_given(values)))
        no = campaign.no
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return render(
            request,
            "campaigns/new.html",
            {"user": user, "values": values, "errors": form_errors(exc), "salespeople": _salespeople(session)},
            status_code=422,
        )
    flash(request, _("Campaign %(no)s was created.", no=no))
    return redirect(f"/campaigns/{no}")


def _card(request: Request, session: Session, user: User, no: str, status_code: int = 200, **extra: Any) -> Any:
    campaign = campaigns.get_campaign(session, no)
    params = ListParams(limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None)
    entries, cursor = keyset_page(
        session,
        select(CampaignEntry).where(CampaignEntry.campaign_no == campaign.no),
        [CampaignEntry.entry_no],
        params,
    )
    context = {
        "user": user,
        "campaign": campaign,
        "stats": campaigns.campaign_statistics(session, [campaign.no])[campaign.no],
        "activated": campaigns.is_activated(session, campaign.no),
        "entries": entries,
        "entry_stats": campaigns.entry_statistics(session, [e.entry_no for e in entries]),
        "next_url": f"/campaigns/{campaign.no}?cursor={cursor}" if cursor else None,
        "salespeople": _salespeople(session),
        "values": {},
        "errors": {},
    }
    context.update(extra)
    return render(request, "campaigns/card.html", context, status_code)


@router.get("/campaigns/{no}")
def campaign_card(no: str, request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)
    return _card(request, session, user, no)


@router.post("/campaigns/{no}")
async def update_campaign(no: str, request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    campaign = campaigns.get_campaign(session, no)
    values = _values(form)
    try:
        campaigns.update_campaign(session, campaign.no, CampaignUpdate(**_given(values)))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return _card(request, session, user, no, 422, values=values, errors=form_errors(exc))
    flash(request, _("Campaign %(no)s was saved.", no=campaign.no))
    return redirect(f"/campaigns/{campaign.no}")


@router.post("/campaigns/{no}/delete")
async def delete_campaign(no: str, request: Request, session: SessionDep) -> Any:
    await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    try:
        campaigns.delete_campaign(session, no)
        session.commit()
    except RapportError as exc:
        session.rollback()
        return _card(request, session, user, no, 409, errors={"_": exc.message})
    flash(request, _("Campaign %(no)s was deleted.", no=no.strip().upper()))
    return redirect("/campaigns")


@router.post("/campaigns/{no}/activate")
async def activate(no: str, request: Request, session: SessionDep) -> Any:
    """Activate: the target groups from the segment lines and interactions marked Campaign Target."""
    await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    try:
        campaign = campaigns.activate(session, no)
        session.commit()
    except RapportError as exc:
        session.rollback()
        return _card(request, session, user, no, 409, errors={"_": exc.message})
    flash(request, _("Campaign %(no)s is activated.", no=campaign.no))
    return redirect(f"/campaigns/{campaign.no}")


@router.post("/campaigns/{no}/deactivate")
async def deactivate(no: str, request: Request, session: SessionDep) -> Any:
    await check_csrf(request)
    page_user(request, session, "marketing.write")
    campaign = campaigns.deactivate(session, no)
    session.commit()
    flash(request, _("Campaign %(no)s is no longer activated.", no=campaign.no))
    return redirect(f"/campaigns/{campaign.no}")


async def _entry_canceled(no: str, entry_no: int, request: Request, session: Session, canceled: bool) -> Any:
    await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    try:
        entry = campaigns.set_entry_canceled(session, entry_no, canceled)
        campaign_no = entry.campaign_no
        session.commit()
    except RapportError as exc:
        session.rollback()
        return _card(request, session, user, no, 409, errors={"_": exc.message})
    if canceled:
        flash(request, _("Campaign entry %(no)s and its interactions are canceled.", no=entry_no))
    else:
        flash(request, _("Campaign entry %(no)s and its interactions are no longer canceled.", no=entry_no))
    return redirect(f"/campaigns/{campaign_no}")


@router.post("/campaigns/{no}/entries/{entry_no}/cancel")
async def cancel_entry(no: str, entry_no: int, request: Request, session: SessionDep) -> Any:
    return await _entry_canceled(no, entry_no, request, session, True)


@router.post("/campaigns/{no}/entries/{entry_no}/uncancel")
async def uncancel_entry(no: str, entry_no: int, request: Request, session: SessionDep) -> Any:
    return await _entry_canceled(no, entry_no, request, session, False)
