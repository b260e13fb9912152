"""Interaction Log Entries: the list with its filters and actions, the entry with its comments,
and the Delete Canceled Interaction Log Entries batch."""

from __future__ import annotations

import urllib.parse
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.api.deps import ListParams, SessionDep, keyset_page
from rapport.core import attachments
from rapport.core.interactions import InteractionLogEntry as E
from rapport.core.interactions import operations as ops
from rapport.core.interactions import queries, recording
from rapport.core.interactions.operations import (
    CancelRequest,
    CommentCreate,
    CommentUpdate,
    DeleteCanceledFilters,
    EntrySelection,
    EvaluateRequest,
)
from rapport.core.masterdata import Salesperson
from rapport.core.templates import InteractionGroup, InteractionTemplate
from rapport.errors import NotFound, RapportError
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _, ngettext

router = APIRouter()

PAGE_SIZE = 50
LIST_FILTERS = (
    "contact_no",
    "salesperson_code",
    "interaction_template_code",
    "interaction_group_code",
    "campaign_no",
    "canceled",
    "date_from",
    "date_to",
)
DELETE_CANCELED_FIELDS = tuple(DeleteCanceledFilters.model_fields)


# --- captions shared by the interaction pages -----------------------------------------------


def evaluation_options() -> list[tuple[str, str]]:
    return [
        ("", _("(blank)")),
        ("very_positive", _("Very Positive")),
        ("positive", _("Positive")),
        ("neutral", _("Neutral")),
        ("negative", _("Negative")),
        ("very_negative", _("Very Negative")),
    ]


def correspondence_options() -> list[tuple[str, str]]:
    return [("", _("(blank)")), ("hard_copy", _("Hard Copy")), ("email", _("Email"))]


def flow_options() -> list[tuple[str, str]]:
    return [("", _("(blank)")), ("outbound", _("Outbound")), ("inbound", _("Inbound"))]


def initiated_options() -> list[tuple[str, str]]:
    return [("", _("(blank)")), ("us", _("Us")), ("them", _("Them"))]


def captions() -> dict[str, dict[str, str]]:
    """Enum value -> caption, per field, for showing entries."""
    return {
        "evaluation": dict(evaluation_options()) | {"": ""},
        "correspondence_type": dict(correspondence_options()) | {"": ""},
        "information_flow": dict(flow_options()) | {"": ""},
        "initiated_by": dict(initiated_options()) | {"": ""},
        "delivery_status": {"": "", "in_progress": _("In Progress"), "sent": _("Sent"), "error": _("Error")},
    }


