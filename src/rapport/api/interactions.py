"""The interaction log: create, list, resume, cancel, evaluate, comment, delete."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict

from rapport.api.deps import (
    InteractionWriter,
    ListParamsDep,
    MarketingWriter,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    keyset_page,
)
from rapport.core import deliveries
from rapport.core.base import Int32, StrictModel
from rapport.core.enums import CorrespondenceType
from rapport.core.interactions import operations as ops
from rapport.core.interactions import queries, recording
from rapport.core.interactions.models import InteractionComment, InteractionLogEntry
from rapport.core.interactions.operations import (
    CancelRequest,
    CommentCreate,
    CommentUpdate,
    DeleteCanceledFilters,
    EntrySelection,
    EvaluateRequest,
)
from rapport.core.interactions.recording import InteractionCreate, InteractionResume, PhoneCall

router = APIRouter(route_class=ReleasingRoute, tags=["interactions"])


class InteractionRead(BaseModel):
    entry_no: int
    contact_no: str
    contact_company_no: str
    contact_name: str
    contact_company_name: str
    date: dt.date | None
    time_of_interaction: dt.time | None
    description: str
    subject: str
    interaction_group_code: str
    interaction_template_code: str
    information_flow: str
    initiated_by: str
    cost: float
    duration_min: float
    salesperson_code: str
    user_id: str
    correspondence_type: str
    language_code: str
    attachment_no: int | None
    evaluation: str
    attempt_failed: bool
    canceled: bool
    postponed: bool
    campaign_no: str
    campaign_entry_no: int | None
    campaign_target: bool
    campaign_response: bool
    segment_no: str
    logged_segment_entry_no: int | None
    document_type: str
    document_no: str
    version_no: int
    contact_via: str
    opportunity_no: str
    delivery_status: str
    delivery_error: str
    has_comments: bool


class InteractionPage(BaseModel):
    items: list[InteractionRead]
    next_cursor: str | None


class InteractionItems(BaseModel):
    items: list[InteractionRead]


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    date: dt.date | None
    code: str
    comment: str


class CommentPage(BaseModel):
    items: list[CommentRead]
    next_cursor: str | None = None


class Deleted(BaseModel):
    deleted: int


ENTRY_COLUMNS = [f for f in InteractionRead.model_fields if f in InteractionLogEntry.__table__.columns]


def entries_read(
    session: Any, entries: list[InteractionLogEntry], commented: set[int] | None = None
) -> list[InteractionRead]:
    """Entries with the contact names and comment flag beside them (the flag read unless given)."""
    names = queries.contact_names(session, entries)
    if commented is None:
        commented = ops.has_comments(session, [e.entry_no for e in entries])
    return [
        InteractionRead(
            **{f: getattr(e, f) for f in ENTRY_COLUMNS},
            contact_name=names.get(e.contact_no, ""),
            contact_company_name=names.get(e.contact_company_no, ""),
            has_comments=e.entry_no in commented,
        )
        for e in entries
    ]


def entry_read(session: Any, entry: InteractionLogEntry) -> InteractionRead:
    return entries_read(session, [entry])[0]


def logged_read(session: Any, entry: InteractionLogEntry, *, commented: bool) -> InteractionRead:
    """A newly logged entry: whether it has comments is what the request wrote."""
    return entries_read(session, [entry], {entry.entry_no} if commented else set())[0]


@router.get("/interactions", response_model=InteractionPage)
def list_interactions(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Log entries by entry number; postponed=false unless asked, canceled both unless asked."""
    stmt = queries.list_statement(params.query)
    rows, cursor = keyset_page(session, stmt, [InteractionLogEntry.entry_no], params, queries.ENTRY_FIELDS)
    return {"items": entries_read(session, rows), "next_cursor": cursor}


@router.post("/interactions", response_model=InteractionRead, status_code=201)
def create_interaction(data: InteractionCreate, session: SessionDep, user: InteractionWriter) -> InteractionRead:
    entry = recording.create_interaction(session, data, user_id=user.username)
    commit(session)
    return logged_read(session, entry, commented=bool(data.comments))


