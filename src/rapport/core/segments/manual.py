"""Lines added, changed and deleted by hand; each contact change is a criteria action (domain.md 3.8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import String, delete, literal, select
from sqlalchemy.orm import Session

from rapport.core import attachments, campaigns, masterdata, templates
from rapport.core.base import Code10, Code20, Key20, StrictModel, Text80, Text100
from rapport.core.contacts import Contact
from rapport.core.enums import CorrespondenceType, Evaluation, InformationFlow, InitiatedBy
from rapport.core.segments.actions import ADD, ADD_OPTIONS, REDUCE, delete_lines, get_header, record_action
from rapport.core.segments.lines import insert_lines, segment_languages
from rapport.core.segments.models import SegmentHeader, SegmentInteractionLanguage, SegmentLine
from rapport.errors import Conflict, Invalid, NotFound


class _LineFields(StrictModel):
    interaction_template_code: Code10 | None = None
    description: Text100 | None = None
    subject: Text100 | None = None
    language_code: Code10 | None = None
    correspondence_type: CorrespondenceType | None = None
    salesperson_code: Code20 | None = None
    date: dt.date | None = None
    time_of_interaction: dt.time | None = None
    cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    duration_min: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    information_flow: InformationFlow | None = None
    initiated_by: InitiatedBy | None = None
    campaign_no: Code20 | None = None
    campaign_target: bool | None = None
    campaign_response: bool | None = None
    evaluation: Evaluation | None = None
    attempt_failed: bool | None = None
    send_word_doc_as_attachment: bool | None = None
    contact_via: Text80 | None = None
    personal_text: str | None = Field(default=None, max_length=4000)


class LineCreate(_LineFields):
    contact_no: Key20


class LineUpdate(_LineFields):
    contact_no: Code20 | None = None


def get_line(session: Session, segment_no: str, line_no: int) -> SegmentLine:
    header = get_header(session, segment_no)
    line = session.get(SegmentLine, (header.no, line_no))
    if line is None:
        raise NotFound(f"Segment {header.no} has no line {line_no}.")
    return line


def _contact(session: Session, no: str) -> Contact:
    contact = session.get(Contact, no)
    if contact is None:
        raise Invalid(f"Contact {no} does not exist.", field="contact_no")
    if contact.privacy_blocked:
        raise Conflict(f"Contact {no} is blocked for privacy; it cannot be added to a segment.", field="contact_no")
    return contact


def _insert_contact(session: Session, header: SegmentHeader, contact_no: str, base: int | None = None) -> SegmentLine:
    action_no = record_action(session, header.no, ADD, {k: False for k in ADD_OPTIONS}, {"contact": {"no": contact_no}})
    insert_lines(session, header, select(literal(contact_no, String).label("contact_no")), action_no, base=base)
    line_no = session.scalar(
        select(SegmentLine.line_no)
        .where(SegmentLine.segment_no == header.no, SegmentLine.contact_no == contact_no)
        .order_by(SegmentLine.line_no.desc())
        .limit(1)
    )
    line = session.get(SegmentLine, (header.no, line_no))
    assert line is not None
    session.refresh(line)
    return line


def _remove(session: Session, header: SegmentHeader, line: SegmentLine) -> None:
    action_no = record_action(
        session, header.no, REDUCE, {"entire_companies": False}, {"contact": {"no": line.contact_no}}
    )
    delete_lines(session, header.no, SegmentLine.line_no == line.line_no, action_no)
    session.expire_all()


def add_line(session: Session, segment_no: str, data: LineCreate) -> SegmentLine:
    """A line for one contact, with the defaults of header, template and contact, then the given values."""
    header = get_header(session, segment_no)
    _contact(session, data.contact_no)
    line = _insert_contact(session, header, data.contact_no)
    _apply(session, header, line, data.model_dump(exclude_unset=True, exclude={"contact_no"}))
    _retarget(session, None, line)
    return line


def _target(line: SegmentLine) -> tuple[str, bool, str]:
    return line.campaign_no, line.campaign_target, line.contact_company_no


def _retarget(session: Session, before: tuple[str, bool, str] | None, line: SegmentLine | None) -> None:
    """Campaign target groups follow a line's campaign, target flag and contact (domain.md 3.4.7)."""
    after = _target(line) if line is not None else None
    if before == after:
        return
    if before is not None and before[1]:
        campaigns.remove_target_if_unused(session, before[0], before[2])
    if after is not None and after[1]:
        campaigns.add_target(session, after[0], after[2])