def lookups(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Options of the salesperson, template and group lookups."""

    def pairs(rows: Any) -> list[tuple[str, str]]:
        return [("", "")] + [(code, f"{code} {name}".strip()) for code, name in rows]

    return {
        "salespeople": pairs(session.execute(select(Salesperson.code, Salesperson.name).order_by(Salesperson.code))),
        "templates": pairs(
            session.execute(select(InteractionTemplate.code, InteractionTemplate.description).order_by("code"))
        ),
        "groups": pairs(session.execute(select(InteractionGroup.code, InteractionGroup.description).order_by("code"))),
    }


def _safe_back(value: Any, default: str) -> str:
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else default


# --- the list ------------------------------------------------------------------------------


def _list_context(
    request: Request, session: Session, user: Any, query: dict[str, str], errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The Interaction Log Entries page for a set of query parameters."""
    errors = dict(errors or {})
    filters = {k: query[k].strip() for k in LIST_FILTERS if query.get(k, "").strip()}
    expr_field, expr = query.get("filter_field", ""), query.get("filter_expr", "").strip()
    params = ListParams(
        limit=PAGE_SIZE,
        cursor=query.get("cursor") or None,
        filters={expr_field: expr} if expr_field and expr else {},
        query=filters,
    )
    rows: list[E] = []
    next_cursor = None
    try:
        stmt = queries.list_statement(filters)
        rows, next_cursor = keyset_page(session, stmt, [E.entry_no], params, queries.ENTRY_FIELDS)
    except RapportError as exc:
        field = exc.field if exc.field in LIST_FILTERS else "filter_expr"
        errors.setdefault(field, exc.message)
    shown = {k: v for k, v in query.items() if k != "cursor" and v}
    return {
        "user": user,
        "rows": rows,
        "names": queries.contact_names(session, rows),
        "commented": ops.has_comments(session, [e.entry_no for e in rows]),
        "query": query,
        "here": "/interactions" + ("?" + urllib.parse.urlencode(shown) if shown else ""),
        "next_url": "/interactions?" + urllib.parse.urlencode({**shown, "cursor": next_cursor})
        if next_cursor
        else None,
        "filter_fields": [("", "")] + [(name, name) for name in sorted(queries.ENTRY_FIELDS)],
        "errors": errors,
        "evaluations": evaluation_options()[1:],
        "captions": captions(),
        **lookups(session),
    }


@router.get("/interactions")
def entry_list(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)
    context = _list_context(request, session, user, dict(request.query_params))
    return render(request, "interactions/list.html", context, status_code=422 if context["errors"] else 200)


async def _bulk(request: Request, session: Session, action: str) -> Any:
    """Cancel, un-cancel or evaluate the ticked entries, then show the list again."""
    form = await check_csrf(request)
    user = page_user(request, session, "interactions.write")
    back = _safe_back(form.get("back"), "/interactions")
    nos = [n for n in form.getlist("entry_nos") if isinstance(n, str)]
    try:
        if action == "cancel":
            remove = form.get("remove_unique_attachments") == "true"
            changed = ops.cancel(session, CancelRequest(entry_nos=nos, remove_unique_attachments=remove))
            message = ngettext("%(num)s entry was canceled.", "%(num)s entries were canceled.", len(changed))
        elif action == "uncancel":
            changed = ops.uncancel(session, EntrySelection(entry_nos=nos))
            message = ngettext("%(num)s entry was un-canceled.", "%(num)s entries were un-canceled.", len(changed))
        else:
            evaluation = str(form.get("evaluation", ""))
            changed = ops.evaluate(session, EvaluateRequest(entry_nos=nos, evaluation=evaluation))
            message = ngettext("%(num)s entry was evaluated.", "%(num)s entries were evaluated.", len(changed))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        errors = form_errors(exc)
        if "entry_nos" in errors and not nos:
            errors["entry_nos"] = _("Select at least one entry first.")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
        context = _list_context(request, session, user, query, errors)
        context["selected"] = {int(n) for n in nos if n.isdigit()}
        return render(request, "interactions/list.html", context, status_code=422)
    flash(request, message)
    return redirect(back)


@router.post("/interactions/cancel")
async def cancel_entries(request: Request, session: SessionDep) -> Any:
    return await _bulk(request, session, "cancel")


@router.post("/interactions/uncancel")
async def uncancel_entries(request: Request, session: SessionDep) -> Any:
    return await _bulk(request, session, "uncancel")


@router.post("/interactions/evaluate")
async def evaluate_entries(request: Request, session: SessionDep) -> Any:
    return await _bulk(request, session, "evaluate")


# --- Delete Canceled Interaction Log Entries -------------------------------------------------


def _delete_canceled_filters(form: Any) -> tuple[dict[str, str], DeleteCanceledFilters]:
    values = {name: str(form.get(name, "")).strip() for name in DELETE_CANCELED_FIELDS}
    return values, DeleteCanceledFilters(**{k: v for k, v in values.items() if v})


@router.get("/interactions/delete-canceled")
def delete_canceled_form(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session, "marketing.write")
    values = dict.fromkeys(DELETE_CANCELED_FIELDS, "")
    context = {"user": user, "values": values, "count": None, **lookups(session)}
    return render(request, "interactions/delete_canceled.html", context)


@router.post("/interactions/delete-canceled")
async def delete_canceled(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = {name: str(form.get(name, "")).strip() for name in DELETE_CANCELED_FIELDS}
    try:
        values, filters = _delete_canceled_filters(form)
        deleted = ops.delete_canceled(session, filters)
        if form.get("go") != "delete":
            # The preview runs the batch itself and rolls it back: the count is exactly what Delete would do.
            session.rollback()
            context = {"user": user, "values": values, "count": deleted, **lookups(session)}
            return render(request, "interactions/delete_canceled.html", context)
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        context = {"user": user, "values": values, "count": None, "errors": form_errors(exc), **lookups(session)}
        return render(request, "interactions/delete_canceled.html", context, status_code=422)
    flash(request, ngettext("%(num)s canceled entry was deleted.", "%(num)s canceled entries were deleted.", deleted))
    return redirect("/interactions?canceled=true")


# --- one entry -----------------------------------------------------------------------------


def _comments_context(session: Session, entry_no: int, edit: int | None = None) -> dict[str, Any]:
    return {"entry_no": entry_no, "comments": ops.list_comments(session, entry_no), "edit": edit}


def _entry_context(session: Session, user: Any, entry: E, edit: int | None = None) -> dict[str, Any]:
    attachment = None
    if entry.attachment_no is not None:
        try:
            attachment = attachments.get_attachment(session, entry.attachment_no)
        except NotFound:
            attachment = None
    return {
        "user": user,
        "entry": entry,
        "names": queries.contact_names(session, [entry]),
        "attachment": attachment,
        "captions": captions(),
        "correspondence_types": correspondence_options(),
        **_comments_context(session, entry.entry_no, edit),
    }


@router.get("/interactions/{entry_no:int}")
def entry_page(request: Request, session: SessionDep, entry_no: int, edit: int | None = None) -> Any:
    user = page_user(request, session)
    entry = recording.get_entry(session, entry_no)
    return render(request, "interactions/entry.html", _entry_context(session, user, entry, edit))


@router.get("/interactions/{entry_no:int}/attachment")
def entry_attachment(request: Request, session: SessionDep, entry_no: int) -> Response:
    page_user(request, session)
    entry = recording.get_entry(session, entry_no)
    if entry.attachment_no is None:
        raise NotFound(_("Interaction log entry %(no)s has no attachment.", no=entry_no))
    attachment = attachments.get_attachment(session, entry.attachment_no)
    content = attachments.read_content(session, attachment.no)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in attachment.file_name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(attachment.file_name, safe='')}"
    return Response(
        content,
        media_type=attachment.media_type or "application/octet-stream",
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@router.post("/interactions/{entry_no:int}/delete")
async def delete_entry(request: Request, session: SessionDep, entry_no: int) -> Any:
    form = await check_csrf(request)
    page_user(request, session, "interactions.write")
    entry = recording.get_entry(session, entry_no)
    back = _safe_back(form.get("back"), "/interactions/postponed" if entry.postponed else "/interactions")
    try:
        ops.delete_entry(session, entry_no)
        session.commit()
    except RapportError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"/interactions/{entry_no}")
    flash(request, _("Interaction log entry %(no)s was deleted.", no=entry_no))
    return redirect(back)


@router.post("/interactions/{entry_no:int}/resend")
async def resend_entry(request: Request, session: SessionDep, entry_no: int) -> Any:
    form = await check_csrf(request)
    page_user(request, session, "interactions.write")
    recording.get_entry(session, entry_no)
    correspondence_type = str(form.get("correspondence_type", "")) or None
    try:
        # Delivery is a younger part of the core; the page works (and says so) before it exists.
        from rapport.core import deliveries

        resend = deliveries.resend
    except (ImportError, AttributeError):
        flash(request, _("Resending is not available in this installation yet."), "error")
        return redirect(f"/interactions/{entry_no}")
    try:
        resend(session, entry_no, correspondence_type)
        session.commit()
    except RapportError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"/interactions/{entry_no}")
    flash(request, _("Interaction log entry %(no)s was queued to be sent again.", no=entry_no))
    return redirect(f"/interactions/{entry_no}")


