"""Segments, their lines and criteria, logging, and logged segments."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Body, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rapport.api.deps import (
    ListParamsDep,
    MarketingWriter,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    file_response,
    keyset_page,
    store_upload,
)
from rapport.api.templates import AttachmentRead, attachment_read, download
from rapport.app import error_body, status_of
from rapport.core import deliveries
from rapport.core.base import Code10, Int32, Int64, StrictModel
from rapport.core.contacts import Contact
from rapport.core.segments import actions, manual
from rapport.core.segments import header as headers
from rapport.core.segments import logging as seglog
from rapport.core.segments.actions import AddContacts, RemoveContacts, ReuseCriteria, ReuseLoggedSegment, SaveCriteria
from rapport.core.segments.header import SegmentCreate, SegmentLanguageUpdate, SegmentUpdate
from rapport.core.segments.logging import DeleteLoggedFilters, LogRequest
from rapport.core.segments.manual import LineCreate, LineUpdate
from rapport.core.segments.models import (
    LoggedSegment,
    SavedSegmentCriteria,
    SegmentCriteriaAction,
    SegmentHeader,
    SegmentLine,
)
from rapport.errors import Conflict, Invalid, RapportError

router = APIRouter(route_class=ReleasingRoute, tags=["segments"])


class SegmentRead(BaseModel):
    no: str
    description: str
    interaction_template_code: str
    interaction_group_code: str
    language_code_default: str
    subject_default: str
    campaign_no: str
    campaign_target: bool
    campaign_response: bool
    salesperson_code: str
    correspondence_type_default: str
    ignore_contact_corres_type: bool
    unit_cost: float
    unit_duration_min: float
    information_flow: str
    initiated_by: str
    date: dt.date | None
    send_word_docs_as_attachment: bool
    no_of_lines: int
    no_of_criteria_actions: int
    cost: float
    duration_min: float


class SegmentPage(BaseModel):
    items: list[SegmentRead]
    next_cursor: str | None


class LineRead(BaseModel):
    line_no: int
    contact_no: str
    contact_name: str
    contact_company_no: str
    contact_company_name: str
    interaction_template_code: str
    interaction_group_code: str
    description: str
    subject: str
    language_code: str
    correspondence_type: str
    salesperson_code: str
    date: dt.date | None
    time_of_interaction: dt.time | None
    cost: float
    duration_min: float
    information_flow: str
    initiated_by: str
    campaign_no: str
    campaign_target: bool
    campaign_response: bool
    evaluation: str
    attempt_failed: bool
    send_word_doc_as_attachment: bool
    attachment_no: int | None
    contact_via: str
    personal_text: str


class LinePage(BaseModel):
    items: list[LineRead]
    next_cursor: str | None


class Skipped(BaseModel):
    already_present: int = 0
    excluded: int = 0
    privacy_blocked: int = 0


class AddResult(BaseModel):
    added: int
    action_no: int
    skipped: Skipped


class RemoveResult(BaseModel):
    removed: int
    action_no: int


class ContactSample(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    no: str
    type: str
    name: str
    company_no: str
    company_name: str
    city: str
    country_code: str
    email: str


class PreviewResult(BaseModel):
    action: str
    count: int
    skipped: dict[str, int]
    sample: list[ContactSample]


class GoBackResult(BaseModel):
    action_no: int
    lines_removed: int
    lines_restored: int


class CriteriaActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action_no: int
    action: str
    options: dict[str, bool]
    criteria: dict[str, dict[str, str]]


class CriteriaList(BaseModel):
    items: list[CriteriaActionRead]
    next_cursor: str | None = None


class SavedCriteriaRead(BaseModel):
    code: str
    description: str
    user_id: str
    no_of_actions: int
    actions: list[CriteriaActionRead]


class SavedCriteriaPage(BaseModel):
    items: list[SavedCriteriaRead]
    next_cursor: str | None


class ReuseResult(BaseModel):
    added: int
    removed: int


class LanguageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    language_code: str
    description: str
    subject: str
    attachment_no: int | None


class LogResult(BaseModel):
    logged_segment_entry_no: int
    no_of_interactions: int
    follow_up_segment_no: str
    skipped: dict[str, int]
    emails_queued: int = 0
    letters: int = 0


class ApplyMailingGroup(StrictModel):
    mailing_group_code: Code10 = ""
    delete_old_assignments: bool = False


class ApplyMailingGroupResult(BaseModel):
    segment_no: str
    mailing_group_code: str
    assigned: int
    message: str


class LoggedSegmentRead(BaseModel):
    entry_no: int
    segment_no: str
    description: str
    creation_date: dt.date
    user_id: str
    canceled: bool
    no_of_interactions: int
    no_of_campaign_entries: int


class LoggedSegmentPage(BaseModel):
    items: list[LoggedSegmentRead]
    next_cursor: str | None


class FollowUp(BaseModel):
    segment_no: str


class Deleted(BaseModel):
    deleted: int


# --- reads ---------------------------------------------------------------------------------------

HEADER_FIELDS = [f for f in SegmentRead.model_fields if f in SegmentHeader.__table__.columns]
LINE_FIELDS = [f for f in LineRead.model_fields if f in SegmentLine.__table__.columns]


def segments_read(session: Any, headers_: list[SegmentHeader]) -> list[SegmentRead]:
    """Headers with No. of Lines, Cost, Duration and No. of Criteria Actions."""
    nos = [h.no for h in headers_]
    totals = {
        no: (count, cost, duration)
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
    actions_ = dict(
        session.execute(
            select(SegmentCriteriaAction.segment_no, func.count())
            .where(SegmentCriteriaAction.segment_no.in_(nos))
            .group_by(SegmentCriteriaAction.segment_no)
        ).all()
    )
    result = []
    for h in headers_:
        count, cost, duration = totals.get(h.no, (0, 0, 0))
        result.append(
            SegmentRead(
                **{f: getattr(h, f) for f in HEADER_FIELDS},
                no_of_lines=count,
                cost=cost,
                duration_min=duration,
                no_of_criteria_actions=actions_.get(h.no, 0),
            )
        )
    return result


def lines_read(session: Any, lines: list[SegmentLine]) -> list[LineRead]:
    """Lines with the contact's name (persons) and its company's name."""
    nos = {line.contact_no for line in lines} | {line.contact_company_no for line in lines}
    info = {
        no: (type_, name)
        for no, type_, name in session.execute(
            select(Contact.no, Contact.type, Contact.name).where(Contact.no.in_(nos))
        )
    }
    result = []
    for line in lines:
        person = info.get(line.contact_no)
        company = info.get(line.contact_company_no)
        result.append(
            LineRead(
                **{f: getattr(line, f) for f in LINE_FIELDS},
                contact_name=person[1] if person and person[0] == "person" else "",
                contact_company_name=company[1] if company and company[0] == "company" else "",
            )
        )
    return result


def segment_read(session: Any, no: str) -> SegmentRead:
    return segments_read(session, [actions.get_header(session, no)])[0]


# --- segment headers -----------------------------------------------------------------------------


@router.get("/segments", response_model=SegmentPage)
def list_segments(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    from rapport.filters import field_specs

    rows, cursor = keyset_page(session, select(SegmentHeader), [SegmentHeader.no], params, field_specs(SegmentHeader))
    return {"items": segments_read(session, rows), "next_cursor": cursor}


@router.post("/segments", response_model=SegmentRead, status_code=201)
def create_segment(data: SegmentCreate, session: SessionDep, _: MarketingWriter) -> SegmentRead:
    header = headers.create_segment(session, data)
    commit(session)
    return segment_read(session, header.no)


@router.get("/segments/{no}", response_model=SegmentRead)
def get_segment(no: str, session: SessionDep, _: Reader) -> SegmentRead:
    return segment_read(session, no)


@router.patch("/segments/{no}", response_model=SegmentRead)
def update_segment(no: str, data: SegmentUpdate, session: SessionDep, _: MarketingWriter) -> SegmentRead:
    header = headers.update_segment(session, no, data)
    commit(session)
    return segment_read(session, header.no)


@router.delete("/segments/{no}", status_code=204)
def delete_segment(no: str, session: SessionDep, _: MarketingWriter) -> Response:
    headers.delete_segment(session, no)
    commit(session)
    return Response(status_code=204)


# --- lines ---------------------------------------------------------------------------------------


@router.get("/segments/{no}/lines", response_model=LinePage)
def list_lines(no: str, session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    from rapport.filters import field_specs

    header = actions.get_header(session, no)
    stmt = select(SegmentLine).where(SegmentLine.segment_no == header.no)
    rows, cursor = keyset_page(session, stmt, [SegmentLine.line_no], params, field_specs(SegmentLine))
    return {"items": lines_read(session, rows), "next_cursor": cursor}


@router.post("/segments/{no}/lines", response_model=LineRead, status_code=201)
def add_line(no: str, data: LineCreate, session: SessionDep, _: MarketingWriter) -> LineRead:
    line = manual.add_line(session, no, data)
    commit(session)
    return lines_read(session, [line])[0]


@router.get("/segments/{no}/lines/{line_no}", response_model=LineRead)
def get_line(no: str, line_no: Int64, session: SessionDep, _: Reader) -> LineRead:
    return lines_read(session, [manual.get_line(session, no, line_no)])[0]


@router.patch("/segments/{no}/lines/{line_no}", response_model=LineRead)
def update_line(no: str, line_no: Int64, data: LineUpdate, session: SessionDep, _: MarketingWriter) -> LineRead:
    line = manual.update_line(session, no, line_no, data)
    commit(session)
    return lines_read(session, [line])[0]


@router.get("/segments/{no}/lines/{line_no}/document", response_class=Response)
def line_document(no: str, line_no: Int64, session: SessionDep, _: Reader) -> Response:
    """The merged document for the line's contact: a .docx for Word attachments, else HTML or text."""
    document = deliveries.line_document(session, no, line_no)
    response = file_response(document.file_name, document.media_type, document.content)
    if document.missing_fields:
        response.headers["X-Rapport-Missing-Fields"] = ",".join(sorted(document.missing_fields))
    return response


