"""Segments: the list, a new segment, and the segment card (header in BC's groups, lines grid)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rapport.accounts import User
from rapport.api.deps import ListParams, SessionDep, keyset_page
from rapport.core.campaigns import Campaign
from rapport.core.contacts import Contact
from rapport.core.enums import CorrespondenceType, Evaluation, InformationFlow, InitiatedBy
from rapport.core.masterdata import Language, Salesperson
from rapport.core.segments import actions, manual
from rapport.core.segments import header as headers
from rapport.core.segments.header import SegmentCreate, SegmentUpdate
from rapport.core.segments.manual import LineCreate, LineUpdate
from rapport.core.segments.models import SegmentHeader, SegmentLine
from rapport.core.templates import InteractionTemplate
from rapport.errors import RapportError
from rapport.filters import compile_filters, field_specs
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _

router = APIRouter()

PAGE_SIZE = 50
SEGMENT_FILTERS = field_specs(SegmentHeader)

HEADER_TEXT = (
    "description",
    "salesperson_code",
    "interaction_template_code",
    "language_code_default",
    "subject_default",
    "correspondence_type_default",
    "unit_cost",
    "unit_duration_min",
    "information_flow",
    "initiated_by",
    "campaign_no",
    "date",
)
HEADER_FLAGS = ("ignore_contact_corres_type", "send_word_docs_as_attachment", "campaign_target", "campaign_response")
LINE_TEXT = (
    "contact_no",
    "interaction_template_code",
    "description",
    "subject",
    "language_code",
    "correspondence_type",
    "salesperson_code",
    "date",
    "evaluation",
    "personal_text",
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def enum_options() -> dict[str, list[tuple[str, str]]]:
    """The enum choices of the forms, captioned in the page's language."""
    return {
        "correspondence_type": [
            (CorrespondenceType.BLANK.value, ""),
            (CorrespondenceType.HARD_COPY.value, _("Hard Copy")),
            (CorrespondenceType.EMAIL.value, _("Email")),
        ],
        "information_flow": [
            (InformationFlow.BLANK.value, ""),
            (InformationFlow.OUTBOUND.value, _("Outbound")),
            (InformationFlow.INBOUND.value, _("Inbound")),
        ],
        "initiated_by": [
            (InitiatedBy.BLANK.value, ""),
            (InitiatedBy.US.value, _("Us")),
            (InitiatedBy.THEM.value, _("Them")),
        ],
        "evaluation": [
            (Evaluation.BLANK.value, ""),
            (Evaluation.VERY_POSITIVE.value, _("Very Positive")),
            (Evaluation.POSITIVE.value, _("Positive")),
            (Evaluation.NEUTRAL.value, _("Neutral")),
            (Evaluation.NEGATIVE.value, _("Negative")),
            (Evaluation.VERY_NEGATIVE.value, _("Very Negative")),
        ],
    }


def master_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The code lists the segment forms choose from (small master-data tables)."""

    def listing(stmt: Any, blank: bool = True) -> list[tuple[str, str]]:
        rows = [(code, f"{code} - {name}" if name else code) for code, name in session.execute(stmt)]
        return ([("", "")] if blank else []) + rows

    return {
        "template": listing(
            select(InteractionTemplate.code, InteractionTemplate.description).order_by(InteractionTemplate.code)
        ),
        "salesperson": listing(
            select(Salesperson.code, Salesperson.name).where(Salesperson.blocked.is_(False)).order_by(Salesperson.code)
        ),
        "campaign": listing(select(Campaign.no, Campaign.description).order_by(Campaign.no)),
        "language": listing(select(Language.code, Language.name).order_by(Language.code)),
    }


def changed_fields(current: Any, values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The submitted fields whose value differs from the record's (PATCH semantics for a full form)."""
    result: dict[str, Any] = {}
    for name in names:
        if name not in values:
            continue
        value = values[name]
        old = getattr(current, name)
        if isinstance(old, Decimal):
            try:
                if Decimal(str(value or "0")) == old:
                    continue
            except ArithmeticError:
                pass
            result[name] = value or "0"
        elif isinstance(old, dt.date) or old is None:
            text = value or None
            if (old.isoformat() if old else None) != text:
                result[name] = text
        elif isinstance(old, bool):
            if bool(value) != old:
                result[name] = bool(value)
        elif value != old:
            result[name] = value
    return result


