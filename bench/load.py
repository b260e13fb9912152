"""Benchmark: the JSON API under concurrent load (a realistic mix of reads and writes, with e-mail delivery
running beside it), against the same server's hello-world throughput.

    python bench/load.py [--database postgresql|sqlite] [--clients 50,100] [--duration 20] [--workers 2]
                         [--runs 3] [--client raw|httpx] [--contacts 20000] [--interactions 5000] [--no-deliver]

(run it with the project's virtualenv: `.venv/bin/python bench/load.py --database postgresql`)

1. Builds a database with the migrations (`rapport_bench_<random>` on the local PostgreSQL server, dropped at
   the end, or a SQLite file in a temp dir) and seeds it set-based with bench/interactions.py's loader: an admin
   user, `--contacts` contacts (one company in five, then its persons, all with e-mail addresses), 20 templates
   in 5 groups, 10 salespeople and `--interactions` log entries over three years.
2. Starts `rapport serve --workers N --no-worker` and a counting SMTP sink (aiosmtpd, its own process); through
   the API it signs in and makes a Segment Nos. series and an e-mail template with an HTML body. One
   `rapport worker` process sends to the sink during the mix phases (stopped, gracefully, for the hello and
   create phases, so that those two compare the same server under the same conditions); --no-deliver: no
   sink, no worker, segments and e-mail interactions logged without delivery.
3. For each client count C in `--clients`, `--runs` times, three closed-loop phases of `--duration` seconds
   after a 3 s warm-up, each client one keep-alive connection sending its next request as soon as the
   previous one is answered, and none after the end. The requests sent inside the window count, with their
   whole latency even when answered after the end (clients still waiting 30 s after it are reported as
   unanswered), so that requests stuck longer than the window cannot drop out of the percentiles:
     hello    GET /api/v1/health/live, the baseline: the same server, clients and client code, no work;
     create   POST /api/v1/interactions only (a random contact with a salesperson, a random call/letter template);
     mix      each client picks, by weight: list_interactions 35 (GET /interactions, first page of 50, by
              contact, by template since a date, by salesperson, or unfiltered), list_contacts 35 (GET /contacts
              with filter[city]+filter[type], filter[salesperson_code], or the q search), create_interaction 20,
              create_email 5 (POST /interactions with the e-mail template, whose HTML body becomes the entry's
              attachment, and "deliver": true), and segment 5: POST /segments, POST add-contacts by criteria
              (100 contact numbers, persons: 80 lines), POST log with delivery (an Idempotency-Key) — three
              requests, reported separately.
   The client (`--client raw`, the default) is a minimal asyncio HTTP/1.1 client on raw sockets (as in
   bench/_common.py) so that the load generator, which shares the machine, takes as little CPU as possible;
   `--client httpx` uses one httpx.AsyncClient per client instead. Any status other than the operation's
   expected one (200, or 201 for creations) is an error: counted, and the first bodies kept in the output.
4. After the last phase, runs the worker until the outbox is empty (at most `--drain-timeout` s), then checks
   that the sink received exactly as many messages as the outbox marked sent.

Prints one JSON object on stdout: per client count, per phase and operation: requests, req/s, p50/p99 latency
(ms, client side) and the server's own p50/p99 (Server-Timing), errors with their statuses, the CPU seconds the
server processes, the delivery worker and this load generator used, on PostgreSQL the database sessions
(connections) opened during the phase; create/hello (target >= 0.5) and whether the create p99 is < 50 ms at
100 clients (quality.md); medians over the runs with the single runs; the integrity errors (answered 409) the
server logged, by constraint; the delivery check; load averages. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Server,
    finish_within,
    free_port,
    fresh_database,
    http_request,
    load_average,
    log,
    percentile,
    process_cpu_seconds,
    process_group,
    run_loop,
    server_ms,
    smtp_sink,
    stop_group,
)
from interactions import ADMIN, CITIES, CREATE_TEMPLATES, PASSWORD, TEMPLATES, build, salesperson_of

from rapport.core import deliveries
from rapport.db import make_engine, make_sessionmaker

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
WARMUP = 3.0
MIX = {"list_interactions": 35, "list_contacts": 35, "create_interaction": 20, "create_email": 5, "segment": 5}
EXPECTED = {"hello": 200, "list_interactions": 200, "list_contacts": 200, "create_interaction": 201,
            "create_email": 201, "create_segment": 201, "add_contacts": 200, "log_segment": 200}
SEGMENT_CONTACTS = 100  # contact numbers per segment criteria: 80 persons
BODY_HTML = (
    "<html><body><h1>{{Interaction_Subject}}</h1><p>Dear {{Contact_Name}},</p>"
    "<p>thank you for working with us at {{Contact_Company_Name}} in {{Contact_City}}.</p>"
    "<p>Kind regards,<br>{{Salesperson_Name}}</p></body></html>"
)


# --- the clients ---------------------------------------------------------------------------------


class RawClient:
    """One keep-alive HTTP/1.1 connection on raw sockets (Content-Length responses only)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float | None]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        extra = dict(self.headers, **(headers or {}))
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            extra["Content-Type"] = "application/json"
        try:
            self.writer.write(http_request(method, path, self.port, extra, data))
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, timing, close = 0, None, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "content-length":
                    length = int(value)
                elif name == "server-timing":
                    timing = server_ms({"server-timing": value})
                elif name == "connection" and value.lower() == "close":
                    close = True
                elif name == "transfer-encoding":
                    raise RuntimeError("chunked responses are not supported by this client")
            content = await self.reader.readexactly(length) if length else b""
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            return 0, repr(exc).encode(), None
        if close:
            await self.close()
        return status, content, timing

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class HttpxClient:
    """One httpx.AsyncClient with a single keep-alive connection."""

    def __init__(self, port: int, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=120,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float | None]:
        try:
            response = await self.client.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            return 0, repr(exc).encode(), None
        return response.status_code, response.content, server_ms(response.headers)

    async def close(self) -> None:
        await self.client.aclose()