def update_line(session: Session, segment_no: str, line_no: int, data: LineUpdate) -> SegmentLine:
    """Change a line; a new contact re-initialises it (a deletion and an insertion action)."""
    line = get_line(session, segment_no, line_no)
    before = _target(line)
    header = get_header(session, segment_no)
    given = data.model_dump(exclude_unset=True)
    new_contact = given.pop("contact_no", None)
    if new_contact is not None and new_contact != line.contact_no:
        _contact(session, new_contact)
        _remove(session, header, line)
        line = _insert_contact(session, header, new_contact, base=line_no - 10000)
    _apply(session, header, line, given)
    _retarget(session, before, line)
    return line


def delete_line(session: Session, segment_no: str, line_no: int) -> None:
    """Delete a line; recorded as a Reduce action so Go Back restores it."""
    line = get_line(session, segment_no, line_no)
    before = _target(line)
    _remove(session, get_header(session, segment_no), line)
    _retarget(session, before, None)


def _apply(session: Session, header: SegmentHeader, line: SegmentLine, given: dict[str, Any]) -> None:
    for name, value in given.items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
    template = given.pop("interaction_template_code", None)
    if template is not None and template != line.interaction_template_code:
        _set_template(session, header, line, template)
    language = given.pop("language_code", None)
    if language is not None and language != line.language_code:
        _set_language(session, header, line, language)
    if given.get("salesperson_code"):
        masterdata.check_salesperson(session, given["salesperson_code"], "salesperson_code", allow_blocked=False)
    if given.get("campaign_no"):
        campaigns.check_campaign(session, given["campaign_no"], "campaign_no")
    for name, value in given.items():
        setattr(line, name, value)
    session.flush()


def _set_template(session: Session, header: SegmentHeader, line: SegmentLine, code: str) -> None:
    """Interaction Template Code on a line (3.4.4, without line-specific language copies); blank clears it."""
    if not code:
        _clear_template(session, line)
        return
    template = templates.require_template(session, code)
    _drop_line_rows(session, line)
    contact = session.get(Contact, line.contact_no)
    forced = header.correspondence_type_default if header.ignore_contact_corres_type else ""
    templates.apply_to_line(line, template, contact.correspondence_type if contact else "", forced)
    line.campaign_no = header.campaign_no or template.campaign_no or line.campaign_no
    contact_language = contact.language_code if contact else ""
    if template.code == header.interaction_template_code:
        rows = segment_languages(session, header.no)
        line.language_code = contact_language if contact_language in rows else header.language_code_default
        row = rows.get(line.language_code)
        line.attachment_no = row.attachment_no if row else None
        line.subject = row.subject if row else ""
    else:
        line.language_code = templates.find_language(session, template.code, contact_language)
        line.attachment_no = templates.attachment_for(session, template.code, line.language_code)
        language_row = templates.template_language(session, template.code, line.language_code)
        line.subject = language_row.subject if language_row else ""


def _clear_template(session: Session, line: SegmentLine) -> None:
    """A line without template (3.4.4 step 2, and §5 item 31: a blank template is allowed while editing; logging
    refuses it): what the template gave is reset, and the line's own documents go. Description, contact,
    salesperson, date and campaign stay."""
    _drop_line_rows(session, line)
    line.interaction_template_code = ""
    line.interaction_group_code = ""
    line.attachment_no = None
    line.language_code = ""
    line.subject = ""
    line.cost = Decimal(0)
    line.duration_min = Decimal(0)
    line.information_flow = ""
    line.initiated_by = ""
    line.campaign_target = False
    line.campaign_response = False
    line.correspondence_type = ""


