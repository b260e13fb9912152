"""Delivery (domain.md 3.13-3.14): the outbox of e-mails, letters merged for Hard Copy, resend.

Core only writes outbox rows, in the transaction that logs the interactions; the worker
(rapport.worker) claims them, sends outside any transaction and marks them. Each row carries
the Message-ID it will always be sent with, so a retry after a crash repeats the same message.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from html import unescape
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from rapport.core import attachments, merge
from rapport.core.campaigns import Campaign
from rapport.core.contacts import Contact
from rapport.core.enums import CorrespondenceType
from rapport.core.interactions.models import InteractionLogEntry as E
from rapport.core.masterdata import Salesperson
from rapport.core.segments.models import LoggedSegment, SegmentLine
from rapport.db import Base, rowcount
from rapport.errors import Conflict, Invalid, NotFound

EMAIL = CorrespondenceType.EMAIL.value
HARD_COPY = CorrespondenceType.HARD_COPY.value
WORD_EXTENSIONS = frozenset({"docx", "dotx"})
TEXT_EXTENSIONS = frozenset({"html", "htm", "txt"})

# Outbox row states. `sending` rows whose claim is older than the lease belong to a worker that
# died; they are claimed again and sent with the same Message-ID.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# Delivery Status of an entry (api.md).
IN_PROGRESS, DELIVERED, ERROR = "in_progress", "sent", "error"


class Delivery(Base):
    """One e-mail to send for an interaction log entry (the outbox)."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_no: Mapped[int] = mapped_column(ForeignKey("interaction_log_entry.entry_no", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- merge fields ------------------------------------------------------------------------------


def _field_columns(src: Any) -> dict[str, Any]:
    """The api.md merge fields as SQL expressions over `src` (a log entry or a segment line)."""
    company = aliased(Contact)
    contact = Contact
    return {
        "Contact_No": contact.no,
        "Contact_Name": contact.name,
        "Contact_Company_Name": func.coalesce(company.name, contact.company_name),
        "Contact_Job_Title": contact.job_title,
        "Contact_Address": contact.address,
        "Contact_Address_2": contact.address_2,
        "Contact_Post_Code": contact.post_code,
        "Contact_City": contact.city,
        "Contact_Country": contact.country_code,
        "Contact_Email": contact.email,
        "Contact_Phone": contact.phone_no,
        "Salesperson_Name": Salesperson.name,
        "Salesperson_Email": Salesperson.email,
        "Salesperson_Phone": Salesperson.phone_no,
        "Interaction_Description": src.description,
        "Interaction_Subject": func.coalesce(func.nullif(src.subject, ""), src.description),
        "Interaction_Date": src.date,
        "Interaction_Language": src.language_code,
        "Segment_No": src.segment_no,
        "Campaign_Description": Campaign.description,
        "Personal_Text": src.personal_text,
        "_company": company,
    }


def fields_statement(src: Any, key: Any, condition: Any) -> Any:
    """SELECT key, the merge fields, attachment and delivery facts of the rows of `src` matching `condition`."""
    columns = _field_columns(src)
    company = columns.pop("_company")
    return (
        select(
            key.label("key"),
            src.attachment_no.label("attachment_no"),
            src.correspondence_type.label("correspondence_type"),
            *[value.label(name) for name, value in columns.items()],
        )
        .select_from(src)
        .join(Contact, Contact.no == src.contact_no)
        .outerjoin(company, and_(company.no == Contact.company_no, company.no != Contact.no))
        .outerjoin(Salesperson, Salesperson.code == src.salesperson_code)
        .outerjoin(Campaign, Campaign.no == src.campaign_no)
        .where(condition)
    )


def _fields(row: Any) -> dict[str, str]:
    values = {name: row._mapping[name] for name in merge.FIELD_NAMES}
    return {
        name: (value.isoformat() if isinstance(value, dt.date) else str(value or "")) for name, value in values.items()
    }


# --- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A merged document ready to download or send."""

    file_name: str
    media_type: str
    content: bytes
    missing_fields: frozenset[str] = frozenset()


def _file_stem(text: str, default: str) -> str:
    stem = "".join(ch for ch in text if ch.isalnum() or ch in " -_.,()").strip()
    return stem[:80] or default


Sources = dict[int, tuple[attachments.Attachment, bytes]]


