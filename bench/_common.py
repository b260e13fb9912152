"""Helpers shared by the benchmarks in bench/: a throw-away migrated database, the real server in a
subprocess, a closed-loop HTTP load generator and the statistics the benchmarks report.

Not a benchmark itself; imported by the scripts next to it (`python bench/<script>.py`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rapport.db import make_engine

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict[str, Any]:
    """n, median and p95 of millisecond values, rounded."""
    if not values:
        return {"n": 0, "median": None, "p95": None}
    p95 = percentile(values, 95)
    return {"n": len(values), "median": round(statistics.median(values), 2), "p95": round(p95 or 0, 2)}


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in `tmp`, or `rapport_bench_<random>` on the local
    PostgreSQL server, dropped (WITH FORCE) afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"rapport_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_SERVER).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`rapport serve --no-worker` (or a bench app under uvicorn) on a free loopback port, in its own
    process group."""

    def __init__(
        self, url: str, data_dir: Path, *, workers: int = 1, log_path: Path | None = None, app: str | None = None
    ) -> None:
        """`app`: an ASGI app factory in bench/ ("module:function") to serve with uvicorn instead of Rapport."""
        self.app = app
        self.url = url
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or data_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    def __enter__(self) -> Server:
        served = ["--port", str(self.port), "--workers", str(self.workers)]
        if self.app is not None:
            app_dir = str(Path(__file__).parent)
            command = [sys.executable, "-m", "uvicorn", self.app, "--factory", "--app-dir", app_dir, *served,
                       "--no-access-log", "--log-level", "warning"]
        else:
            executable = Path(sys.executable).with_name("rapport")
            command = [str(executable)] if executable.exists() else [sys.executable, "-m", "rapport.cli"]
            command += ["serve", "--no-worker", *served]
        env = {**os.environ, "RAPPORT_DATABASE_URL": self.url, "RAPPORT_DATA_DIR": str(self.data_dir)}
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.base}/api/v1/health/live", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"server did not answer within 120 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        stop_group(self.process)
        if self._log is not None:
            self._log.close()

    def token(self, username: str, password: str) -> str:
        response = httpx.post(
            f"{self.base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def stop_group(process: subprocess.Popen[Any] | None, grace: float = 30) -> None:
    """SIGTERM to the process group of `process` (started with start_new_session), SIGKILL after `grace` s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def server_ms(headers: httpx.Headers | dict[str, str]) -> float | None:
    """The `app;dur=<ms>` of a Server-Timing header."""
    value = headers.get("server-timing", "")
    for part in value.split(";"):
        if part.startswith("dur="):
            return float(part[4:])
    return None


# --- closed-loop load ----------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What a closed-loop run measured inside its measurement window."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    unfinished: int = 0  # clients still waiting for an answer 10 s after the end (then abandoned)

    def as_dict(self, expected_status: int) -> dict[str, Any]:
        done = sum(self.statuses.values())
        ok = self.statuses.get(expected_status, 0)
        return {
            "requests": done,
            "errors": done - ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "unanswered_10s_after_end": self.unfinished,
            "requests_per_s": round(ok / self.seconds, 1),
            "latency_ms": {
                "p50": _round(percentile(self.latencies_ms, 50)),
                "p99": _round(percentile(self.latencies_ms, 99)),
            },
            "server_timing_ms": {
                "p50": _round(percentile(self.server_ms, 50)),
                "p99": _round(percentile(self.server_ms, 99)),
            },
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def http_request(method: str, path: str, port: int, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _client(
    port: int, make: Callable[[], bytes], start: float, end: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            sent = time.perf_counter()
            if sent >= end:
                return
            writer.write(make())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = 0
            timing: float | None = None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "server-timing":
                    timing = server_ms({"server-timing": value.strip()})
                elif name == "transfer-encoding":
                    raise RuntimeError("chunked responses are not supported by this load generator")
            if length:
                await reader.readexactly(length)
            done = time.perf_counter()
            if sent >= start and done <= end:
                result.latencies_ms.append((done - sent) * 1000)
                if timing is not None:
                    result.server_ms.append(timing)
                result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


def closed_loop(port: int, make: Callable[[], bytes], *, clients: int, warmup: float, seconds: float) -> LoadResult:
    """`clients` keep-alive connections each sending `make()` back to back; only requests sent after
    the warm-up and answered before the end count. A small raw-socket client (not httpx) so the load
    generator, which shares the machine, takes as little CPU from the server as possible."""
    result = LoadResult(seconds=seconds)

    async def main() -> None:
        start = time.perf_counter() + warmup
        end = start + seconds
        tasks = [asyncio.create_task(_client(port, make, start, end, result)) for _ in range(clients)]
        result.unfinished = await finish_within(tasks, warmup + seconds + 10)

    run_loop(main)
    return result


async def finish_within(tasks: list[asyncio.Task[None]], timeout: float) -> int:
    """Wait for the clients' tasks up to `timeout`, cancel the rest; how many did not finish."""
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()
    return len(pending)


def run_loop(main: Callable[[], Any]) -> None:
    """Run the load generator's coroutine, on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


# --- a counting SMTP sink and process CPU --------------------------------------------------------


class CountingSink:
    """An aiosmtpd handler that accepts every message and only counts messages and bytes."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.content or b"")
        return "250 Message accepted for delivery"


@contextmanager
def smtp_sink(port: int | None = None) -> Iterator[tuple[CountingSink, int]]:
    """A CountingSink served on loopback by an aiosmtpd Controller (a thread of this process): the
    handler and its port."""
    from aiosmtpd.controller import Controller

    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port(), server_hostname="sink.local")
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (those still alive), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def process_group(pgid: int) -> list[int]:
    """The ids of the live processes in process group `pgid` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # the field after state and ppid
            pids.append(int(entry.name))
    return pids