def _set_language(session: Session, header: SegmentHeader, line: SegmentLine, language: str) -> None:
    """Language Code on a line (3.4.5): attachment and subject of that language."""
    if not line.interaction_template_code:
        raise Invalid("Choose the line's interaction template before its language.", field="language_code")
    masterdata.check_language(session, language, "language_code")
    own = session.get(SegmentInteractionLanguage, (line.segment_no, line.line_no, language))
    if own is not None:
        line.attachment_no, line.subject = own.attachment_no, own.subject
    elif line.interaction_template_code == header.interaction_template_code:
        row = segment_languages(session, header.no).get(language)
        line.attachment_no = row.attachment_no if row else None
        line.subject = row.subject if row else ""
    else:  # another template than the header's: its row for the language; without one, no attachment or subject
        template_row = templates.template_language(session, line.interaction_template_code, language)
        line.attachment_no = template_row.attachment_no if template_row else None
        line.subject = template_row.subject if template_row else ""
    line.language_code = language


# --- a line's own (unique) document: a line-specific language row (domain.md 1.10, 3.4) -----------


def _line_rows(session: Session, line: SegmentLine) -> list[SegmentInteractionLanguage]:
    return list(
        session.scalars(
            select(SegmentInteractionLanguage).where(
                SegmentInteractionLanguage.segment_no == line.segment_no,
                SegmentInteractionLanguage.segment_line_no == line.line_no,
            )
        )
    )


def _drop_line_rows(session: Session, line: SegmentLine) -> None:
    """Forget the line's own documents (their files too, unless a logged entry made them read-only)."""
    for row in _line_rows(session, line):
        if row.attachment_no is not None:
            attachment = session.get(attachments.Attachment, row.attachment_no)
            if attachment is not None and not attachment.read_only:
                attachments.remove_attachment(session, row.attachment_no)
        if line.attachment_no == row.attachment_no:
            line.attachment_no = None
    session.execute(
        delete(SegmentInteractionLanguage)
        .where(
            SegmentInteractionLanguage.segment_no == line.segment_no,
            SegmentInteractionLanguage.segment_line_no == line.line_no,
        )
        .execution_options(synchronize_session=False)
    )


def line_attachment(session: Session, segment_no: str, line_no: int) -> attachments.Attachment:
    """The line's own document (404 when the line uses the segment's or template's)."""
    line = get_line(session, segment_no, line_no)
    row = session.get(SegmentInteractionLanguage, (line.segment_no, line.line_no, line.language_code))
    if row is None or row.attachment_no is None:
        raise NotFound(f"Line {line_no} of segment {line.segment_no} has no document of its own.")
    return attachments.get_attachment(session, row.attachment_no)


def set_line_attachment(
    session: Session, segment_no: str, line_no: int, file_name: str, media_type: str, data: bytes
) -> tuple[attachments.Attachment, bool]:
    """Give one line its own document (e.g. a letter edited for that contact): it is merged and
    sent instead of the segment's, for this line only."""
    line = get_line(session, segment_no, line_no)
    if not line.interaction_template_code:
        raise Invalid(
            "Give the line an interaction template before a document of its own.", field="interaction_template_code"
        )
    row = session.get(SegmentInteractionLanguage, (line.segment_no, line.line_no, line.language_code))
    created = row is None or row.attachment_no is None
    if row is not None and row.attachment_no is not None:
        attachment = attachments.replace_content(session, row.attachment_no, file_name, media_type, data)
    else:
        attachment = attachments.store_attachment(session, file_name, media_type, data)
        if row is None:
            row = SegmentInteractionLanguage(
                segment_no=line.segment_no,
                segment_line_no=line.line_no,
                language_code=line.language_code,
                description=line.description,
                subject=line.subject,
            )
            session.add(row)
        row.attachment_no = attachment.no
    line.attachment_no = attachment.no
    session.flush()
    return attachment, created


def delete_line_attachment(session: Session, segment_no: str, line_no: int) -> SegmentLine:
    """Drop the line's own document: the line takes the segment's (or its template's) again."""
    line = get_line(session, segment_no, line_no)
    line_attachment(session, segment_no, line_no)
    _drop_line_rows(session, line)
    header = get_header(session, line.segment_no)
    try:
        _set_language(session, header, line, line.language_code)
    except Invalid:  # the line's language no longer qualifies (e.g. it was deleted): no document at all
        line.attachment_no = None
    session.flush()
    return line