def merge_attachment(
    session: Session, attachment_no: int, fields: dict[str, str], stem: str, sources: Sources | None = None
) -> Document:
    """The attachment merged for one contact: a .docx for Word, rendered HTML or text, else the file as is.

    `sources` keeps each template file read once across a batch of contacts."""
    if sources is not None and attachment_no in sources:
        attachment, content = sources[attachment_no]
    else:
        attachment = attachments.get_attachment(session, attachment_no)
        content = attachments.read_content(session, attachment_no)
        if sources is not None:
            sources[attachment_no] = (attachment, content)
    extension = attachment.file_extension.lower()
    if extension in WORD_EXTENSIONS:
        result = merge.merge_docx(content, fields)
        return Document(f"{stem}.docx", attachments.MEDIA_TYPES["docx"], result.content, result.missing)
    if extension in TEXT_EXTENSIONS:
        html = extension != "txt"
        rendered = merge.render_text(content.decode("utf-8", errors="replace"), fields, html=html)
        media = "text/html; charset=utf-8" if html else "text/plain; charset=utf-8"
        return Document(f"{stem}.{extension}", media, rendered.text.encode(), rendered.missing)
    return Document(attachment.file_name or f"{stem}.{extension}", attachment.media_type, content)


def line_document(session: Session, segment_no: str, line_no: int) -> Document:
    """The merged document of a segment line's contact (the preview before logging)."""
    L = SegmentLine
    row = session.execute(
        fields_statement(L, L.line_no, and_(L.segment_no == segment_no.strip().upper(), L.line_no == line_no))
    ).first()
    if row is None:
        exists = session.get(SegmentLine, (segment_no.strip().upper(), line_no))
        if exists is None:
            raise NotFound(f"Segment {segment_no} has no line {line_no}.")
        raise Conflict(f"Line {line_no} of segment {segment_no} has no contact to merge a document for.")
    if row.attachment_no is None:
        raise Conflict(
            f"Line {line_no} of segment {segment_no} has no attachment: give its interaction template an "
            "attachment for the line's language."
        )
    return merge_attachment(session, row.attachment_no, _fields(row), _file_stem(row.Contact_Name, "document"))


# --- queueing ----------------------------------------------------------------------------------


def _message_id_expression(token: str) -> Any:
    """`<entry-no.token@rapport>`: unique per queueing, the same for every retry of it."""
    return literal("<") + cast(E.entry_no, String) + literal(f".{token}@rapport>")


