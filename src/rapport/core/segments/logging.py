"""Log Segment (domain.md 3.12) and the operations on logged segments (3.19, 3.21): set-based,
atomic, and never twice for one segment number."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import Field
from sqlalchemy import Boolean, Integer, String, and_, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from rapport.core import attachments, campaigns, deliveries
from rapport.core.base import Code20, Int32, StrictModel, next_number
from rapport.core.contacts import Contact
from rapport.core.enums import CorrespondenceType
from rapport.core.interactions.models import InteractionLogEntry as E
from rapport.core.masterdata import Salesperson
from rapport.core.segments import actions
from rapport.core.segments import header as headers
from rapport.core.segments.models import IdempotencyRecord, LoggedSegment, SegmentHeader, SegmentLine
from rapport.core.templates import InteractionTemplate
from rapport.db import rowcount
from rapport.errors import Conflict, Invalid, NotFound


class LogRequest(StrictModel):
    deliver: bool = False
    create_follow_up: bool = False


class DeleteLoggedFilters(StrictModel):
    entry_no_from: Int32 | None = None
    entry_no_to: Int32 | None = None
    segment_no: Code20 | None = None


class EntrySelection(StrictModel):
    entry_nos: list[Int32] = Field(min_length=1)


def _first(session: Session, condition: Any, what: str) -> None:
    """Conflict naming the first line (by line number) that meets `condition`."""
    line = session.execute(
        select(SegmentLine.line_no, SegmentLine.contact_no)
        .outerjoin(Contact, Contact.no == SegmentLine.contact_no)
        .where(condition)
        .order_by(SegmentLine.line_no)
        .limit(1)
    ).first()
    if line is not None:
        raise Conflict(f"Line {line.line_no} (contact {line.contact_no}): {what}")


def _check_lines(session: Session, no: str, deliver: bool) -> None:
    """CheckSegmentLine for every line at once."""
    L = SegmentLine
    mine = and_(L.segment_no == no, L.contact_no != "")
    _first(session, and_(mine, Contact.no.is_(None)), "the contact does not exist.")
    _first(session, and_(mine, L.date.is_(None)), "the date must have a value.")
    _first(session, and_(mine, L.salesperson_code == ""), "the salesperson code must have a value.")
    _first(
        session,
        and_(mine, L.salesperson_code != "", ~L.salesperson_code.in_(select(Salesperson.code))),
        "the salesperson does not exist.",
    )
    _first(
        session,
        and_(mine, ~L.interaction_template_code.in_(select(InteractionTemplate.code))),
        "the interaction template must have a value and exist.",
    )
    _first(
        session,
        and_(mine, L.campaign_no != "", ~L.campaign_no.in_(select(campaigns.Campaign.no))),
        "the campaign does not exist.",
    )
    if deliver:
        email = CorrespondenceType.EMAIL.value
        _first(
            session,
            and_(mine, Contact.privacy_blocked.is_(False), L.correspondence_type == email, Contact.email == ""),
            "make sure that the contact has an e-mail address, or log without delivery.",
        )
        _first(
            session,
            and_(mine, Contact.privacy_blocked.is_(False), L.correspondence_type == email, L.attachment_no.is_(None)),
            "the e-mail has no body or attachment for its language; add one, or log without delivery.",
        )
        _first(
            session,
            and_(
                mine,
                Contact.privacy_blocked.is_(False),
                L.correspondence_type == CorrespondenceType.HARD_COPY.value,
                L.attachment_no.is_(None),
            ),
            "a Hard Copy letter needs a Word document for its language; add one, or log without delivery.",
        )


def _campaign_entries(session: Session, header: SegmentHeader, entry_no: int, user_id: str) -> dict[str, int]:
    """One campaign entry per campaign of the segment (3.12 step 4), from its first line."""
    L = SegmentLine
    of_campaign = and_(L.segment_no == header.no, L.campaign_no != "", L.contact_no != "")
    result: dict[str, int] = {}
    # The distinct campaigns, then each one's first line (a bounded sort, not a sort of every line).
    campaign_nos = session.scalars(select(L.campaign_no).where(of_campaign).distinct().order_by(L.campaign_no)).all()
    for campaign_no in campaign_nos:
        date, salesperson = session.execute(
            select(L.date, L.salesperson_code)
            .where(of_campaign, L.campaign_no == campaign_no)
            .order_by(L.date, L.line_no)
            .limit(1)
        ).one()
        result[campaign_no] = campaigns.entry_for(
            session,
            campaign_no=campaign_no,
            segment_no=header.no,
            document_type="",
            date=date,
            salesperson_code=salesperson,
            user_id=user_id,
            description=header.description,
            register_no=entry_no,
        )
    return result


def log_segment(
    session: Session,
    no: str,
    data: LogRequest,
    *,
    user_id: str,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Log every line as an interaction, create the logged segment and campaign entries, delete the
    segment, and optionally create the follow-up segment — all in the caller's one transaction."""
    no = no.strip().upper()
    header = session.scalar(select(SegmentHeader).where(SegmentHeader.no == no).with_for_update())
    already = session.scalar(select(LoggedSegment.entry_no).where(LoggedSegment.segment_no == no))
    if already is not None:
        raise Conflict(f"Segment {no} was already logged (logged segment {already}).")
    if header is None:
        raise NotFound(f"Segment {no} does not exist.")
    if not header.description:
        raise Conflict(f"Segment {no} needs a description before it can be logged.", field="description")
    L, c = SegmentLine, Contact
    with_contact = and_(L.segment_no == no, L.contact_no != "")

    def any_line(*conditions: Any) -> bool:
        found = select(L.line_no).join(c, c.no == L.contact_no).where(with_contact, *conditions).limit(1)
        return session.scalar(found) is not None

    if not any_line():
        raise Conflict(f"Segment {no} is empty: add contacts before logging it.")
    step = progress or (lambda _phase: None)
    step("checking the lines")
    _check_lines(session, no, data.deliver)
    if not any_line(c.privacy_blocked.is_(False)):
        raise Conflict(f"Every contact of segment {no} is blocked for privacy; nothing can be logged.")
    logged_segment = LoggedSegment(
        # Its lock, held until commit, makes concurrent Log Segment runs take their turns from here on.
        entry_no=next_number(session, LoggedSegment.entry_no),
        segment_no=no,
        description=header.description,
        creation_date=dt.date.today(),
        user_id=user_id,
        canceled=False,
    )
    session.add(logged_segment)
    session.flush()
    entry_no = logged_segment.entry_no
    step("creating campaign entries")
    campaign_entry = _campaign_entries(session, header, entry_no, user_id)
    email = CorrespondenceType.EMAIL.value
    values: dict[str, Any] = {
        "contact_no": L.contact_no,
        "contact_company_no": L.contact_company_no,
        "date": L.date,
        "time_of_interaction": L.time_of_interaction,
        "description": L.description,
        "subject": L.subject,
        "interaction_group_code": L.interaction_group_code,
        "interaction_template_code": L.interaction_template_code,
        "information_flow": L.information_flow,
        "initiated_by": L.initiated_by,
        "cost": L.cost,
        "duration_min": L.duration_min,
        "salesperson_code": L.salesperson_code,
        "user_id": literal(user_id, String),
        "correspondence_type": case(
            (and_(L.correspondence_type == email, c.email == ""), ""), else_=L.correspondence_type
        ),
        "language_code": L.language_code,
        "attachment_no": L.attachment_no,
        "evaluation": L.evaluation,
        "attempt_failed": L.attempt_failed,
        "canceled": literal(False, Boolean),
        "postponed": literal(False, Boolean),
        "campaign_no": L.campaign_no,
        "campaign_entry_no": case(*[(L.campaign_no == k, v) for k, v in campaign_entry.items()], else_=None)
        if campaign_entry
        else literal(None, Integer),
        "campaign_target": L.campaign_target,
        "campaign_response": L.campaign_response,
        "segment_no": L.segment_no,
        "logged_segment_entry_no": literal(entry_no, Integer),
        "document_type": literal("", String),
        "document_no": literal("", String),
        "version_no": literal(0, Integer),
        "doc_no_occurrence": literal(0, Integer),
        "contact_via": L.contact_via,
        "opportunity_no": literal("", String),
        "delivery_status": literal("", String),
        "delivery_error": literal("", String),
        "personal_text": L.personal_text,
        "send_word_docs_as_attachment": L.send_word_doc_as_attachment,
    }
    rows = (
        select(*values.values())
        .select_from(L)
        .join(c, c.no == L.contact_no)
        .where(with_contact, c.privacy_blocked.is_(False))
        .order_by(L.line_no)
    )
    step("logging interactions")
    lines = int(session.scalar(select(func.count()).select_from(L).where(with_contact)) or 0)
    logged = rowcount(
        session.execute(insert(E).from_select(list(values), rows).execution_options(preserve_rowcount=True))
    )
    session.execute(
        update(attachments.Attachment)
        .where(attachments.Attachment.no.in_(select(L.attachment_no).where(with_contact, L.attachment_no.is_not(None))))
        .values(read_only=True)
        .execution_options(synchronize_session=False)
    )
    _add_campaign_targets(session, no)
    delivered = {"emails_queued": 0, "letters": 0}
    if data.deliver:
        step("queueing e-mails and printing letters")
        delivered = deliveries.deliver(session, E.logged_segment_entry_no == entry_no)
    follow_up = ""
    campaign_no = header.campaign_no
    step("removing the segment")
    headers.delete_segment(session, no)
    if data.create_follow_up:
        step("creating the follow-up segment")
        follow = headers.create_segment(
            session,
            headers.SegmentCreate(description=f"Follow-up on segment {no}"[:50], campaign_no=campaign_no or None)
            if campaign_no
            else headers.SegmentCreate(description=f"Follow-up on segment {no}"[:50]),
        )
        actions.reuse_logged_segment(session, follow.no, entry_no)
        follow_up = follow.no
    session.flush()
    return {
        "logged_segment_entry_no": entry_no,
        "no_of_interactions": logged,
        "follow_up_segment_no": follow_up,
        # every line's contact exists (checked above): the lines not logged are the blocked ones
        "skipped": {"privacy_blocked": lines - logged},
        **delivered,
    }


