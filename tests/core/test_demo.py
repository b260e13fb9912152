"""The demo data set goes through the core functions, so the rules of contacts hold for it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport.core import setup, templates
from rapport.core.attachments import Attachment
from rapport.core.campaigns import Campaign, CampaignEntry, CampaignTargetGroup
from rapport.core.contacts import (
    Contact,
    ContactBusinessRelation,
    ContactIndustryGroup,
    ContactJobResponsibility,
    ContactMailingGroup,
    ContactProfileAnswer,
)
from rapport.core.enums import ContactType
from rapport.core.interactions import InteractionComment, InteractionLogEntry
from rapport.core.masterdata import Salesperson
from rapport.core.setup import InteractionTemplateSetupSlot
from rapport.db import make_sessionmaker
from rapport.demo import COUNTRIES, SALESPEOPLE, database_is_empty, load_demo

DOCUMENT_TEMPLATES = {"sales_quote": "SQUOTE", "sales_invoice": "SINV", "purchase_invoice": "POINV"}


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[tuple[Session, str]]:
    """A session holding the demo, loaded into the empty database and never committed."""
    session = make_sessionmaker(engine)()
    assert database_is_empty(session)
    summary = load_demo(session)
    yield session, summary
    session.rollback()
    session.close()


def _contacts(session: Session) -> list[Contact]:
    session.expire_all()  # read what the database holds, not what the session remembers
    return list(session.scalars(select(Contact).order_by(Contact.no)))


def _entries(session: Session) -> list[InteractionLogEntry]:
    session.expire_all()
    return list(session.scalars(select(InteractionLogEntry).order_by(InteractionLogEntry.entry_no)))


def _ranks(session: Session, column: Any) -> dict[int, int]:
    """Numbers from a sequence, which PostgreSQL does not roll back, by their rank (1 for the lowest)."""
    return {no: rank for rank, no in enumerate(session.scalars(select(column).order_by(column)), 1)}


def _fingerprint(session: Session) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (c.no, c.type, c.name, c.company_no, c.address, c.post_code, c.city, c.phone_no, c.email,
         c.job_title, c.salesperson_code, c.minor, c.exclude_from_segment)
        for c in _contacts(session)
    ]
    # Attachment and campaign entry numbers come from sequences: compared by rank.
    attachment_ranks = _ranks(session, Attachment.no)
    campaign_entry_ranks = _ranks(session, CampaignEntry.entry_no)
    ranked = {"attachment_no": attachment_ranks, "campaign_entry_no": campaign_entry_ranks}
    for model in (ContactMailingGroup, ContactIndustryGroup, ContactJobResponsibility,
                  ContactBusinessRelation, ContactProfileAnswer, InteractionTemplateSetupSlot,
                  templates.InteractionTemplate, templates.InteractionTemplateLanguage, Campaign,
                  CampaignEntry, CampaignTargetGroup):
        table = model.__table__
        numbers = {**ranked, "entry_no": campaign_entry_ranks} if model is CampaignEntry else ranked
        rows += [
            tuple(numbers[k].get(v, v) if k in numbers else v for k, v in r.items())
            for r in session.execute(select(table).order_by(*table.primary_key)).mappings()
        ]
    # Entry numbers come from a sequence too: compare the rest.
    columns = [c.key for c in InteractionLogEntry.__table__.c if c.key != "entry_no"]
    rows += [
        tuple(ranked[name].get(getattr(e, name), getattr(e, name)) if name in ranked else getattr(e, name)
              for name in columns)
        for e in _entries(session)
    ]
    rows += [(attachment_ranks[a.no], a.file_name, a.size, a.read_only, a.content) for a in session.scalars(
        select(Attachment).order_by(Attachment.no))]
    rows += [(c.line_no, c.date, c.comment) for c in session.scalars(
        select(InteractionComment).order_by(InteractionComment.entry_no, InteractionComment.line_no))]
    return rows


def test_the_demo_holds_companies_of_five_countries_with_their_persons(
    demo: tuple[Session, str],
) -> None:
    session, summary = demo
    contacts = _contacts(session)
    companies = {c.no: c for c in contacts if c.type == ContactType.COMPANY}
    persons = [c for c in contacts if c.type == ContactType.PERSON]
    assert len(companies) == sum(country.companies for country in COUNTRIES)
    assert len(contacts) >= 250
    entries = _entries(session)
    logged = [e for e in entries if not e.postponed]
    assert summary == (
        f"{len(companies)} companies, {len(persons)} persons, "
        f"{len(SALESPEOPLE)} salespeople, 4 mailing groups, "
        f"13 interaction templates, {len(logged)} interactions "
        f"({sum(e.canceled for e in logged)} canceled, {len(entries) - len(logged)} postponed)"
    )
    assert {c.country_code for c in companies.values()} == {"GB", "FR", "IT", "RU", "DE"}
    employed = [p for p in persons if p.company_no]
    assert len(persons) - len(employed) == 10
    for person in employed:
        company = companies[person.company_no]
        assert person.company_name == company.name
        assert (person.language_code, person.salesperson_code, person.city) == (
            company.language_code, company.salesperson_code, company.city
        )
    for company in companies.values():
        assert 2 <= sum(p.company_no == company.no for p in employed) <= 6


def test_every_demo_contact_has_a_number_from_the_contact_series(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    numbers = [c.no for c in _contacts(session)]
    assert numbers == [f"CT{i:06d}" for i in range(1, len(numbers) + 1)]
    assert setup.get_number_series(session, "CONT").last_no_used == numbers[-1]
    marketing = setup.get_marketing_setup(session)
    assert (marketing.contact_nos, marketing.segment_nos, marketing.campaign_nos) == (
        "CONT", "SEG", "CAMP"
    )


def test_demo_minors_are_privacy_blocked_and_some_persons_are_left_out_of_segments(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    contacts = _contacts(session)
    minors = [c for c in contacts if c.minor]
    assert 1 <= len(minors) <= 2
    assert all(m.privacy_blocked for m in minors)
    assert not any(c.privacy_blocked for c in contacts if not c.minor)
    assert any(c.exclude_from_segment for c in contacts)
    without_email = [c for c in contacts if not c.email]
    assert without_email and all(c.correspondence_type == "hard_copy" for c in without_email)


def test_demo_names_keep_their_letters_and_addresses_stay_in_the_example_domain(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    contacts = _contacts(session)
    names = " ".join(c.name for c in contacts)
    assert re.search("[\u0430-\u044f]", names)  # Cyrillic
    assert re.search("[éèü]", names)
    ascii_email = re.compile(r"^[a-z0-9.']+@[a-z0-9-]+\.example$")
    assert all(ascii_email.match(c.email) for c in contacts if c.email)
    salespeople = session.scalars(select(Salesperson)).all()
    assert all(s.email.endswith(".example") for s in salespeople)


def test_demo_companies_carry_industry_groups_and_linked_business_relations(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    companies = [c.no for c in _contacts(session) if c.type == ContactType.COMPANY]
    grouped = set(session.scalars(select(ContactIndustryGroup.contact_no)))
    assert grouped == set(companies)
    relations = list(session.scalars(select(ContactBusinessRelation)))
    links = {(r.business_relation_code, r.link_to_table) for r in relations}
    assert {("CUST", "customer"), ("VEND", "vendor"), ("PROS", "")} <= links
    customer_nos = sorted(r.link_no for r in relations if r.link_to_table == "customer")
    assert customer_nos[:2] == ["C00010", "C00020"]
    assert len(set(customer_nos)) == len(customer_nos)
    assert session.scalars(select(ContactMailingGroup)).first() is not None
    assert session.scalars(select(ContactProfileAnswer)).first() is not None


def test_loading_the_demo_again_into_the_emptied_database_gives_the_same_data(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    first = _fingerprint(session)
    session.rollback()  # load_demo never commits, so this empties the database again
    assert database_is_empty(session)

    load_demo(session)

    assert not database_is_empty(session)
    assert _fingerprint(session) == first


# --- interaction templates, campaigns and the interaction log ------------------------------


def test_demo_templates_cover_letters_meetings_calls_e_mails_and_documents(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    session.expire_all()
    codes = set(session.scalars(select(templates.InteractionTemplate.code)))
    assert {"BUS", "ABSTRACT", "LTR-DOCX", "MEETINV", "MEETING", "OUT-CALL", "IN-CALL", "EMAIL",
            "EMAIL-NEWS", "SINV", "SQUOTE", "POINV"} <= codes
    assert len(codes) == 13
    groups = set(session.scalars(select(templates.InteractionGroup.code)))
    assert groups == {"LETTER", "MEETING", "PHONE", "EMAIL", "SALES", "PURCHASE"}
    assert templates.get_template(session, "BUS").unit_cost == 1.5
    assert templates.get_template(session, "MEETING").unit_cost == 45

    news = templates.get_template(session, "EMAIL-NEWS")
    assert (news.language_code_default, news.wizard_action) == ("ENU", "merge")
    assert templates.language_codes(session, "EMAIL-NEWS") == ["ENU", "FRA"]
    for language in ("ENU", "FRA"):
        body = templates.language_attachment(session, "EMAIL-NEWS", language)
        assert body.is_html and b"{{Contact_Name}}" in (body.content or b"")
    letter = templates.get_template(session, "LTR-DOCX")
    assert (letter.language_code_default, letter.wizard_action) == ("ENU", "merge")
    docx = templates.language_attachment(session, "LTR-DOCX", "ENU")
    assert docx.is_word and docx.content is not None
    with zipfile.ZipFile(io.BytesIO(docx.content)) as archive:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= set(archive.namelist())
        assert "MERGEFIELD Contact_Name" in archive.read("word/document.xml").decode()


def test_demo_fills_interaction_template_setup_with_templates_it_can_use(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    filled = {slot: code for slot, code in setup.get_template_setup(session).items() if code}
    assert filled == {**DOCUMENT_TEMPLATES, "outgoing_calls": "OUT-CALL", "meeting_invitation": "MEETINV",
                      "emails": "EMAIL"}
    for code in DOCUMENT_TEMPLATES.values():
        assert templates.language_codes(session, code) == []  # document logging refuses languages


def test_demo_interaction_log_spans_a_year_of_entries_for_existing_contacts(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    entries = _entries(session)
    contacts = {c.no: c for c in _contacts(session)}
    logged = [e for e in entries if not e.postponed]
    postponed = [e for e in entries if e.postponed]
    canceled = [e for e in logged if e.canceled]
    assert 1200 <= len(logged) <= 1800
    assert len(postponed) == 10
    assert round(len(logged) * 0.02) <= len(canceled) <= round(len(logged) * 0.04)
    assert all(e.contact_no in contacts and not contacts[e.contact_no].privacy_blocked for e in entries)
    assert all(e.contact_company_no == contacts[e.contact_no].company_no or
               e.contact_company_no == e.contact_no for e in entries)
    assert all(e.salesperson_code for e in entries)
    today = dt.date.today()
    assert all(today - dt.timedelta(days=365) < e.date <= today for e in entries if e.date)
    assert all(dt.time(7) <= e.time_of_interaction <= dt.time(18) for e in entries if e.time_of_interaction)

    by_template = Counter(e.interaction_template_code for e in logged)
    assert by_template["OUT-CALL"] + by_template["IN-CALL"] > 3 * by_template["MEETING"] > 0
    assert {"EMAIL-NEWS", "LTR-DOCX", "ABSTRACT", "MEETINV"} <= set(by_template)
    assert any(e.attempt_failed for e in logged if e.interaction_template_code == "OUT-CALL")
    assert {e.evaluation for e in logged} > {"", "positive", "negative"}
    # Logged e-mails and Word letters keep read-only copies of the template's file.
    with_file = [e for e in logged if e.interaction_template_code in ("EMAIL-NEWS", "LTR-DOCX")]
    assert all(e.attachment_no is not None for e in with_file)
    assert len({e.attachment_no for e in with_file}) == len(with_file)
    assert {e.language_code for e in with_file if e.interaction_template_code == "EMAIL-NEWS"} == {"ENU", "FRA"}


def test_demo_documents_are_logged_for_linked_customers_and_vendors(demo: tuple[Session, str]) -> None:
    session, _ = demo
    documents = [e for e in _entries(session) if e.document_type]
    assert 25 <= len(documents) <= 35
    assert {e.interaction_template_code for e in documents} == set(DOCUMENT_TEMPLATES.values())
    links = {(r.contact_no, r.link_to_table) for r in session.scalars(select(ContactBusinessRelation))}
    for entry in documents:
        table = "vendor" if entry.document_type.startswith("purchase") else "customer"
        assert (entry.contact_no, table) in links
        assert entry.document_no and entry.salesperson_code
    assert len({e.date for e in documents}) > 10  # dated over the year, not all today


def test_demo_campaigns_of_this_year_have_their_entries_targets_and_responses(
    demo: tuple[Session, str],
) -> None:
    session, _ = demo
    session.expire_all()
    year = dt.date.today().year
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.no)))
    assert [c.no for c in campaigns] == ["CP0001", "CP0002"]
    assert all(c.starting_date and c.starting_date.year == year for c in campaigns)
    started = [c for c in campaigns if c.starting_date and c.starting_date <= dt.date.today()]
    assert started  # the first starts on 1 January
    entries = _entries(session)
    for campaign in started:
        own = [e for e in entries if e.campaign_no == campaign.no]
        assert any(e.campaign_target for e in own) and any(e.campaign_response for e in own)
        campaign_entry = session.scalars(select(CampaignEntry).where(CampaignEntry.campaign_no == campaign.no)).one()
        assert {e.campaign_entry_no for e in own if not e.postponed} == {campaign_entry.entry_no}
        targets = session.scalars(
            select(CampaignTargetGroup).where(CampaignTargetGroup.campaign_no == campaign.no)
        ).all()
        assert targets and {t.type for t in targets} <= {"customer", "contact"}