def queue_emails(session: Session, condition: Any) -> int:
    """Outbox rows for the e-mail entries matching `condition`; their status becomes in progress.

    An entry whose message is still in the outbox (waiting for its retry, or being sent) is not
    queued a second time, so a repeated resend never sends the same interaction twice (3.14:
    entries already queued are skipped); a message waiting for its retry is made due now."""
    now = now_utc()
    token = secrets.token_hex(6)
    where = and_(condition, E.correspondence_type == EMAIL, E.postponed.is_(False))
    waiting = rowcount(
        session.execute(
            update(Delivery)
            .where(Delivery.status == PENDING, Delivery.entry_no.in_(select(E.entry_no).where(where)))
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
    )
    in_outbox = exists().where(Delivery.entry_no == E.entry_no, Delivery.status.in_((PENDING, SENDING)))
    rows = select(
        E.entry_no,
        _message_id_expression(token),
        literal(PENDING),
        literal(0),
        literal(now, DateTime(timezone=True)),
        literal("", String),
        literal("", String),
        literal(now, DateTime(timezone=True)),
    ).where(where, ~in_outbox)
    columns = [
        "entry_no",
        "message_id",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "last_error",
        "created_at",
    ]
    queued = rowcount(
        session.execute(insert(Delivery).from_select(columns, rows).execution_options(preserve_rowcount=True))
    )
    session.execute(
        update(E)
        .where(where)
        .values(delivery_status=IN_PROGRESS, delivery_error="")
        .execution_options(synchronize_session=False)
    )
    return queued + waiting


def print_letters(session: Session, condition: Any, batch: int = 500) -> int:
    """Merge each Hard Copy entry's Word document for its contact and keep it as the entry's attachment.

    Non-Word attachments cannot be printed as letters: those entries get Delivery Status error."""
    where = and_(condition, E.correspondence_type == HARD_COPY, E.postponed.is_(False), E.attachment_no.is_not(None))
    printed = 0
    last = 0
    while True:
        rows = session.execute(
            fields_statement(E, E.entry_no, and_(where, E.entry_no > last)).order_by(E.entry_no).limit(batch)
        ).all()
        if not rows:
            return printed
        for row in rows:
            last = row.key
            attachment = attachments.get_attachment(session, row.attachment_no)
            if attachment.file_extension.lower() not in WORD_EXTENSIONS:
                _set_status(
                    session,
                    [row.key],
                    ERROR,
                    f"A letter needs a Word (.docx) document; the attachment is a .{attachment.file_extension} file.",
                )
                continue
            stem = _file_stem(
                f"{row.Contact_Company_Name} - {row.Contact_Name}" if row.Contact_Company_Name else row.Contact_Name,
                "letter",
            )
            document = merge_attachment(session, row.attachment_no, _fields(row), stem)
            stored = attachments.store_attachment(session, document.file_name, document.media_type, document.content)
            attachments.mark_read_only(session, [stored.no])
            session.execute(
                update(E)
                .where(E.entry_no == row.key)
                .values(attachment_no=stored.no, delivery_status="", delivery_error="")
                .execution_options(synchronize_session=False)
            )
            printed += 1


def _set_status(session: Session, entry_nos: Sequence[int], status: str, reason: str = "") -> None:
    session.execute(
        update(E)
        .where(E.entry_no.in_(entry_nos))
        .values(delivery_status=status, delivery_error=reason[:250])
        .execution_options(synchronize_session=False)
    )


def deliver(session: Session, condition: Any) -> dict[str, int]:
    """Deliver the entries matching `condition`: queue their e-mails and print their letters."""
    return {"emails_queued": queue_emails(session, condition), "letters": print_letters(session, condition)}


def resend(session: Session, entry_no: int, correspondence_type: str | None = None) -> E:
    """Resend Attachments (3.14) for one entry: deliver its attachment again, optionally as another type."""
    entry = session.get(E, entry_no)
    if entry is None:
        raise NotFound(f"Interaction log entry {entry_no} does not exist.")
    if entry.postponed:
        raise Conflict(f"Interaction log entry {entry_no} is postponed; resume it before sending it.")
    if entry.attachment_no is None:
        raise Conflict(
            f"There is nothing to send: interaction log entry {entry_no} has no attachment.", field="entry_no"
        )
    if correspondence_type:
        entry.correspondence_type = correspondence_type
    if not entry.correspondence_type:
        raise Invalid(
            f"Interaction log entry {entry_no} has no correspondence type; choose one to resend it.",
            field="correspondence_type",
        )
    contact = session.get(Contact, entry.contact_no)
    if contact is None or contact.privacy_blocked:
        raise Conflict(f"Contact {entry.contact_no} is blocked for privacy and never receives anything.")
    if entry.correspondence_type == EMAIL and not contact.email:
        raise Conflict(
            f"Contact {contact.no} has no e-mail address; fill in its Email field, or resend as Hard Copy.",
            field="correspondence_type",
        )
    session.flush()
    if entry.correspondence_type not in (EMAIL, HARD_COPY):
        _set_status(
            session, [entry_no], ERROR, f"Only e-mails and letters can be delivered, not {entry.correspondence_type}."
        )
    else:
        deliver(session, E.entry_no == entry_no)
    session.refresh(entry)
    return entry


# --- letters -----------------------------------------------------------------------------------


def letters_document(session: Session, logged_segment_entry_no: int, *, pdf: bool = False) -> Document:
    """Every letter of a logged segment (its Hard Copy entries' merged documents) in one .docx,
    or one PDF when `pdf` is asked for and LibreOffice is installed."""
    logged = session.get(LoggedSegment, logged_segment_entry_no)
    if logged is None:
        raise NotFound(f"Logged segment {logged_segment_entry_no} does not exist.")
    nos = list(
        session.scalars(
            select(E.attachment_no)
            .join(attachments.Attachment, attachments.Attachment.no == E.attachment_no)
            .where(
                E.logged_segment_entry_no == logged_segment_entry_no,
                E.correspondence_type == HARD_COPY,
                E.canceled.is_(False),
                attachments.Attachment.file_extension.in_(WORD_EXTENSIONS),
            )
            .order_by(E.entry_no)
        )
    )
    if not nos:
        raise NotFound(
            f"Logged segment {logged_segment_entry_no} has no letters: none of its entries is a Hard Copy "
            "with a Word document (log with delivery to print them)."
        )
    book = merge.merge_letters((attachments.read_content(session, no), {}) for no in nos if no is not None)
    name = f"Segment {logged.segment_no}"
    if pdf:
        converted = merge.to_pdf(book.content)
        if converted is None:
            raise Conflict("PDF letters need LibreOffice on the server; download the .docx instead.", field="format")
        return Document(f"{name}.pdf", attachments.MEDIA_TYPES["pdf"], converted)
    return Document(f"{name}.docx", attachments.MEDIA_TYPES["docx"], book.content)


# --- what the worker uses ----------------------------------------------------------------------


def claim(session: Session, worker_id: str, *, limit: int, lease: dt.timedelta) -> list[int]:
    """Mark up to `limit` due rows as being sent by `worker_id` (skipping rows other workers hold)."""
    now = now_utc()
    due = or_(
        and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.status == SENDING, Delivery.claimed_at < now - lease),
    )
    query = select(Delivery.id).where(due).order_by(Delivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(status=SENDING, claimed_at=now, claimed_by=worker_id, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return ids


@dataclass(frozen=True)
class Outgoing:
    """A claimed row turned into the message to send (or the reason it cannot be)."""

    delivery_id: int
    entry_no: int
    attempts: int
    message: EmailMessage | None
    problem: str = ""


def build_messages(session: Session, ids: Sequence[int], mail_from: str) -> Iterator[Outgoing]:
    """The e-mail of each claimed row, merged for its contact (subject, body or attachment)."""
    rows = session.execute(
        fields_statement(
            E, E.entry_no, E.entry_no.in_(select(Delivery.entry_no).where(Delivery.id.in_(ids)))
        ).add_columns(E.subject, E.description, E.send_word_docs_as_attachment, Contact.privacy_blocked)
    ).all()
    by_entry = {row.key: row for row in rows}
    sources: Sources = {}
    for delivery_id, entry_no, message_id, attempts in session.execute(
        select(Delivery.id, Delivery.entry_no, Delivery.message_id, Delivery.attempts)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ):
        row = by_entry.get(entry_no)
        problem = _problem(row)
        if problem:
            yield Outgoing(delivery_id, entry_no, attempts, None, problem)
            continue
        try:
            message = _message(session, row, mail_from, message_id, sources)
        except Exception as exc:  # a broken attachment fails this message, not the batch
            yield Outgoing(delivery_id, entry_no, attempts, None, f"The message could not be built: {exc}")
            continue
        yield Outgoing(delivery_id, entry_no, attempts, message)


def _problem(row: Any) -> str:
    if row is None:
        return "The contact of the entry no longer exists."
    if row.privacy_blocked:
        return "The contact is blocked for privacy and never receives anything."
    if row.correspondence_type != EMAIL:
        return "The entry is no longer an e-mail."
    if not row.Contact_Email:
        return f"Contact {row.Contact_No} has no e-mail address."
    if row.attachment_no is None:
        return "The entry has no attachment to send."
    return ""


def _message(session: Session, row: Any, mail_from: str, message_id: str, sources: Sources) -> EmailMessage:
    subject = row.subject or row.description
    fields = _fields(row)
    document = merge_attachment(session, row.attachment_no, fields, _file_stem(subject, "Attachment"), sources)
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.Contact_Email
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)  # "+0000 GMT" rather than "-0000" (a zone unknown)
    extension = document.file_name.rsplit(".", 1)[-1].lower()
    if extension in WORD_EXTENSIONS and not row.send_word_docs_as_attachment:
        message.set_content(merge.docx_to_text(document.content))
        message.add_alternative(merge.docx_to_html(document.content), subtype="html")
    elif extension in ("html", "htm"):
        message.set_content(_html_to_text(document.content.decode()))
        message.add_alternative(document.content.decode(), subtype="html")
    elif extension == "txt":
        message.set_content(document.content.decode())
    else:
        message.set_content(subject)
        maintype, _sep, subtype = (document.media_type.split(";")[0] or "application/octet-stream").partition("/")
        name = document.file_name if extension in WORD_EXTENSIONS else f"Attachment.{extension}"
        message.add_attachment(document.content, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
    return message


def _html_to_text(html: str) -> str:
    """A readable plain-text alternative of an HTML body."""
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h[1-6]>|</li>", "\n", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def mark_sent(session: Session, delivery_id: int, worker_id: str) -> None:
    """The server accepted the message: the row and its entry are sent."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.claimed_by != worker_id:
        return
    row.status, row.sent_at, row.last_error = SENT, now_utc(), ""
    _set_status(session, [row.entry_no], DELIVERED)


def mark_failed(
    session: Session, delivery_id: int, worker_id: str, reason: str, *, retry_in: dt.timedelta | None
) -> None:
    """Not sent: retry later (`retry_in`) or give up; the entry shows the error and its reason."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.claimed_by != worker_id:
        return
    row.last_error = reason[:500]
    if retry_in is None:
        row.status = FAILED
    else:
        row.status, row.next_attempt_at = PENDING, now_utc() + retry_in
    _set_status(session, [row.entry_no], ERROR, reason)


def outbox_counts(session: Session) -> dict[str, int]:
    """How many outbox rows are in each state."""
    counts = dict.fromkeys((PENDING, SENDING, SENT, FAILED), 0)
    counts.update(
        {
            status: int(n)
            for status, n in session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        }
    )
    return counts