class Answer(NamedTuple):
    """The first answer to a Log Segment request sent with an Idempotency-Key."""

    status_code: int
    body: dict[str, Any]


def request_key(key: str, segment_no: str, user_id: str) -> str:
    """The key an API request's Idempotency-Key is remembered under: scoped to the segment and the user,
    so that the same key sent to log another segment (or by another user) is another request and logs
    that segment. Hashed, so that a key of any accepted length fits the column with its scope."""
    if not key.strip() or len(key) > 200:
        raise Invalid("Idempotency-Key must be 1 to 200 characters.", field="Idempotency-Key")
    scoped = "\x1f".join((user_id, segment_no.strip().upper(), key))
    return "api:" + hashlib.sha256(scoped.encode()).hexdigest()


def log_segment_once(
    session: Session, no: str, data: LogRequest, *, user_id: str, key: str | None
) -> tuple[dict[str, Any], bool]:
    """Log Segment, remembered under an idempotency `key`: a repeat gets the first result back
    instead of logging again. Returns (result, replayed)."""
    if key is not None:
        if not key.strip() or len(key) > 200:
            raise Invalid("Idempotency-Key must be 1 to 200 characters.", field="Idempotency-Key")
        previous = previous_result(session, key)
        if previous is not None:
            return previous, True
    result = log_segment(session, no, data, user_id=user_id)
    if key is not None:
        remember_answer(session, key, no, Answer(200, result))
    return result, False


