"""Helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import inspect
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


@contextmanager
def open_session() -> Iterator[Session]:
    """A session on the configured database, committed at the end; errors exit with 1."""
    settings = settings_from_env()
    from rapport.migrate import ensure_sqlite_dir

    ensure_sqlite_dir(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    if not set(Base.metadata.tables).intersection(inspect(engine).get_table_names()):
        engine.dispose()
        fail(
            f"The database {engine.url.render_as_string(hide_password=True)} has no Rapport tables yet: "
            "run `rapport db upgrade` first (`rapport serve` does it too)."
        )
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
