"""SQLite's single write lock: the threads of one process take turns at it, and a turn always ends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from rapport.db import make_engine, make_sessionmaker

THREADS = 16
WRITES_EACH = 25


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}", pool_size=THREADS, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    yield engine
    engine.dispose()


def test_many_threads_writing_at_once_each_get_their_turn_and_no_write_is_lost(sqlite_engine: Engine) -> None:
    writes = make_sessionmaker(sqlite_engine, write=True)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work() -> None:
        try:
            start.wait()
            for _ in range(WRITES_EACH):
                with writes() as session:
                    # read, then write from what was read: only safe when writers never overlap
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == THREADS * WRITES_EACH


@pytest.mark.parametrize("ending", ["rollback", "error", "close"])
def test_a_turn_ends_with_the_transaction_however_it_ends(sqlite_engine: Engine, ending: str) -> None:
    writes = make_sessionmaker(sqlite_engine, write=True)
    session = writes()
    session.execute(text("UPDATE counter SET n = 1"))
    if ending == "rollback":
        session.rollback()
    elif ending == "error":
        with pytest.raises(Exception, match="no such table"):
            session.execute(text("UPDATE missing SET n = 2"))
        session.rollback()
    session.close()

    # another thread gets the next turn at once (it would wait the whole busy timeout otherwise)
    done = threading.Event()

    def write() -> None:
        with writes() as other:
            other.execute(text("UPDATE counter SET n = 3"))
            other.commit()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(10), "the next writer did not get its turn"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 3
