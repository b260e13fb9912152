"""Campaigns and campaign entries through the API (api.md "Logged segments and campaigns")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from rapport.core import campaigns
from rapport.core.interactions import InteractionLogEntry

API = "/api/v1"
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def db(app) -> Callable[..., Any]:
    """Run `work(session)` in its own committed transaction (for rows the API cannot create)."""

    def run(work: Callable[[Any], Any]) -> Any:
        with app.state.sessionmaker() as session:
            result = work(session)
            session.commit()
            return result

    return run


def post(client, path, headers, body=None, status=201):
    response = client.post(API + path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def logged(session, **values: Any) -> None:
    values.setdefault("contact_no", "C1")
    values.setdefault("contact_company_no", values["contact_no"])
    values.setdefault("date", DAY)
    session.add(InteractionLogEntry(**values))
    session.flush()


def manual_entry(session, campaign_no: str = "CP1", segment_no: str = "") -> int:
    return campaigns.entry_for(
        session, campaign_no=campaign_no, segment_no=segment_no, document_type="", date=DAY,
        salesperson_code="", user_id="admin-user", description="Interactions",
    )


def test_a_campaign_is_created_read_listed_changed_and_deleted(client, admin):
    created = post(
        client, "/campaigns", admin,
        {"no": "cp1", "description": "Spring", "starting_date": "2026-03-01",
         "ending_date": "2026-03-31", "status_code": "open"},
    )
    assert created == {
        "no": "CP1", "description": "Spring", "starting_date": "2026-03-01",
        "ending_date": "2026-03-31", "salesperson_code": "", "status_code": "OPEN",
        "activated": False, "target_contacts_contacted": 0, "contacts_responded": 0,
        "cost": 0, "duration_min": 0,
    }
    post(client, "/campaigns", admin, {"no": "CP2"})
    assert client.get(f"{API}/campaigns/cp1", headers=admin).json() == created

    first = client.get(f"{API}/campaigns?limit=1", headers=admin).json()
    assert [c["no"] for c in first["items"]] == ["CP1"]
    second = client.get(f"{API}/campaigns?limit=1&cursor={first['next_cursor']}", headers=admin).json()
    assert [c["no"] for c in second["items"]] == ["CP2"]
    assert second["next_cursor"] is None
    filtered = client.get(f"{API}/campaigns", params={"filter[description]": "@spr*"}, headers=admin)
    assert [c["no"] for c in filtered.json()["items"]] == ["CP1"]

    changed = client.patch(f"{API}/campaigns/CP1", json={"ending_date": None}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["ending_date"] is None
    assert client.delete(f"{API}/campaigns/CP1", headers=admin).status_code == 204
    missing = client.get(f"{API}/campaigns/CP1", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_a_campaign_without_a_number_takes_one_from_the_campaign_series(client, admin):
    post(client, "/number-series", admin, {"code": "CAMP", "starting_no": "CP0001"})
    assert client.put(f"{API}/setup/marketing", json={"campaign_nos": "CAMP"}, headers=admin).status_code == 200
    assert post(client, "/campaigns", admin, {"description": "A"})["no"] == "CP0001"
    assert post(client, "/campaigns", admin, {})["no"] == "CP0002"


def test_refused_campaigns_answer_with_the_error_envelope(client, admin):
    backwards = client.post(
        f"{API}/campaigns", json={"no": "CP1", "starting_date": "2026-03-02", "ending_date": "2026-03-01"},
        headers=admin,
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["field"] == "ending_date"
    typo = client.post(f"{API}/campaigns", json={"no": "CP1", "descripton": "x"}, headers=admin)
    assert typo.status_code == 422
    assert typo.json()["error"]["code"] == "invalid"
    unknown_salesperson = client.post(f"{API}/campaigns", json={"no": "CP1", "salesperson_code": "ZZ"}, headers=admin)
    assert unknown_salesperson.status_code == 422
    no_series = client.post(f"{API}/campaigns", json={}, headers=admin)
    assert no_series.status_code == 409
    post(client, "/campaigns", admin, {"no": "CP1", "starting_date": "2026-03-02"})
    duplicate = client.post(f"{API}/campaigns", json={"no": "cp1"}, headers=admin)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"
    early_end = client.patch(f"{API}/campaigns/CP1", json={"ending_date": "2026-01-01"}, headers=admin)
    assert early_end.status_code == 422
    bad_period = client.get(f"{API}/campaigns/CP1?date_from=March", headers=admin)
    assert bad_period.status_code == 422


def test_a_campaign_with_entries_is_kept_as_history(client, admin, db):
    post(client, "/campaigns", admin, {"no": "CP1"})
    db(manual_entry)
    refused = client.delete(f"{API}/campaigns/CP1", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conflict"


def test_campaign_statistics_follow_the_date_filter_and_skip_canceled_and_postponed(client, admin, db):
    post(client, "/campaigns", admin, {"no": "CP1"})

    def interactions(session):
        logged(session, campaign_no="CP1", campaign_target=True, cost=Decimal("2.5"), duration_min=10)
        logged(session, campaign_no="CP1", campaign_response=True, cost=1, date=DAY + dt.timedelta(days=40))
        logged(session, campaign_no="CP1", campaign_target=True, canceled=True, cost=100)
        logged(session, campaign_no="CP1", campaign_target=True, postponed=True, cost=100)

    db(interactions)
    everything = client.get(f"{API}/campaigns/CP1", headers=admin).json()
    assert (everything["target_contacts_contacted"], everything["contacts_responded"]) == (1, 1)
    assert (everything["cost"], everything["duration_min"]) == (3.5, 10)
    march = client.get(
        f"{API}/campaigns", params={"date_from": "2026-03-01", "date_to": "2026-03-31"}, headers=admin
    ).json()["items"][0]
    assert (march["target_contacts_contacted"], march["contacts_responded"], march["cost"]) == (1, 0, 2.5)


def test_campaign_entries_are_listed_filtered_and_canceled_with_their_interactions(client, admin, db):
    post(client, "/campaigns", admin, {"no": "CP1"})
    post(client, "/campaigns", admin, {"no": "CP2"})

    def entries(session):
        first = manual_entry(session)
        second = manual_entry(session, segment_no="SEG1")
        third = manual_entry(session, "CP2")
        logged(session, campaign_no="CP1", campaign_entry_no=first, cost=2, duration_min=3)
        logged(session, campaign_no="CP1", campaign_entry_no=first, cost=5, postponed=True)
        logged(session, campaign_no="CP1", campaign_entry_no=first, cost=90, canceled=True)
        return first, second, third

    first, second, third = db(entries)
    everything = client.get(f"{API}/campaign-entries", headers=admin).json()
    assert [e["entry_no"] for e in everything["items"]] == [first, second, third]
    assert everything["items"][0] == {
        "entry_no": first, "campaign_no": "CP1", "description": "Interactions", "date": "2026-03-02",
        "user_id": "admin-user", "segment_no": "", "canceled": False, "salesperson_code": "",
        "register_no": None, "document_type": "", "no_of_interactions": 2, "cost": 7,
        "duration_min": 3,
    }
    of_cp1 = client.get(f"{API}/campaign-entries?campaign_no=cp1", headers=admin).json()
    assert [e["entry_no"] for e in of_cp1["items"]] == [first, second]
    by_segment = client.get(f"{API}/campaign-entries", params={"filter[segment_no]": "SEG*"}, headers=admin)
    assert [e["entry_no"] for e in by_segment.json()["items"]] == [second]

    canceled = post(client, f"/campaign-entries/{first}/cancel", admin, status=200)
    assert canceled["canceled"] is True
    assert (canceled["no_of_interactions"], canceled["cost"]) == (3, 97)
    only_canceled = client.get(f"{API}/campaign-entries?canceled=true", headers=admin).json()
    assert [e["entry_no"] for e in only_canceled["items"]] == [first]
    assert client.get(f"{API}/campaigns/CP1", headers=admin).json()["cost"] == 0

    restored = post(client, f"/campaign-entries/{first}/uncancel", admin, status=200)
    assert (restored["canceled"], restored["no_of_interactions"], restored["cost"]) == (False, 3, 97)
    assert client.get(f"{API}/campaign-entries/{first}", headers=admin).json() == restored
    assert client.get(f"{API}/campaigns/CP1", headers=admin).json()["cost"] == 92  # postponed 5 left out

    assert client.get(f"{API}/campaign-entries?canceled=maybe", headers=admin).status_code == 422
    assert client.get(f"{API}/campaign-entries/999", headers=admin).status_code == 404
    assert client.post(f"{API}/campaign-entries/999/cancel", headers=admin).status_code == 404


def test_activation_fills_the_target_group_and_deactivation_empties_it(client, admin, db):
    post(client, "/campaigns", admin, {"no": "CP1"})
    refused = client.post(f"{API}/campaigns/CP1/activate", headers=admin)
    assert refused.status_code == 409
    assert "Campaign Target" in refused.json()["error"]["message"]

    db(lambda s: logged(s, contact_no="C7", campaign_no="CP1", campaign_target=True))
    activated = post(client, "/campaigns/CP1/activate", admin, status=200)
    assert activated["activated"] is True
    groups = client.get(f"{API}/campaigns/CP1/target-groups", headers=admin)
    assert groups.json() == [{"type": "contact", "no": "C7", "campaign_no": "CP1"}]

    assert post(client, "/campaigns/CP1/deactivate", admin, status=200)["activated"] is False
    assert client.get(f"{API}/campaigns/CP1/target-groups", headers=admin).json() == []
    assert client.get(f"{API}/campaigns/CP9/target-groups", headers=admin).status_code == 404


def test_a_viewer_reads_campaigns_but_cannot_change_them(client, admin, headers_for, db):
    post(client, "/campaigns", admin, {"no": "CP1"})
    entry_no = db(manual_entry)
    viewer = headers_for("viewer")
    assert client.get(f"{API}/campaigns", headers=viewer).status_code == 200
    assert client.get(f"{API}/campaign-entries", headers=viewer).status_code == 200
    assert client.get(f"{API}/campaigns/CP1/target-groups", headers=viewer).status_code == 200
    writes = [
        client.post(f"{API}/campaigns", json={"no": "CP2"}, headers=viewer),
        client.patch(f"{API}/campaigns/CP1", json={"description": "x"}, headers=viewer),
        client.delete(f"{API}/campaigns/CP1", headers=viewer),
        client.post(f"{API}/campaigns/CP1/activate", headers=viewer),
        client.post(f"{API}/campaigns/CP1/deactivate", headers=viewer),
        client.post(f"{API}/campaign-entries/{entry_no}/cancel", headers=viewer),
        client.post(f"{API}/campaign-entries/{entry_no}/uncancel", headers=viewer),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert writes[0].json()["error"]["code"] == "forbidden"
    sales = headers_for("sales")
    assert client.post(f"{API}/campaigns", json={"no": "CP2"}, headers=sales).status_code == 403
    assert client.get(f"{API}/campaigns").status_code == 401
