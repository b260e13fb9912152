"""The delivery loop: claim due outbox rows, send each outside any transaction, then mark it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from rapport.core import deliveries
from rapport.db import make_engine, make_sessionmaker
from rapport.mail import Mailer, MailError, mailer_for
from rapport.settings import Settings

log = logging.getLogger("rapport.worker")

FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 6 * 3600


def retry_delay(attempts: int) -> dt.timedelta:
    """Back-off after the n-th failed attempt: 30 s, 1 min, 2 min, ... at most 6 hours."""
    return dt.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS))


class Worker:
    """Sends what the outbox holds; any number of them may run against one database."""

    def __init__(
        self,
        settings: Settings,
        *,
        mailer: Mailer | None = None,
        engine: Engine | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.mailer = mailer or mailer_for(settings)
        self.owns_engine = engine is None
        self.engine = engine or make_engine(settings.resolved_database_url)
        self.read = make_sessionmaker(self.engine)
        self.write = make_sessionmaker(self.engine, write=True)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = dt.timedelta(seconds=settings.delivery_lease_seconds)

    def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were handled."""
        with self.write() as session:
            ids = deliveries.claim(session, self.worker_id, limit=self.settings.delivery_batch_size, lease=self.lease)
            session.commit()
        if not ids:
            return 0
        with self.read() as session:
            outgoing = list(deliveries.build_messages(session, ids, self.settings.mail_from))
        for item in outgoing:
            self._send(item)
        return len(outgoing)

    def _send(self, item: deliveries.Outgoing) -> None:
        if item.message is None:
            self._mark_failed(item, item.problem, temporary=False)
            return
        try:
            self.mailer.send(item.message)
        except MailError as exc:
            self._mark_failed(item, exc.reason, temporary=exc.temporary)
            return
        with self.write() as session:
            deliveries.mark_sent(session, item.delivery_id, self.worker_id)
            session.commit()
        log.info("sent", extra={"entry_no": item.entry_no, "message_id": item.message["Message-ID"]})

    def _mark_failed(self, item: deliveries.Outgoing, reason: str, *, temporary: bool) -> None:
        retry = temporary and item.attempts < self.settings.delivery_max_attempts
        with self.write() as session:
            deliveries.mark_failed(
                session,
                item.delivery_id,
                self.worker_id,
                reason,
                retry_in=retry_delay(item.attempts) if retry else None,
            )
            session.commit()
        log.warning("not sent", extra={"entry_no": item.entry_no, "reason": reason, "retry": retry})

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set: busy while there is mail, polling when there is none."""
        log.info("delivery worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                handled = self.run_once()
            except OperationalError as exc:  # the database is away: wait for it, do not die
                log.warning("database unavailable: %s", exc.orig)
                handled = 0
            except Exception:
                log.exception("delivery batch failed")
                handled = 0
            if not handled:
                stop.wait(self.settings.worker_poll_seconds)
        if self.owns_engine:
            self.engine.dispose()
        log.info("delivery worker %s stopped", self.worker_id)


def start_thread(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    """One worker in a daemon thread of the server process (the single-machine setup)."""
    stop = threading.Event()
    worker = Worker(settings)
    thread = threading.Thread(target=worker.run, args=(stop,), name="rapport-delivery", daemon=True)
    thread.start()
    return thread, stop