@router.post("/interactions/phone-calls", response_model=InteractionRead, status_code=201)
def make_phone_call(data: PhoneCall, session: SessionDep, user: InteractionWriter) -> InteractionRead:
    entry = recording.make_phone_call(session, data, user_id=user.username)
    commit(session)
    return logged_read(session, entry, commented=False)


@router.post("/interactions/cancel", response_model=InteractionItems)
def cancel(data: CancelRequest, session: SessionDep, _: InteractionWriter) -> dict[str, Any]:
    entries = ops.cancel(session, data)
    commit(session)
    return {"items": entries_read(session, entries)}


@router.post("/interactions/uncancel", response_model=InteractionItems)
def uncancel(data: EntrySelection, session: SessionDep, _: InteractionWriter) -> dict[str, Any]:
    entries = ops.uncancel(session, data)
    commit(session)
    return {"items": entries_read(session, entries)}


@router.post("/interactions/evaluate", response_model=InteractionItems)
def evaluate(data: EvaluateRequest, session: SessionDep, _: InteractionWriter) -> dict[str, Any]:
    entries = ops.evaluate(session, data)
    commit(session)
    return {"items": entries_read(session, entries)}


@router.post("/interactions/delete-canceled", response_model=Deleted)
def delete_canceled(
    session: SessionDep, _: MarketingWriter, filters: DeleteCanceledFilters | None = Body(default=None)
) -> Deleted:
    deleted = ops.delete_canceled(session, filters or DeleteCanceledFilters())
    commit(session)
    return Deleted(deleted=deleted)


@router.get("/interactions/{entry_no}", response_model=InteractionRead)
def get_interaction(entry_no: Int32, session: SessionDep, _: Reader) -> InteractionRead:
    return entry_read(session, recording.get_entry(session, entry_no))


@router.post("/interactions/{entry_no}/resume", response_model=InteractionRead)
def resume(
    entry_no: Int32, session: SessionDep, user: InteractionWriter, data: InteractionResume | None = Body(default=None)
) -> InteractionRead:
    entry = recording.resume_interaction(session, entry_no, data or InteractionResume(), user_id=user.username)
    commit(session)
    return entry_read(session, entry)


class ResendRequest(StrictModel):
    correspondence_type: CorrespondenceType | None = None


@router.post("/interactions/{entry_no}/resend", response_model=InteractionRead)
def resend(
    entry_no: Int32, session: SessionDep, _: InteractionWriter, data: ResendRequest | None = None
) -> InteractionRead:
    """Deliver the entry's attachment again (an e-mail is queued; a letter is merged again)."""
    entry = deliveries.resend(session, entry_no, data.correspondence_type if data else None)
    commit(session)
    return entry_read(session, entry)


@router.delete("/interactions/{entry_no}", status_code=204)
def delete_interaction(entry_no: Int32, session: SessionDep, _: InteractionWriter) -> Response:
    ops.delete_entry(session, entry_no)
    commit(session)
    return Response(status_code=204)


@router.get("/interactions/{entry_no}/comments", response_model=CommentPage)
def list_comments(entry_no: Int32, session: SessionDep, _: Reader) -> dict[str, Any]:
    return {"items": ops.list_comments(session, entry_no), "next_cursor": None}


@router.post("/interactions/{entry_no}/comments", response_model=CommentRead, status_code=201)
def add_comment(entry_no: Int32, data: CommentCreate, session: SessionDep, _: InteractionWriter) -> InteractionComment:
    comment = ops.add_comment(session, entry_no, data)
    commit(session)
    return comment


@router.patch("/interactions/{entry_no}/comments/{line_no}", response_model=CommentRead)
def update_comment(
    entry_no: Int32, line_no: Int32, data: CommentUpdate, session: SessionDep, _: InteractionWriter
) -> InteractionComment:
    comment = ops.update_comment(session, entry_no, line_no, data)
    commit(session)
    return comment


@router.delete("/interactions/{entry_no}/comments/{line_no}", status_code=204)
def delete_comment(entry_no: Int32, line_no: Int32, session: SessionDep, _: InteractionWriter) -> Response:
    ops.delete_comment(session, entry_no, line_no)
    commit(session)
    return Response(status_code=204)
