"""Declarative base, engine and session factories, and the SQLite connection pragmas."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

CONNECT_TIMEOUT_SECONDS = 5
# A pooled PostgreSQL connection idle this long is checked before it is used again.
PING_AFTER_IDLE_SECONDS = 5
# How long a SQLite transaction waits for the write lock before it fails.
SQLITE_BUSY_SECONDS = 30
# Connections a server process keeps in its pool, and how many more it opens under load (closed again
# when returned): 40 in all, like the threads that run its synchronous routes, so that two server
# processes and a delivery worker fit in PostgreSQL's default max_connections (100).
KEPT_CONNECTIONS = 20
EXTRA_CONNECTIONS = 20

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names follow one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


class _WriterTurns:
    """The turns of one process's threads at SQLite's single write lock.

    A thread that finds the write lock taken would wait in SQLite's busy handler, which sleeps in
    growing steps (up to 100 ms) and leaves the lock idle between the holder's commit and the
    sleeper's next try: under many concurrent writes most of the time goes to sleeping. Here the
    threads of a process queue on a lock that hands over at the holder's commit or rollback;
    other processes (more server workers, `rapport worker`) still meet at SQLite's own lock."""

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def begin(self, conn: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take control.
        # A writing transaction takes the write lock up front (IMMEDIATE): a deferred one that reads
        # and then writes fails at once on a busy database instead of waiting for busy_timeout.
        if not conn.get_execution_options().get("rapport_write", False):
            conn.exec_driver_sql("BEGIN")
            return
        # After the timeout, BEGIN IMMEDIATE waits in SQLite as before (and fails as before).
        if self._lock.acquire(timeout=self._timeout):
            conn.info["rapport_writer_turn"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Any) -> None:
        if conn.info.pop("rapport_writer_turn", False):
            self._lock.release()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with Rapport's connection settings."""
    if url.startswith("sqlite"):
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            raise ValueError("Rapport needs a SQLite file, not an in-memory database.")
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 30)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, record: Any) -> None:
            dbapi_conn.isolation_level = None
            _on_sqlite_connect(dbapi_conn, record)

        turns = _WriterTurns(timeout=SQLITE_BUSY_SECONDS)
        event.listen(engine, "begin", turns.begin)
        event.listen(engine, "commit", turns.end)
        event.listen(engine, "rollback", turns.end)
        return engine
    if "connect_timeout" not in make_url(url).query:
        # psycopg waits 130 s for a host that accepts connections but never answers; a request
        # should get its 503 within seconds instead.
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.get("connect_args", {})}
    if kwargs.get("poolclass") is NullPool:
        return create_engine(url, **kwargs)
    kwargs.setdefault("pool_size", KEPT_CONNECTIONS)
    kwargs.setdefault("max_overflow", EXTRA_CONNECTIONS)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Check a pooled PostgreSQL connection before use when it has been idle for a while (the server may
    have restarted since): a dead one is replaced at once, so the request does not fail on it.

    A connection in steady use is not checked: a ping on every checkout would cost a round trip per
    checkout, several per request. A connection that dies while in use still fails its request (503),
    and SQLAlchemy then replaces every connection of the pool."""
    now = time.monotonic()
    idle = now - record.info.get("rapport_last_checkout", now)
    record.info["rapport_last_checkout"] = now
    if idle < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_conn.execute("SELECT 1")
        dbapi_conn.rollback()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def make_sessionmaker(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (responses are rendered after it); `write`
    sessions take SQLite's write lock when they begin."""
    bind = engine.execution_options(rapport_write=True) if write else engine
    return sessionmaker(bind, expire_on_commit=False)


def rowcount(result: Any) -> int:
    """Rows changed by an INSERT, UPDATE or DELETE statement's result."""
    return int(getattr(result, "rowcount", 0) or 0)


def dialect_name(session: Session) -> str:
    """'sqlite' or 'postgresql' for the session's bind."""
    bind = session.get_bind()
    return bind.dialect.name