def remember_answer(session: Session, key: str, no: str, answer: Answer) -> None:
    """Keep the answer given to a request under its idempotency key (a refusal is kept by the caller,
    in a transaction of its own, after the refused one rolled back)."""
    session.add(
        IdempotencyRecord(
            key=key,
            scope=f"log-segment {no.strip().upper()}",
            status_code=answer.status_code,
            body=answer.body,
            created_at=dt.datetime.now(dt.UTC),
        )
    )


def first_answer(session: Session, key: str) -> Answer | None:
    """The answer remembered under an idempotency key, a refusal included."""
    record = session.get(IdempotencyRecord, key)
    return Answer(record.status_code, dict(record.body)) if record is not None else None


def previous_result(session: Session, key: str) -> dict[str, Any] | None:
    """The result of the logging remembered under an idempotency key (after a race lost at commit, too);
    None when nothing was logged under it."""
    answer = first_answer(session, key)
    return answer.body if answer is not None and answer.status_code == 200 else None


def _add_campaign_targets(session: Session, segment_no: str) -> None:
    L = SegmentLine
    nos = list(session.scalars(select(L.campaign_no).where(L.segment_no == segment_no, L.campaign_no != "").distinct()))
    active = campaigns.activated_campaigns(session, nos) if nos else set()
    for campaign_no in sorted(active):
        companies = session.scalars(
            select(L.contact_company_no)
            .where(L.segment_no == segment_no, L.campaign_no == campaign_no, L.campaign_target.is_(True))
            .distinct()
        )
        for company in list(companies):
            campaigns.add_target(session, campaign_no, company)


