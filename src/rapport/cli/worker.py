"""rapport worker: a delivery worker on its own (any number may run against one database)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from rapport.cli import app
from rapport.cli.common import check_database, console, settings_from_env
from rapport.logs import configure_logging


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Send what is due now, then stop."),
) -> None:
    """Send the queued e-mails: claim, send outside any transaction, mark; until stopped.

    The database must be upgraded already (`rapport db upgrade` or `rapport serve` does it)."""
    from rapport.worker import Worker

    settings = settings_from_env()
    configure_logging(settings.log_format or "text", settings.log_level)
    from rapport.core.deliveries import Delivery

    check_database(settings.resolved_database_url, needs=Delivery.__tablename__)
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