Client = RawClient | HttpxClient


# --- what one phase measured ---------------------------------------------------------------------


@dataclass
class OpStats:
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def as_dict(self, expected: int, seconds: float) -> dict[str, Any]:
        done = sum(self.statuses.values())
        ok = self.statuses.get(expected, 0)
        return {
            "requests": done, "errors": done - ok, "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "requests_per_s": round(ok / seconds, 1),
            "latency_ms": {"p50": _r(percentile(self.latencies_ms, 50)), "p99": _r(percentile(self.latencies_ms, 99))},
            "server_ms": {"p50": _r(percentile(self.server_ms, 50)), "p99": _r(percentile(self.server_ms, 99))},
            **({"error_samples": self.error_samples} if self.error_samples else {}),
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class Phase:
    """The measurement window of one phase and what was recorded inside it."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.ops: dict[str, OpStats] = {}
        self.unfinished = 0

    async def call(self, client: Client, op: str, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        sent = time.perf_counter()
        status, content, timing = await client.request(method, path, body, headers)
        done = time.perf_counter()
        if self.start <= sent < self.end:
            stats = self.ops.setdefault(op, OpStats())
            stats.latencies_ms.append((done - sent) * 1000)
            if timing is not None:
                stats.server_ms.append(timing)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if status != EXPECTED[op] and len(stats.error_samples) < 5:
                stats.error_samples.append(f"{status}: {content[:300].decode(errors='replace')}")
        return status, content


# --- the operations ------------------------------------------------------------------------------


class Workload:
    """The requests of the phases, with the seeded data's numbers, codes and dates."""

    def __init__(self, contacts: int, deliver: bool) -> None:
        self.contacts = contacts
        self.deliver = deliver
        self.with_salesperson = [i for i in range(1, contacts + 1) if salesperson_of(i)]
        self.since = (dt.date.today() - dt.timedelta(days=180)).isoformat()

    async def hello(self, phase: Phase, client: Client, rng: random.Random) -> None:
        await phase.call(client, "hello", "GET", "/api/v1/health/live")

    async def create_interaction(self, phase: Phase, client: Client, rng: random.Random) -> None:
        body = {"contact_no": f"CT{rng.choice(self.with_salesperson):07d}",
                "interaction_template_code": rng.choice(CREATE_TEMPLATES)}
        await phase.call(client, "create_interaction", "POST", "/api/v1/interactions", body)

    async def create_email(self, phase: Phase, client: Client, rng: random.Random) -> None:
        """Create Interaction with the e-mail template: its HTML body is copied as the entry's attachment
        and, with delivery, the e-mail is queued."""
        body = {"contact_no": f"CT{rng.choice(self.with_salesperson):07d}", "interaction_template_code": "LOADNEWS",
                "deliver": self.deliver}
        await phase.call(client, "create_email", "POST", "/api/v1/interactions", body)

    async def list_interactions(self, phase: Phase, client: Client, rng: random.Random) -> None:
        query = rng.choice([
            lambda: f"contact_no=CT{rng.randint(1, self.contacts):07d}",
            lambda: f"interaction_template_code={rng.choice(list(TEMPLATES))}&date_from={self.since}",
            lambda: f"salesperson_code=SP{rng.randint(1, 10):02d}",
            lambda: "",
        ])()
        await phase.call(client, "list_interactions", "GET", f"/api/v1/interactions?limit=50&{query}")

    async def list_contacts(self, phase: Phase, client: Client, rng: random.Random) -> None:
        query = rng.choice([
            lambda: f"filter[city]={rng.choice(CITIES)}&filter[type]=person",
            lambda: f"filter[salesperson_code]=SP{rng.randint(1, 10):02d}",
            lambda: f"q=Person%20{rng.randint(1, self.contacts)}",
        ])()
        await phase.call(client, "list_contacts", "GET", f"/api/v1/contacts?limit=50&{query}")

    async def segment(self, phase: Phase, client: Client, rng: random.Random) -> None:
        header = {"description": "Load test mailing", "interaction_template_code": "LOADNEWS",
                  "salesperson_code": f"SP{rng.randint(1, 10):02d}"}
        status, content = await phase.call(client, "create_segment", "POST", "/api/v1/segments", header)
        if status != 201:
            return
        no = json.loads(content)["no"]
        first = rng.randrange(1, self.contacts - SEGMENT_CONTACTS, 5)  # a company, then its persons
        criteria = {"contact": {"no": f"CT{first:07d}..CT{first + SEGMENT_CONTACTS - 1:07d}", "type": "person"}}
        status, _ = await phase.call(client, "add_contacts", "POST", f"/api/v1/segments/{no}/add-contacts",
                                     {"criteria": criteria})
        if status != 200:
            return
        await phase.call(client, "log_segment", "POST", f"/api/v1/segments/{no}/log", {"deliver": self.deliver},
                         {"Idempotency-Key": uuid.uuid4().hex})

    def mix(self) -> Callable[[Phase, Client, random.Random], Awaitable[None]]:
        ops = [getattr(self, name) for name in MIX]
        weights = list(MIX.values())

        async def one(phase: Phase, client: Client, rng: random.Random) -> None:
            await rng.choices(ops, weights)[0](phase, client, rng)

        return one


def closed_loop(make_client: Callable[[], Client], op: Callable[[Phase, Client, random.Random], Awaitable[None]],
                clients: int, seconds: float, seed: int) -> Phase:
    """`clients` concurrent clients running `op` back to back for the warm-up and `seconds`."""
    holder: list[Phase] = []

    async def main() -> None:
        phase = Phase(time.perf_counter() + WARMUP, time.perf_counter() + WARMUP + seconds)
        holder.append(phase)

        async def run(k: int) -> None:
            client, rng = make_client(), random.Random(seed * 1000 + k)
            try:
                while time.perf_counter() < phase.end:
                    await op(phase, client, rng)
            finally:
                await client.close()

        tasks = [asyncio.create_task(run(k)) for k in range(clients)]
        phase.unfinished = await finish_within(tasks, WARMUP + seconds + 30)

    run_loop(main)
    return holder[0]


# --- the processes around the server -------------------------------------------------------------


def sink_child(port: int) -> None:
    """`load.py --smtp-sink PORT`: serve a counting sink until SIGTERM, then print its counts as JSON."""
    stop = False

    def request_stop(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    with smtp_sink(port) as (sink, _port):
        print("ready", flush=True)
        while not stop:
            time.sleep(0.2)
        print(json.dumps({"messages": sink.messages, "bytes": sink.bytes}), flush=True)


class Delivery:
    """The SMTP sink, and one `rapport worker` process sending to it while started."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url, self.data_dir = url, data_dir
        self.port = free_port()
        self.sink: subprocess.Popen[str] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Delivery:
        self.sink = subprocess.Popen([sys.executable, __file__, "--smtp-sink", str(self.port)],
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.sink.stdout is not None
        if self.sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        return self

    def start_worker(self) -> int:
        """Start `rapport worker`; its process id."""
        executable = Path(sys.executable).with_name("rapport")
        env = {**os.environ, "RAPPORT_DATABASE_URL": self.url, "RAPPORT_DATA_DIR": str(self.data_dir),
               "RAPPORT_SMTP_HOST": "127.0.0.1", "RAPPORT_SMTP_PORT": str(self.port),
               "RAPPORT_MAIL_FROM": "news@rapport.example", "RAPPORT_WORKER_POLL_SECONDS": "0.5"}
        with (self.data_dir / "worker.log").open("a") as out:
            self.worker = subprocess.Popen([str(executable), "worker"], env=env, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        return self.worker.pid

    def outbox(self) -> dict[str, int]:
        engine = make_engine(self.url)
        try:
            with make_sessionmaker(engine)() as session:
                return deliveries.outbox_counts(session)
        finally:
            engine.dispose()

    def stop_worker(self) -> None:
        """SIGTERM: the worker finishes the batch it holds, then exits."""
        stop_group(self.worker)

    def stop_sink(self) -> dict[str, int]:
        if self.sink is None or self.sink.poll() is not None:
            return {}
        os.killpg(self.sink.pid, signal.SIGTERM)
        out, _ = self.sink.communicate(timeout=30)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def __exit__(self, *exc: object) -> None:
        self.stop_worker()
        if self.sink is not None and self.sink.poll() is None:
            os.killpg(self.sink.pid, signal.SIGKILL)
            self.sink.wait()


def setup(server: Server, token: str) -> None:
    """Segment Nos. and the e-mail template the segments are logged with."""
    with httpx.Client(base_url=f"{server.base}/api/v1", headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as api:

        def call(method: str, path: str, body: Any = None, **kwargs: Any) -> None:
            response = api.request(method, path, json=body, **kwargs)
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")

        call("POST", "/number-series", {"code": "SEG", "starting_no": "SEG000001"})
        call("PUT", "/setup/marketing", {"segment_nos": "SEG"})
        call("POST", "/languages", {"code": "ENU", "name": "English"})
        call("POST", "/interaction-templates", {
            "code": "LOADNEWS", "interaction_group_code": "EMAIL", "description": "Load test newsletter",
            "correspondence_type_default": "email", "ignore_contact_corres_type": True,
            "information_flow": "outbound", "initiated_by": "us",
        })
        call("POST", "/interaction-templates/LOADNEWS/languages", {"language_code": "ENU", "description": "News"})
        call("PATCH", "/interaction-templates/LOADNEWS", {"language_code_default": "ENU"})
        call("PUT", "/interaction-templates/LOADNEWS/languages/ENU/attachment",
             files={"file": ("news.html", BODY_HTML.encode())})


# --- measuring -----------------------------------------------------------------------------------


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(name: str, args: argparse.Namespace, server: Server, token: str, workload: Workload, clients: int,
              seed: int, delivery: Delivery | None) -> dict[str, Any]:
    op = {"hello": workload.hello, "create": workload.create_interaction, "mix": workload.mix()}[name]
    make_client: Callable[[], Client] = (
        (lambda: RawClient(server.port, token)) if args.client == "raw" else (lambda: HttpxClient(server.port, token))
    )
    assert server.process is not None
    server_pids = process_group(server.process.pid)
    worker_pid = None
    if delivery is not None and name == "mix":
        worker_pid = delivery.start_worker()
        time.sleep(3)  # its start-up (imports, connecting) is not part of the phase
    cpu = (process_cpu_seconds(server_pids), process_cpu_seconds([worker_pid] if worker_pid else []), own_cpu())
    load_before = load_average()
    sessions = db_sessions(args.url) if args.database == "postgresql" else None
    wall = time.perf_counter()
    phase = closed_loop(make_client, op, clients, args.duration, seed)
    wall = time.perf_counter() - wall
    if sessions is not None:
        time.sleep(1)  # the statistics reach pg_stat_database within a second
        sessions = db_sessions(args.url) - sessions
    used = (process_cpu_seconds(server_pids) - cpu[0],
            (process_cpu_seconds([worker_pid]) if worker_pid else 0.0) - cpu[1], own_cpu() - cpu[2])
    if worker_pid is not None and delivery is not None:
        delivery.stop_worker()
    ops = {k: phase.ops[k].as_dict(EXPECTED[k], args.duration) for k in EXPECTED if k in phase.ops}
    result = {
        "operations": ops,
        "requests_per_s": round(sum(o["requests"] for o in ops.values()) / args.duration, 1),
        "errors": sum(o["errors"] for o in ops.values()),
        "unanswered_30s_after_end": phase.unfinished,
        # CPU seconds per wall second (1.0 = one core busy) over the phase with its warm-up
        "cpu_cores": {"server": round(used[0] / wall, 2), "delivery_worker": round(used[1] / wall, 2),
                      "load_generator": round(used[2] / wall, 2)},
        **({"db_sessions_opened": sessions} if sessions is not None else {}),
        "load_average_before": load_before,
    }
    summary = ", ".join(f"{k} {o['requests_per_s']}/s p99 {o['latency_ms']['p99']} ms"
                        + (f" ERRORS {o['statuses']}" if o["errors"] else "") for k, o in ops.items())
    log(f"  C={clients} {name:6}: {summary}; cpu {result['cpu_cores']}")
    return result


def db_sessions(url: str) -> int:
    """How many sessions (connections) the PostgreSQL database has had so far (pg_stat_database, 14+)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(text(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")).scalar_one())
    finally:
        engine.dispose()


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per operation, the median of each figure over the runs (errors summed)."""
    out: dict[str, Any] = {}
    names = {k for r in runs for k in r["operations"]}
    for name in sorted(names, key=list(EXPECTED).index):
        ops = [r["operations"][name] for r in runs if name in r["operations"]]

        def med(get: Callable[[dict[str, Any]], Any], ops: list[dict[str, Any]] = ops) -> float | None:
            values = [v for v in (get(o) for o in ops) if v is not None]
            return round(statistics.median(values), 1) if values else None

        out[name] = {
            "requests_per_s": med(lambda o: o["requests_per_s"]),
            "latency_ms": {"p50": med(lambda o: o["latency_ms"]["p50"]), "p99": med(lambda o: o["latency_ms"]["p99"])},
            "server_ms": {"p50": med(lambda o: o["server_ms"]["p50"]), "p99": med(lambda o: o["server_ms"]["p99"])},
            "requests": sum(o["requests"] for o in ops),
            "errors": sum(o["errors"] for o in ops),
        }
    return out


def measure(args: argparse.Namespace, url: str, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operation": "api_under_load", "backend": args.database, "server_workers": args.workers,
        "client": args.client, "duration_s": args.duration, "runs": args.runs, "deliver": args.deliver,
        "mix_weights": MIX, "load_average_start": load_average(),
    }
    log(f"seeding {args.contacts} contacts and {args.interactions} interactions ({args.database})")
    result["seed"] = build(url, args.contacts, args.interactions)
    workload = Workload(args.contacts, args.deliver)
    with Server(url, tmp, workers=args.workers) as server, ExitStack() as stack:
        token = server.token(ADMIN, PASSWORD)
        setup(server, token)
        delivery = stack.enter_context(Delivery(url, tmp)) if args.deliver else None
        per_clients: dict[str, Any] = {}
        for clients in args.clients:
            runs: dict[str, list[dict[str, Any]]] = {"hello": [], "create": [], "mix": []}
            for run in range(args.runs):
                for name in runs:
                    seed = run * 10 + list(runs).index(name)
                    runs[name].append(run_phase(name, args, server, token, workload, clients, seed, delivery))
            med = {name: medians(phase_runs) for name, phase_runs in runs.items()}
            hello = med["hello"]["hello"]["requests_per_s"] or 0.0
            create = med["create"]["create_interaction"]
            ratio = create["requests_per_s"] / hello if hello else None
            per_clients[str(clients)] = {
                "median": med,
                "ratio_create_to_hello": None if ratio is None else round(ratio, 3),
                "ratio_target_met": ratio is not None and ratio >= TARGET_RATIO,
                "create_p99_ms": create["latency_ms"]["p99"],
                "create_p99_target_met": (create["latency_ms"]["p99"] or 1e9) < TARGET_P99_MS,
                "errors": sum(o["errors"] for m in med.values() for o in m.values()),
                "runs": runs,
                "load_average_after": load_average(),
            }
            log(f"C={clients}: create/hello {per_clients[str(clients)]['ratio_create_to_hello']}, "
                f"create p99 {create['latency_ms']['p99']} ms, errors {per_clients[str(clients)]['errors']}")
        result["results"] = per_clients
        if delivery is not None:
            result["delivery"] = drain(delivery, args.drain_timeout)
        result["server_log"] = server_log(server.log_path)
    result["load_average_end"] = load_average()
    return result


def server_log(path: Path) -> dict[str, Any]:
    """What the server logged about failures: integrity errors (answered 409) by constraint, and error lines."""
    integrity: dict[str, int] = {}
    errors = 0
    for line in path.read_text(errors="replace").splitlines():
        if "integrity error" in line:
            found = re.search(r'constraint "([^"]+)"', line)
            key = found.group(1) if found else line[-120:]
            integrity[key] = integrity.get(key, 0) + 1
        elif " ERROR " in line or '"level": "error"' in line:
            errors += 1
    return {"integrity_errors_by_constraint": integrity, "error_lines": errors}


def drain(delivery: Delivery, timeout: float) -> dict[str, Any]:
    """Run the worker until the outbox is empty; then the sink must hold exactly one message per sent row."""
    at_end = delivery.outbox()
    log(f"running the delivery worker until the outbox is empty: {at_end}")
    delivery.start_worker()
    started = time.perf_counter()
    counts = at_end
    while counts["pending"] + counts["sending"] and time.perf_counter() - started < timeout:
        time.sleep(2)
        counts = delivery.outbox()
    waited = time.perf_counter() - started
    delivery.stop_worker()
    counts = delivery.outbox()
    sink = delivery.stop_sink()
    report = {"outbox_at_end_of_load": at_end, "drain_seconds": round(waited, 1), "outbox": counts,
              "sink_messages": sink.get("messages"),
              "sent_exactly_once": sink.get("messages") == counts["sent"] and not counts["failed"]}
    log(f"delivery: {report}")
    return report


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--smtp-sink":
        sink_child(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", "--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")], default=[50, 100],
                        help="concurrent client counts, e.g. 50,100")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds of each phase")
    parser.add_argument("--workers", type=int, default=2, help="server processes (rapport serve --workers)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the three phases per client count")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=5_000)
    parser.add_argument("--no-deliver", dest="deliver", action="store_false",
                        help="log segments without delivery; no SMTP sink, no worker")
    parser.add_argument("--drain-timeout", type=float, default=300.0,
                        help="seconds to wait at the end for the worker to empty the outbox")
    args = parser.parse_args()
    if args.contacts < 2 * SEGMENT_CONTACTS:
        parser.error(f"--contacts must be at least {2 * SEGMENT_CONTACTS}")
    log(f"load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp, fresh_database(args.database, Path(tmp)) as url:
        args.url = url
        result = measure(args, url, Path(tmp))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
