"""Operations on logged entries: cancel, un-cancel, evaluate, comments, delete, and the
Delete Canceled Interaction Log Entries batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from rapport.core import attachments, campaigns, segments_guard
from rapport.core.base import Code10, Code20, Int32, StrictModel, Text80
from rapport.core.enums import Evaluation
from rapport.core.interactions.models import InteractionComment
from rapport.core.interactions.models import InteractionLogEntry as E
from rapport.core.interactions.recording import get_entry, next_comment_line
from rapport.core.templates import InteractionTemplateLanguage
from rapport.db import rowcount
from rapport.errors import Conflict, Invalid, NotFound


class EntrySelection(StrictModel):
    entry_nos: list[Int32] = Field(min_length=1, max_length=10000)


class CancelRequest(EntrySelection):
    remove_unique_attachments: bool = False


class EvaluateRequest(EntrySelection):
    evaluation: Evaluation


class CommentCreate(StrictModel):
    date: dt.date | None = None
    code: Code10 = ""
    comment: Text80 = ""


class CommentUpdate(StrictModel):
    date: dt.date | None = None
    code: Code10 | None = None
    comment: Text80 | None = None


class DeleteCanceledFilters(StrictModel):
    entry_no_from: Int32 | None = None
    entry_no_to: Int32 | None = None
    contact_no: Code20 | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    campaign_no: Code20 | None = None
    interaction_group_code: Code10 | None = None
    interaction_template_code: Code10 | None = None
    salesperson_code: Code20 | None = None


def _entries(session: Session, entry_nos: Sequence[int]) -> list[E]:
    wanted = sorted(set(entry_nos))
    # Locked in entry order and read afresh: two requests changing the same entries run one after
    # the other instead of each writing over a mix of stale values.
    found = list(
        session.scalars(
            select(E)
            .where(E.entry_no.in_(wanted))
            .order_by(E.entry_no)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    missing = sorted(set(wanted) - {e.entry_no for e in found})
    if missing:
        raise Invalid(
            f"Interaction log entr{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(map(str, missing[:10]))} do{'es' if len(missing) == 1 else ''} not exist.",
            field="entry_nos",
        )
    return found


def attachment_in_use(session: Session, attachment_no: int, except_entry_nos: Sequence[int] = ()) -> bool:
    """Whether another log entry or a template language still uses the attachment."""
    used_by_entry = select(
        exists().where(E.attachment_no == attachment_no, E.entry_no.not_in(list(except_entry_nos) or [-1]))
    )
    used_by_template = select(exists().where(InteractionTemplateLanguage.attachment_no == attachment_no))
    return bool(session.scalar(used_by_entry)) or bool(session.scalar(used_by_template))


def remove_if_unique(session: Session, attachment_no: int, except_entry_nos: Sequence[int] = ()) -> bool:
    """Remove the attachment when nothing else uses it; True when removed."""
    if attachment_in_use(session, attachment_no, except_entry_nos):
        return False
    attachments.remove_attachment(session, attachment_no, force=True)
    return True


def cancel(session: Session, data: CancelRequest) -> list[E]:
    """Mark entries canceled; optionally remove their unique attachments.

    As in Business Central, uniqueness is judged entry by entry in entry order against every other
    log entry, the other selected ones included: an attachment that two entries share is not unique
    to either of them, so it stays even when both are canceled together. Only entries that are being
    canceled now lose their attachment; one that was canceled already keeps it."""
    entries = _entries(session, data.entry_nos)
    newly_canceled = [e for e in entries if not e.canceled]
    for entry in entries:
        entry.canceled = True
    session.flush()
    if data.remove_unique_attachments:
        for entry in newly_canceled:
            no = entry.attachment_no
            if no is None or attachment_in_use(session, no, [entry.entry_no]):
                continue
            if session.get(attachments.Attachment, no) is not None:
                attachments.remove_attachment(session, no, force=True)
            entry.attachment_no = None
            session.flush()
    session.flush()
    return entries


def uncancel(session: Session, data: EntrySelection) -> list[E]:
    """Clear the canceled mark; refused while the logged segment or campaign entry is canceled."""
    entries = _entries(session, data.entry_nos)
    for entry in entries:
        if entry.logged_segment_entry_no is not None and segments_guard.logged_segment_canceled(
            session, entry.logged_segment_entry_no
        ):
            raise Conflict(
                f"Entry {entry.entry_no} belongs to logged segment {entry.logged_segment_entry_no}, "
                "which is canceled; un-cancel the logged segment instead.",
                field="entry_nos",
            )
        if entry.campaign_entry_no is not None:
            campaign_entry = session.get(campaigns.CampaignEntry, entry.campaign_entry_no)
            if campaign_entry is not None and campaign_entry.canceled:
                raise Conflict(
                    f"Entry {entry.entry_no} belongs to campaign entry {entry.campaign_entry_no}, "
                    "which is canceled; un-cancel the campaign entry instead.",
                    field="entry_nos",
                )
        entry.canceled = False
    session.flush()
    return entries


def evaluate(session: Session, data: EvaluateRequest) -> list[E]:
    """Give every selected entry the same evaluation (canceled ones too)."""
    entries = _entries(session, data.entry_nos)
    for entry in entries:
        entry.evaluation = data.evaluation
    session.flush()
    return entries


def delete_entry(session: Session, entry_no: int) -> None:
    """Delete a postponed or canceled entry with its comments and its unique attachment."""
    entry = get_entry(session, entry_no)
    if not (entry.postponed or entry.canceled):
        raise Conflict(f"Interaction log entry {entry_no} is neither postponed nor canceled; cancel it first.")
    session.expunge(entry)
    _delete_where(session, E.entry_no == entry_no)


def _delete_where(session: Session, condition: Any) -> int:
    """Delete the entries matching `condition` with their comments (set-based), then the attachments
    no one uses any more and the campaign targets no entry supports any more."""
    attachment_nos = list(
        session.scalars(select(E.attachment_no).where(condition, E.attachment_no.is_not(None)).distinct())
    )
    targets = session.execute(
        select(E.campaign_no, E.contact_company_no)
        .where(condition, E.campaign_no != "", E.campaign_target.is_(True))
        .distinct()
    ).all()
    session.execute(
        delete(InteractionComment)
        .where(InteractionComment.entry_no.in_(select(E.entry_no).where(condition)))
        .execution_options(synchronize_session=False)
    )
    deleted = rowcount(session.execute(delete(E).where(condition).execution_options(synchronize_session=False)))
    for no in attachment_nos:
        if no is not None:
            remove_if_unique(session, no)
    for campaign_no, company_no in targets:
        campaigns.remove_target_if_unused(session, campaign_no, company_no)
    session.flush()
    return deleted


def delete_canceled(session: Session, filters: DeleteCanceledFilters) -> int:
    """The Delete Canceled Interaction Log Entries batch; returns how many were deleted."""
    conditions: list[Any] = [E.canceled.is_(True)]
    f = filters
    if f.entry_no_from is not None:
        conditions.append(E.entry_no >= f.entry_no_from)
    if f.entry_no_to is not None:
        conditions.append(E.entry_no <= f.entry_no_to)
    if f.date_from is not None:
        conditions.append(E.date >= f.date_from)
    if f.date_to is not None:
        conditions.append(E.date <= f.date_to)
    for name in (
        "contact_no",
        "campaign_no",
        "interaction_group_code",
        "interaction_template_code",
        "salesperson_code",
    ):
        value = getattr(f, name)
        if value is not None:
            conditions.append(getattr(E, name) == value)
    return _delete_where(session, and_(*conditions))


# --- comments ------------------------------------------------------------------------------


def list_comments(session: Session, entry_no: int) -> list[InteractionComment]:
    get_entry(session, entry_no)
    return list(
        session.scalars(
            select(InteractionComment)
            .where(InteractionComment.entry_no == entry_no)
            .order_by(InteractionComment.line_no)
        )
    )


def add_comment(session: Session, entry_no: int, data: CommentCreate) -> InteractionComment:
    """A new comment line; its date defaults to today unless a comment is already dated today."""
    get_entry(session, entry_no)
    today = dt.date.today()
    date = data.date
    if "date" not in data.model_fields_set:
        dated_today = session.scalar(
            select(func.count()).where(InteractionComment.entry_no == entry_no, InteractionComment.date == today)
        )
        date = None if dated_today else today
    comment = InteractionComment(
        entry_no=entry_no,
        line_no=next_comment_line(session, entry_no),
        date=date,
        code=data.code,
        comment=data.comment,
        last_date_modified=today,
    )
    session.add(comment)
    session.flush()
    return comment


def _comment(session: Session, entry_no: int, line_no: int) -> InteractionComment:
    comment = session.get(InteractionComment, (entry_no, line_no))
    if comment is None:
        raise NotFound(f"Interaction log entry {entry_no} has no comment line {line_no}.")
    return comment


def update_comment(session: Session, entry_no: int, line_no: int, data: CommentUpdate) -> InteractionComment:
    comment = _comment(session, entry_no, line_no)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name != "date":
            raise Invalid(f"{name} cannot be null.", field=name)
        setattr(comment, name, value)
    comment.last_date_modified = dt.date.today()
    session.flush()
    return comment


def delete_comment(session: Session, entry_no: int, line_no: int) -> None:
    session.delete(_comment(session, entry_no, line_no))
    session.flush()


def has_comments(session: Session, entry_nos: Sequence[int]) -> set[int]:
    """The entries among `entry_nos` that have comment lines."""
    if not entry_nos:
        return set()
    return set(
        session.scalars(
            select(InteractionComment.entry_no).where(InteractionComment.entry_no.in_(list(entry_nos))).distinct()
        )
    )
