"""Faults (quality.md, Reliability): the server killed in the middle of logging a big segment, PostgreSQL
going away and coming back under a running server, and two clients changing the same records at once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

import rapport.models  # noqa: F401  (registers every table)
from rapport import accounts
from rapport.core.interactions.models import InteractionComment, InteractionLogEntry
from rapport.core.segments.models import IdempotencyRecord, LoggedSegment, SegmentHeader, SegmentLine
from rapport.db import Base, make_engine, make_sessionmaker
from rapport.settings import Settings
from tests.conftest import PASSWORD, create_postgres_database, drop_postgres_database

API = "/api/v1"
SECRET = "test-secret-key-not-for-production"
BIG = 100_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL scenario")


# --- 1. SIGKILL in the middle of logging a big segment -------------------------------------------------------------


class Served:
    """`rapport serve --no-worker` in a process group of its own, on a free loopback port."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        executable = Path(sys.executable).with_name("rapport")
        command = [str(executable)] if executable.exists() else [sys.executable, "-m", "rapport.cli"]
        env = {
            **os.environ,
            "RAPPORT_DATABASE_URL": url,
            "RAPPORT_DATA_DIR": str(data_dir),
            "RAPPORT_SECRET_KEY": SECRET,
        }
        self.log_path = data_dir / f"serve-{self.port}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "serve", "--no-worker", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"rapport serve exited: {self.log_path.read_text()}"
            assert time.monotonic() < deadline, f"rapport serve did not start: {self.log_path.read_text()}"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}{API}/health/live", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        self.process.wait(30)


@pytest.fixture
def served_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that does not exist yet (SQLite) or is empty (PostgreSQL): `rapport serve` migrates it."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'served.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url = create_postgres_database(server, prefix="rapport_fault")
    yield url
    drop_postgres_database(server, url)


@pytest.fixture
def servers(served_url: str, data_dir: Path) -> Iterator[Callable[[], Served]]:
    """Starts servers on the database; whatever is still running at the end is stopped."""
    started: list[Served] = []

    def start() -> Served:
        started.append(Served(served_url, data_dir))
        return started[-1]

    yield start
    for server in started:
        server.kill(signal.SIGTERM)


def _sequence(dialect: str) -> str:
    """A CTE g(n) of the numbers 1 .. :count."""
    if dialect == "postgresql":
        return "g(n) AS (SELECT generate_series(1, :count))"
    return "RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count)"


def _copies(engine: Engine, table: str, where: str, replaced: dict[str, str], count: int) -> None:
    """`count` copies of the one row of `table` matching `where`, with some columns computed from n."""
    columns = [c.name for c in Base.metadata.tables[table].columns]
    values = ", ".join(replaced.get(c, f"t.{c}") for c in columns)
    sql = (
        f"WITH {_sequence(engine.dialect.name)} "
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} t CROSS JOIN g WHERE {where}"
    )
    with engine.begin() as conn:
        conn.execute(text(sql), {"count": count})


def _pad(engine: Engine, expr: str) -> str:
    if engine.dialect.name == "postgresql":
        return f"lpad(CAST({expr} AS TEXT), 7, '0')"
    return f"printf('%07d', {expr})"


def _big_segment(base: str, engine: Engine) -> dict[str, str]:
    """A user, master data and segment BIG with BIG lines (one made through the API, the rest copied in SQL)."""
    with make_sessionmaker(engine)() as session:
        accounts.create_user(session, accounts.UserCreate(username="faults", role="admin", password=PASSWORD))
        session.commit()
    token = httpx.post(f"{base}{API}/auth/token", data={"username": "faults", "password": PASSWORD}, timeout=30)
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=base + API, headers=headers, timeout=30) as api:
        for path, body in (
            ("/salespeople", {"code": "SP", "name": "Sam Seller"}),
            ("/interaction-groups", {"code": "MAIL", "description": "Mailings"}),
            ("/interaction-templates", {"code": "LETTER", "interaction_group_code": "MAIL", "description": "Letter"}),
            ("/contacts", {"no": "CT0000000", "name": "Contact", "salesperson_code": "SP"}),
            ("/segments", {"no": "BIG", "description": "Big mailing", "interaction_template_code": "LETTER"}),
            ("/segments/BIG/add-contacts", {"criteria": {"contact": {"no": "CT0000000"}}}),
        ):
            response = api.post(path, json=body)
            assert response.status_code in (200, 201), f"{path}: {response.text}"
    number = f"'CT' || {_pad(engine, 'g.n')}"
    _copies(engine, "contact", "t.no = 'CT0000000'", {"no": number, "search_name": number}, BIG - 1)
    _copies(
        engine,
        "segment_line",
        "t.segment_no = 'BIG' AND t.line_no = 10000",
        {"contact_no": number, "line_no": "(g.n + 1) * 10000"},
        BIG - 1,
    )
    return headers