def form_dict(form: Any) -> dict[str, Any]:
    """The submitted fields as text, without the CSRF token."""
    return {k: (v if isinstance(v, str) else "") for k, v in form.items() if k != "csrf_token"}


# --- reads -----------------------------------------------------------------------------------------


def segment_totals(session: Session, nos: list[str]) -> dict[str, tuple[int, Decimal, Decimal]]:
    """No. of Lines, Cost and Duration per segment."""
    return {
        no: (int(count), Decimal(cost), Decimal(duration))
        for no, count, cost, duration in session.execute(
            select(
                SegmentLine.segment_no,
                func.count(),
                func.coalesce(func.sum(SegmentLine.cost), 0),
                func.coalesce(func.sum(SegmentLine.duration_min), 0),
            )
            .where(SegmentLine.segment_no.in_(nos))
            .group_by(SegmentLine.segment_no)
        )
    }


def line_rows(session: Session, lines: list[SegmentLine]) -> list[dict[str, Any]]:
    """Lines with the contact's name and its company's name, for the grid."""
    nos = {line.contact_no for line in lines} | {line.contact_company_no for line in lines}
    names = {
        no: (kind, name)
        for no, kind, name in session.execute(select(Contact.no, Contact.type, Contact.name).where(Contact.no.in_(nos)))
    }
    rows = []
    for line in lines:
        own = names.get(line.contact_no)
        company = names.get(line.contact_company_no)
        rows.append(
            {
                "line": line,
                "name": own[1] if own else "",
                "company_name": company[1] if company and line.contact_company_no != line.contact_no else "",
            }
        )
    return rows


def card_context(
    request: Request,
    session: Session,
    user: User,
    header: SegmentHeader,
    **extra: Any,
) -> dict[str, Any]:
    """Everything the segment card shows: header, totals, one page of lines, criteria history."""
    cursor = request.query_params.get("cursor") or None
    params = ListParams(limit=PAGE_SIZE, cursor=cursor)
    lines, next_cursor = keyset_page(
        session, select(SegmentLine).where(SegmentLine.segment_no == header.no), [SegmentLine.line_no], params
    )
    count, cost, duration = segment_totals(session, [header.no]).get(header.no, (0, Decimal(0), Decimal(0)))
    history = actions.list_actions(session, header.no)
    has_type = session.scalar(
        select(SegmentLine.line_no)
        .where(SegmentLine.segment_no == header.no, SegmentLine.correspondence_type != "")
        .limit(1)
    )
    context: dict[str, Any] = {
        "user": user,
        "segment": header,
        "rows": line_rows(session, lines),
        "next_url": f"/segments/{header.no}?cursor={next_cursor}" if next_cursor else None,
        "no_of_lines": count,
        "cost": cost,
        "duration": duration,
        "history": history,
        "deliver_default": has_type is not None,
        "options": master_options(session),
        "enums": enum_options(),
        "values": {},
        "errors": {},
        "panel": None,
        "editing": None,
    }
    context.update(extra)
    return context


