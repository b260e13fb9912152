"""Deleting salespeople, languages and contact dimensions: refused while something still refers to them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from rapport.core import contacts, masterdata
from rapport.core.contacts import ContactCreate
from rapport.core.masterdata import Language, MailingGroup, Salesperson
from rapport.errors import Conflict


def test_a_salesperson_of_a_contact_is_kept_and_a_free_one_is_deleted(session: Session) -> None:
    session.add_all([Salesperson(code="SP1"), Salesperson(code="SP2")])
    contacts.create_contact(session, ContactCreate(no="C1", name="Alpha", salesperson_code="SP1"))
    with pytest.raises(Conflict, match="Salesperson SP1 is still used"):
        masterdata.delete_salesperson(session, "SP1")
    masterdata.delete_salesperson(session, "sp2")
    assert session.get(Salesperson, "SP2") is None


def test_a_language_of_a_contact_is_kept_and_a_free_one_is_deleted(session: Session) -> None:
    session.add_all([Language(code="FRA"), Language(code="DEU")])
    contacts.create_contact(session, ContactCreate(no="C1", name="Alpha", language_code="FRA"))
    with pytest.raises(Conflict, match="Language FRA is still used"):
        masterdata.delete_language(session, "FRA")
    masterdata.delete_language(session, "DEU")
    assert session.get(Language, "DEU") is None


def test_a_mailing_group_with_contacts_is_kept_and_an_empty_one_is_deleted(session: Session) -> None:
    session.add_all([MailingGroup(code="NEWS"), MailingGroup(code="OLD")])
    contacts.create_contact(session, ContactCreate(no="C1", name="Alpha"))
    contacts.set_assigned_codes(session, "C1", "mailing-groups", ["NEWS"])
    with pytest.raises(Conflict, match="Mailing group NEWS is still used"):
        masterdata.delete_dimension(session, "mailing-groups", "NEWS")
    masterdata.delete_dimension(session, "mailing-groups", "OLD")
    assert session.get(MailingGroup, "OLD") is None