def _state(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:

        def count(model: Any, *where: Any) -> int:
            return int(conn.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "logged_segments": count(LoggedSegment),
            "interactions": count(InteractionLogEntry),
            "idempotency_records": count(IdempotencyRecord),
            "segments": count(SegmentHeader, SegmentHeader.no == "BIG"),
            "lines": count(SegmentLine, SegmentLine.segment_no == "BIG"),
        }


def _wait_inside_the_log(engine: Engine, path: str, sent: threading.Event, done: threading.Event) -> None:
    """Return once the log request is inside its transaction (or fail if it finished first)."""
    assert sent.wait(30)
    deadline = time.monotonic() + 30
    if engine.dialect.name == "postgresql":
        database = engine.url.database
        with engine.connect() as conn:
            while time.monotonic() < deadline and not done.is_set():
                busy = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND state = 'active' "
                        "AND query ILIKE 'INSERT INTO interaction_log_entry%'"
                    ),
                    {"db": database},
                )
                conn.rollback()
                if busy:
                    return
                time.sleep(0.01)
    else:
        # The request holds SQLite's write lock from its first statement to its commit.
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            while time.monotonic() < deadline and not done.is_set():
                try:
                    probe.execute("BEGIN IMMEDIATE")
                    probe.execute("ROLLBACK")
                except sqlite3.OperationalError as exc:
                    assert "locked" in str(exc) or "busy" in str(exc), exc
                    time.sleep(0.3)  # past the checks, into the INSERT ... SELECT of the interactions
                    return
                time.sleep(0.005)
        finally:
            probe.close()
    raise AssertionError("the log request finished (or never started) before the server could be killed")


