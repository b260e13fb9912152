"""Logged segments: the list, Delete Canceled, and the card with its interactions, cancel / un-cancel,
follow-up segment and the letters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import func, select

from rapport.api.deps import ListParams, SessionDep, keyset_page
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.segments import logging as seglog
from rapport.core.segments.logging import DeleteLoggedFilters
from rapport.core.segments.models import LoggedSegment
from rapport.errors import RapportError
from rapport.filters import compile_filters, field_specs
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _, ngettext
from rapport.web.segments import content_disposition

router = APIRouter()

PAGE_SIZE = 50
LOGGED_FILTERS = field_specs(LoggedSegment)
DELETE_FIELDS = ("entry_no_from", "entry_no_to", "segment_no")


def _query_string(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in values.items() if v})


@router.get("/logged-segments")
def list_logged(request: Request, session: SessionDep) -> Any:
    """Logged segments by entry number, with BC filters on segment no. and description."""
    user = page_user(request, session)
    query = request.query_params
    filters = {name: query[name] for name in ("segment_no", "description") if (query.get(name) or "").strip()}
    errors: dict[str, str] = {}
    try:
        compile_filters(LOGGED_FILTERS, filters)
    except RapportError as exc:
        errors, filters = form_errors(exc), {}
    params = ListParams(limit=PAGE_SIZE, cursor=query.get("cursor") or None, filters=filters)
    rows, cursor = keyset_page(session, select(LoggedSegment), [LoggedSegment.entry_no], params, LOGGED_FILTERS)
    values = {"segment_no": query.get("segment_no", ""), "description": query.get("description", "")}
    return render(
        request,
        "logged_segments/list.html",
        {
            "user": user,
            "rows": rows,
            "counts": seglog.logged_counts(session, rows),
            "next_url": f"/logged-segments?{_query_string({**values, 'cursor': cursor})}" if cursor else None,
            "values": values,
            "errors": errors,
            "delete_values": {},
        },
        status_code=422 if errors else 200,
    )


def _delete_filters(values: dict[str, str]) -> DeleteLoggedFilters:
    given = {k: v.strip() for k, v in values.items() if k in DELETE_FIELDS and v.strip()}
    return DeleteLoggedFilters(**given)


@router.post("/logged-segments/delete-canceled")
async def delete_canceled(request: Request, session: SessionDep) -> Any:
    """Delete canceled logged segments: first a confirmation with the count, then the deletion."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = {k: str(form.get(k, "")) for k in DELETE_FIELDS}
    try:
        filters = _delete_filters(values)
    except ValidationError as exc:
        return render(
            request,
            "logged_segments/delete_canceled.html",
            {"user": user, "values": values, "errors": form_errors(exc), "count": None},
            status_code=422,
        )
    if form.get("confirmed") != "yes":
        conditions: list[Any] = [LoggedSegment.canceled.is_(True)]
        if filters.entry_no_from is not None:
            conditions.append(LoggedSegment.entry_no >= filters.entry_no_from)
        if filters.entry_no_to is not None:
            conditions.append(LoggedSegment.entry_no <= filters.entry_no_to)
        if filters.segment_no is not None:
            conditions.append(LoggedSegment.segment_no == filters.segment_no)
        count = int(session.scalar(select(func.count()).select_from(LoggedSegment).where(*conditions)) or 0)
        return render(
            request,
            "logged_segments/delete_canceled.html",
            {"user": user, "values": values, "errors": {}, "count": count},
        )
    deleted = seglog.delete_canceled(session, filters)
    session.commit()
    flash(request, ngettext("%(num)s logged segment was deleted.", "%(num)s logged segments were deleted.", deleted))
    return redirect("/logged-segments")


@router.get("/logged-segments/{entry_no}")
def logged_card(entry_no: int, request: Request, session: SessionDep) -> Any:
    """A logged segment with its interactions (50 a page)."""
    user = page_user(request, session)
    logged = seglog.get_logged(session, entry_no)
    params = ListParams(limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None)
    e = InteractionLogEntry
    interactions, cursor = keyset_page(
        session, select(e).where(e.logged_segment_entry_no == logged.entry_no), [e.entry_no], params
    )
    from rapport.core.contacts import Contact

    nos = {x.contact_no for x in interactions}
    names = dict(session.execute(select(Contact.no, Contact.name).where(Contact.no.in_(nos))).all())
    return render(
        request,
        "logged_segments/card.html",
        {
            "user": user,
            "logged": logged,
            "counts": seglog.logged_counts(session, [logged])[logged.entry_no],
            "interactions": interactions,
            "names": names,
            "next_url": f"/logged-segments/{logged.entry_no}?cursor={cursor}" if cursor else None,
        },
    )


async def _set_canceled(entry_no: int, request: Request, session: Any, canceled: bool) -> Any:
    await check_csrf(request)
    page_user(request, session, "marketing.write")
    logged = seglog.set_logged_canceled(session, entry_no, canceled)
    session.commit()
    if canceled:
        flash(request, _("Logged segment %(no)s and its interactions are canceled.", no=logged.entry_no))
    else:
        flash(request, _("Logged segment %(no)s and its interactions are no longer canceled.", no=logged.entry_no))
    return redirect(f"/logged-segments/{logged.entry_no}")


@router.post("/logged-segments/{entry_no}/cancel")
async def cancel_logged(entry_no: int, request: Request, session: SessionDep) -> Any:
    return await _set_canceled(entry_no, request, session, True)


@router.post("/logged-segments/{entry_no}/uncancel")
async def uncancel_logged(entry_no: int, request: Request, session: SessionDep) -> Any:
    return await _set_canceled(entry_no, request, session, False)


@router.post("/logged-segments/{entry_no}/follow-up")
async def follow_up(entry_no: int, request: Request, session: SessionDep) -> Any:
    """A new segment with the same contacts."""
    await check_csrf(request)
    page_user(request, session, "marketing.write")
    try:
        segment_no = seglog.follow_up(session, entry_no)
        session.commit()
    except RapportError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"/logged-segments/{entry_no}")
    flash(request, _("Follow-up segment %(no)s was created.", no=segment_no))
    return redirect(f"/segments/{segment_no}")


@router.get("/logged-segments/{entry_no}/letters")
def letters(entry_no: int, request: Request, session: SessionDep) -> Any:
    """The merged letters (hard copy) of the logged segment, in one document."""
    user = page_user(request, session)
    logged = seglog.get_logged(session, entry_no)
    try:
        from rapport.core.deliveries import letters_document
    except ImportError:
        return render(
            request,
            "error.html",
            {"user": user, "status": 503, "message": _("Downloading the letters is not available yet.")},
            status_code=503,
        )
    document = letters_document(session, logged.entry_no)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": content_disposition("attachment", document.file_name)},
    )
