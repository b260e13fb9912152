"""Rules that protect contacts used by unlogged segments (grows with the segments module)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def check_delete(session: Session, contact_nos: list[str]) -> None:
    """Conflict when any of the contacts is on an unlogged segment line."""
    return None


def check_company_change(session: Session, contact_no: str) -> None:
    """Conflict when the person is on an unlogged segment line."""
    return None


def logged_segment_canceled(session: Session, logged_segment_entry_no: int) -> bool:
    """Whether the logged segment is canceled (logged segments arrive with the segments module)."""
    return False
