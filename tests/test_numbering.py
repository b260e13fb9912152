"""Numbers the database hands out (Attachment No., logged segment and campaign Entry No.) under concurrent
transactions: every transaction succeeds and each number is given once, in creation order.

PostgreSQL only: SQLite has one writer at a time, so its transactions never race for a number.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text

from rapport.core import attachments, campaigns, setup
from rapport.core.campaigns import CampaignEntry
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.segments.logging import LogRequest, log_segment
from rapport.core.segments.models import LoggedSegment
from tests.api.test_segments_api import add, crm_caller, segment

THREADS = 12


@pytest.fixture(autouse=True)
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("concurrent numbering is a PostgreSQL scenario")


def together(work: Callable[[int], Any], n: int = THREADS) -> list[Any]:
    """Run work(0) .. work(n - 1) in n threads released at the same moment; their results (or exceptions)."""
    barrier = threading.Barrier(n, timeout=30)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # the test shows it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    return results


def committed(app, fn: Callable[[Any], Any]) -> Any:
    """fn(session) in a session of its own, committed."""
    with app.state.write_sessionmaker() as session:
        result = fn(session)
        session.commit()
        return result


@pytest.fixture
def crm(client, admin, db_engine):
    return crm_caller(client, admin, db_engine)


def test_concurrent_uploads_and_copies_each_get_an_attachment_number_of_their_own(app):
    # Marketing Setup's row is created on first use: made here, before the threads race for it.
    committed(app, setup.get_marketing_setup)

    def upload(i: int) -> int:
        return committed(app, lambda s: attachments.store_attachment(s, f"note-{i}.txt", "", f"note {i}".encode()).no)

    def copy(i: int) -> int:
        return committed(app, lambda s: attachments.copy_attachment(s, uploaded[i]).no)

    for _ in range(2):
        uploaded = together(upload)
        assert len(set(uploaded)) == THREADS, uploaded
        copies = together(copy)
        assert len(set(uploaded) | set(copies)) == 2 * THREADS, (uploaded, copies)
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(attachments.Attachment)) == 4 * THREADS
        for i, no in enumerate(uploaded):
            assert attachments.read_content(session, no) == f"note {i}".encode()
            assert attachments.read_content(session, copies[i]) == f"note {i}".encode()
    later = committed(app, lambda s: attachments.store_attachment(s, "last.txt", "", b"last").no)
    assert later > max(uploaded + copies)


def test_concurrent_uploads_through_the_api_all_succeed(app, client, admin):
    api = "/api/v1"
    committed(app, setup.get_marketing_setup)
    for path, body in (("/languages", {"code": "ENU"}), ("/interaction-groups", {"code": "G1"})):
        assert client.post(api + path, json=body, headers=admin).status_code == 201
    for i in range(THREADS):
        template = {"code": f"T{i}", "interaction_group_code": "G1", "language_code_default": "ENU"}
        assert client.post(f"{api}/interaction-templates", json=template, headers=admin).status_code == 201

    def upload(i: int) -> Any:
        return client.put(
            f"{api}/interaction-templates/T{i}/languages/ENU/attachment",
            files={"file": (f"t{i}.txt", f"template {i}".encode(), "text/plain")},
            headers=admin,
        )

    responses = together(upload)
    assert [r.status_code for r in responses] == [201] * THREADS, [r.text for r in responses]
    assert len({r.json()["attachment_no"] for r in responses}) == THREADS


def test_concurrent_log_segment_runs_each_get_a_logged_segment_and_campaign_entries_of_their_own(app, crm):
    for i in range(2):
        crm("POST", "/campaigns", {"no": f"CQ{i}", "description": f"Campaign {i}"})
    nos = []
    for i in range(THREADS):
        # A third without a campaign, a third on CP1, a third on CQ0 or CQ1.
        body = {"campaign_no": "CP1" if i % 3 == 1 else f"CQ{i % 2}"} if i % 3 else {}
        no = segment(crm, **body)["no"]
        add(crm, no, {"contact": {"no": "C1|P11|P21"}})
        nos.append(no)

    def log(i: int) -> dict[str, Any]:
        return committed(app, lambda s: log_segment(s, nos[i], LogRequest(), user_id="admin-user"))

    results = together(log)
    entry_nos = [r["logged_segment_entry_no"] for r in results]
    assert len(set(entry_nos)) == THREADS, entry_nos
    assert [r["no_of_interactions"] for r in results] == [3] * THREADS
    with app.state.sessionmaker() as session:
        logged = dict(session.execute(select(LoggedSegment.segment_no, LoggedSegment.entry_no)).all())
        assert logged == dict(zip(nos, entry_nos, strict=True))
        per_logged = dict(
            session.execute(
                select(InteractionLogEntry.logged_segment_entry_no, func.count()).group_by(
                    InteractionLogEntry.logged_segment_entry_no
                )
            ).all()
        )
        assert per_logged == dict.fromkeys(entry_nos, 3)
        entries = session.execute(select(CampaignEntry.entry_no, CampaignEntry.segment_no)).all()
        assert len({no for no, _ in entries}) == len(entries) == THREADS - THREADS // 3, entries
        assert {segment_no for _, segment_no in entries} == {no for i, no in enumerate(nos) if i % 3}


def test_concurrent_campaign_entries_each_get_a_number_of_their_own(app, crm):
    for i in range(4):
        crm("POST", "/campaigns", {"no": f"CQ{i}", "description": f"Campaign {i}"})

    def entry(i: int) -> int:
        return committed(
            app,
            lambda s: campaigns.entry_for(
                s,
                campaign_no=f"CQ{i % 4}",
                segment_no="",
                document_type=f"Quote {i}",
                date=None,
                salesperson_code="",
                user_id="admin-user",
                description=f"Quote {i}",
            ),
        )

    numbers = together(entry)
    assert len(set(numbers)) == THREADS, numbers
    with app.state.sessionmaker() as session:
        stored = dict(session.execute(select(CampaignEntry.document_type, CampaignEntry.entry_no)).all())
    assert stored == {f"Quote {i}": no for i, no in enumerate(numbers)}
    # The same (campaign, segment, document type) asked for again at once: one entry, shared.
    again = together(lambda i: entry(i % 4))
    assert again == [numbers[i % 4] for i in range(THREADS)]


def test_requests_that_find_marketing_setup_missing_at_once_create_its_one_row_once(app, db_engine):
    with db_engine.begin() as conn:
        conn.execute(text("DELETE FROM marketing_setup"))
    ids = together(lambda i: committed(app, lambda s: setup.get_marketing_setup(s).id))
    assert ids == [1] * THREADS
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM marketing_setup")).scalar_one() == 1


def test_concurrent_numbers_are_the_highest_plus_one_without_gaps_even_after_a_rollback(app, crm):
    committed(app, setup.get_marketing_setup)
    crm("POST", "/campaigns", {"no": "CQ0", "description": "Campaign 0"})
    nos = []
    for _ in range(THREADS):
        no = segment(crm, campaign_no="CQ0")["no"]
        add(crm, no, {"contact": {"no": "P11"}})
        nos.append(no)
    with app.state.write_sessionmaker() as session:
        # A transaction that took numbers and rolled back gives them up (a sequence would not).
        attachments.store_attachment(session, "lost.txt", "", b"lost")
        log_segment(session, nos[0], LogRequest(), user_id="admin-user")
        session.rollback()

    def log_and_upload(i: int) -> tuple[int, int]:
        def work(session: Any) -> tuple[int, int]:
            result = log_segment(session, nos[i], LogRequest(), user_id="admin-user")
            return result["logged_segment_entry_no"], attachments.store_attachment(session, f"{i}.txt", "", b"x").no

        return committed(app, work)

    results = together(log_and_upload)
    assert sorted(logged for logged, _ in results) == list(range(1, THREADS + 1))
    assert sorted(attachment for _, attachment in results) == list(range(1, THREADS + 1))
    with app.state.sessionmaker() as session:
        # One campaign entry for each logged segment, numbered 1, 2, ... as well.
        entries = session.scalars(select(CampaignEntry.entry_no).order_by(CampaignEntry.entry_no)).all()
    assert entries == list(range(1, THREADS + 1))
