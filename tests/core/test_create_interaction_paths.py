"""Create Interaction's one-statement path gives exactly what the wizard's steps give.

Every request is made twice on the same data, once as the service does it and once with the
one-statement path switched off, and the two outcomes must be equal: the same entry (all but its
number) or the same refusal. The data spans what the statement decides on: the contact's e-mail,
salesperson, language and privacy block, the template's description, correspondence type,
languages and campaign, and the request's own values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from rapport.core.campaigns import Campaign
from rapport.core.contacts import Contact
from rapport.core.interactions import recording
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.masterdata import Salesperson
from rapport.core.templates import InteractionGroup, InteractionTemplate, InteractionTemplateLanguage
from rapport.errors import RapportError

NOW = dt.time(9, 31)

REQUESTS: list[dict[str, Any]] = [
    {},
    {"description": "Own words"},
    {"description": ""},
    {
        "subject": "Our offer",
        "cost": "2.50",
        "duration_min": "7",
        "date": "2026-02-03",
        "time_of_interaction": "10:15:00",
        "successful": False,
        "evaluation": "positive",
        "information_flow": "inbound",
        "initiated_by": "them",
        "contact_via": "+49 30 123",
        "opportunity_no": "OP1",
    },
    {"salesperson_code": "SP1"},
    {"comments": [{"comment": "asked for a brochure"}]},
]


@pytest.fixture
def crm(session: Session) -> tuple[list[str], list[str]]:
    """Contacts and templates in every combination the one-statement path decides on."""
    session.add_all([InteractionGroup(code="G", description="Group"), Salesperson(code="SP1", name="Sales One")])
    session.add(Campaign(no="CP1", description="Spring"))
    contacts = []
    for i, (email, salesperson, language, blocked) in enumerate(
        itertools.product(["", "a@example.com"], ["SP1", "", "GONE"], ["", "DE"], [False, True])
    ):
        no = f"CT{i:03d}"
        contacts.append(no)
        session.add(
            Contact(
                no=no,
                type="company",
                name=f"Contact {i}",
                company_no=no,
                email=email,
                salesperson_code=salesperson,
                language_code=language,
                privacy_blocked=blocked,
            )
        )
    template_nos = []
    for i, (corres, description, languages, campaign) in enumerate(
        itertools.product(["email", "hard_copy", ""], ["Call", ""], ["none", "default DE", "row DE"], ["", "CP1"])
    ):
        code = f"T{i:02d}"
        template_nos.append(code)
        session.add(
            InteractionTemplate(
                code=code,
                interaction_group_code="G",
                description=description,
                unit_cost=Decimal("1.25"),
                unit_duration_min=Decimal(3),
                information_flow="outbound",
                initiated_by="us",
                campaign_no=campaign,
                campaign_target=i % 2 == 0,
                campaign_response=i % 3 == 0,
                correspondence_type_default=corres,
                language_code_default="" if languages == "none" else "DE",
            )
        )
        if languages == "row DE":
            session.add(InteractionTemplateLanguage(interaction_template_code=code, language_code="DE"))
    session.commit()
    return contacts, template_nos


def outcome(session: Session, body: dict[str, Any]) -> tuple[str, Any]:
    """The entry the request makes (without its number), or the refusal; nothing is kept."""
    savepoint = session.begin_nested()
    try:
        entry = recording.create_interaction(session, recording.InteractionCreate(**body), user_id="ANNA")
        session.flush()
        values = {c.key: getattr(entry, c.key) for c in inspect(InteractionLogEntry).column_attrs}
        values.pop("entry_no")
        for numbered in ("campaign_entry_no", "attachment_no"):  # PostgreSQL's sequences go on past a rollback
            values[numbered] = values[numbered] is not None
        return "entry", values
    except RapportError as exc:
        return "refused", (type(exc).__name__, exc.message, exc.field)
    finally:
        savepoint.rollback()


def test_the_one_statement_path_and_the_wizard_steps_make_the_same_entries_and_refusals(
    session: Session, crm: tuple[list[str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "now_rounded_up", lambda now=None: NOW)
    contacts, template_nos = crm
    everyday_contacts = {
        no
        for no in contacts
        if (c := session.get(Contact, no)) and c.salesperson_code == "SP1" and not c.privacy_blocked
    }
    everyday_templates = {code for code in template_nos if not session.get(InteractionTemplate, code).campaign_no}
    plain = recording._log_plain
    taken = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        entry = plain(*args, **kwargs)
        taken.append(entry is not None)
        return entry

    rng = random.Random(4)
    everything = list(itertools.product(contacts, template_nos, range(len(REQUESTS))))
    everyday = [case for case in everything if case[0] in everyday_contacts and case[1] in everyday_templates]
    cases = rng.sample(everything, 500) + rng.sample(everyday, 200)
    for contact_no, template_code, request in cases:
        body = {"contact_no": contact_no, "interaction_template_code": template_code, **REQUESTS[request]}
        monkeypatch.setattr(recording, "_log_plain", counted)
        fast = outcome(session, body)
        monkeypatch.setattr(recording, "_log_plain", lambda *args, **kwargs: None)
        steps = outcome(session, body)
        if fast[0] == steps[0] == "entry":
            differing = {k: (v, steps[1][k]) for k, v in fast[1].items() if v != steps[1][k]}
            assert not differing, (body, differing)
        assert fast == steps, body
    # both ways were compared on many requests the statement took and many it left to the steps
    assert sum(taken) >= 50 and len(taken) - sum(taken) >= 300
