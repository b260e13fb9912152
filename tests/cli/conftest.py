"""Fixtures for the command-line tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from rapport.cli import app
from rapport.settings import get_settings

CliRunnerCall = Callable[..., Result]


@pytest.fixture
def run(db_engine: Engine, tmp_path: Path) -> Iterator[CliRunnerCall]:
    """Invoke `rapport` against the test database."""
    env = {
        "RAPPORT_DATA_DIR": str(tmp_path / "data"),
        "RAPPORT_DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
    }
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args), env=env)
        finally:
            get_settings.cache_clear()

    yield invoke


@pytest.fixture
def fresh_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite data directory that does not exist yet: no `rapport db upgrade` has run."""
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()
