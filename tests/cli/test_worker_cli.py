"""`rapport worker` as an operator starts it: on a database that is not ready it says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rapport.cli import app

RAPPORT = str(Path(sys.executable).with_name("rapport"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_worker_once_before_db_upgrade_says_to_run_it_instead_of_a_traceback(fresh_env):
    result = run("worker", "--once")
    assert result.exit_code == 1, result.output
    assert "rapport db upgrade" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (fresh_env / "rapport.db").exists(), "the check creates no empty database file"
    assert run("db", "upgrade").exit_code == 0
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "Handled 0 queued messages." in result.output


def test_worker_on_an_empty_database_stops_at_once_with_the_reason_instead_of_polling_forever(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "rapport.db").write_bytes(b"")
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data), "RAPPORT_DATABASE_URL": ""}
    try:
        finished = subprocess.run([RAPPORT, "worker"], env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker kept polling a database without Rapport's tables")
    assert finished.returncode == 1
    assert "rapport db upgrade" in finished.stderr and "Traceback" not in finished.stderr
