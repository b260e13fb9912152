"""Two requests log the same segment at the same moment: it is logged once (domain.md improvement 4).

PostgreSQL only: SQLite serialises writers on the whole file, so there is no race to lose there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.segments.logging import LogRequest, log_segment
from rapport.core.segments.models import LoggedSegment
from rapport.errors import Conflict
from tests.api.test_segments_api import add, api_caller, build_crm, build_once, segment

API = "/api/v1"


@pytest.fixture(autouse=True)
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("concurrent logging is a PostgreSQL scenario")


@pytest.fixture
def crm(client, admin, db_engine):
    call = api_caller(client, admin)
    build_once(db_engine, "crm", lambda: build_crm(call))
    return call


@pytest.fixture
def ready(crm):
    """A segment with five lines, ready to be logged."""
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "C1|P11|P12|C2|P21"}})
    return no


def race(work: Callable[[], Any]) -> list[Any]:
    """Run `work` in two threads released together; returns their results (or exceptions)."""
    barrier = threading.Barrier(2, timeout=30)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:  # the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a logging thread hangs"
    return results


def logged_totals(app) -> tuple[int, int]:
    with app.state.sessionmaker() as session:
        segments = session.scalar(select(func.count()).select_from(LoggedSegment))
        entries = session.scalar(select(func.count()).select_from(InteractionLogEntry))
    return int(segments or 0), int(entries or 0)


def test_two_sessions_logging_the_same_segment_log_it_once(app, ready):
    def work() -> dict[str, Any]:
        with app.state.sessionmaker() as session:
            result = log_segment(session, ready, LogRequest(), user_id="admin-user")
            session.commit()
            return result

    results = race(work)
    successes = [r for r in results if isinstance(r, dict)]
    failures = [r for r in results if not isinstance(r, dict)]
    assert len(successes) == 1, results
    assert len(failures) == 1 and isinstance(failures[0], Conflict), results
    assert successes[0]["no_of_interactions"] == 5
    assert logged_totals(app) == (1, 5)


def test_two_requests_logging_the_same_segment_log_it_once(app, client, admin, ready):
    keys = iter(["first", "second"])
    lock = threading.Lock()

    def work():
        with lock:
            key = next(keys)
        return client.post(f"{API}/segments/{ready}/log", json={}, headers={**admin, "Idempotency-Key": key})

    responses = race(work)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.json()["error"]["code"] == "conflict"
    assert logged_totals(app) == (1, 5)


def test_two_requests_with_the_same_idempotency_key_log_once(app, client, admin, ready):
    def work():
        return client.post(f"{API}/segments/{ready}/log", json={}, headers={**admin, "Idempotency-Key": "same"})

    responses = race(work)
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) >= 1, [r.text for r in responses]
    for response in responses:
        # the other one either waited and got the first answer replayed, or was told it conflicts
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            assert response.json() == winners[0].json()
    assert logged_totals(app) == (1, 5)
    replay = client.post(f"{API}/segments/{ready}/log", json={}, headers={**admin, "Idempotency-Key": "same"})
    assert (replay.status_code, replay.json()) == (200, winners[0].json())
