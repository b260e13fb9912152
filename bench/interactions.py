"""Benchmark: interaction log list pages and creating interactions over HTTP, on the real server.

    python bench/interactions.py [--backend sqlite|postgresql] [--entries 5000000] [--contacts 100000]
                                 [--workers 1,2] [--seconds 15] [--repeats 20]

1. Builds a database with the migrations (SQLite in a temp dir, or `rapport_bench_<random>` on the local
   PostgreSQL server, dropped at the end): an admin user, contacts (one company in five, then its persons),
   20 templates in 5 groups, 10 salespeople and `--entries` log entries over 3 years, skewed to busy
   contacts and common templates, ~5 % canceled, ~1 % postponed. The entries are one set-based
   INSERT ... SELECT per 500,000 (recursive CTE on SQLite, generate_series on PostgreSQL) with the
   secondary indexes dropped and rebuilt afterwards; the same rows on both backends.
2. Starts `rapport serve --no-worker` and, for each list query of GET /api/v1/interactions, fetches the
   first page and follows next_cursor for 5 more (limit 50), `--repeats` times: median and p95 of the
   `Server-Timing: app;dur` of first and later pages (target < 50 ms; `over_target` flags misses, and the
   SQL plan of each miss is printed under `explain`).
3. Drives POST /api/v1/interactions and GET /api/v1/health/live (the hello world) with 100 concurrent
   keep-alive clients for `--seconds` each after a warm-up, for each server worker count in `--workers`:
   requests/s, p50/p99 latency, and create/hello (target >= 0.5, p99 < 50 ms). Then the same load on
   `_floor_app.py`, a bare app that only runs Rapport's one-statement create and commits: the limit of
   any create route on this machine and database (`ratio_bare_create_to_hello`, and Rapport's create as
   a share of it, `ratio_create_to_bare_create`).

Prints one JSON object on stdout (progress goes to stderr), with the load average before and after.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, Table, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, closed_loop, fresh_database, http_request, load_average, log, server_ms, summary_ms

import rapport.models  # noqa: F401  (registers every table)
from rapport import accounts
from rapport.core.contacts import Contact
from rapport.core.enums import Role
from rapport.core.interactions import queries
from rapport.core.interactions.models import InteractionLogEntry as E
from rapport.core.masterdata import Salesperson
from rapport.core.templates import InteractionGroup, InteractionTemplate
from rapport.db import make_engine, make_sessionmaker
from rapport.filters import compile_filters
from rapport.migrate import upgrade

ADMIN, PASSWORD = "admin", "bench-password-1"
DAYS = 1096  # three years
CHUNK = 500_000
TARGET_MS = 50.0
PAGES_AFTER_FIRST = 5
LIMIT = 50
# code: (group, description, weight per 1000 entries, correspondence_type_default)
TEMPLATES: dict[str, tuple[str, str, int, str]] = {
    "OUTCALL": ("CALLS", "Outgoing phone call", 200, ""),
    "INCALL": ("CALLS", "Incoming phone call", 120, ""),
    "CALLBACK": ("CALLS", "Call back request", 30, ""),
    "FAILCALL": ("CALLS", "Unanswered call", 50, ""),
    "EMAIL": ("EMAIL", "E-mail", 180, "email"),
    "NEWSL": ("EMAIL", "Newsletter", 100, "email"),
    "EMAILREP": ("EMAIL", "E-mail reply", 60, "email"),
    "OFFER": ("EMAIL", "Offer by e-mail", 30, "email"),
    "VISIT": ("MEETINGS", "Sales visit", 60, ""),
    "MEETING": ("MEETINGS", "Meeting", 40, ""),
    "DEMO": ("MEETINGS", "Product demo", 20, ""),
    "LUNCH": ("MEETINGS", "Business lunch", 5, ""),
    "LETTER": ("LETTERS", "Letter", 40, "hard_copy"),
    "QUOTE": ("LETTERS", "Quote letter", 20, "hard_copy"),
    "CONTRACT": ("LETTERS", "Contract", 8, "hard_copy"),
    "THANKS": ("LETTERS", "Thank-you letter", 10, "hard_copy"),
    "FAIR": ("EVENTS", "Trade fair", 10, ""),
    "WEBINAR": ("EVENTS", "Webinar", 15, "email"),
    "SEMINAR": ("EVENTS", "Seminar", 1, ""),
    "GOLF": ("EVENTS", "Golf day", 1, ""),
}
GROUPS = {"CALLS": "Phone calls", "EMAIL": "E-mail", "MEETINGS": "Meetings", "LETTERS": "Letters", "EVENTS": "Events"}
COMMON_TEMPLATE, RARE_TEMPLATE = "OUTCALL", "SEMINAR"
CREATE_TEMPLATES = [code for code, t in TEMPLATES.items() if t[3] in ("", "hard_copy")]
CITIES = ["Berlin", "Paris", "Lyon", "Madrid", "Porto", "Gent", "Bern", "Oslo", "Turku", "Graz"]


# --- data ----------------------------------------------------------------------------------------


def company_of(i: int) -> int:
    """Contacts are numbered from 1; every fifth (1, 6, 11, ...) is a company, then its 4 persons."""
    return i - (i - 1) % 5


def salesperson_of(i: int) -> str:
    """One company in eight has no salesperson; its persons neither."""
    k = company_of(i)
    return "" if k % 8 == 0 else f"SP{k % 10 + 1:02d}"


def contact_rows(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    table: Table = Contact.__table__  # type: ignore[assignment]
    blank = {c.key: (c.default.arg if c.default is not None else None) for c in table.columns}
    rows = []
    for i in range(1, count + 1):
        no, k = f"CT{i:07d}", company_of(i)
        company = i == k
        city = rng.randrange(len(CITIES))
        name = f"Company {k} GmbH" if company else f"Person {i} Example"
        rows.append(
            {
                **blank,
                "no": no,
                "type": "company" if company else "person",
                "name": name,
                "search_name": name.upper(),
                "company_no": f"CT{k:07d}",
                "company_name": f"Company {k} GmbH",
                "city": CITIES[city],
                "email": f"c{i}@example.com",
                "salesperson_code": salesperson_of(i),
                "correspondence_type": "" if i % 3 else "email",
            }
        )
    return rows


def literal(engine: Engine, value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("1" if value else "0") if engine.dialect.name == "sqlite" else ("true" if value else "false")
    if isinstance(value, int | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def entries_sql(engine: Engine, contacts: int, total: int, first_day: dt.date) -> str:
    """INSERT ... SELECT of the entries with n in [:lo, :hi), pseudo-random but deterministic in n."""
    pg = engine.dialect.name == "postgresql"

    def fmt(expr: str, width: int) -> str:
        return f"lpad(CAST({expr} AS TEXT), {width}, '0')" if pg else f"printf('%0{width}d', {expr})"

    as_int = "CAST(floor({}) AS BIGINT)" if pg else "CAST({} AS INTEGER)"
    half = max(1, contacts // 2)
    r = "(CAST(x AS DOUBLE PRECISION) / 2147483647)"
    seq = (
        "SELECT n FROM generate_series(CAST(:lo AS BIGINT), CAST(:hi AS BIGINT) - 1) AS n"
        if pg
        else "WITH RECURSIVE s(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM s WHERE n + 1 < :hi) SELECT n FROM s"
    )
    base = (
        "SELECT n, (n * 1103515245 + 12345) % 2147483647 AS x, "
        "((n * 2654435761 + 7) % 2147483629) % 1000 AS slot, "
        "((n * 40503 + 11) % 2147483587) % 10000 AS z, "
        f"((n * 69069 + 3) % 2147483549) % 600 AS w FROM ({seq}) seq"
    )
    # 5 % of the entries uniformly over all contacts, 95 % on the first half with density ~ 1/sqrt(i)
    picked = (
        f"SELECT n, slot, z, w, CASE WHEN x % 20 = 0 THEN (x / 20) % {contacts} + 1 "
        f"ELSE {as_int.format(f'{half} * {r} * {r}')} + 1 END AS ci FROM ({base}) b"
    )
    with_company = f"SELECT n, slot, z, w, ci, ci - (ci - 1) % 5 AS k FROM ({picked}) p"
    day = f"n * {DAYS} / {total}"
    values: dict[str, str] = {
        "entry_no": "n + 1",
        "contact_no": f"'CT' || {fmt('ci', 7)}",
        "contact_company_no": f"'CT' || {fmt('k', 7)}",
        "date": f"CAST(:first AS DATE) + CAST({day} AS INTEGER)" if pg else f"date(:first, '+' || ({day}) || ' days')",
        "time_of_interaction": "make_time(CAST(8 + w / 60 AS INTEGER), CAST(w % 60 AS INTEGER), 0)"
        if pg
        else f"{fmt('8 + w / 60', 2)} || ':' || {fmt('w % 60', 2)} || ':' || '00.000000'",
        "description": "t.description",
        "subject": "t.description",
        "interaction_group_code": "t.interaction_group_code",
        "interaction_template_code": "t.code",
        "information_flow": "t.information_flow",
        "initiated_by": "t.initiated_by",
        "cost": "t.unit_cost",
        "duration_min": "t.unit_duration_min",
        "salesperson_code": f"CASE WHEN k % 8 = 0 THEN 'SP01' ELSE 'SP' || {fmt('k % 10 + 1', 2)} END",
        "user_id": f"'{ADMIN}'",
        "correspondence_type": "t.correspondence_type_default",
        "attempt_failed": "t.code = 'FAILCALL'",
        "canceled": "z % 100 < 5",
        "postponed": "z < 100",
    }
    table: Table = E.__table__  # type: ignore[assignment]
    columns = [c.key for c in table.columns]
    select_list = [
        values.get(c.key) or literal(engine, c.default.arg if c.default is not None else None) for c in table.columns
    ]
    return (
        f"INSERT INTO interaction_log_entry ({', '.join(columns)}) SELECT {', '.join(select_list)} "
        f"FROM ({with_company}) e JOIN bench_template_pick tp ON tp.slot = e.slot "
        f"JOIN interaction_template t ON t.code = tp.code" + (" ORDER BY n" if pg else "")
    )


def build(url: str, contacts: int, total: int) -> dict[str, Any]:
    """Migrate, then load users, master data, contacts and entries; the load's figures."""
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    with make_sessionmaker(engine)() as session:
        accounts.create_user(session, accounts.UserCreate(username=ADMIN, role=Role.ADMIN, password=PASSWORD))
        session.commit()
    with engine.begin() as conn:
        conn.execute(insert(InteractionGroup), [{"code": c, "description": d} for c, d in GROUPS.items()])
        conn.execute(
            insert(InteractionTemplate),
            [
                {
                    "code": code, "interaction_group_code": group, "description": description,
                    "unit_cost": Decimal("1.50"), "unit_duration_min": Decimal(5),
                    "information_flow": "outbound", "initiated_by": "us", "campaign_no": "",
                    "campaign_target": False, "campaign_response": False,
                    "correspondence_type_default": corres, "wizard_action": "",
                    "ignore_contact_corres_type": False, "language_code_default": "",
                }
                for code, (group, description, _, corres) in TEMPLATES.items()
            ],
        )
        conn.execute(
            insert(Salesperson),
            [{"code": f"SP{i:02d}", "name": f"Salesperson {i}", "email": f"sp{i}@example.com", "phone_no": "",
              "blocked": False} for i in range(1, 11)],
        )
        conn.execute(insert(Contact), contact_rows(contacts))
        conn.exec_driver_sql("CREATE TABLE bench_template_pick (slot INTEGER PRIMARY KEY, code VARCHAR(10))")
        slots = [code for code, t in TEMPLATES.items() for _ in range(t[2])]
        assert len(slots) == 1000
        conn.execute(
            text("INSERT INTO bench_template_pick (slot, code) VALUES (:slot, :code)"),
            [{"slot": i, "code": c} for i, c in enumerate(slots)],
        )
    master_seconds = time.perf_counter() - started
    log(f"master data and {contacts} contacts in {master_seconds:.1f} s; loading {total} entries")

    with engine.connect() as conn:
        if pg:
            rows = conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'interaction_log_entry' "
                     "AND indexname NOT IN (SELECT conname FROM pg_constraint)")
            ).all()
        else:
            rows = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                     "AND tbl_name = 'interaction_log_entry' AND sql IS NOT NULL")
            ).all()
        conn.rollback()
    indexes = [(name, sql) for name, sql in rows]
    first_day = dt.date.today() - dt.timedelta(days=DAYS)
    sql = entries_sql(engine, contacts, total, first_day)
    insert_started = time.perf_counter()
    with engine.connect() as conn:
        if pg:
            conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        else:
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
            conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
        conn.commit()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.commit()
        for lo in range(0, total, CHUNK):
            conn.execute(text(sql), {"lo": lo, "hi": min(total, lo + CHUNK), "first": first_day.isoformat()})
            conn.commit()
            log(f"  entries {min(total, lo + CHUNK)}/{total} ({time.perf_counter() - insert_started:.0f} s)")
        insert_seconds = time.perf_counter() - insert_started
        for _, index_sql in indexes:
            conn.exec_driver_sql(index_sql)
            conn.commit()
        index_seconds = time.perf_counter() - insert_started - insert_seconds
        log(f"  indexes rebuilt in {index_seconds:.0f} s")
        conn.exec_driver_sql("DROP TABLE bench_template_pick")
        if pg:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('interaction_log_entry', 'entry_no'), "
                "(SELECT max(entry_no) FROM interaction_log_entry))"
            )
        conn.commit()
    analyze_seconds = 0.0
    if pg:  # what autovacuum would have done by now; SQLite gets no ANALYZE (Rapport never runs one)
        analyze_started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) interaction_log_entry")
            conn.exec_driver_sql("ANALYZE")
        analyze_seconds = time.perf_counter() - analyze_started
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "master_data_and_contacts_seconds": round(master_seconds, 1),
        "entries_insert_seconds": round(insert_seconds, 1),
        "entries_per_s": round(total / insert_seconds),
        "index_rebuild_seconds": round(index_seconds, 1),
        "vacuum_analyze_seconds": round(analyze_seconds, 1),
    }


