"""rapport worker: a delivery worker on its own (any number may run against one database)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from rapport.cli import app
from rapport.cli.common import console, fail, settings_from_env
from rapport.logs import configure_logging
from rapport.settings import Settings


def check_database(settings: Settings) -> None:
    """Stop with what to do when the database cannot hold an outbox yet.

    Without this a worker started before `rapport db upgrade` either dies with a traceback
    (--once) or polls a missing table forever, printing a warning every few seconds."""
    from pathlib import Path

    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from rapport.core.deliveries import Delivery
    from rapport.db import make_engine

    url = make_url(settings.resolved_database_url)
    shown = url.render_as_string(hide_password=True)
    upgrade_first = "run `rapport db upgrade` first (`rapport serve` does it too)."
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        fail(f"The database {shown} does not exist yet: {upgrade_first}")
    engine = make_engine(settings.resolved_database_url)
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as exc:
        fail(f"The database {shown} cannot be reached ({exc.orig}); check RAPPORT_DATABASE_URL.")
    finally:
        engine.dispose()
    if Delivery.__tablename__ not in tables:
        fail(f"The database {shown} has no outbox for e-mails yet: {upgrade_first}")


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Send what is due now, then stop."),
) -> None:
    """Send the queued e-mails: claim, send outside any transaction, mark; until stopped.

    The database must be upgraded already (`rapport db upgrade` or `rapport serve` does it)."""
    from rapport.worker import Worker

    settings = settings_from_env()
    configure_logging(settings.log_format or "text", settings.log_level)
    check_database(settings)
    delivery = Worker(settings)
    if once:
        sent = 0
        while handled := delivery.run_once():
            sent += handled
        console.print(f"Handled {sent} queued messages.")
        return
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    console.print(f"Delivery worker {delivery.worker_id} running (Ctrl+C stops it).")
    delivery.run(stop)
