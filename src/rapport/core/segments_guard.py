"""Rules that protect contacts used by unlogged segments and entries of canceled logged segments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.errors import Conflict


def check_delete(session: Session, contact_nos: list[str]) -> None:
    """Conflict when any of the contacts is on an unlogged segment line."""
    from rapport.core.segments.models import SegmentLine

    found = session.execute(
        select(SegmentLine.contact_no, SegmentLine.segment_no).where(SegmentLine.contact_no.in_(contact_nos)).limit(1)
    ).first()
    if found is not None:
        raise Conflict(
            f"Contact {found.contact_no} is on segment {found.segment_no}; remove it from unlogged segments "
            "before deleting it."
        )


def check_company_change(session: Session, contact_no: str) -> None:
    """Conflict when the person is on an unlogged segment line."""
    from rapport.core.segments.models import SegmentLine

    segment = session.scalar(select(SegmentLine.segment_no).where(SegmentLine.contact_no == contact_no).limit(1))
    if segment is not None:
        raise Conflict(
            f"You cannot change the company of contact {contact_no} while it is on unlogged segment {segment}.",
            field="company_no",
        )


def logged_segment_canceled(session: Session, logged_segment_entry_no: int) -> bool:
    """Whether the logged segment is canceled."""
    from rapport.core.segments.models import LoggedSegment

    logged = session.get(LoggedSegment, logged_segment_entry_no)
    return bool(logged is not None and logged.canceled)
