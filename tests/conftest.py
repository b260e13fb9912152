"""Test fixtures: every database test runs on SQLite and again on PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, Integer, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rapport.db import Base, make_engine, make_sessionmaker

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get("RAPPORT_TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    except OSError:
        return None


def _require(env: str) -> bool:
    return os.environ.get(env, "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The URL of a PostgreSQL server to create test databases on, or a skip."""
    url = _postgres_admin_url()
    if url is None:
        if _require("RAPPORT_TEST_REQUIRE_POSTGRES"):
            pytest.fail("RAPPORT_TEST_REQUIRE_POSTGRES is set but no PostgreSQL answers")
        pytest.skip("PostgreSQL not available (set RAPPORT_TEST_DATABASE_URL or run one locally)")
    return url


def create_postgres_database(server_url: str, prefix: str = "rapport_test") -> str:
    """Create an empty database on the server and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    """A migrated-to-models database of the backend, shared by the tests of a run."""
    import rapport.models  # noqa: F401  (registers every table)

    server = None
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "rapport.db"
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url = create_postgres_database(server)
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()
    if server is not None:
        drop_postgres_database(server, url)


def clean_database(engine: Engine) -> None:
    """Remove every row (and reset identities) so each test starts from empty tables."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # DELETE is much faster than TRUNCATE on the small tables of a test.
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
            for t in tables:
                for col in t.primary_key.columns:
                    if col.autoincrement is True or (
                        col.autoincrement == "auto"
                        and isinstance(col.type, Integer)
                        and len(t.primary_key.columns) == 1
                        and col.default is None
                    ):
                        conn.execute(
                            text("SELECT setval(pg_get_serial_sequence(:t, :c), 1, false)").bindparams(
                                t=t.name, c=col.name
                            )
                        )
        else:
            for t in tables:
                conn.execute(t.delete())
            has_seq = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
            if has_seq:
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def db_engine(engine: Engine) -> Iterator[Engine]:
    """The backend's engine, emptied after the test."""
    yield engine
    clean_database(engine)


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on an empty database; the test decides whether to commit."""
    factory = make_sessionmaker(db_engine)
    s = factory()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


# --- the application ------------------------------------------------------------------------

from collections.abc import Callable  # noqa: E402

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rapport import accounts  # noqa: E402
from rapport.settings import Settings  # noqa: E402

PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """argon2 at a test-sized cost: the same behaviour, a fast suite (production keeps the defaults)."""
    from argon2 import PasswordHasher

    original = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = original


@pytest.fixture
def settings(db_engine: Engine, data_dir: Path) -> Settings:
    """Settings pointing at the test database and a temporary data directory."""
    return Settings(
        data_dir=data_dir,
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key="test-secret-key-not-for-production",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    from rapport.app import create_app

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_user(app: FastAPI) -> Callable[..., accounts.User]:
    """Create a user directly in the database."""

    def make(username: str, role: str = "admin", password: str = PASSWORD, active: bool = True) -> accounts.User:
        with app.state.sessionmaker() as s:
            user = accounts.create_user(
                s, accounts.UserCreate(username=username, role=role, password=password, active=active)
            )
            s.commit()
            return user

    return make


@pytest.fixture
def headers_for(client: TestClient, make_user: Callable[..., accounts.User]) -> Callable[[str], dict[str, str]]:
    """Authorization headers of a fresh user with the given role."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str = "admin") -> dict[str, str]:
        if role not in cache:
            make_user(f"{role}-user", role)
            response = client.post("/api/v1/auth/token", data={"username": f"{role}-user", "password": PASSWORD})
            assert response.status_code == 200, response.text
            cache[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[role]

    return headers


@pytest.fixture
def admin(headers_for: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Authorization headers of an admin."""
    return headers_for("admin")
