"""The command line: db upgrade, users add, and serve on a fresh data directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rapport.cli import app


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_db_upgrade_creates_the_database(fresh_env):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (fresh_env / "rapport.db").exists()
    assert "up to date" in result.output


def test_users_add_creates_a_user_from_an_option_or_standard_input(fresh_env):
    run("db", "upgrade")
    assert run("users", "add", "alice", "--role", "marketing", "--password", "s3cret-pass").exit_code == 0
    assert run("users", "add", "bob", "--role", "viewer", "--password-stdin", stdin="another-pass\n").exit_code == 0
    listed = run("users", "list")
    assert "alice\tmarketing\tactive" in listed.output
    assert "bob\tviewer\tactive" in listed.output


@pytest.mark.parametrize("command", [("users", "add", "alice", "--role", "admin", "--password", "long-enough"),
                                     ("users", "list"), ("contacts", "export")])
def test_a_command_before_db_upgrade_says_to_run_it_instead_of_failing_on_a_missing_table(fresh_env, command):
    result = run(*command)
    assert result.exit_code == 1
    assert "rapport db upgrade" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    run("db", "upgrade")
    assert run(*command).exit_code == 0


def test_users_add_refuses_a_bad_role_a_short_password_and_a_taken_name(fresh_env):
    run("db", "upgrade")
    bad_role = run("users", "add", "carol", "--role", "boss", "--password", "long-enough")
    assert bad_role.exit_code == 1 and "role" in bad_role.output.lower()
    short = run("users", "add", "carol", "--role", "sales", "--password", "short")
    assert short.exit_code == 1
    assert run("users", "add", "carol", "--role", "sales", "--password", "long-enough").exit_code == 0
    taken = run("users", "add", "carol", "--role", "sales", "--password", "long-enough")
    assert taken.exit_code == 1 and "already exists" in taken.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_an_empty_database_prints_an_admin_password_that_signs_in(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "RAPPORT_DATA_DIR": str(tmp_path / "data")}
    env.pop("RAPPORT_DATABASE_URL", None)
    rapport = str(Path(sys.executable).with_name("rapport"))
    process = subprocess.Popen(
        [rapport, "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            output += line
            if "Application startup complete" in line or process.poll() is not None:
                break
        match = re.search(r"user admin with password (\S+)", output)
        assert match, output
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
        assert health.json()["database"] == "sqlite"
        token = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data={"username": "admin", "password": match.group(1)},
            timeout=10,
        )
        assert token.status_code == 200, token.text
        assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_demo_loads_an_empty_database_once(fresh_env):
    run("db", "upgrade")
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "companies" in result.output and "interactions" in result.output
    again = run("demo")
    assert again.exit_code == 1 and "empty database" in again.output