def data_profile(url: str, contacts: int) -> dict[str, Any]:
    """The busy and quiet contacts and the figures that describe the distribution."""
    engine = make_engine(url)
    with engine.connect() as conn:

        def count(**where: Any) -> int:
            stmt = select(E.entry_no).where(*(getattr(E, k) == v for k, v in where.items()))
            return int(conn.execute(select(text("count(*)")).select_from(stmt.subquery())).scalar_one())

        busy = "CT0000001"
        quiet = next(
            no
            for no in (f"CT{i:07d}" for i in range(int(contacts * 0.9), contacts + 1))
            if 1 <= count(contact_no=no) <= 5
        )
        total = int(conn.execute(text("SELECT count(*) FROM interaction_log_entry")).scalar_one())
        canceled = int(conn.execute(select(text("count(*)")).select_from(E).where(E.canceled.is_(True))).scalar_one())
        postponed = int(
            conn.execute(select(text("count(*)")).select_from(E).where(E.postponed.is_(True))).scalar_one()
        )
        first, last = conn.execute(text("SELECT min(date), max(date) FROM interaction_log_entry")).one()
        profile = {
            "entries": total,
            "canceled": canceled,
            "postponed": postponed,
            "first_date": str(first),
            "last_date": str(last),
            "busy_contact": {"no": busy, "entries": count(contact_no=busy)},
            "quiet_contact": {"no": quiet, "entries": count(contact_no=quiet)},
            "common_template": {"code": COMMON_TEMPLATE, "entries": count(interaction_template_code=COMMON_TEMPLATE)},
            "rare_template": {"code": RARE_TEMPLATE, "entries": count(interaction_template_code=RARE_TEMPLATE)},
        }
    engine.dispose()
    return profile


