"""The migrations build exactly the schema of the models, and can be reverted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import rapport.models  # noqa: F401
from rapport import migrate
from rapport.db import Base, make_engine
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url = create_postgres_database(server, prefix="rapport_migration")
    yield url
    drop_postgres_database(server, url)


def test_upgrading_an_empty_database_gives_the_models_schema(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrading_to_base_removes_every_table(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()


def _numbering(url: str) -> set[str]:
    """How the database numbers rows: the AUTOINCREMENT tables (SQLite) or the columns with a sequence
    default (PostgreSQL)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
            )
            found = {name for (name,) in rows}
        else:
            rows = conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'"
                )
            )
            found = {f"{table}.{column}" for table, column in rows}
    engine.dispose()
    return found


def test_the_migrations_number_rows_as_the_models_do(
    empty_database_url: str, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    migrate.upgrade(empty_database_url)
    if backend == "sqlite":
        models_url = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        models_url = create_postgres_database(request.getfixturevalue("postgres_server_url"), prefix="rapport_models")
    engine = make_engine(models_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        expected = _numbering(models_url)
        assert _numbering(empty_database_url) == expected
    finally:
        if backend != "sqlite":
            drop_postgres_database(request.getfixturevalue("postgres_server_url"), models_url)
    if backend == "sqlite":
        assert expected == {"interaction_log_entry"}
    else:
        assert "interaction_log_entry.entry_no" in expected
        assert not expected & {"attachment.no", "logged_segment.entry_no", "campaign_entry.entry_no"}


def test_upgrading_keeps_the_interaction_log_its_comments_and_deliveries_and_never_reuses_a_number(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url, "2e84b76ceebe")
    engine = make_engine(empty_database_url)
    entry = "INSERT INTO interaction_log_entry ({}) VALUES ({})"
    with engine.begin() as conn:
        columns = [c for c in inspect(conn).get_columns("interaction_log_entry") if c["name"] != "entry_no"]
        values = {
            c["name"]: (False if "BOOL" in str(c["type"]).upper() else None if c["nullable"] else "") for c in columns
        }
        values.update(cost=0, duration_min=0, version_no=0, doc_no_occurrence=0)
        insert = text(entry.format(", ".join(values), ", ".join(f":{k}" for k in values)))
        for no in (1, 2, 3):
            conn.execute(insert, {**values, "contact_no": f"C{no}"})
        conn.execute(
            text("INSERT INTO interaction_comment (entry_no, line_no, code, comment) VALUES (2, 1, '', 'kept')")
        )
        conn.execute(
            text(
                "INSERT INTO delivery (entry_no, message_id, status, attempts, next_attempt_at, claimed_by, last_error,"
                " created_at) VALUES (3, 'm-3', 'pending', 0, :now, '', '', :now)"
            ),
            {"now": "2026-12-03 10:00:00+00:00"},
        )
    engine.dispose()

    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT entry_no, contact_no FROM interaction_log_entry ORDER BY 1")).all() == [
            (1, "C1"),
            (2, "C2"),
            (3, "C3"),
        ]
        assert conn.execute(text("SELECT entry_no, comment FROM interaction_comment")).all() == [(2, "kept")]
        assert conn.execute(text("SELECT entry_no, message_id FROM delivery")).all() == [(3, "m-3")]
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("interaction_log_entry")}
        assert {"ix_ile_list", "ix_ile_contact", "ix_interaction_log_entry_attachment_no"} <= indexes
        conn.execute(text("DELETE FROM interaction_log_entry WHERE entry_no = 3"))
        assert conn.execute(text("SELECT count(*) FROM delivery")).scalar_one() == 0  # still cascades
        conn.execute(insert, {**values, "contact_no": "C4"})
        assert conn.execute(text("SELECT max(entry_no) FROM interaction_log_entry")).scalar_one() == 4
    engine.dispose()

    migrate.downgrade(empty_database_url, "2e84b76ceebe")
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT entry_no FROM interaction_log_entry ORDER BY 1")).scalars().all() == [1, 2, 4]
        assert conn.execute(text("SELECT entry_no FROM interaction_comment")).scalars().all() == [2]
    engine.dispose()