def _end_orphans(engine: Engine) -> None:
    """On PostgreSQL, end the killed server's sessions and wait until they are gone.

    Left alone, the one inside the INSERT runs its statement to the end, finds its client gone and
    exits, rolling back (no COMMIT can come any more); terminating it is the same rollback, sooner."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while True:
            others = conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": engine.url.database},
            )
            conn.rollback()
            if not others:
                return
            assert time.monotonic() < deadline, "the killed server's database sessions do not end"
            time.sleep(0.1)


def test_killing_the_server_while_it_logs_a_big_segment_leaves_nothing_half_logged_and_the_retry_logs_once(
    servers: Callable[[], Served], served_url: str
) -> None:
    first = servers()
    engine = make_engine(served_url)
    try:
        headers = _big_segment(first.base, engine)
        assert _state(engine) == {
            "logged_segments": 0,
            "interactions": 0,
            "idempotency_records": 0,
            "segments": 1,
            "lines": BIG,
        }
        request_headers = {**headers, "Idempotency-Key": "log-big-once"}
        sent, done = threading.Event(), threading.Event()
        outcome: list[Any] = []

        def log_it() -> None:
            try:
                sent.set()
                outcome.append(
                    httpx.post(f"{first.base}{API}/segments/BIG/log", json={}, headers=request_headers, timeout=120)
                )
            except httpx.TransportError as exc:
                outcome.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=log_it)
        thread.start()
        _wait_inside_the_log(engine, make_url(served_url).database or "", sent, done)
        first.kill()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError), f"answered: {outcome}"

        _end_orphans(engine)
        assert _state(engine) == {
            "logged_segments": 0,
            "interactions": 0,
            "idempotency_records": 0,
            "segments": 1,
            "lines": BIG,
        }

        second = servers()
        with httpx.Client(base_url=second.base + API, headers=request_headers, timeout=120) as api:
            retried = api.post("/segments/BIG/log", json={})
            assert retried.status_code == 200, retried.text
            body = retried.json()
            assert body["no_of_interactions"] == BIG
            # Its own number: PostgreSQL's sequence does not hand back the one the killed transaction took.
            assert body["logged_segment_entry_no"] >= 1
            repeated = api.post("/segments/BIG/log", json={})
            assert (repeated.status_code, repeated.json()) == (200, body)
            logged = api.get(f"/logged-segments/{body['logged_segment_entry_no']}").json()
            assert (logged["segment_no"], logged["no_of_interactions"]) == ("BIG", BIG)
        assert _state(engine) == {
            "logged_segments": 1,
            "interactions": BIG,
            "idempotency_records": 1,
            "segments": 0,
            "lines": 0,
        }
        with engine.connect() as conn:
            distinct = conn.scalar(select(func.count(func.distinct(InteractionLogEntry.contact_no))))
        assert distinct == BIG
    finally:
        engine.dispose()


# --- 2. PostgreSQL going away and coming back -----------------------------------------------------------------------


class Proxy:
    """A TCP proxy in front of PostgreSQL that can be cut (listener and every connection closed), made to
    stall (accept and hold connections without passing a byte) and restored, on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.stalled = False
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                self._sockets.add(client)
            if self.stalled:
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.add(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                while self.stalled:
                    time.sleep(0.01)
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """PostgreSQL is gone: connections are reset and new ones refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accepting is not None:
            self._accepting.join(5)
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def proxy(backend: str, db_engine: Engine) -> Iterator[Proxy]:
    _postgres_only(backend)
    url = db_engine.url
    p = Proxy((url.host or "127.0.0.1", url.port or 5432))
    p.start()
    yield p
    p.stalled = False
    p.cut()


@pytest.fixture
def proxied_client(proxy: Proxy, db_engine: Engine, data_dir: Path) -> Iterator[Any]:
    """The application on a database reached through the proxy, with an admin signed in."""
    from fastapi.testclient import TestClient

    from rapport.app import create_app

    url = db_engine.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(Settings(data_dir=data_dir, database_url=url, secret_key=SECRET))
    with app.state.sessionmaker() as session:
        accounts.create_user(session, accounts.UserCreate(username="ops", role="admin", password=PASSWORD))
        session.commit()
    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.post(f"{API}/auth/token", data={"username": "ops", "password": PASSWORD})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client
    app.state.engine.dispose()


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "unavailable" and error["message"], error
    assert response.headers.get("retry-after") == "5"
    assert seconds < 10, f"answered after {seconds:.1f} s"


def test_requests_answer_503_while_postgresql_is_unreachable_and_succeed_again_once_it_is_back(
    proxy: Proxy, proxied_client: Any
) -> None:
    client = proxied_client
    for i in range(3):  # a few pooled connections through the proxy
        response = client.post(f"{API}/salespeople", json={"code": f"SP{i}", "name": f"Seller {i}"})
        assert response.status_code == 201, response.text
    assert client.get(f"{API}/health/ready").status_code == 200

    # A request is waiting for PostgreSQL when the connection is cut under it.
    proxy.stalled = True
    in_flight: list[tuple[httpx.Response, float]] = []
    thread = threading.Thread(target=lambda: in_flight.append(_timed(lambda: client.get(f"{API}/salespeople"))))
    thread.start()
    time.sleep(0.5)
    proxy.cut()
    proxy.stalled = False
    thread.join(30)
    assert not thread.is_alive(), "the request hangs after the database went away"
    _assert_unavailable(*in_flight[0])

    # While it is gone: reads, writes and readiness answer 503 at once; liveness does not need it.
    for method, path, body in (
        ("GET", "/salespeople", None),
        ("GET", "/salespeople/SP0", None),
        ("POST", "/salespeople", {"code": "SPX", "name": "Lost"}),
        ("POST", "/contacts", {"no": "CX", "name": "Lost"}),
        ("GET", "/health/ready", None),
        ("GET", "/health", None),
    ):
        _assert_unavailable(*_timed(lambda m=method, p=path, b=body: client.request(m, API + p, json=b)))
    live, seconds = _timed(lambda: client.get(f"{API}/health/live"))
    assert (live.status_code, live.json()) == (200, {"status": "ok"}) and seconds < 2

    # A server that accepts connections but never answers (a hung host): the connect times out.
    proxy.stalled = True
    proxy.start()
    _assert_unavailable(*_timed(lambda: client.get(f"{API}/salespeople")))
    proxy.cut()
    proxy.stalled = False

    # Back again: the same application, not restarted, serves every request.
    proxy.start()
    ready = client.get(f"{API}/health/ready")
    assert (ready.status_code, ready.json()["status"]) == (200, "ok"), ready.text
    created = client.post(f"{API}/salespeople", json={"code": "SPY", "name": "Back"})
    assert created.status_code == 201, created.text
    listed = client.get(f"{API}/salespeople")
    assert listed.status_code == 200
    assert [s["code"] for s in listed.json()["items"]] == ["SP0", "SP1", "SP2", "SPY"]



def test_after_postgresql_restarted_an_idle_pooled_connection_is_replaced_before_a_request_uses_it(
    proxy: Proxy, proxied_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rapport.db

    client = proxied_client
    for i in range(3):  # pooled connections through the proxy
        assert client.post(f"{API}/salespeople", json={"code": f"SP{i}", "name": f"Seller {i}"}).status_code == 201
    # The server restarts while the connections sit in the pool: every one of them is dead.
    proxy.cut()
    proxy.start()
    monkeypatch.setattr(rapport.db, "PING_AFTER_IDLE_SECONDS", 0)  # every pooled connection counts as idle
    for path in ("/salespeople", "/salespeople/SP0", "/health/ready"):
        response = client.get(API + path)
        assert response.status_code == 200, response.text


# --- 3. Two clients changing the same records at the same moment ---------------------------------------------------
# (Two clients logging the same segment: tests/core/test_segment_concurrency.py.)

ROUNDS = 3


@pytest.fixture
def live(app: Any, admin: dict[str, str]) -> Iterator[Callable[[], httpx.Client]]:
    """The application served by uvicorn on a free port; makes signed-in clients of its own."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.02)
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        clients.append(httpx.Client(base_url=f"http://127.0.0.1:{port}{API}", headers=admin, timeout=60))
        clients[-1].get("/health")  # connected before the race starts
        return clients[-1]

    yield make
    for c in clients:
        c.close()
    server.should_exit = True
    thread.join(timeout=10)


def race(live: Callable[[], httpx.Client], *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    """Send the requests from clients of their own, released together; their responses in order."""
    clients = [live() for _ in requests]
    barrier = threading.Barrier(len(requests), timeout=30)
    responses: list[Any] = [None] * len(requests)

    def run(i: int) -> None:
        method, path, body = requests[i]
        barrier.wait()
        responses[i] = clients[i].request(method, path, json=body)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a request hangs"
    for response in responses:
        assert response is not None and response.status_code < 500, response and response.text
    return responses


@pytest.fixture
def entries(client: Any, admin: dict[str, str]) -> Callable[..., list[int]]:
    """Master data, and a function making interaction log entries of fresh contacts."""

    def call(method: str, path: str, body: Any = None) -> Any:
        response = client.request(method, API + path, json=body, headers=admin)
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        return response.json()

    call("POST", "/salespeople", {"code": "SP", "name": "Sam Seller"})
    call("POST", "/interaction-groups", {"code": "MAIL", "description": "Mailings"})
    call("POST", "/interaction-templates", {"code": "CALL", "interaction_group_code": "MAIL", "description": "Call"})
    made = iter(range(1, 10_000))

    def make(count: int, **body: Any) -> list[int]:
        nos = []
        for _ in range(count):
            no = f"K{next(made)}"
            call("POST", "/contacts", {"no": no, "name": f"Contact {no}", "salesperson_code": "SP"})
            nos.append(
                call("POST", "/interactions", {"contact_no": no, "interaction_template_code": "CALL", **body})[
                    "entry_no"
                ]
            )
        return nos

    make.call = call  # type: ignore[attr-defined]
    return make


def _entry_values(db_engine: Engine, column: str, nos: list[int]) -> list[Any]:
    with db_engine.connect() as conn:
        return list(
            conn.scalars(
                select(getattr(InteractionLogEntry, column))
                .where(InteractionLogEntry.entry_no.in_(nos))
                .order_by(InteractionLogEntry.entry_no)
            )
        )


def test_canceling_and_uncanceling_the_same_entries_at_once_leaves_them_all_one_way(entries, live, db_engine):
    nos = entries(16)
    for _ in range(ROUNDS):
        entries.call("POST", "/interactions/uncancel", {"entry_nos": nos})
        entries.call("POST", "/interactions/cancel", {"entry_nos": nos[::2]})
        responses = race(
            live,
            ("POST", "/interactions/cancel", {"entry_nos": nos}),
            ("POST", "/interactions/uncancel", {"entry_nos": nos}),
        )
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        states = _entry_values(db_engine, "canceled", nos)
        assert states in ([True] * len(nos), [False] * len(nos)), states
    assert _entry_values(db_engine, "entry_no", nos) == nos


def test_evaluating_the_same_entries_at_once_gives_them_all_one_evaluation(entries, live, db_engine):
    nos = entries(16)
    for _ in range(ROUNDS):
        entries.call("POST", "/interactions/evaluate", {"entry_nos": nos, "evaluation": "positive"})
        entries.call("POST", "/interactions/evaluate", {"entry_nos": nos[::2], "evaluation": "negative"})
        responses = race(
            live,
            ("POST", "/interactions/evaluate", {"entry_nos": nos, "evaluation": "negative"}),
            ("POST", "/interactions/evaluate", {"entry_nos": nos, "evaluation": "positive"}),
        )
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        evaluations = _entry_values(db_engine, "evaluation", nos)
        assert evaluations in (["negative"] * len(nos), ["positive"] * len(nos)), evaluations


def test_uncanceling_entries_while_their_logged_segment_is_canceled_never_leaves_them_uncanceled(
    entries, live, db_engine
):
    nos = entries(8)
    contacts = "|".join(f"K{i}" for i in range(1, 9))
    entries.call("POST", "/segments", {"no": "S1", "description": "Race", "interaction_template_code": "CALL"})
    entries.call("POST", "/segments/S1/add-contacts", {"criteria": {"contact": {"no": contacts}}})
    logged = entries.call("POST", "/segments/S1/log", {})["logged_segment_entry_no"]
    logged_nos = [
        e["entry_no"] for e in entries.call("GET", f"/interactions?logged_segment_entry_no={logged}")["items"]
    ]
    assert len(logged_nos) == 8 and not set(logged_nos) & set(nos)
    for _ in range(ROUNDS):
        entries.call("POST", f"/logged-segments/{logged}/uncancel")
        entries.call("POST", "/interactions/cancel", {"entry_nos": logged_nos})
        cancel, uncancel = race(
            live,
            ("POST", f"/logged-segments/{logged}/cancel", None),
            ("POST", "/interactions/uncancel", {"entry_nos": logged_nos}),
        )
        assert cancel.status_code == 200, cancel.text
        assert uncancel.status_code in (200, 409), uncancel.text
        if uncancel.status_code == 409:
            assert uncancel.json()["error"]["code"] == "conflict"
        # The logged segment is canceled, so every one of its entries is too, whoever came first.
        assert _entry_values(db_engine, "canceled", logged_nos) == [True] * 8


def test_resuming_the_same_postponed_interaction_twice_at_once_resumes_it_once(entries, live, db_engine):
    for comments in ([], [{"comment": "Call back after lunch"}]):
        (no,) = entries(1, postpone=True, comments=comments)
        with db_engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(InteractionLogEntry))
        responses = race(
            live,
            ("POST", f"/interactions/{no}/resume", {"description": "First"}),
            ("POST", f"/interactions/{no}/resume", {"description": "Second"}),
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["error"]["code"] == "conflict"
        assert (winner["entry_no"], winner["postponed"]) == (no, False)
        with db_engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(InteractionLogEntry)) == total
            entry = conn.execute(select(InteractionLogEntry).where(InteractionLogEntry.entry_no == no)).one()
            kept = conn.scalar(
                select(func.count()).select_from(InteractionComment).where(InteractionComment.entry_no == no)
            )
        assert (entry.postponed, entry.description) == (False, winner["description"])
        assert kept == len(comments)
