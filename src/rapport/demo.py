"""Demo data: a realistic small company's contacts (placeholder until filled in)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapport.core.contacts import Contact


def database_is_empty(session: Session) -> bool:
    """True when no contact exists yet."""
    return not session.scalar(select(func.count()).select_from(Contact))


def load_demo(session: Session) -> str:
    """Load the demo data set; returns a one-line summary."""
    raise NotImplementedError