# --- list pages ----------------------------------------------------------------------------------


def list_queries(profile: dict[str, Any]) -> dict[str, dict[str, str]]:
    last = dt.date.fromisoformat(profile["last_date"])
    month_from = (last - dt.timedelta(days=540)).replace(day=1)
    month_to = (month_from + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    month = {"date_from": month_from.isoformat(), "date_to": month_to.isoformat()}
    return {
        "no_filter": {},
        "busy_contact": {"contact_no": profile["busy_contact"]["no"]},
        "quiet_contact": {"contact_no": profile["quiet_contact"]["no"]},
        "common_template": {"interaction_template_code": COMMON_TEMPLATE},
        "rare_template": {"interaction_template_code": RARE_TEMPLATE},
        "one_month": month,
        "common_template_one_month": {"interaction_template_code": COMMON_TEMPLATE, **month},
        "rare_template_one_month": {"interaction_template_code": RARE_TEMPLATE, **month},
        "description_like_call": {"filter[description]": "@*call*"},
    }


def measure_lists(server: Server, token: str, queries_: dict[str, dict[str, str]], repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:

        def page(params: dict[str, str], cursor: str | None) -> tuple[float, str | None, int]:
            response = client.get("/api/v1/interactions", params={**params, "limit": LIMIT, **(
                {"cursor": cursor} if cursor else {})})
            response.raise_for_status()
            body = response.json()
            return server_ms(response.headers) or 0.0, body["next_cursor"], len(body["items"])

        for name, params in queries_.items():
            page(params, None)  # warm-up, not counted
            first: list[float] = []
            later: list[float] = []
            cursors: list[str] = []
            items_first = 0
            budget = time.monotonic() + 30
            for _ in range(repeats):
                ms, cursor, items_first = page(params, None)
                first.append(ms)
                for _ in range(PAGES_AFTER_FIRST):
                    if cursor is None:
                        break
                    cursors.append(cursor)
                    ms, cursor, _n = page(params, cursor)
                    later.append(ms)
                if time.monotonic() > budget:
                    break
            first_s, later_s = summary_ms(first), summary_ms(later)
            over = [
                label for label, s in (("first", first_s), ("later", later_s)) if s["p95"] is not None and
                s["p95"] >= TARGET_MS
            ]
            results[name] = {
                "params": params,
                "items_on_first_page": items_first,
                "first_page_ms": first_s,
                "later_pages_ms": later_s,
                "over_target": over,
                "_cursor": cursors[len(cursors) // 2] if cursors else None,
            }
            log(f"  {name}: first {first_s}, later {later_s}{' OVER' if over else ''}")
    return results


def explain(url: str, params: dict[str, str], cursor: str | None) -> dict[str, Any]:
    """The plan (and, on PostgreSQL, the actual run) of the list's main query."""
    filters = {k[7:-1]: v for k, v in params.items() if k.startswith("filter[")}
    plain = {k: v for k, v in params.items() if not k.startswith("filter[")}
    stmt = queries.list_statement(plain)
    for condition in compile_filters(queries.ENTRY_FIELDS, filters):
        stmt = stmt.where(condition)
    out: dict[str, Any] = {}
    engine = make_engine(url)
    for label, after in (("first", None), ("later", cursor)):
        if label == "later" and after is None:
            continue
        s = stmt if after is None else stmt.where(E.entry_no > json.loads(base64.urlsafe_b64decode(after + "==="))[0])
        s = s.order_by(E.entry_no).limit(LIMIT + 1)
        sql = str(s.compile(engine, compile_kwargs={"literal_binds": True}))
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            if engine.dialect.name == "postgresql":
                cur.execute(("EXPLAIN (ANALYZE, BUFFERS) " + sql).replace("%%", "%"))
                plan = [row[0] for row in cur.fetchall()]
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql)
                plan = [row[3] for row in cur.fetchall()]
                started = time.perf_counter()
                cur.execute(sql)
                cur.fetchall()
                plan.append(f"(query alone: {(time.perf_counter() - started) * 1000:.1f} ms)")
            cur.close()
        finally:
            raw.close()
        out[label] = {"sql": " ".join(sql.split()), "plan": plan}
    engine.dispose()
    return out


# --- throughput ----------------------------------------------------------------------------------


def measure_throughput(server: Server, token: str, contacts: int, seconds: float, clients: int) -> dict[str, Any]:
    rng = random.Random(11)
    with_salesperson = [i for i in range(1, contacts + 1) if salesperson_of(i)]
    hello = http_request("GET", "/api/v1/health/live", server.port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def create() -> bytes:
        body = json.dumps(
            {"contact_no": f"CT{rng.choice(with_salesperson):07d}", "interaction_template_code": rng.choice(
                CREATE_TEMPLATES)}
        ).encode()
        return http_request("POST", "/api/v1/interactions", server.port, headers, body)

    probe = httpx.post(f"{server.base}/api/v1/interactions", content=create().split(b"\r\n\r\n", 1)[1],
                       headers=headers, timeout=30)
    if probe.status_code != 201:
        raise RuntimeError(f"create probe failed: {probe.status_code} {probe.text}")
    load_before = load_average()
    h = closed_loop(server.port, lambda: hello, clients=clients, warmup=3, seconds=seconds).as_dict(200)
    c = closed_loop(server.port, create, clients=clients, warmup=3, seconds=seconds).as_dict(201)
    single = closed_loop(server.port, create, clients=1, warmup=1, seconds=5).as_dict(201)
    ratio = c["requests_per_s"] / h["requests_per_s"] if h["requests_per_s"] else None
    return {
        "clients": clients,
        "seconds": seconds,
        "hello_world": h,
        "create_interaction": c,
        "create_interaction_1_client": single,
        "ratio_create_to_hello": None if ratio is None else round(ratio, 3),
        "ratio_target_met": ratio is not None and ratio >= 0.5,
        "create_p99_target_met": (c["latency_ms"]["p99"] or 1e9) < TARGET_MS,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


# --- main ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operation": "interactions_http",
        "backend": args.backend,
        "contacts": args.contacts,
        "load_average_start": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with fresh_database(args.backend, tmp) as url:
            log(f"building the database ({args.backend})")
            result["load"] = build(url, args.contacts, args.entries)
            result["data"] = data_profile(url, args.contacts)
            result["load_average_after_load"] = load_average()
            lists_queries = list_queries(result["data"])
            with Server(url, tmp) as server:
                token = server.token(ADMIN, PASSWORD)
                log("list pages")
                lists = measure_lists(server, token, lists_queries, args.repeats)
                result["load_average_after_lists"] = load_average()
            result["list_pages"] = lists
            result["explain"] = {}
            for name, r in lists.items():
                if r["over_target"]:
                    try:
                        result["explain"][name] = explain(url, r["params"], r["_cursor"])
                    except Exception as exc:  # a plan is a diagnosis: never lose the figures over it
                        result["explain"][name] = {"error": repr(exc)}
            for r in lists.values():
                r.pop("_cursor")
            result["list_pages_over_target"] = [name for name, r in lists.items() if r["over_target"]]
            result["throughput"] = {}
            for workers in args.workers:
                with Server(url, tmp, workers=workers) as server:
                    log(f"throughput with {workers} worker(s)")
                    token = server.token(ADMIN, PASSWORD)
                    t = measure_throughput(server, token, args.contacts, args.seconds, args.clients)
                with Server(url, tmp, workers=workers, app="_floor_app:create_app") as floor:
                    log(f"  the bare one-statement create with {workers} worker(s)")
                    bare = measure_throughput(floor, "unused", args.contacts, args.seconds, args.clients)
                t["bare_create"] = {key: bare[key] for key in ("hello_world", "create_interaction")}
                bare_per_s = bare["create_interaction"]["requests_per_s"]
                hello_per_s = t["hello_world"]["requests_per_s"]
                t["ratio_bare_create_to_hello"] = round(bare_per_s / hello_per_s, 3) if hello_per_s else None
                t["ratio_create_to_bare_create"] = (
                    round(t["create_interaction"]["requests_per_s"] / bare_per_s, 3) if bare_per_s else None
                )
                result["throughput"][f"workers_{workers}"] = t
                log(f"  create/hello {t['ratio_create_to_hello']} (the bare create: "
                    f"{t['ratio_bare_create_to_hello']}; create/bare {t['ratio_create_to_bare_create']}): "
                    f"hello {t['hello_world']}, create {t['create_interaction']}")
    result["load_average_end"] = load_average()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20, help="runs of first page + 5 later pages per query")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds of each throughput run")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument(
        "--workers", type=lambda s: [int(w) for w in s.split(",")], default=[1, 2],
        help="server worker counts for the throughput runs, e.g. 1,2",
    )
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
