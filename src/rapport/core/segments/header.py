"""Segment headers: create, change (with propagation to lines, domain.md 3.2-3.3), languages, delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import delete, insert, literal, select, update
from sqlalchemy.orm import Session

from rapport.core import attachments, campaigns, contact_io, masterdata, setup, templates
from rapport.core.base import Code10, Code20, StrictModel, Text100
from rapport.core.contacts import Contact, ContactMailingGroup
from rapport.core.enums import CorrespondenceType, InformationFlow, InitiatedBy
from rapport.core.segments.actions import get_header
from rapport.core.segments.models import LoggedSegment, SegmentHeader, SegmentInteractionLanguage, SegmentLine
from rapport.db import rowcount
from rapport.errors import Conflict, Invalid, NotFound

# header field -> line field, for propagation (3.2)
PROPAGATED = {
    "description": "description",
    "campaign_no": "campaign_no",
    "salesperson_code": "salesperson_code",
    "correspondence_type_default": "correspondence_type",
    "interaction_template_code": "interaction_template_code",
    "unit_cost": "cost",
    "unit_duration_min": "duration_min",
    "date": "date",
    "campaign_target": "campaign_target",
    "information_flow": "information_flow",
    "initiated_by": "initiated_by",
    "campaign_response": "campaign_response",
    "send_word_docs_as_attachment": "send_word_doc_as_attachment",
}


class _HeaderFields(StrictModel):
    description: Text100 | None = None
    interaction_template_code: Code10 | None = None
    language_code_default: Code10 | None = None
    subject_default: Text100 | None = None
    campaign_no: Code20 | None = None
    campaign_target: bool | None = None
    campaign_response: bool | None = None
    salesperson_code: Code20 | None = None
    correspondence_type_default: CorrespondenceType | None = None
    ignore_contact_corres_type: bool | None = None
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    unit_duration_min: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    information_flow: InformationFlow | None = None
    initiated_by: InitiatedBy | None = None
    send_word_docs_as_attachment: bool | None = None


class SegmentCreate(_HeaderFields):
    no: Code20 = ""


class SegmentUpdate(_HeaderFields):
    date: dt.date | None = None
    update_lines: bool = True


class SegmentLanguageUpdate(StrictModel):
    description: Text100 | None = None
    subject: Text100 | None = None


def create_segment(session: Session, data: SegmentCreate) -> SegmentHeader:
    """A new segment: number from Segment Nos. unless given, date today."""
    given = data.model_dump(exclude_unset=True, exclude={"no"})
    _refuse_nulls(given)
    ms = setup.get_marketing_setup(session)
    no = data.no
    if no:
        setup.check_manual_no(session, ms.segment_nos, no)
    else:
        no = setup.next_no(session, ms.segment_nos, "segment_nos")
    if session.get(SegmentHeader, no) is not None:
        raise Conflict(f"Segment {no} already exists.", field="no")
    if session.scalar(select(LoggedSegment.entry_no).where(LoggedSegment.segment_no == no)) is not None:
        raise Conflict(f"Segment {no} was already logged; a logged number cannot be used again.", field="no")
    header = SegmentHeader(
        no=no,
        **{c.key: c.default.arg for c in SegmentHeader.__table__.columns if c.default is not None and c.key != "no"},
    )
    header.date = dt.date.today()
    session.add(header)
    session.flush()
    template = given.pop("interaction_template_code", None)
    if template:
        _set_template(session, header, template, update_lines=True)
    _set_fields(session, header, given, update_lines=True)
    session.flush()
    return header


def update_segment(session: Session, no: str, data: SegmentUpdate) -> SegmentHeader:
    """Change header fields; lines follow when `update_lines` (BC's question, default yes)."""
    header = get_header(session, no)
    given = data.model_dump(exclude_unset=True, exclude={"update_lines"})
    _refuse_nulls(given)
    if "interaction_template_code" in given:
        code = given.pop("interaction_template_code")
        if code != header.interaction_template_code:
            _set_template(session, header, code, update_lines=data.update_lines)
    _set_fields(session, header, given, update_lines=data.update_lines)
    session.flush()
    return header


def _refuse_nulls(given: dict[str, Any]) -> None:
    """Every header field has a value (blank, zero or false at the least): null is a mistake of the request,
    not a way to clear a field."""
    for name, value in given.items():
        if value is None:
            raise Invalid(f"{name} cannot be null; send a value (a blank text, 0 or false to clear it).", field=name)


def _set_fields(session: Session, header: SegmentHeader, given: dict[str, Any], *, update_lines: bool) -> None:
    if "campaign_no" in given:
        campaigns.check_campaign(session, given["campaign_no"], "campaign_no")
    if given.get("salesperson_code"):
        masterdata.check_salesperson(session, given["salesperson_code"], "salesperson_code", allow_blocked=False)
    cleared_campaign = given.get("campaign_no") == ""
    language = given.pop("language_code_default", None)
    subject = given.pop("subject_default", None)
    for name, value in given.items():
        if getattr(header, name) == value:
            continue
        setattr(header, name, value)
        line_field = PROPAGATED.get(name)
        if line_field is None or not update_lines:
            continue
        if name == "correspondence_type_default" and not (value and _has_attachment(session, header)):
            continue
        session.execute(
            update(SegmentLine)
            .where(
                SegmentLine.segment_no == header.no,
                SegmentLine.interaction_template_code == header.interaction_template_code,
            )
            .values({line_field: value})
        )
    if cleared_campaign:
        # Without a campaign the header is neither a campaign target nor a response; like Business Central's
        # page, on the header only (domain.md 1.8, field 3): lines keep their flags until they are changed.
        header.campaign_target = header.campaign_response = False
    if language is not None and language != header.language_code_default:
        _set_default_language(session, header, language)
    if subject is not None and subject != header.subject_default:
        _set_subject(session, header, subject, update_lines=update_lines)


def _has_attachment(session: Session, header: SegmentHeader) -> bool:
    row = session.get(SegmentInteractionLanguage, (header.no, 0, header.language_code_default))
    return row is not None and row.attachment_no is not None


def _set_template(session: Session, header: SegmentHeader, code: str, *, update_lines: bool) -> None:
    """Interaction Template Code on the header (3.2 for the lines, 3.3 for the header)."""
    if not code:
        raise Invalid(
            "The segment's interaction template cannot be cleared; choose another one.",
            field="interaction_template_code",
        )
    template = templates.require_template(session, code)
    if not update_lines and _lines_inherit_attachments(session, header.no):
        # The segment's languages (and their attachments) are replaced below: lines that kept the old
        # template would point at attachments that no longer exist.
        raise Conflict(
            f"Lines of segment {header.no} use the segment's attachments, so its interaction template can only "
            "be changed together with the lines: send update_lines true (or remove those lines first).",
            field="interaction_template_code",
        )
    if update_lines:
        session.execute(
            update(SegmentLine)
            .where(SegmentLine.segment_no == header.no)
            .values(interaction_template_code=template.code)
        )
    header.interaction_template_code = template.code
    header.subject_default = ""
    header.language_code_default = template.language_code_default
    header.interaction_group_code = template.interaction_group_code
    header.unit_cost = template.unit_cost
    header.unit_duration_min = template.unit_duration_min
    header.information_flow = template.information_flow
    header.initiated_by = template.initiated_by
    header.campaign_target = template.campaign_target
    header.campaign_response = template.campaign_response
    header.correspondence_type_default = template.correspondence_type_default
    header.ignore_contact_corres_type = template.ignore_contact_corres_type
    session.execute(
        update(SegmentLine)
        .where(SegmentLine.segment_no == header.no, SegmentLine.interaction_template_code == template.code)
        .values(correspondence_type=template.correspondence_type_default)
    )
    if template.campaign_no:
        header.campaign_no = template.campaign_no
    _copy_template_languages(session, header, template.code)


def _lines_inherit_attachments(session: Session, segment_no: str) -> bool:
    """Whether a line of the segment points at an attachment of the segment's own (line 0) languages, with no
    language row of the line's own holding it (an *inherited* attachment, domain.md 3.23)."""
    lines, languages = SegmentLine, SegmentInteractionLanguage
    own = (
        select(languages.segment_line_no)
        .where(
            languages.segment_no == lines.segment_no,
            languages.segment_line_no == lines.line_no,
            languages.language_code == lines.language_code,
            languages.attachment_no == lines.attachment_no,
        )
        .exists()
    )
    segment_attachments = select(languages.attachment_no).where(
        languages.segment_no == segment_no, languages.segment_line_no == 0, languages.attachment_no.is_not(None)
    )
    inheriting = select(lines.line_no).where(
        lines.segment_no == segment_no,
        lines.interaction_template_code != "",
        lines.attachment_no.in_(segment_attachments),
        ~own,
    )
    return session.scalar(inheriting.limit(1)) is not None


def _copy_template_languages(session: Session, header: SegmentHeader, template_code: str) -> None:
    for row in _line0_rows(session, header.no):
        _drop_language(session, row)
    for source in templates.template_languages(session, template_code):
        copy = attachments.copy_attachment(session, source.attachment_no) if source.attachment_no is not None else None
        session.add(
            SegmentInteractionLanguage(
                segment_no=header.no,
                segment_line_no=0,
                language_code=source.language_code,
                description=source.description,
                subject=source.subject,
                attachment_no=copy.no if copy else None,
            )
        )
    session.flush()
    _refresh_lines_from_languages(session, header)


def _line0_rows(session: Session, segment_no: str) -> list[SegmentInteractionLanguage]:
    return list(
        session.scalars(
            select(SegmentInteractionLanguage).where(
                SegmentInteractionLanguage.segment_no == segment_no, SegmentInteractionLanguage.segment_line_no == 0
            )
        )
    )


def _drop_language(session: Session, row: SegmentInteractionLanguage) -> None:
    if row.attachment_no is not None:
        attachment = session.get(attachments.Attachment, row.attachment_no)
        if attachment is not None and not attachment.read_only:
            in_use = session.scalar(
                select(SegmentLine.line_no)
                .where(SegmentLine.attachment_no == row.attachment_no, SegmentLine.segment_no != row.segment_no)
                .limit(1)
            )
            if in_use is None:
                attachments.remove_attachment(session, row.attachment_no)
    session.delete(row)
    session.flush()


def _refresh_lines_from_languages(session: Session, header: SegmentHeader) -> None:
    """Lines with the header's template take the language, subject and attachment of line 0 (3.4.2 step 4)."""
    rows = {r.language_code: r for r in _line0_rows(session, header.no)}
    lines = SegmentLine
    contact_language = select(Contact.language_code).where(Contact.no == lines.contact_no).scalar_subquery()
    own = (
        select(SegmentInteractionLanguage.segment_line_no)
        .where(
            SegmentInteractionLanguage.segment_no == lines.segment_no,
            SegmentInteractionLanguage.segment_line_no == lines.line_no,
        )
        .exists()
    )
    # Lines with a document of their own keep it (domain.md 1.10: unique rows win over line 0).
    same_template = (
        lines.segment_no == header.no,
        lines.interaction_template_code == header.interaction_template_code,
        ~own,
    )
    session.execute(
        update(lines)
        .where(*same_template)
        .values(language_code=header.language_code_default, subject="", attachment_no=None)
    )
    default = rows.get(header.language_code_default)
    if default is not None:
        session.execute(
            update(lines).where(*same_template).values(subject=default.subject, attachment_no=default.attachment_no)
        )
    for code, row in rows.items():
        session.execute(
            update(lines)
            .where(*same_template, contact_language == code)
            .values(language_code=code, subject=row.subject, attachment_no=row.attachment_no)
        )


def _set_default_language(session: Session, header: SegmentHeader, language: str) -> None:
    masterdata.check_language(session, language, "language_code_default")
    row = session.get(SegmentInteractionLanguage, (header.no, 0, language))
    if row is None:
        row = SegmentInteractionLanguage(
            segment_no=header.no,
            segment_line_no=0,
            language_code=language,
            description=f"{header.interaction_template_code} {language}".strip(),
            subject="",
            attachment_no=None,
        )
        session.add(row)
        header.subject_default = ""
    else:
        header.subject_default = row.subject
    header.language_code_default = language
    session.flush()


def _set_subject(session: Session, header: SegmentHeader, subject: str, *, update_lines: bool) -> None:
    old = header.subject_default
    header.subject_default = subject
    row = session.get(SegmentInteractionLanguage, (header.no, 0, header.language_code_default))
    if row is not None:
        row.subject = subject
    if update_lines:
        session.execute(
            update(SegmentLine)
            .where(
                SegmentLine.segment_no == header.no,
                SegmentLine.interaction_template_code == header.interaction_template_code,
                SegmentLine.language_code == header.language_code_default,
                SegmentLine.subject == old,
            )
            .values(subject=subject)
        )


def delete_segment(session: Session, no: str) -> None:
    """Delete a segment with its lines, criteria, history and languages (their attachments too)."""
    header = get_header(session, no)
    rows = session.scalars(select(SegmentInteractionLanguage).where(SegmentInteractionLanguage.segment_no == header.no))
    for row in list(rows):
        _drop_language(session, row)
    session.execute(
        delete(SegmentLine).where(SegmentLine.segment_no == header.no).execution_options(synchronize_session=False)
    )
    session.delete(header)
    session.flush()


# --- segment interaction languages (line 0) -----------------------------------------------------


def get_language(session: Session, no: str, language_code: str) -> SegmentInteractionLanguage:
    header = get_header(session, no)
    row = session.get(SegmentInteractionLanguage, (header.no, 0, language_code.strip().upper()))
    if row is None:
        raise NotFound(f"Segment {header.no} has no interaction language {language_code}.")
    return row


def put_language(
    session: Session, no: str, language_code: str, data: SegmentLanguageUpdate
) -> tuple[SegmentInteractionLanguage, bool]:
    """Create or change a segment-level language; lines of that language follow its subject."""
    header = get_header(session, no)
    code = language_code.strip().upper()
    masterdata.check_language(session, code, "language_code")
    row = session.get(SegmentInteractionLanguage, (header.no, 0, code))
    created = row is None
    if row is None:
        row = SegmentInteractionLanguage(
            segment_no=header.no,
            segment_line_no=0,
            language_code=code,
            description=f"{header.interaction_template_code} {code}".strip(),
            subject="",
            attachment_no=None,
        )
        session.add(row)
    old_subject = row.subject
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(row, name, value)
    if code == header.language_code_default and header.subject_default == old_subject:
        header.subject_default = row.subject
    session.flush()
    _refresh_lines_from_languages(session, header)
    return row, created


def set_language_attachment(
    session: Session, no: str, language_code: str, file_name: str, media_type: str, data: bytes
) -> tuple[Any, bool]:
    """Upload the segment-level attachment of a language; lines of that language take it."""
    row = get_language(session, no, language_code)
    created = row.attachment_no is None
    if row.attachment_no is None:
        attachment = attachments.store_attachment(session, file_name, media_type, data)
        row.attachment_no = attachment.no
    else:
        attachment = attachments.replace_content(session, row.attachment_no, file_name, media_type, data)
    session.flush()
    _refresh_lines_from_languages(session, get_header(session, no))
    return attachment, created


def delete_language(session: Session, no: str, language_code: str) -> None:
    header = get_header(session, no)
    row = get_language(session, no, language_code)
    was_default = row.language_code == header.language_code_default
    _drop_language(session, row)
    if was_default:
        others = _line0_rows(session, header.no)
        header.language_code_default = others[0].language_code if others else ""
        header.subject_default = others[0].subject if others else ""
    _refresh_lines_from_languages(session, header)


# --- the segment's contacts: a mailing group, a CSV file ------------------------------------------


def apply_mailing_group(session: Session, no: str, mailing_group_code: str, delete_old: bool) -> dict[str, Any]:
    """Assign every contact of the segment to a mailing group (optionally replacing its members)."""
    header = get_header(session, no)
    if not mailing_group_code:
        raise Invalid("Specify a mailing group code.", field="mailing_group_code")
    if session.get(masterdata.MailingGroup, mailing_group_code) is None:
        raise Invalid(f"Mailing group {mailing_group_code} does not exist.", field="mailing_group_code")
    link = ContactMailingGroup
    if delete_old:
        session.execute(delete(link).where(link.mailing_group_code == mailing_group_code))
    already = select(link.contact_no).where(link.mailing_group_code == mailing_group_code)
    members = (
        select(SegmentLine.contact_no, literal(mailing_group_code))
        .join(Contact, Contact.no == SegmentLine.contact_no)
        .where(SegmentLine.segment_no == header.no, SegmentLine.contact_no.not_in(already))
        .distinct()
    )
    result = session.execute(
        insert(link)
        .from_select(["contact_no", "mailing_group_code"], members)
        .execution_options(preserve_rowcount=True)
    )
    return {
        "segment_no": header.no,
        "mailing_group_code": mailing_group_code,
        "assigned": rowcount(result),
        "message": f"Mailing group {mailing_group_code} is now applied to segment {header.no}.",
    }


def contacts_csv(session: Session, no: str) -> tuple[str, Iterator[str]]:
    """The segment's contacts as CSV (one row per line, in line order): file name and streamed text."""
    header = get_header(session, no)
    stmt = (
        select(*(getattr(Contact, name) for name in contact_io.EXPORT_FIELDS))
        .join(SegmentLine, SegmentLine.contact_no == Contact.no)
        .where(SegmentLine.segment_no == header.no)
        .order_by(SegmentLine.line_no)
    )
    return f"segment-{header.no}-contacts.csv", contact_io.csv_chunks(session, stmt)
