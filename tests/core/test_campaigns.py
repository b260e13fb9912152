"""Campaigns, campaign entries, their statistics and target groups (domain.md §1.17, §3.4.7, §4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rapport.core import campaigns, contacts, masterdata, setup
from rapport.core.campaigns import (
    ACTIVATE_WITHOUT_TARGETS,
    CampaignCreate,
    CampaignEntry,
    CampaignTargetGroup,
    CampaignUpdate,
)
from rapport.core.contacts import BusinessRelationLink, ContactCreate
from rapport.core.interactions import InteractionLogEntry
from rapport.core.masterdata import BusinessRelation
from rapport.errors import Conflict, Invalid, NotFound

DAY = dt.date(2026, 3, 2)


def campaign(session: Session, no: str = "CP1", **values: Any) -> campaigns.Campaign:
    return campaigns.create_campaign(session, CampaignCreate(no=no, **values))


def log(session: Session, **values: Any) -> InteractionLogEntry:
    values.setdefault("contact_no", "C1")
    values.setdefault("contact_company_no", values["contact_no"])
    values.setdefault("date", DAY)
    entry = InteractionLogEntry(**values)
    session.add(entry)
    session.flush()
    return entry


def entry_for(session: Session, campaign_no: str = "CP1", **values: Any) -> int:
    args: dict[str, Any] = {
        "segment_no": "",
        "document_type": "",
        "date": DAY,
        "salesperson_code": "",
        "user_id": "anna",
        "description": "Interactions",
    }
    args.update(values)
    return campaigns.entry_for(session, campaign_no=campaign_no, **args)


def use_series(session: Session, starting_no: str = "CP0001", manual_nos: bool = True) -> None:
    setup.create_number_series(
        session, setup.NumberSeriesCreate(code="CAMP", starting_no=starting_no, manual_nos=manual_nos)
    )
    setup.update_marketing_setup(session, setup.MarketingSetupUpdate(campaign_nos="CAMP"))


# --- campaigns -----------------------------------------------------------------------------


def test_a_campaign_without_a_number_takes_the_next_number_of_the_campaign_series(session):
    use_series(session)
    first = campaigns.create_campaign(session, CampaignCreate(description="Spring"))
    second = campaigns.create_campaign(session, CampaignCreate())
    assert (first.no, second.no) == ("CP0001", "CP0002")
    assert setup.get_number_series(session, "CAMP").last_no_used == "CP0002"


def test_a_campaign_without_a_number_and_without_a_series_is_a_conflict(session):
    with pytest.raises(Conflict) as error:
        campaigns.create_campaign(session, CampaignCreate())
    assert "campaign_nos" in error.value.message


def test_a_typed_number_is_refused_when_the_series_forbids_manual_numbers(session):
    use_series(session, manual_nos=False)
    with pytest.raises(Conflict):
        campaign(session, "MINE")


def test_a_campaign_number_that_exists_is_a_conflict(session):
    campaign(session, "CP1")
    with pytest.raises(Conflict) as error:
        campaign(session, "cp1")
    assert error.value.field == "no"


def test_an_ending_date_before_the_starting_date_is_invalid_on_create_and_on_update(session):
    with pytest.raises(Invalid) as error:
        campaign(session, starting_date=DAY, ending_date=DAY - dt.timedelta(days=1))
    assert error.value.field == "ending_date"
    created = campaign(session, starting_date=DAY, ending_date=DAY)
    with pytest.raises(Invalid):
        campaigns.update_campaign(
            session, created.no, CampaignUpdate(starting_date=DAY + dt.timedelta(days=1))
        )


def test_a_campaign_date_can_be_cleared_but_a_text_field_cannot_be_null(session):
    campaign(session, starting_date=DAY, ending_date=DAY)
    changed = campaigns.update_campaign(session, "CP1", CampaignUpdate(ending_date=None))
    assert changed.ending_date is None
    with pytest.raises(Invalid):
        campaigns.update_campaign(session, "CP1", CampaignUpdate(description=None))


def test_a_campaign_salesperson_must_exist(session):
    with pytest.raises(Invalid) as error:
        campaign(session, salesperson_code="NOBODY")
    assert error.value.field == "salesperson_code"
    masterdata.create_record(session, masterdata.Salesperson, "Salesperson", {"code": "SP"})
    assert campaign(session, salesperson_code="sp").salesperson_code == "SP"


def test_check_campaign_accepts_blank_and_refuses_an_unknown_campaign(session):
    campaigns.check_campaign(session, "", "campaign_no")
    campaign(session, "CP1")
    campaigns.check_campaign(session, "CP1", "campaign_no")
    with pytest.raises(Invalid) as error:
        campaigns.check_campaign(session, "CP9", "campaign_no")
    assert error.value.field == "campaign_no"


def test_a_campaign_with_campaign_entries_cannot_be_deleted(session):
    campaign(session)
    entry_for(session)
    with pytest.raises(Conflict):
        campaigns.delete_campaign(session, "CP1")


def test_an_unused_campaign_is_deleted_with_its_target_group(session):
    campaign(session)
    session.add(CampaignTargetGroup(type="contact", no="C1", campaign_no="CP1"))
    session.flush()
    campaigns.delete_campaign(session, "cp1")
    assert session.scalars(select(CampaignTargetGroup)).all() == []
    with pytest.raises(NotFound):
        campaigns.get_campaign(session, "CP1")


# --- campaign entries ----------------------------------------------------------------------


def test_one_campaign_entry_serves_a_campaign_segment_and_document_type(session):
    campaign(session, "CP1")
    campaign(session, "CP2")
    seg = entry_for(session, segment_no="SEG1", register_no=7, description="Spring mailing")
    assert entry_for(session, segment_no="SEG1", description="other") == seg
    assert entry_for(session, segment_no="SEG2") != seg
    assert entry_for(session, segment_no="SEG1", document_type="sales_invoice") != seg
    assert entry_for(session, "CP2", segment_no="SEG1") != seg
    stored = campaigns.get_entry(session, seg)
    assert (stored.register_no, stored.description, stored.segment_no) == (7, "Spring mailing", "SEG1")
    assert session.scalar(select(CampaignEntry).where(CampaignEntry.entry_no == seg)) is stored


def test_all_manual_interactions_of_a_campaign_share_the_first_entry(session):
    campaign(session)
    masterdata.create_record(session, masterdata.Salesperson, "Salesperson", {"code": "SP1"})
    first = entry_for(session, salesperson_code="SP1", date=DAY)
    later = entry_for(session, salesperson_code="SP2", date=DAY + dt.timedelta(days=5))
    assert later == first
    entry = campaigns.get_entry(session, first)
    assert (entry.salesperson_code, entry.date, entry.register_no) == ("SP1", DAY, None)


def test_campaign_entry_numbers_are_given_by_the_database_in_creation_order(session):
    campaign(session)
    assert entry_for(session, segment_no="A") == 1
    assert entry_for(session, segment_no="B") == 2
    assert entry_for(session, segment_no="A") == 1


def test_canceling_a_campaign_entry_cancels_its_interactions_and_uncanceling_restores_them(session):
    campaign(session, "CP1")
    campaign(session, "CP2")
    mine = entry_for(session, segment_no="S1")
    other = entry_for(session, segment_no="S2")
    own = [log(session, campaign_no="CP1", campaign_entry_no=mine) for _ in range(3)]
    sibling = log(session, campaign_no="CP1", campaign_entry_no=other)
    foreign = log(session, campaign_no="CP2", campaign_entry_no=mine)

    assert campaigns.set_entry_canceled(session, mine, True).canceled is True
    assert [e.canceled for e in own] == [True, True, True]
    assert (sibling.canceled, foreign.canceled) == (False, False)

    campaigns.set_entry_canceled(session, mine, False)
    session.expire_all()
    assert [session.get(InteractionLogEntry, e.entry_no).canceled for e in own] == [False] * 3
    assert campaigns.get_entry(session, mine).canceled is False


def test_canceling_an_unknown_campaign_entry_is_not_found(session):
    with pytest.raises(NotFound):
        campaigns.set_entry_canceled(session, 99, True)


# --- statistics ----------------------------------------------------------------------------


def test_campaign_statistics_skip_canceled_and_postponed_entries_and_honour_the_date_filter(session):
    campaign(session, "CP1")
    campaign(session, "CP2")
    log(session, campaign_no="CP1", campaign_target=True, cost=Decimal("2.50"), duration_min=10)
    log(session, campaign_no="CP1", campaign_target=True, campaign_response=True, cost=1)
    log(session, campaign_no="CP1", campaign_response=True, duration_min=5,
        date=DAY + dt.timedelta(days=30))
    log(session, campaign_no="CP1", campaign_target=True, campaign_response=True, canceled=True,
        cost=100)
    log(session, campaign_no="CP1", campaign_target=True, campaign_response=True, postponed=True,
        cost=100)
    log(session, campaign_no="CP2", campaign_target=True, cost=7)

    stats = campaigns.campaign_statistics(session, ["CP1", "CP2", "CP3"])
    assert stats["CP1"] == campaigns.CampaignTotals(2, 2, Decimal("3.50"), Decimal(15))
    assert stats["CP2"].target_contacts_contacted == 1
    assert stats["CP3"] == campaigns.CampaignTotals()

    march = campaigns.campaign_statistics(session, ["CP1"], DAY, DAY + dt.timedelta(days=1))
    assert march["CP1"] == campaigns.CampaignTotals(2, 1, Decimal("3.50"), Decimal(10))


def test_campaign_entry_statistics_count_interactions_whose_canceled_equals_the_entry(session):
    campaign(session)
    no = entry_for(session, segment_no="S1")
    log(session, campaign_no="CP1", campaign_entry_no=no, cost=3, duration_min=1)
    log(session, campaign_no="CP1", campaign_entry_no=no, cost=4, duration_min=2, postponed=True)
    log(session, campaign_no="CP1", campaign_entry_no=no, cost=50, canceled=True)
    log(session, campaign_no="CP2", campaign_entry_no=no, cost=900)

    stats = campaigns.entry_statistics(session, [no, 42])
    assert (stats[no].no_of_interactions, stats[no].cost, stats[no].duration_min) == (
        2, Decimal(7), Decimal(3)
    )
    assert stats[42].no_of_interactions == 0

    # A canceled entry counts only its canceled interactions: here, after the cascade, all three.
    campaigns.set_entry_canceled(session, no, True)
    session.execute(
        InteractionLogEntry.__table__.update()
        .where(InteractionLogEntry.cost == 3)
        .values(canceled=False)
    )
    stats = campaigns.entry_statistics(session, [no])
    assert (stats[no].no_of_interactions, stats[no].cost) == (2, Decimal(54))


# --- target groups -------------------------------------------------------------------------


def companies_with_a_customer(session: Session) -> None:
    for no in ("C1", "C2", "C3"):
        contacts.create_contact(session, ContactCreate(no=no, name=f"Company {no}"))
    masterdata.create_record(session, BusinessRelation, "Business relation", {"code": "CUST"})
    contacts.set_business_relations(
        session, "C1",
        [BusinessRelationLink(business_relation_code="CUST", link_to_table="customer", link_no="K100")],
    )


def targets(session: Session, campaign_no: str = "CP1") -> list[tuple[str, str]]:
    return [(t.type, t.no) for t in campaigns.target_groups(session, campaign_no)]


def test_a_campaign_without_targeted_interactions_cannot_be_activated(session):
    campaign(session)
    log(session, campaign_no="CP1", campaign_target=False)
    log(session, campaign_no="CP1", campaign_target=True, postponed=True)
    with pytest.raises(Conflict) as error:
        campaigns.activate(session, "CP1")
    assert error.value.message == ACTIVATE_WITHOUT_TARGETS
    assert campaigns.is_activated(session, "CP1") is False


def test_activating_targets_the_customer_of_a_company_or_else_the_company_itself(session):
    companies_with_a_customer(session)
    campaign(session)
    log(session, contact_no="C1", campaign_no="CP1", campaign_target=True)
    log(session, contact_no="P1", contact_company_no="C1", campaign_no="CP1", campaign_target=True)
    log(session, contact_no="C2", campaign_no="CP1", campaign_target=True, canceled=True)
    log(session, contact_no="C3", campaign_no="CP1", campaign_target=True, postponed=True)
    log(session, contact_no="C3", campaign_no="CP2", campaign_target=True)

    campaigns.activate(session, "CP1")
    assert targets(session) == [("contact", "C2"), ("customer", "K100")]
    assert campaigns.is_activated(session, "CP1") is True
    assert campaigns.activated_campaigns(session, ["CP1", "CP2"]) == {"CP1"}

    campaigns.activate(session, "CP1")
    assert targets(session) == [("contact", "C2"), ("customer", "K100")]

    campaigns.deactivate(session, "CP1")
    assert targets(session) == []
    assert campaigns.is_activated(session, "CP1") is False


def test_targets_are_added_only_to_activated_campaigns(session):
    companies_with_a_customer(session)
    campaign(session)
    campaigns.add_target(session, "CP1", "C2")
    assert targets(session) == []

    log(session, contact_no="C2", campaign_no="CP1", campaign_target=True)
    campaigns.activate(session, "CP1")
    campaigns.add_target(session, "CP1", "C1")
    campaigns.add_target(session, "CP1", "C1")
    campaigns.add_target(session, "", "C3")
    assert targets(session) == [("contact", "C2"), ("customer", "K100")]


def test_a_target_is_removed_only_when_no_other_targeted_interaction_remains(session):
    companies_with_a_customer(session)
    campaign(session)
    first = log(session, contact_no="C1", campaign_no="CP1", campaign_target=True)
    second = log(session, contact_no="P1", contact_company_no="C1", campaign_no="CP1",
                 campaign_target=True)
    log(session, contact_no="C1", campaign_no="CP1", campaign_target=True, postponed=True)
    campaigns.activate(session, "CP1")

    session.delete(first)
    campaigns.remove_target_if_unused(session, "CP1", "C1")
    assert targets(session) == [("customer", "K100")]

    session.execute(delete(InteractionLogEntry).where(InteractionLogEntry.entry_no == second.entry_no))
    campaigns.remove_target_if_unused(session, "CP1", "C1")
    assert targets(session) == []
