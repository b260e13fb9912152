"""Benchmark: import contacts from CSV, against the raw bulk-insert limit of the same database.

    python bench/import_contacts.py [--backend sqlite|postgresql] [--rows 100000]

Prints one JSON object: the import's time and rows/s, the time of the fastest raw insert of the
same prepared rows into a fresh table with the same columns and indexes (SQLite: executemany of
a prepared INSERT in one transaction; PostgreSQL: COPY of pre-encoded rows), and their ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, text
from sqlalchemy.sql.elements import quoted_name

import rapport.models  # noqa: F401  (registers every table)
from rapport.core.contact_io import CSV_FIELDS, INSERT_COLUMNS, import_contacts
from rapport.core.contacts import Contact
from rapport.db import Base, make_engine, make_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_database

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CITIES = ["Berlin", "Paris", "Lyon", "Madrid", "Porto", "Gent", "Bern", "Oslo", "Turku", "Graz"]
COUNTRIES = ["DE", "FR", "FR", "ES", "PT", "BE", "CH", "NO", "FI", "AT"]
JOBS = ["Buyer", "Manager", "Engineer", "Accountant", "Director", ""]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write `rows` contacts: about one company in five, each followed by its persons."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        company = ""
        for i in range(1, rows + 1):
            no = f"CT{i:07d}"
            city = rng.randrange(len(CITIES))
            if i % 5 == 1:
                company = no
                row = {
                    "no": no, "type": "company", "name": f"Company {i} {rng.choice(['GmbH', 'SA', 'Ltd'])}",
                    "address": f"{rng.randint(1, 200)} Main Street", "post_code": f"{rng.randint(1000, 99999)}",
                    "city": CITIES[city], "country_code": COUNTRIES[city],
                    "phone_no": f"+49 30 {rng.randint(1000000, 9999999)}",
                    "email": f"office{i}@example.com", "correspondence_type": "email",
                }
            else:
                row = {
                    "no": no, "type": "person", "name": f"Person {i} Example", "company_no": company,
                    "mobile_phone_no": f"+49 170 {rng.randint(1000000, 9999999)}",
                    "email": f"person{i}@example.com", "job_title": rng.choice(JOBS),
                    "exclude_from_segment": rng.choice(["false", "false", "true"]),
                    "minor": "true" if rng.random() < 0.01 else "false",
                }
            writer.writerow(row)


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[Engine]:
    """A fresh database with the models' schema; PostgreSQL's is dropped afterwards."""
    with fresh_database(backend, tmp) as url:
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
            yield engine
        finally:
            engine.dispose()


def raw_limit(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    """Seconds for the fastest raw insert of `rows` into a fresh copy of the contact table."""
    columns = ", ".join(INSERT_COLUMNS)
    if engine.dialect.name == "sqlite":
        metadata = MetaData()
        raw = Contact.__table__.to_metadata(metadata, name="contact_raw")
        assert isinstance(raw, Table)
        for index in raw.indexes:
            index.name = quoted_name(f"raw_{index.name}", None)
        metadata.create_all(engine)
        sql = f"INSERT INTO contact_raw ({columns}) VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})"
        conn = engine.raw_connection()
        try:
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            conn.close()
    with engine.begin() as c:
        c.execute(text("CREATE TABLE contact_raw (LIKE contact INCLUDING ALL)"))
    data = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows).encode()
    conn = engine.raw_connection()
    try:
        started = time.perf_counter()
        driver: Any = conn.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY contact_raw ({columns}) FROM STDIN") as copy:
            for i in range(0, len(data), 1 << 20):
                copy.write(data[i : i + (1 << 20)])
        conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def _copy_text(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def run(backend: str, rows: int) -> dict[str, Any]:
    """Generate, import, measure the limit; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        path = tmp / "contacts.csv"
        generate(path, rows)
        with database(backend, tmp) as engine:
            session = make_sessionmaker(engine)()
            started = time.perf_counter()
            result = import_contacts(session, path)
            session.commit()
            seconds = time.perf_counter() - started
            session.close()
            if result.errors or result.imported != rows:
                raise SystemExit(f"import failed: {result.imported} imported, {result.errors[:5]}")
            with engine.connect() as conn:
                prepared = [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(INSERT_COLUMNS)} FROM contact"))]
            limit = raw_limit(engine, prepared)
    return {
        "operation": "import_contacts",
        "backend": backend,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "limit_seconds": round(limit, 3),
        "ratio": round(seconds / limit, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(run(args.backend, args.rows)))


if __name__ == "__main__":
    main()
