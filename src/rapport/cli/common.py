"""Helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rapport.db import Base, make_engine, make_sessionmaker
from rapport.errors import RapportError
from rapport.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def settings_from_env() -> Settings:
    return get_settings()


def fail(message: str) -> NoReturn:
    """Print the message and exit with status 1."""
    err_console.print(f"[red]Error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def check_database(url: str, needs: str | None = None) -> None:
    """Stop with what to do when the database does not exist, cannot be reached, or has no Rapport
    tables yet (or not the table `needs`): a command run before `rapport db upgrade` says so instead of
    failing on a missing table (or, for a worker, polling one forever)."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    upgrade_first = "run `rapport db upgrade` first (`rapport serve` does it too)."
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        fail(f"The database {shown} does not exist yet: {upgrade_first}")
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        fail(f"The database {shown} cannot be reached ({exc.orig}); check RAPPORT_DATABASE_URL.")
    finally:
        engine.dispose()
    if not tables.intersection(Base.metadata.tables) or (needs is not None and needs not in tables):
        fail(f"The database {shown} has no Rapport tables yet: {upgrade_first}")


@contextmanager
def open_session() -> Iterator[Session]:
    """A session on the configured database, committed at the end; errors exit with 1."""
    settings = settings_from_env()
    check_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    session = make_sessionmaker(engine)()
    try:
        yield session
        session.commit()
    except RapportError as exc:
        session.rollback()
        fail(exc.message)
    finally:
        session.close()
        engine.dispose()