# --- comments (inline with htmx; plain posts work too) ----------------------------------------


def _comments_response(request: Request, session: Session, user: Any, entry_no: int, **extra: Any) -> Any:
    status = 422 if extra.get("errors") else 200
    if request.headers.get("hx-request"):
        context = {"user": user, **_comments_context(session, entry_no, extra.pop("edit", None)), **extra}
        return render(request, "interactions/_comments.html", context, status_code=status)
    if status == 200:
        return redirect(f"/interactions/{entry_no}#comments")
    context = _entry_context(session, user, recording.get_entry(session, entry_no), extra.pop("edit", None))
    return render(request, "interactions/entry.html", {**context, **extra}, status_code=status)


@router.get("/interactions/{entry_no:int}/comments")
def comments_fragment(request: Request, session: SessionDep, entry_no: int, edit: int | None = None) -> Any:
    user = page_user(request, session)
    context = {"user": user, **_comments_context(session, entry_no, edit)}
    return render(request, "interactions/_comments.html", context)


def _comment_values(form: Any) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in ("date", "code", "comment")}


@router.post("/interactions/{entry_no:int}/comments")
async def add_comment(request: Request, session: SessionDep, entry_no: int) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "interactions.write")
    values = _comment_values(form)
    try:
        ops.add_comment(session, entry_no, CommentCreate(**{k: v for k, v in values.items() if v}))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        return _comments_response(request, session, user, entry_no, errors=form_errors(exc), new=values)
    return _comments_response(request, session, user, entry_no)


@router.post("/interactions/{entry_no:int}/comments/{line_no:int}")
async def update_comment(request: Request, session: SessionDep, entry_no: int, line_no: int) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "interactions.write")
    values = _comment_values(form)
    data = {"date": values["date"] or None, "code": values["code"], "comment": values["comment"]}
    try:
        ops.update_comment(session, entry_no, line_no, CommentUpdate(**data))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        errors = form_errors(exc)
        return _comments_response(request, session, user, entry_no, errors=errors, edit=line_no, editing=values)
    return _comments_response(request, session, user, entry_no)


@router.post("/interactions/{entry_no:int}/comments/{line_no:int}/delete")
async def delete_comment(request: Request, session: SessionDep, entry_no: int, line_no: int) -> Any:
    await check_csrf(request)
    user = page_user(request, session, "interactions.write")
    ops.delete_comment(session, entry_no, line_no)
    session.commit()
    return _comments_response(request, session, user, entry_no)