def render_card(
    request: Request, session: Session, user: User, no: str, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    header = actions.get_header(session, no)
    return render(request, "segments/card.html", card_context(request, session, user, header, **extra), status_code)


# --- list and new ----------------------------------------------------------------------------------


@router.get("/segments")
def list_segments(request: Request, session: SessionDep) -> Any:
    """Unlogged segments by number, with a search and BC filters on number and description."""
    user = page_user(request, session)
    query = request.query_params
    search = (query.get("q") or "").strip()
    filters = {name: query[name] for name in ("no", "description") if (query.get(name) or "").strip()}
    errors: dict[str, str] = {}
    stmt = select(SegmentHeader)
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(
            or_(func.lower(SegmentHeader.no).like(pattern), func.lower(SegmentHeader.description).like(pattern))
        )
    try:
        compile_filters(SEGMENT_FILTERS, filters)
    except RapportError as exc:
        errors = form_errors(exc)
        filters = {}
    params = ListParams(limit=PAGE_SIZE, cursor=query.get("cursor") or None, filters=filters)
    rows, cursor = keyset_page(session, stmt, [SegmentHeader.no], params, SEGMENT_FILTERS)
    totals = segment_totals(session, [h.no for h in rows])
    next_url = None
    if cursor:
        kept = {k: v for k, v in query.items() if k != "cursor" and v}
        next_url = "/segments?" + "&".join(f"{k}={v}" for k, v in {**kept, "cursor": cursor}.items())
    return render(
        request,
        "segments/list.html",
        {
            "user": user,
            "segments": [(h, totals.get(h.no, (0, 0, 0))[0]) for h in rows],
            "next_url": next_url,
            "values": {"q": search, "no": query.get("no", ""), "description": query.get("description", "")},
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@router.get("/segments/new")
def new_segment_form(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session, "marketing.write")
    return render(
        request,
        "segments/new.html",
        {"user": user, "values": {}, "options": master_options(session)},
    )


@router.post("/segments/new")
async def create_segment(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = form_dict(form)
    given = {k: values[k] for k in ("no", "description", "interaction_template_code") if values.get(k)}
    try:
        header = headers.create_segment(session, SegmentCreate(**given))
        no = header.no
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return render(
            request,
            "segments/new.html",
            {"user": user, "values": values, "errors": form_errors(exc), "options": master_options(session)},
            status_code=422,
        )
    flash(request, _("Segment %(no)s was created.", no=no))
    return redirect(f"/segments/{no}")


# --- the card ---------------------------------------------------------------------------------------


@router.get("/segments/{no}")
def segment_card(no: str, request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)
    return render_card(request, session, user, no)


@router.post("/segments/{no}")
async def update_segment(no: str, request: Request, session: SessionDep) -> Any:
    """Change the header; `update_lines` is the answer to BC's "update the segment lines?"."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    header = actions.get_header(session, no)
    values = form_dict(form)
    for flag in HEADER_FLAGS:
        values[flag] = flag in form
    changes = changed_fields(header, values, HEADER_TEXT + HEADER_FLAGS)
    try:
        headers.update_segment(session, header.no, SegmentUpdate(**changes, update_lines="update_lines" in form))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return render_card(request, session, user, no, 422, values=values, errors=form_errors(exc), header_open=True)
    flash(request, _("The segment was saved."))
    return redirect(f"/segments/{header.no}")


@router.post("/segments/{no}/delete")
async def delete_segment(no: str, request: Request, session: SessionDep) -> Any:
    await check_csrf(request)
    page_user(request, session, "marketing.write")
    header = actions.get_header(session, no)
    headers.delete_segment(session, header.no)
    session.commit()
    flash(request, _("Segment %(no)s was deleted.", no=header.no))
    return redirect("/segments")


# --- lines --------------------------------------------------------------------------------------------


@router.post("/segments/{no}/lines")
async def add_line(no: str, request: Request, session: SessionDep) -> Any:
    """A line for one contact, with the defaults of the header, template and contact."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    header = actions.get_header(session, no)
    contact_no = str(form.get("new_contact_no", "")).strip()
    try:
        line = manual.add_line(session, header.no, LineCreate(contact_no=contact_no))
        line_no = line.line_no
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        errors = {("new_contact_no" if k in ("contact_no", "_") else k): v for k, v in form_errors(exc).items()}
        return render_card(request, session, user, no, 422, errors=errors, values={"new_contact_no": contact_no})
    flash(request, _("Contact %(contact)s was added as line %(line)s.", contact=contact_no.upper(), line=line_no))
    return redirect(f"/segments/{header.no}#line-{line_no}")


def _line_fragment(
    request: Request, session: Session, user: User, line: SegmentLine, *, edit: bool, **extra: Any
) -> HTMLResponse:
    context = {
        "user": user,
        "segment": actions.get_header(session, line.segment_no),
        "row": line_rows(session, [line])[0],
        "options": master_options(session),
        "enums": enum_options(),
        "values": {},
        "errors": {},
    }
    context.update(extra)
    status = 422 if context["errors"] else 200
    return render(request, "segments/_line_edit.html" if edit else "segments/_line_row.html", context, status)


@router.get("/segments/{no}/lines/{line_no}/edit")
def edit_line_form(no: str, line_no: int, request: Request, session: SessionDep) -> Any:
    user = page_user(request, session, "marketing.write")
    line = manual.get_line(session, no, line_no)
    if is_htmx(request):
        return _line_fragment(request, session, user, line, edit=True)
    return render_card(request, session, user, no, editing=line_no)


@router.get("/segments/{no}/lines/{line_no}")
def line_row(no: str, line_no: int, request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)
    line = manual.get_line(session, no, line_no)
    if is_htmx(request):
        return _line_fragment(request, session, user, line, edit=False)
    return redirect(f"/segments/{line.segment_no}#line-{line_no}")


@router.post("/segments/{no}/lines/{line_no}")
async def update_line(no: str, line_no: int, request: Request, session: SessionDep) -> Any:
    """Change a line (a new contact re-initialises it, as in BC)."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    line = manual.get_line(session, no, line_no)
    values = form_dict(form)
    changes = changed_fields(line, values, LINE_TEXT)
    try:
        line = manual.update_line(session, line.segment_no, line_no, LineUpdate(**changes))
        session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        errors = form_errors(exc)
        line = manual.get_line(session, no, line_no)
        if is_htmx(request):
            return _line_fragment(request, session, user, line, edit=True, values=values, errors=errors)
        return render_card(request, session, user, no, 422, editing=line_no, values=values, errors=errors)
    if is_htmx(request):
        return _line_fragment(request, session, user, line, edit=False)
    flash(request, _("Line %(line)s was saved.", line=line_no))
    return redirect(f"/segments/{line.segment_no}#line-{line_no}")


@router.post("/segments/{no}/lines/{line_no}/delete")
async def delete_line(no: str, line_no: int, request: Request, session: SessionDep) -> Any:
    await check_csrf(request)
    page_user(request, session, "marketing.write")
    line = manual.get_line(session, no, line_no)
    segment_no = line.segment_no
    manual.delete_line(session, segment_no, line_no)
    session.commit()
    flash(request, _("Line %(line)s was deleted; Go Back restores it.", line=line_no))
    return redirect(f"/segments/{segment_no}")


# What a previewed document may load: its own inline styles, images and fonts, nothing else.
PREVIEW_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; font-src data: https:"
)


@router.get("/segments/{no}/lines/{line_no}/document")
def line_document(no: str, line_no: int, request: Request, session: SessionDep) -> Any:
    """The merged letter or e-mail of one line, as its contact would get it."""
    user = page_user(request, session)
    line = manual.get_line(session, no, line_no)
    try:
        from rapport.core.deliveries import line_document as merge_line
    except ImportError:
        return render(
            request,
            "error.html",
            {"user": user, "status": 503, "message": _("The merged-document preview is not available yet.")},
            status_code=503,
        )
    document = merge_line(session, line.segment_no, line_no)
    inline = document.media_type.startswith(("text/html", "text/plain"))
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": content_disposition("inline" if inline else "attachment", document.file_name),
            "X-Content-Type-Options": "nosniff",
            # An e-mail body is shown as its contact would see it, but in a sandbox of its own: no script
            # of an uploaded body runs, and nothing of it reaches Rapport's pages, cookies or forms.
            "Content-Security-Policy": PREVIEW_POLICY,
        },
    )


def content_disposition(kind: str, file_name: str) -> str:
    """A Content-Disposition header that survives non-ASCII file names (RFC 6266)."""
    from urllib.parse import quote

    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "'")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
