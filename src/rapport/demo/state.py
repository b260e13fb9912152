"""The state of one demo load, shared by the parts of the demo."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from rapport.core import masterdata
from rapport.core.campaigns import Campaign
from rapport.core.contacts import Contact

SEED = 2026
# Every e-mail domain ends in the reserved .example TLD, so demo mail can never reach anyone.
HOME_DOMAIN = "kestrel-trading.example"
USER_ID = "admin"


@dataclass
class Demo:
    """The state of one load: the random source and what has been made so far."""

    rng: random.Random
    companies: list[Contact] = field(default_factory=list)
    persons: list[Contact] = field(default_factory=list)
    linked: Counter[str] = field(default_factory=Counter)  # customers, vendors, bank accounts
    customers: list[tuple[str, Contact]] = field(default_factory=list)  # (customer no., company)
    vendors: list[tuple[str, Contact]] = field(default_factory=list)
    subscribers: list[Contact] = field(default_factory=list)  # the NEWS mailing group
    templates: list[str] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    logged: int = 0  # interaction log entries, not postponed (canceled ones included)
    postponed: int = 0
    canceled: int = 0
    # The identity map holds clean objects weakly; keeping the setup and code records alive
    # lets the core's per-contact lookups (session.get) skip the database.
    records: list[Any] = field(default_factory=list)


def ensure(session: Session, demo: Demo, model: type[Any], what: str, values: dict[str, Any]) -> None:
    """Create a code record unless it exists; setup without contacts still counts as empty."""
    record = session.get(model, values["code"])
    if record is None:
        record = masterdata.create_record(session, model, what, values)
    demo.records.append(record)