# --- logged segments ---------------------------------------------------------------------------------


def get_logged(session: Session, entry_no: int) -> LoggedSegment:
    logged = session.get(LoggedSegment, entry_no)
    if logged is None:
        raise NotFound(f"Logged segment {entry_no} does not exist.")
    return logged


def logged_counts(session: Session, logged: list[LoggedSegment]) -> dict[int, tuple[int, int]]:
    """No. of Interactions and No. of Campaign Entries whose Canceled equals the logged segment's."""
    if not logged:
        return {}
    nos = [x.entry_no for x in logged]
    flags = {x.entry_no: x.canceled for x in logged}
    entries = session.execute(
        select(E.logged_segment_entry_no, E.canceled, func.count())
        .where(E.logged_segment_entry_no.in_(nos))
        .group_by(E.logged_segment_entry_no, E.canceled)
    ).all()
    ce = campaigns.CampaignEntry
    camp = session.execute(
        select(ce.register_no, ce.canceled, func.count())
        .where(ce.register_no.in_(nos))
        .group_by(ce.register_no, ce.canceled)
    ).all()
    result = {n: [0, 0] for n in nos}
    for n, canceled, count in entries:
        if n is not None and flags[n] == canceled:
            result[n][0] = int(count)
    for n, canceled, count in camp:
        if n is not None and flags[n] == canceled:
            result[n][1] = int(count)
    return {n: (v[0], v[1]) for n, v in result.items()}


def set_logged_canceled(session: Session, entry_no: int, canceled: bool) -> LoggedSegment:
    """Cancel or un-cancel a logged segment with its campaign entries and interactions."""
    logged = get_logged(session, entry_no)
    logged.canceled = canceled
    session.execute(
        update(campaigns.CampaignEntry).where(campaigns.CampaignEntry.register_no == entry_no).values(canceled=canceled)
    )
    session.execute(update(E).where(E.logged_segment_entry_no == entry_no).values(canceled=canceled))
    session.flush()
    return logged


def follow_up(session: Session, entry_no: int) -> str:
    """A new segment with the same contacts as the logged segment; returns its number."""
    logged = get_logged(session, entry_no)
    # The follow-up's description is cut to 50 characters, as in Business Central (domain.md §5 item 17).
    segment = headers.create_segment(session, headers.SegmentCreate(description=logged.description[:50]))
    actions.reuse_logged_segment(session, segment.no, entry_no)
    return segment.no


def delete_canceled(session: Session, filters: DeleteLoggedFilters) -> int:
    """Delete canceled logged segments; their interactions and campaign entries stay, unlinked."""
    conditions: list[Any] = [LoggedSegment.canceled.is_(True)]
    if filters.entry_no_from is not None:
        conditions.append(LoggedSegment.entry_no >= filters.entry_no_from)
    if filters.entry_no_to is not None:
        conditions.append(LoggedSegment.entry_no <= filters.entry_no_to)
    if filters.segment_no is not None:
        conditions.append(LoggedSegment.segment_no == filters.segment_no)
    doomed = select(LoggedSegment.entry_no).where(*conditions)
    session.execute(update(E).where(E.logged_segment_entry_no.in_(doomed)).values(logged_segment_entry_no=None))
    session.execute(
        update(campaigns.CampaignEntry).where(campaigns.CampaignEntry.register_no.in_(doomed)).values(register_no=None)
    )
    deleted = rowcount(session.execute(delete(LoggedSegment).where(*conditions)))
    session.flush()
    return deleted
