"""Recording interactions: Create Interaction, resuming postponed ones, phone calls, and the
logging core they share (Business Central's Create Interaction wizard and LogInteraction)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, cast

from pydantic import Field
from sqlalchemy import Table, and_, bindparam, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert

from rapport.core import attachments, campaigns, setup, templates
from rapport.core.base import Code10, Code20, Key10, Key20, StrictModel, Text80, Text100
from rapport.core.contacts import Contact
from rapport.core.enums import (
    TEMPLATE_SETUP_CAPTIONS,
    CorrespondenceType,
    Evaluation,
    InformationFlow,
    InitiatedBy,
)
from rapport.core.interactions.models import InteractionComment, InteractionLogEntry
from rapport.core.masterdata import Salesperson
from rapport.errors import Conflict, Invalid, NotFound

MANUAL_CAMPAIGN_ENTRY = "Interactions"


class CommentIn(StrictModel):
    date: dt.date | None = None
    code: Code10 = ""
    comment: Text80 = ""


class _InteractionFields(StrictModel):
    description: Text100 | None = None
    subject: Text100 | None = None
    date: dt.date | None = None
    time_of_interaction: dt.time | None = None
    salesperson_code: Code20 | None = None
    correspondence_type: CorrespondenceType | None = None
    cost: Decimal | None = Field(default=None, ge=0)
    duration_min: Decimal | None = Field(default=None, ge=0)
    information_flow: InformationFlow | None = None
    initiated_by: InitiatedBy | None = None
    language_code: Code10 | None = None
    evaluation: Evaluation | None = None
    successful: bool = True
    campaign_no: Code20 | None = None
    campaign_target: bool | None = None
    campaign_response: bool | None = None
    contact_via: Text80 | None = None
    opportunity_no: Code20 | None = None
    comments: list[CommentIn] | None = None
    postpone: bool = False
    deliver: bool = False


class InteractionCreate(_InteractionFields):
    """Create Interaction: what the wizard asks, as one request."""

    contact_no: Key20
    interaction_template_code: Key10


class InteractionResume(_InteractionFields):
    """Finish (or postpone again) a postponed interaction; every field is optional."""

    contact_no: Code20 | None = None
    interaction_template_code: Code10 | None = None


class PhoneCall(StrictModel):
    """Make Phone Call with the Outgoing Calls template."""

    contact_no: Key20
    description: Text100 | None = None
    salesperson_code: Code20 | None = None
    contact_via: Text80 | None = None
    successful: bool = True
    date: dt.date | None = None
    time_of_interaction: dt.time | None = None
    segment_no: Code20 | None = None


@dataclass
class Draft:
    """The interaction being prepared (BC's temporary segment line)."""

    contact_no: str = ""
    contact_company_no: str = ""
    date: dt.date | None = None
    time_of_interaction: dt.time | None = None
    description: str = ""
    subject: str = ""
    interaction_group_code: str = ""
    interaction_template_code: str = ""
    information_flow: str = ""
    initiated_by: str = ""
    cost: Decimal = Decimal(0)
    duration_min: Decimal = Decimal(0)
    salesperson_code: str = ""
    correspondence_type: str = ""
    language_code: str = ""
    attachment_no: int | None = None
    evaluation: str = ""
    attempt_failed: bool = False
    campaign_no: str = ""
    campaign_entry_no: int | None = None
    campaign_target: bool = False
    campaign_response: bool = False
    segment_no: str = ""
    logged_segment_entry_no: int | None = None
    document_type: str = ""
    document_no: str = ""
    version_no: int = 0
    doc_no_occurrence: int = 0
    contact_via: str = ""
    opportunity_no: str = ""
    send_word_docs_as_attachment: bool = False
    comments: list[CommentIn] | None = field(default=None)

    def entry_values(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("comments")
        return values


def now_rounded_up(now: dt.datetime | None = None) -> dt.time:
    """The current time rounded up to the next whole minute (the wizard's default)."""
    now = now or dt.datetime.now()
    if now.second or now.microsecond:
        now = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return now.time().replace(second=0, microsecond=0)


def _contact(session: Session, no: str, *, privacy_check: bool = True) -> Contact:
    contact = session.get(Contact, no)
    if contact is None:
        raise Invalid(f"Contact {no} does not exist.", field="contact_no")
    if privacy_check and contact.privacy_blocked:
        raise Conflict(
            f"You cannot use contact {contact.no} {contact.name} because they are marked as blocked due to privacy.",
            field="contact_no",
        )
    return contact


def set_contact(session: Session, draft: Draft, contact: Contact) -> None:
    """Contact No. validation without a segment: company, language, salesperson."""
    draft.contact_no = contact.no
    draft.contact_company_no = contact.company_no
    draft.salesperson_code = contact.salesperson_code
    draft.language_code = templates.find_language(session, draft.interaction_template_code, contact.language_code)


def set_template(session: Session, draft: Draft, contact: Contact, code: str) -> templates.InteractionTemplate:
    """Interaction Template Code validation without a segment (domain.md 3.4.4)."""
    template = templates.require_template(session, code)
    templates.apply_to_line(draft, template, contact.correspondence_type)
    draft.language_code, row = templates.language_row_for(session, template, contact.language_code)
    draft.attachment_no = row.attachment_no if row is not None else None
    if template.campaign_no:
        draft.campaign_no = template.campaign_no
    return template


def set_wizard_template(session: Session, draft: Draft, contact: Contact, code: str) -> None:
    """Interaction Template Code validation in the Create Interaction wizard: as `set_template`, and
    the correspondence type becomes the template's default."""
    template = set_template(session, draft, contact, code)
    # The wizard overwrites the correspondence type with the template's default (domain.md 3.5).
    draft.correspondence_type = template.correspondence_type_default


def _apply_fields(session: Session, draft: Draft, data: _InteractionFields) -> None:
    given = data.model_dump(exclude_unset=True)
    for name in (
        "description",
        "subject",
        "date",
        "time_of_interaction",
        "salesperson_code",
        "correspondence_type",
        "cost",
        "duration_min",
        "information_flow",
        "initiated_by",
        "evaluation",
        "campaign_no",
        "campaign_target",
        "campaign_response",
        "contact_via",
        "opportunity_no",
    ):
        if name in given:
            value = given[name]
            if value is None:
                raise Invalid(f"{name} cannot be null.", field=name)
            setattr(draft, name, value)
    if given.get("language_code") is not None and given["language_code"] != draft.language_code:
        language = given["language_code"]
        if templates.template_language(session, draft.interaction_template_code, language) is None:
            raise Invalid(
                f"Interaction template {draft.interaction_template_code} has no language {language}.",
                field="language_code",
            )
        draft.language_code = language
        draft.attachment_no = templates.attachment_for(session, draft.interaction_template_code, language)
    draft.attempt_failed = not data.successful
    if "comments" in given:
        draft.comments = data.comments


def check_status(session: Session, draft: Draft) -> None:
    """The wizard's mandatory fields, checked for finishing and for postponing alike."""
    if not draft.contact_no:
        raise Invalid("You must select a contact to interact with.", field="contact_no")
    if not draft.interaction_template_code:
        raise Invalid("You must fill in the Interaction Template Code field.", field="interaction_template_code")
    if not draft.salesperson_code and not draft.document_type:
        raise Invalid(
            "You must fill in the Salesperson Code field: the contact has no salesperson to default to.",
            field="salesperson_code",
        )
    if draft.date is None:
        raise Invalid("You must fill in the Date field.", field="date")
    if not draft.description:
        raise Invalid("You must fill in the Description field.", field="description")


def check_line(session: Session, draft: Draft, contact: Contact, deliver: bool) -> None:
    """CheckSegmentLine: references exist, and the e-mail rules of domain.md 3.5."""
    if draft.salesperson_code and session.get(Salesperson, draft.salesperson_code) is None:
        raise Invalid(f"Salesperson {draft.salesperson_code} does not exist.", field="salesperson_code")
    if draft.campaign_no:
        campaigns.check_campaign(session, draft.campaign_no, "campaign_no")
    if draft.correspondence_type == CorrespondenceType.EMAIL.value and not contact.email:
        if deliver:
            raise Conflict(
                f"Contact {contact.no} has no e-mail address; fill in its Email field, or log without delivery.",
                field="contact_no",
            )
        draft.correspondence_type = CorrespondenceType.BLANK.value
    if deliver and draft.correspondence_type == CorrespondenceType.EMAIL.value and not draft.attachment_no:
        raise Conflict(
            "The e-mail has no body or attachment: the template has none for language "
            f"'{draft.language_code}'. Add one to the template, or log without delivery.",
            field="deliver",
        )


def log_interaction(
    session: Session,
    draft: Draft,
    *,
    user_id: str,
    postponed: bool = False,
    deliver: bool = False,
    entry: InteractionLogEntry | None = None,
) -> InteractionLogEntry:
    """LogInteraction: a new entry (or the resumed one), its campaign entry and comments."""
    contact = _contact(session, draft.contact_no, privacy_check=False)
    if not postponed:
        check_line(session, draft, contact, deliver)
    if not postponed and draft.campaign_no:
        draft.campaign_entry_no = campaigns.entry_for(
            session,
            campaign_no=draft.campaign_no,
            segment_no=draft.segment_no,
            document_type=draft.document_type,
            date=draft.date,
            salesperson_code=draft.salesperson_code,
            user_id=user_id,
            description=_campaign_entry_description(session, draft),
        )
    old_attachment = entry.attachment_no if entry is not None else None
    if draft.attachment_no is not None and draft.attachment_no != old_attachment:
        copy = attachments.copy_attachment(session, draft.attachment_no)
        attachments.mark_read_only(session, [copy.no])
        draft.attachment_no = copy.no
    values = draft.entry_values()
    if entry is None:
        entry = InteractionLogEntry(**values, user_id=user_id, postponed=postponed, canceled=False, delivery_status="")
        session.add(entry)
        session.flush()
    else:
        for name, value in values.items():
            setattr(entry, name, value)
        entry.user_id = user_id
        entry.postponed = postponed
        session.execute(delete(InteractionComment).where(InteractionComment.entry_no == entry.entry_no))
        session.flush()
    if old_attachment is not None and old_attachment != entry.attachment_no:
        from rapport.core.interactions.operations import remove_if_unique

        remove_if_unique(session, old_attachment)
    _insert_comments(session, entry.entry_no, draft.comments or [])
    if not postponed and entry.campaign_no and entry.campaign_target:
        campaigns.add_target(session, entry.campaign_no, entry.contact_company_no)
    if deliver and not postponed and entry.correspondence_type:
        from rapport.core import deliveries

        session.flush()
        deliveries.deliver(session, InteractionLogEntry.entry_no == entry.entry_no)
        session.refresh(entry)
    return entry


def _campaign_entry_description(session: Session, draft: Draft) -> str:
    """The segment's description when the interaction has a segment, else the Interaction Template Setup
    caption of its document type, else "Interactions" (domain.md 3.16 step 2)."""
    if draft.segment_no:
        from rapport.core.segments.models import LoggedSegment, SegmentHeader

        description = session.scalar(
            select(SegmentHeader.description).where(SegmentHeader.no == draft.segment_no)
        ) or session.scalar(select(LoggedSegment.description).where(LoggedSegment.segment_no == draft.segment_no))
        return description or draft.segment_no
    return TEMPLATE_SETUP_CAPTIONS.get(draft.document_type, MANUAL_CAMPAIGN_ENTRY)


def _insert_comments(session: Session, entry_no: int, comments: list[CommentIn]) -> None:
    """The entry's comment lines; an undated one is dated today unless an earlier one is (as a comment
    added to an existing entry is)."""
    today = dt.date.today()
    dated_today = False
    for i, comment in enumerate(comments, start=1):
        date = comment.date
        if "date" not in comment.model_fields_set:
            date = None if dated_today else today
        dated_today = dated_today or date == today
        session.add(
            InteractionComment(
                entry_no=entry_no,
                line_no=i * 10000,
                date=date,
                code=comment.code,
                comment=comment.comment,
                last_date_modified=today,
            )
        )
    session.flush()


# What a request may give that only replaces the template's value, what replaces a blank or the
# current day and time, and so all a request taking the one-statement path may give.
_TEMPLATE_VALUES = frozenset({"description", "subject", "information_flow", "initiated_by", "cost", "duration_min"})
_BLANK_VALUES = {"evaluation": "", "contact_via": "", "opportunity_no": ""}
_PLAIN_REQUEST = {"contact_no", "interaction_template_code", "successful", "date", "time_of_interaction"}
_PLAIN_REQUEST |= _TEMPLATE_VALUES | _BLANK_VALUES.keys()


def _log_plain(session: Session, data: InteractionCreate, *, user_id: str) -> InteractionLogEntry | None:
    """The everyday Create Interaction in one INSERT ... SELECT, or None when it needs more.

    It applies when the request gives only plain values, the template has no languages and no
    campaign, and the contact is not blocked and has a salesperson that exists: the entry then
    takes what the wizard would give it (the template's defaults, its correspondence type downgraded
    when the contact has no e-mail, the contact's company and salesperson). Anything else — and
    every refusal — is left to the wizard's own steps, which write nothing until they pass; a test
    holds both ways to the same entries."""
    given = data.model_dump(exclude_unset=True)
    if not given.keys() <= _PLAIN_REQUEST or any(given[name] is None for name in given.keys() - {"successful"}):
        return None
    stmt, params = plain_insert(given, user_id)
    row = session.connection().execute(stmt, params).one_or_none()
    if row is None:
        return None
    entry = InteractionLogEntry(**row._mapping)
    make_transient_to_detached(entry)  # as if read back: in the session, nothing to write
    session.add(entry)
    return entry


def plain_insert(given: dict[str, Any], user_id: str) -> tuple[ReturningInsert[Any], dict[str, Any]]:
    """The one-statement Create Interaction for a request with these plain values, and its parameters."""
    params = {
        **_BLANK_VALUES,
        "date": dt.date.today(),
        "time_of_interaction": now_rounded_up(),
        **given,
        "user_id": user_id,
        "attempt_failed": not given.get("successful", True),
    }
    return _plain_statement(_TEMPLATE_VALUES.intersection(given)), params


@functools.cache
def _plain_statement(given: frozenset[str]) -> ReturningInsert[Any]:
    """The statement for requests giving these of the template's values (built once for each:
    building it costs more than running it)."""
    c, t, table = Contact, templates.InteractionTemplate, cast(Table, InteractionLogEntry.__table__)
    e = table.c

    def value(name: str, template_value: Any = None) -> Any:
        return bindparam(name, type_=e[name].type) if template_value is None or name in given else template_value

    description = value("description", t.description)
    email = CorrespondenceType.EMAIL.value
    columns = {
        "contact_no": c.no,
        "contact_company_no": c.company_no,
        "date": value("date"),
        "time_of_interaction": value("time_of_interaction"),
        "description": description,
        "subject": value("subject", description),
        "interaction_group_code": t.interaction_group_code,
        "interaction_template_code": t.code,
        "information_flow": value("information_flow", t.information_flow),
        "initiated_by": value("initiated_by", t.initiated_by),
        "cost": value("cost", t.unit_cost),
        "duration_min": value("duration_min", t.unit_duration_min),
        "salesperson_code": c.salesperson_code,
        "user_id": value("user_id"),
        "correspondence_type": case(
            (and_(t.correspondence_type_default == email, func.coalesce(c.email, "") == ""), ""),
            else_=t.correspondence_type_default,
        ),
        "language_code": t.language_code_default,
        "evaluation": value("evaluation"),
        "attempt_failed": value("attempt_failed"),
        "canceled": literal(False),
        "postponed": literal(False),
        "campaign_target": t.campaign_target,
        "campaign_response": t.campaign_response,
        "contact_via": value("contact_via"),
        "opportunity_no": value("opportunity_no"),
        "delivery_status": literal(""),
    }
    languages = templates.InteractionTemplateLanguage
    source = (
        select(*columns.values())
        .select_from(c)
        .join(t, t.code == bindparam("interaction_template_code"))
        .join(Salesperson, Salesperson.code == c.salesperson_code)
        .where(
            c.no == bindparam("contact_no"),
            c.privacy_blocked.is_(False),
            t.campaign_no == "",
            ~select(languages.language_code).where(languages.interaction_template_code == t.code).exists(),
            description != "",
        )
    )
    return insert(table).from_select(list(columns), source).returning(*e)


def create_interaction(session: Session, data: InteractionCreate, *, user_id: str) -> InteractionLogEntry:
    """Create Interaction: the wizard's defaults and checks, then log (or postpone)."""
    entry = _log_plain(session, data, user_id=user_id)
    if entry is not None:
        return entry
    contact = _contact(session, data.contact_no)
    draft = Draft(date=dt.date.today(), time_of_interaction=now_rounded_up())
    set_contact(session, draft, contact)
    set_wizard_template(session, draft, contact, data.interaction_template_code)
    _apply_fields(session, draft, data)
    if data.subject is None:
        draft.subject = draft.description
    check_status(session, draft)
    deliver = data.deliver and not data.postpone and bool(draft.correspondence_type)
    return log_interaction(session, draft, user_id=user_id, postponed=data.postpone, deliver=deliver)


def get_entry(session: Session, entry_no: int) -> InteractionLogEntry:
    entry = session.get(InteractionLogEntry, entry_no)
    if entry is None:
        raise NotFound(f"Interaction log entry {entry_no} does not exist.")
    return entry


def resume_interaction(
    session: Session, entry_no: int, data: InteractionResume, *, user_id: str
) -> InteractionLogEntry:
    """Finish or postpone again a postponed interaction under the same entry number."""
    # Locked and read afresh, so a second resume of the same entry waits and then finds it resumed.
    entry = session.get(InteractionLogEntry, entry_no, with_for_update=True, populate_existing=True)
    if entry is None:
        raise NotFound(f"Interaction log entry {entry_no} does not exist.")
    if not entry.postponed:
        raise Conflict(f"Interaction log entry {entry_no} is not postponed; only postponed ones resume.")
    draft = Draft(**{k: getattr(entry, k) for k in Draft.__dataclass_fields__ if k != "comments"})
    draft.date = dt.date.today()
    draft.time_of_interaction = now_rounded_up()
    contact = _contact(session, data.contact_no or entry.contact_no)
    if contact.no != entry.contact_no:
        set_contact(session, draft, contact)
    if data.interaction_template_code and data.interaction_template_code != entry.interaction_template_code:
        set_wizard_template(session, draft, contact, data.interaction_template_code)
    _apply_fields(session, draft, data)
    if data.subject is None and (data.description is not None or not draft.subject):
        draft.subject = draft.description
    if data.comments is None:
        draft.comments = [
            CommentIn(date=c.date, code=c.code, comment=c.comment)
            for c in session.scalars(
                select(InteractionComment)
                .where(InteractionComment.entry_no == entry.entry_no)
                .order_by(InteractionComment.line_no)
            )
        ]
    check_status(session, draft)
    deliver = data.deliver and not data.postpone and bool(draft.correspondence_type)
    return log_interaction(session, draft, user_id=user_id, postponed=data.postpone, deliver=deliver, entry=entry)


def make_phone_call(session: Session, data: PhoneCall, *, user_id: str) -> InteractionLogEntry:
    """Make Phone Call: log a call with the Outgoing Calls template of Interaction Template Setup."""
    template_code = setup.template_for(session, "outgoing_calls")
    if not template_code:
        raise Conflict(
            "Set up the Outgoing Calls template in Interaction Template Setup before making phone calls.",
            field="outgoing_calls",
        )
    contact = _contact(session, data.contact_no)
    now = dt.datetime.now()
    draft = Draft(
        date=data.date or now.date(), time_of_interaction=data.time_of_interaction or now.time().replace(microsecond=0)
    )
    set_contact(session, draft, contact)
    set_template(session, draft, contact, template_code)
    draft.segment_no = data.segment_no or ""
    draft.contact_via = (
        data.contact_via if data.contact_via is not None else (contact.phone_no or contact.mobile_phone_no)
    )
    if data.description is not None:
        draft.description = data.description
    if data.salesperson_code is not None:
        draft.salesperson_code = data.salesperson_code
    draft.subject = draft.description
    draft.attempt_failed = not data.successful
    if not draft.contact_via:
        raise Invalid("You must fill in the phone number: the contact has none.", field="contact_via")
    check_status(session, draft)
    return log_interaction(session, draft, user_id=user_id)


def next_comment_line(session: Session, entry_no: int) -> int:
    last = session.scalar(select(func.max(InteractionComment.line_no)).where(InteractionComment.entry_no == entry_no))
    return (last or 0) + 10000