@router.delete("/segments/{no}/lines/{line_no}", status_code=204)
def delete_line(no: str, line_no: Int64, session: SessionDep, _: MarketingWriter) -> Response:
    manual.delete_line(session, no, line_no)
    commit(session)
    return Response(status_code=204)


# --- criteria --------------------------------------------------------------------------------------


@router.post("/segments/{no}/add-contacts", response_model=AddResult)
def add_contacts(no: str, data: AddContacts, session: SessionDep, _: MarketingWriter) -> Any:
    result = actions.add_contacts(session, no, data)
    commit(session)
    return {"added": result.added, "action_no": result.action_no, "skipped": vars(result.skipped)}


@router.post("/segments/{no}/reduce-contacts", response_model=RemoveResult)
def reduce_contacts(no: str, data: RemoveContacts, session: SessionDep, _: MarketingWriter) -> Any:
    removed, action_no = actions.remove_contacts(session, no, actions.REDUCE, data)
    commit(session)
    return {"removed": removed, "action_no": action_no}


@router.post("/segments/{no}/refine-contacts", response_model=RemoveResult)
def refine_contacts(no: str, data: RemoveContacts, session: SessionDep, _: MarketingWriter) -> Any:
    removed, action_no = actions.remove_contacts(session, no, actions.REFINE, data)
    commit(session)
    return {"removed": removed, "action_no": action_no}


