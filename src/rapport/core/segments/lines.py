"""Segment lines: their defaults from header, template and contact (domain.md 3.4), inserted set-based."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, Numeric, String, and_, case, func, insert, literal, select
from sqlalchemy.orm import Session

from rapport.core.contacts import Contact
from rapport.core.segments.models import SegmentHeader, SegmentHistory, SegmentInteractionLanguage, SegmentLine
from rapport.core.templates import InteractionTemplate
from rapport.db import rowcount

LINE_STEP = 10000


def _lit(value: Any, type_: Any) -> Any:
    return literal(value, type_)


def segment_languages(session: Session, segment_no: str) -> dict[str, SegmentInteractionLanguage]:
    """The segment-level (line 0) interaction languages by language code."""
    rows = session.scalars(
        select(SegmentInteractionLanguage).where(
            SegmentInteractionLanguage.segment_no == segment_no, SegmentInteractionLanguage.segment_line_no == 0
        )
    )
    return {r.language_code: r for r in rows}


def header_attachment(session: Session, header: SegmentHeader) -> int | None:
    """The header's Attachment No.: the line-0 row of its default language."""
    row = segment_languages(session, header.no).get(header.language_code_default)
    return row.attachment_no if row else None


def default_columns(session: Session, header: SegmentHeader, c: Any) -> dict[str, Any]:
    """SQL expressions for every defaulted line column of contact `c` (3.4.1 and 3.4.2)."""
    template = (
        session.get(InteractionTemplate, header.interaction_template_code) if header.interaction_template_code else None
    )
    languages = segment_languages(session, header.no)
    if header.ignore_contact_corres_type and header.correspondence_type_default:
        corres: Any = _lit(header.correspondence_type_default, String)
    elif template is not None and template.ignore_contact_corres_type:
        corres = _lit(template.correspondence_type_default, String)
    elif template is not None:
        corres = case((c.correspondence_type == "", template.correspondence_type_default), else_=c.correspondence_type)
    else:
        corres = c.correspondence_type
    if languages:
        language: Any = case(
            (c.language_code.in_(list(languages)), c.language_code), else_=header.language_code_default
        )
        # Typed, so that PostgreSQL reads a CASE of only NULLs as an integer, not as text.
        attachment: Any = case(
            *[(language == code, _lit(row.attachment_no, Integer)) for code, row in languages.items()],
            else_=_lit(header_attachment(session, header), Integer),
        )
        subject: Any = case(*[(language == code, row.subject) for code, row in languages.items()], else_="")
    else:
        language = _lit(header.language_code_default, String)
        attachment = _lit(None, Integer)
        subject = _lit("", String)
    salesperson = _lit(header.salesperson_code, String) if header.salesperson_code else c.salesperson_code
    return {
        "contact_no": c.no,
        "contact_company_no": c.company_no,
        "interaction_template_code": _lit(header.interaction_template_code, String),
        "interaction_group_code": _lit(header.interaction_group_code, String),
        "description": _lit(header.description, String),
        "subject": subject,
        "language_code": language,
        "correspondence_type": corres,
        "salesperson_code": salesperson,
        "date": _lit(header.date, Date),
        "time_of_interaction": _lit(None, SegmentLine.time_of_interaction.type),
        "cost": _lit(header.unit_cost, Numeric(18, 2)),
        "duration_min": _lit(header.unit_duration_min, Numeric(18, 2)),
        "information_flow": _lit(header.information_flow, String),
        "initiated_by": _lit(header.initiated_by, String),
        "campaign_no": _lit(header.campaign_no, String),
        "campaign_target": _lit(header.campaign_target, Boolean),
        "campaign_response": _lit(header.campaign_response, Boolean),
        "evaluation": _lit("", String),
        "attempt_failed": _lit(False, Boolean),
        "send_word_doc_as_attachment": _lit(header.send_word_docs_as_attachment, Boolean),
        "attachment_no": attachment,
        "contact_via": _lit("", String),
        "personal_text": _lit("", String),
    }


def last_line_no(session: Session, segment_no: str) -> int:
    return int(session.scalar(select(func.max(SegmentLine.line_no)).where(SegmentLine.segment_no == segment_no)) or 0)


def insert_lines(
    session: Session,
    header: SegmentHeader,
    source: Any,
    action_no: int | None,
    base: int | None = None,
    where: Any = None,
) -> int:
    """Insert one line per row of `source` (columns: contact_no, optional seq and campaign_no) with fresh
    defaults, numbered on from the last line (in the order of seq, else of BC's contact order); record
    history Insertion rows. With `source` None, one line per contact meeting `where` (the contacts are read
    once, in this statement). Returns the count."""
    c = Contact
    src = source.subquery("src") if source is not None else None
    given: Any = src.c if src is not None else {}  # the source's columns
    base = last_line_no(session, header.no) if base is None else base
    order = [given.seq] if "seq" in given else [c.company_name, c.company_no, c.type, c.name, c.no]
    columns = default_columns(session, header, c)
    if "campaign_no" in given:
        columns["campaign_no"] = given.campaign_no
    line_no = _lit(base, BigInteger) + func.row_number().over(order_by=order) * LINE_STEP
    names = ["segment_no", "line_no", *columns]
    select_rows = select(_lit(header.no, String), line_no, *columns.values()).select_from(
        c if src is None else src.join(c, c.no == given.contact_no)
    )
    if where is not None:  # conditions on the contact, applied to this statement's own join
        select_rows = select_rows.where(where)
    result = session.execute(
        insert(SegmentLine).from_select(names, select_rows).execution_options(preserve_rowcount=True)
    )
    count = rowcount(result)
    if action_no is not None and count:
        new = and_(SegmentLine.line_no > base, SegmentLine.line_no <= base + count * LINE_STEP)
        record_history(session, header.no, action_no, "insertion", new)
    return count


def record_history(session: Session, segment_no: str, action_no: int, taken: str, line_filter: Any) -> None:
    """History rows for the lines of the segment matching `line_filter`."""
    rows = select(
        SegmentLine.segment_no,
        _lit(action_no, Integer),
        SegmentLine.line_no,
        SegmentLine.contact_no,
        _lit(taken, String),
    ).where(and_(SegmentLine.segment_no == segment_no, line_filter))
    session.execute(
        insert(SegmentHistory).from_select(
            ["segment_no", "action_no", "line_no", "contact_no", "action_taken"], rows
        )
    )
