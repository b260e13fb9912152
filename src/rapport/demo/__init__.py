"""Demo data: a small trading company's relationship data, loaded through the core functions.

`contacts` makes the setup, code tables and contacts; `templates` the interaction templates,
Interaction Template Setup and campaigns; `interactions` a year of interaction history.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapport.core.contacts import Contact
from rapport.demo.contacts import COUNTRIES, MAILING_GROUPS, SALESPEOPLE, load_contacts
from rapport.demo.interactions import load_interactions
from rapport.demo.state import SEED, Demo
from rapport.demo.templates import load_campaigns, load_templates

__all__ = ["COUNTRIES", "SALESPEOPLE", "database_is_empty", "load_demo"]


def database_is_empty(session: Session) -> bool:
    """True when no contact exists yet."""
    return not session.scalar(select(func.count()).select_from(Contact))


def load_demo(session: Session, today: dt.date | None = None) -> str:
    """Load the demo data set (without committing); returns a one-line summary.

    The interaction history covers the year up to `today` (the current date by default).
    """
    today = today or dt.date.today()
    demo = Demo(random.Random(SEED))
    load_contacts(session, demo)
    load_templates(session, demo)
    load_campaigns(session, demo, today)
    load_interactions(session, demo, today)
    return (
        f"{len(demo.companies)} companies, {len(demo.persons)} persons, "
        f"{len(SALESPEOPLE)} salespeople, {len(MAILING_GROUPS)} mailing groups, "
        f"{len(demo.templates)} interaction templates, {demo.logged} interactions "
        f"({demo.canceled} canceled, {demo.postponed} postponed)"
    )
