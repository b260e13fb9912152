"""The demo data set goes through the core functions, so the rules of contacts hold for it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport.core import setup
from rapport.core.contacts import (
    Contact,
    ContactBusinessRelation,
    ContactIndustryGroup,
    ContactJobResponsibility,
    ContactMailingGroup,
    ContactProfileAnswer,
)
from rapport.core.enums import ContactType
from rapport.core.masterdata import Salesperson
from rapport.db import make_sessionmaker
from rapport.demo import COUNTRIES, SALESPEOPLE, database_is_empty, load_demo


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


def _fingerprint(session: Session) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (c.no, c.type, c.name, c.company_no, c.address, c.post_code, c.city, c.phone_no, c.email,
         c.job_title, c.salesperson_code, c.minor, c.exclude_from_segment)
        for c in _contacts(session)
    ]
    for model in (ContactMailingGroup, ContactIndustryGroup, ContactJobResponsibility,
                  ContactBusinessRelation, ContactProfileAnswer):
        table = model.__table__
        rows += [tuple(r) for r in session.execute(select(table).order_by(*table.primary_key))]
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
    assert summary == (
        f"{len(companies)} companies, {len(persons)} persons, "
        f"{len(SALESPEOPLE)} salespeople, 4 mailing groups"
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
