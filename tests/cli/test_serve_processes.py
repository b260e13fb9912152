"""`rapport serve` as a newcomer runs it: several server processes, and its own delivery worker thread."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.test_delivery import BODY, Sink, _free_port

RAPPORT = str(Path(sys.executable).with_name("rapport"))


@pytest.fixture
def sink():
    from aiosmtpd.controller import Controller

    handler = Sink()
    handler.controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    handler.controller.start()
    yield handler
    handler.controller.stop()


def _serve(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    """Start `rapport serve` on a fresh SQLite database; return the process, its base URL and admin password."""
    port = _free_port()
    process = subprocess.Popen(
        [RAPPORT, "serve", "--port", str(port), *args],
        env={**os.environ, "RAPPORT_DATA_DIR": str(tmp_path / "data"), "RAPPORT_DATABASE_URL": "", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    password = ""
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while not password and time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"user admin with password (\S+)", line)
        if match:
            password = match.group(1)
    # Keep reading what the server prints (its access log): a pipe nobody reads fills up after some
    # 60 KB, and then the server blocks on its next log line and answers nothing more.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health/ready", timeout=2).status_code == 200:
                return process, base, password
        except httpx.TransportError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("rapport serve did not become ready within 60 s")


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_serve_with_two_processes_answers_from_both_and_keeps_one_database(tmp_path):
    process, base, password = _serve(tmp_path, "--workers", "2", "--no-worker", env={})
    try:
        assert password, "the first start prints the admin password"
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": password}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for i in range(20):
            response = httpx.post(
                f"{base}/api/v1/languages", json={"code": f"L{i}", "name": f"Language {i}"}, headers=headers
            )
            assert response.status_code == 201, response.text
        listed = httpx.get(f"{base}/api/v1/languages?limit=100", headers=headers).json()["items"]
        assert len([lang for lang in listed if lang["code"].startswith("L")]) == 20
        children = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 3, "a supervisor and two server processes"
    finally:
        _stop(process)


def test_serve_delivers_queued_email_with_its_own_worker_thread(tmp_path, sink):
    env = {
        "RAPPORT_SMTP_HOST": "127.0.0.1",
        "RAPPORT_SMTP_PORT": str(sink.controller.port),
        "RAPPORT_WORKER_POLL_SECONDS": "0.2",
    }
    process, base, password = _serve(tmp_path, env=env)
    try:
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": password}).json()
        api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token['access_token']}"})
        api.post("/salespeople", json={"code": "SP", "name": "Sam"}).raise_for_status()
        api.post("/languages", json={"code": "ENU", "name": "English"}).raise_for_status()
        api.post("/interaction-groups", json={"code": "MAIL", "description": "Mail"}).raise_for_status()
        api.post(
            "/interaction-templates",
            json={
                "code": "NEWS",
                "interaction_group_code": "MAIL",
                "description": "News",
                "correspondence_type_default": "email",
            },
        ).raise_for_status()
        api.post("/interaction-templates/NEWS/languages", json={"language_code": "ENU"}).raise_for_status()
        api.patch("/interaction-templates/NEWS", json={"language_code_default": "ENU"}).raise_for_status()
        api.put(
            "/interaction-templates/NEWS/languages/ENU/attachment", files={"file": ("body.html", BODY.encode())}
        ).raise_for_status()
        api.post(
            "/contacts", json={"no": "C1", "name": "Ada Lovelace", "email": "ada@example.com", "salesperson_code": "SP"}
        ).raise_for_status()
        entry = api.post(
            "/interactions", json={"contact_no": "C1", "interaction_template_code": "NEWS", "deliver": True}
        ).json()
        deadline = time.monotonic() + 20
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [str(m["To"]) for m in sink.messages] == ["ada@example.com"]
        while time.monotonic() < deadline:
            if api.get(f"/interactions/{entry['entry_no']}").json()["delivery_status"] == "sent":
                break
            time.sleep(0.1)
        assert api.get(f"/interactions/{entry['entry_no']}").json()["delivery_status"] == "sent"
    finally:
        _stop(process)


def test_a_hundred_clients_creating_interactions_at_once_are_all_answered(tmp_path):
    """More clients than the pool's connections and the server's worker threads, in a closed loop:
    a session that kept its connection while its response waited for a thread to be serialized once
    starved every thread waiting for a connection, and the server stopped answering."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from _common import closed_loop, http_request

    process, base, password = _serve(tmp_path, "--no-worker", env={})
    try:
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": password}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"}
        api = httpx.Client(base_url=f"{base}/api/v1", headers=headers)
        api.post("/salespeople", json={"code": "SP", "name": "Sam"}).raise_for_status()
        api.post("/interaction-groups", json={"code": "G", "description": "Calls"}).raise_for_status()
        api.post(
            "/interaction-templates", json={"code": "CALL", "interaction_group_code": "G", "description": "Call"}
        ).raise_for_status()
        api.post("/contacts", json={"no": "C1", "name": "Ada", "salesperson_code": "SP"}).raise_for_status()
        port = int(base.rsplit(":", 1)[1])
        request = http_request(
            "POST", "/api/v1/interactions", port, headers, b'{"contact_no": "C1", "interaction_template_code": "CALL"}'
        )
        # In a thread of its own: the browser tests' Playwright may run an event loop in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(closed_loop, port, lambda: request, clients=100, warmup=0.5, seconds=3).result()
        assert result.unfinished == 0, "every client got its answers"
        created = sum(n for status, n in result.statuses.items() if str(status) == "201")
        assert created and created >= 0.9 * sum(result.statuses.values()), result.statuses
        assert api.get("/health/ready").status_code == 200
    finally:
        _stop(process)