@router.post("/segments/{no}/preview", response_model=PreviewResult)
def preview(no: str, session: SessionDep, _: MarketingWriter, body: dict[str, Any] = Body(...)) -> Any:
    """How many lines an action would add or remove, with a sample; changes nothing."""
    body = dict(body)
    action = body.pop("action", None)
    if not isinstance(action, str):
        raise Invalid("action is required: add_contacts, reduce_contacts or refine_contacts.", field="action")
    try:
        return actions.preview(session, no, action, body)
    except Exception as exc:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise Invalid(f"{field}: {first['msg']}", field=field) from exc
        raise


@router.post("/segments/{no}/go-back", response_model=GoBackResult)
def go_back(no: str, session: SessionDep, _: MarketingWriter) -> Any:
    result = actions.go_back(session, no)
    commit(session)
    return result


@router.get("/segments/{no}/criteria", response_model=CriteriaList)
def list_criteria(no: str, session: SessionDep, _: Reader) -> Any:
    return {"items": actions.list_actions(session, no), "next_cursor": None}


@router.post("/segments/{no}/save-criteria", response_model=SavedCriteriaRead, status_code=201)
def save_criteria(no: str, data: SaveCriteria, session: SessionDep, user: MarketingWriter) -> SavedCriteriaRead:
    saved = actions.save_criteria(session, no, data, user_id=user.username)
    commit(session)
    return saved_read(session, saved)


