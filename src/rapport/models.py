"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""

from rapport import accounts
from rapport.core import (
    attachments,
    campaigns,
    contacts,
    deliveries,
    interactions,
    masterdata,
    segments,
    setup,
    templates,
)
from rapport.db import Base

__all__ = [
    "Base",
    "accounts",
    "attachments",
    "campaigns",
    "contacts",
    "deliveries",
    "interactions",
    "masterdata",
    "segments",
    "setup",
    "templates",
]