def saved_read(session: Any, saved: SavedSegmentCriteria) -> SavedCriteriaRead:
    steps = actions.saved_actions(session, saved.code)
    return SavedCriteriaRead(
        code=saved.code,
        description=saved.description,
        user_id=saved.user_id,
        no_of_actions=len(steps),
        actions=[CriteriaActionRead.model_validate(s) for s in steps],
    )


@router.get("/saved-segment-criteria", response_model=SavedCriteriaPage)
def list_saved(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    rows, cursor = keyset_page(session, select(SavedSegmentCriteria), [SavedSegmentCriteria.code], params)
    return {"items": [saved_read(session, s) for s in rows], "next_cursor": cursor}


@router.get("/saved-segment-criteria/{code}", response_model=SavedCriteriaRead)
def get_saved(code: str, session: SessionDep, _: Reader) -> SavedCriteriaRead:
    return saved_read(session, actions.get_saved(session, code))


@router.delete("/saved-segment-criteria/{code}", status_code=204)
def delete_saved(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    actions.delete_saved(session, code)
    commit(session)
    return Response(status_code=204)


@router.post("/segments/{no}/reuse-criteria", response_model=ReuseResult)
def reuse_criteria(no: str, data: ReuseCriteria, session: SessionDep, _: MarketingWriter) -> Any:
    result = actions.reuse_criteria(session, no, data)
    commit(session)
    return result


@router.post("/segments/{no}/reuse-logged-segment", response_model=AddResult)
def reuse_logged_segment(no: str, data: ReuseLoggedSegment, session: SessionDep, _: MarketingWriter) -> Any:
    result = actions.reuse_logged_segment(session, no, data.logged_segment_entry_no)
    commit(session)
    return {"added": result.added, "action_no": result.action_no, "skipped": vars(result.skipped)}


# --- segment languages -----------------------------------------------------------------------------


@router.get("/segments/{no}/languages/{language_code}", response_model=LanguageRead)
def get_language(no: str, language_code: str, session: SessionDep, _: Reader) -> Any:
    return headers.get_language(session, no, language_code)


@router.put(
    "/segments/{no}/languages/{language_code}",
    response_model=LanguageRead,
    responses={201: {"model": LanguageRead, "description": "The language row was created."}},
)
def put_language(
    no: str,
    language_code: str,
    data: SegmentLanguageUpdate,
    session: SessionDep,
    _: MarketingWriter,
    response: Response,
) -> Any:
    row, created = headers.put_language(session, no, language_code, data)
    commit(session)
    response.status_code = 201 if created else 200
    return row


@router.delete("/segments/{no}/languages/{language_code}", status_code=204)
def delete_language(no: str, language_code: str, session: SessionDep, _: MarketingWriter) -> Response:
    headers.delete_language(session, no, language_code)
    commit(session)
    return Response(status_code=204)


@router.put(
    "/segments/{no}/languages/{language_code}/attachment",
    response_model=LanguageRead,
    responses={201: {"model": LanguageRead, "description": "The attachment was created."}},
)
async def put_language_attachment(
    no: str,
    language_code: str,
    session: SessionDep,
    _: MarketingWriter,
    response: Response,
    file: UploadFile = File(...),
) -> Any:
    await store_upload(
        session, response, file, lambda *f: headers.set_language_attachment(session, no, language_code, *f)
    )
    return headers.get_language(session, no, language_code)


@router.put(
    "/segments/{no}/lines/{line_no}/attachment",
    response_model=AttachmentRead,
    responses={201: {"model": AttachmentRead, "description": "The attachment was created."}},
)
async def put_line_attachment(
    no: str,
    line_no: Int64,
    session: SessionDep,
    _: MarketingWriter,
    response: Response,
    file: UploadFile = File(...),
) -> Any:
    """Give one line a document of its own, merged and sent instead of the segment's."""
    attachment = await store_upload(
        session, response, file, lambda *f: manual.set_line_attachment(session, no, line_no, *f)
    )
    return attachment_read(attachment)


@router.get("/segments/{no}/lines/{line_no}/attachment", response_class=Response)
def get_line_attachment(no: str, line_no: Int64, session: SessionDep, _: Reader) -> Response:
    """Download the line's own document."""
    return download(session, manual.line_attachment(session, no, line_no))


@router.delete("/segments/{no}/lines/{line_no}/attachment", status_code=204)
def delete_line_attachment(no: str, line_no: Int64, session: SessionDep, _: MarketingWriter) -> Response:
    manual.delete_line_attachment(session, no, line_no)
    commit(session)
    return Response(status_code=204)


# --- logging ---------------------------------------------------------------------------------------


@router.post("/segments/{no}/log", response_model=LogResult)
def log_segment(
    no: str, request: Request, session: SessionDep, user: MarketingWriter, data: LogRequest | None = Body(default=None)
) -> Any:
    """Log the segment: atomic, and idempotent with an Idempotency-Key header.

    The key belongs to the segment and the user: the same key sent to log another segment is another
    request. A repeat with the same key gets the first answer again, a refusal (4xx) included: api.md
    says a repeat "returns the first answer (same status and body) and changes nothing", so a first
    attempt refused (an empty segment, say) stays refused under its key even after the segment was
    corrected; a new key is a new attempt. A failure of the server (5xx) is never remembered: it is
    no answer to the request, and its retry must be able to log."""
    header = request.headers.get("idempotency-key")
    key = seglog.request_key(header, no, user.username) if header is not None else None
    first = seglog.first_answer(session, key) if key is not None else None
    if first is not None:
        return JSONResponse(first.body, status_code=first.status_code)
    try:
        result, _ = seglog.log_segment_once(session, no, data or LogRequest(), user_id=user.username, key=key)
    except RapportError as exc:
        if key is None or status_of(exc) >= 500:
            raise
        return _refused(session, key, no, exc)
    try:
        commit(session)
    except IntegrityError as exc:
        session.rollback()
        first = seglog.first_answer(session, key) if key is not None else None
        if first is not None:
            return JSONResponse(first.body, status_code=first.status_code)
        raise Conflict(f"Segment {no} was logged by another request at the same time.") from exc
    return result


def _refused(session: Any, key: str, no: str, exc: RapportError) -> JSONResponse:
    """Roll the refused logging back, remember the refusal under the key and answer with it; or answer
    as the request with the same key that answered first (it held the segment while this one waited)."""
    session.rollback()
    first = seglog.first_answer(session, key)
    if first is None:
        first = seglog.Answer(status_of(exc), error_body(exc.code, exc.message, exc.field))
        seglog.remember_answer(session, key, no, first)
        try:
            commit(session)
        except IntegrityError:
            session.rollback()
            first = seglog.first_answer(session, key) or first
    return JSONResponse(first.body, status_code=first.status_code)


@router.post("/segments/{no}/apply-mailing-group", response_model=ApplyMailingGroupResult)
def apply_mailing_group(no: str, data: ApplyMailingGroup, session: SessionDep, _: MarketingWriter) -> Any:
    """Assign every contact of the segment to a mailing group (optionally replacing its members)."""
    result = headers.apply_mailing_group(session, no, data.mailing_group_code, data.delete_old_assignments)
    commit(session)
    return result


@router.get("/segments/{no}/contacts.csv", response_class=StreamingResponse)
def export_contacts(no: str, session: SessionDep, _: Reader) -> StreamingResponse:
    """The segment's contacts: a header row of field names, one row per line."""
    file_name, chunks = headers.contacts_csv(session, no)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


# --- logged segments ---------------------------------------------------------------------------------


def logged_read(session: Any, rows: list[LoggedSegment]) -> list[LoggedSegmentRead]:
    counts = seglog.logged_counts(session, rows)
    return [
        LoggedSegmentRead(
            entry_no=r.entry_no,
            segment_no=r.segment_no,
            description=r.description,
            creation_date=r.creation_date,
            user_id=r.user_id,
            canceled=r.canceled,
            no_of_interactions=counts[r.entry_no][0],
            no_of_campaign_entries=counts[r.entry_no][1],
        )
        for r in rows
    ]


@router.get("/logged-segments", response_model=LoggedSegmentPage, tags=["logged segments"])
def list_logged(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    from rapport.filters import field_specs

    rows, cursor = keyset_page(
        session, select(LoggedSegment), [LoggedSegment.entry_no], params, field_specs(LoggedSegment)
    )
    return {"items": logged_read(session, rows), "next_cursor": cursor}


@router.post("/logged-segments/delete-canceled", response_model=Deleted, tags=["logged segments"])
def delete_canceled_logged(
    session: SessionDep, _: MarketingWriter, filters: DeleteLoggedFilters | None = Body(default=None)
) -> Deleted:
    deleted = seglog.delete_canceled(session, filters or DeleteLoggedFilters())
    commit(session)
    return Deleted(deleted=deleted)


@router.get("/logged-segments/{entry_no}", response_model=LoggedSegmentRead, tags=["logged segments"])
def get_logged(entry_no: Int32, session: SessionDep, _: Reader) -> LoggedSegmentRead:
    return logged_read(session, [seglog.get_logged(session, entry_no)])[0]


@router.post("/logged-segments/{entry_no}/cancel", response_model=LoggedSegmentRead, tags=["logged segments"])
def cancel_logged(entry_no: Int32, session: SessionDep, _: MarketingWriter) -> LoggedSegmentRead:
    logged = seglog.set_logged_canceled(session, entry_no, True)
    commit(session)
    return logged_read(session, [logged])[0]


@router.post("/logged-segments/{entry_no}/uncancel", response_model=LoggedSegmentRead, tags=["logged segments"])
def uncancel_logged(entry_no: Int32, session: SessionDep, _: MarketingWriter) -> LoggedSegmentRead:
    logged = seglog.set_logged_canceled(session, entry_no, False)
    commit(session)
    return logged_read(session, [logged])[0]


@router.get("/logged-segments/{entry_no}/letters", response_class=Response, tags=["logged segments"])
def letters(entry_no: Int32, session: SessionDep, _: Reader, format: Literal["docx", "pdf"] = "docx") -> Response:
    """Every Hard Copy letter of the logged segment in one printable .docx (or PDF with LibreOffice)."""
    document = deliveries.letters_document(session, entry_no, pdf=format == "pdf")
    return file_response(document.file_name, document.media_type, document.content)


@router.post("/logged-segments/{entry_no}/follow-up", response_model=FollowUp, tags=["logged segments"])
def follow_up(entry_no: Int32, session: SessionDep, _: MarketingWriter) -> FollowUp:
    segment_no = seglog.follow_up(session, entry_no)
    commit(session)
    return FollowUp(segment_no=segment_no)
