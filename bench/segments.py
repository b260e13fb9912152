"""Benchmark: segment criteria actions and Log Segment against the hand-written SQL doing the same rows.

    python bench/segments.py [--backend sqlite|postgresql] [--contacts 1000000] [--log-lines 100000]
                             [--memory-lines 1000000] [--runs 3] [--profile] [--timeout 120]

(run it with the project's virtualenv: `.venv/bin/python bench/segments.py --backend postgresql`)

1. Builds a database with the migrations (SQLite in a temp dir, or `rapport_bench_<random>` on the local
   PostgreSQL server, dropped at the end) and loads it set-based (one INSERT ... SELECT per table over a
   recursive CTE on SQLite / generate_series on PostgreSQL, secondary indexes dropped and rebuilt): `--contacts`
   contacts (one company in five followed by its 4 persons, 10 countries with their cities, 10 salespeople),
   mailing-group assignments (NEWS 52 %, EVENTS 30 %, PRINT 20 %), one job responsibility per person and one or
   two industry groups per company; a template, an interaction group, a campaign, and a Segment Nos. series in
   Marketing Setup.
2. Times each Rapport core function (a session, the function, commit) and, in the same database, the hand-written
   SQL a DBA would write for the same rows (the limit), `--runs` times each, alternating which goes first:
     add_contacts   3 tables (contact country + mailing group EXISTS + job responsibility EXISTS) over all contacts
                    vs `INSERT INTO segment_line ... SELECT ... FROM contact c WHERE ... AND EXISTS() AND EXISTS()`
                    with the header's defaults as constants, into an empty segment, and its history;
     go_back_add    undo that Add vs `DELETE` of the inserted lines and their history;
     reduce         on a copy of the ~100,000-line segment vs `DELETE ... WHERE contact_no IN (SELECT ...)` and
                    the history of the deleted lines;
     go_back_reduce undo the Reduce vs `INSERT ... SELECT` of the deleted lines (fresh defaults, new numbers after
                    the last line, from the highest old number down) from history + `DELETE` of the history;
     refine         on a copy vs `DELETE ... WHERE NOT EXISTS (...)` and the history of the deleted lines;
     go_back_refine the same for the Refine;
     log_segment    `--log-lines` lines (interactions + logged segment + campaign entry) vs a raw
                    `INSERT INTO interaction_log_entry (...) SELECT ... FROM segment_line` of the same rows.
   Each side works on its own copy of the segment, made (and dropped) outside the timing. Both sides write the
   history rows that Go Back needs inside the action's timing and transaction (Rapport's action writes them, and
   the two sides must leave the same lines and history): the hand-written Add inserts them after its lines,
   Reduce and Refine with `WITH d AS (DELETE ... RETURNING ...) INSERT INTO segment_history ...` on PostgreSQL,
   the INSERT then the DELETE on SQLite.
   On PostgreSQL a statement running longer than `--timeout` seconds (statement_timeout) fails that operation:
   seconds null, the statement in `error`, no more runs of it.
3. Memory: logs a segment of `--memory-lines` lines (made by SQL, numbered like Add Contacts) in a subprocess
   and reports its peak RSS (< 300 MB).

Prints one JSON object per operation on stdout: operation, backend, rows, seconds and limit_seconds (medians),
ratio (of the medians; target <= 2), same_result (whether every run of both sides left the same lines and history
in its segment, compared by digest; `ok` needs it; not compared for logging), the single runs and the load
average; progress (and, with --profile, the slowest statements of each Rapport operation) goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, Engine, Numeric, Table, bindparam, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import rapport.models  # noqa: F401  (registers every table)
from rapport.core import setup
from rapport.core.campaigns import Campaign
from rapport.core.contacts import (
    Contact,
    ContactIndustryGroup,
    ContactJobResponsibility,
    ContactMailingGroup,
)
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.masterdata import IndustryGroup, JobResponsibility, MailingGroup, Salesperson
from rapport.core.segments import actions
from rapport.core.segments import header as headers
from rapport.core.segments import logging as seglog
from rapport.core.segments.lines import LINE_STEP
from rapport.core.segments.models import SegmentHeader
from rapport.core.templates import InteractionGroup, InteractionTemplate
from rapport.db import make_engine, make_sessionmaker
from rapport.migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_database

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0
USER = "bench"
TEMPLATE, GROUP, CAMPAIGN, SERIES = "NEWSL", "MAIL", "CP0001", "SEG"
COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "PT", "PL"]
CITIES = ["Berlin", "Paris", "Madrid", "Rome", "Amsterdam", "Brussels", "Vienna", "Zurich", "Lisbon", "Warsaw"]
MAILING_GROUPS = {"NEWS": 52, "EVENTS": 30, "PRINT": 20}  # code -> % of contacts
JOBS = ["PURCH", "MGMT", "IT", "SALES"]
INDUSTRIES = [f"IG{i}" for i in range(1, 9)] + ["EXPORT"]

# The criteria of the measured actions, and the hand-written conditions that select the same contacts.
ADD_CRITERIA = {
    "contact": {"country_code": "DE|FR|ES|IT|NL"},
    "mailing_group": {"code": "NEWS"},
    "job_responsibility": {"code": "PURCH|MGMT"},
}
REDUCE_CRITERIA = {"contact": {"salesperson_code": "SP01|SP02|SP03"}}
REFINE_CRITERIA = {"mailing_group": {"code": "EVENTS"}}

LINE_COLUMNS = [
    "segment_no", "line_no", "contact_no", "contact_company_no", "interaction_template_code",
    "interaction_group_code", "description", "subject", "language_code", "correspondence_type", "salesperson_code",
    "date", "time_of_interaction", "cost", "duration_min", "information_flow", "initiated_by", "campaign_no",
    "campaign_target", "campaign_response", "evaluation", "attempt_failed", "send_word_doc_as_attachment",
    "attachment_no", "contact_via", "personal_text",
]
# interaction_log_entry column -> its value from segment_line l (entry_no is the autoincrement)
LOG_VALUES = {
    "contact_no": "l.contact_no", "contact_company_no": "l.contact_company_no", "date": "l.date",
    "time_of_interaction": "l.time_of_interaction", "description": "l.description", "subject": "l.subject",
    "interaction_group_code": "l.interaction_group_code", "interaction_template_code": "l.interaction_template_code",
    "information_flow": "l.information_flow", "initiated_by": "l.initiated_by", "cost": "l.cost",
    "duration_min": "l.duration_min", "salesperson_code": "l.salesperson_code", "user_id": ":user",
    "correspondence_type": "l.correspondence_type", "language_code": "l.language_code",
    "attachment_no": "l.attachment_no", "evaluation": "l.evaluation", "attempt_failed": "l.attempt_failed",
    "canceled": ":false", "postponed": ":false", "campaign_no": "l.campaign_no",
    "campaign_entry_no": "CASE WHEN l.campaign_no = :camp THEN :campaign_entry END",
    "campaign_target": "l.campaign_target", "campaign_response": "l.campaign_response", "segment_no": "l.segment_no",
    "logged_segment_entry_no": ":logged_entry", "document_type": "''", "document_no": "''", "version_no": "0",
    "doc_no_occurrence": "0", "contact_via": "l.contact_via", "opportunity_no": "''", "delivery_status": "''",
    "send_word_docs_as_attachment": "l.send_word_doc_as_attachment", "delivery_error": "''",
    "personal_text": "l.personal_text",
}


# --- small helpers -----------------------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON lines)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


class Profiler:
    """Time per SQL statement (SQLAlchemy cursor events), collected while `active`."""

    def __init__(self, engine: Engine) -> None:
        self.active = False
        self.times: dict[str, list[float]] = defaultdict(list)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        started = conn.info["bench_started"].pop()
        if self.active:
            self.times[" ".join(statement.split())].append(time.perf_counter() - started)

    @contextmanager
    def collect(self, title: str, enabled: bool) -> Iterator[None]:
        self.times.clear()
        self.active = enabled
        started = time.perf_counter()
        try:
            yield
        finally:
            self.active = False
        if enabled:
            total = time.perf_counter() - started
            in_sql = sum(sum(v) for v in self.times.values())
            log(f"profile {title}: {total:.3f} s, {in_sql:.3f} s in {sum(map(len, self.times.values()))} statements")
            for statement, times in sorted(self.times.items(), key=lambda kv: -sum(kv[1]))[:8]:
                log(f"  {sum(times):8.3f} s  x{len(times):<3} {statement[:300]}")


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = fn()
    return time.perf_counter() - started, rows


# --- the data ----------------------------------------------------------------------------------------------------


class Sql:
    """The few dialect differences of the hand-written SQL."""

    def __init__(self, engine: Engine) -> None:
        self.pg = engine.dialect.name == "postgresql"

    def seq(self) -> str:
        """Rows n = :lo .. :hi."""
        if self.pg:
            return "SELECT n FROM generate_series(CAST(:lo AS BIGINT), CAST(:hi AS BIGINT)) AS g(n)"
        return "WITH RECURSIVE g(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM g WHERE n < :hi) SELECT n FROM g"

    def pad(self, expr: str, width: int) -> str:
        return f"lpad(CAST({expr} AS TEXT), {width}, '0')" if self.pg else f"printf('%0{width}d', {expr})"

    def no(self, expr: str) -> str:
        return f"'CT' || {self.pad(expr, 7)}"

    @property
    def false(self) -> str:
        return "false" if self.pg else "0"


def h(expr: str, salt: int) -> str:
    """A deterministic pseudo-random integer in [0, 1000003) from an integer expression."""
    multipliers = [48271, 69621, 16807, 40692, 39373, 40014, 62089, 75979, 86243, 92821, 33797, 56263, 71993, 24593]
    return f"(((({expr}) * {multipliers[salt % len(multipliers)]} + {salt * 7919 + 13}) % 1000003) * 7 % 1000003)"


def case(expr: str, values: list[str]) -> str:
    return "CASE " + expr + " " + " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values)) + " END"


def contact_sql(sql: Sql) -> str:
    ci = f"{h('k', 3)} % 10"
    values = {
        "no": sql.no("n"),
        "type": "CASE WHEN n = k THEN 'company' ELSE 'person' END",
        "name": "CASE WHEN n = k THEN 'Company ' || k || ' GmbH' ELSE 'Person ' || n || ' Example' END",
        "search_name": "upper(CASE WHEN n = k THEN 'Company ' || k || ' GmbH' ELSE 'Person ' || n || ' Example' END)",
        "company_no": sql.no("k"),
        "company_name": "'Company ' || k || ' GmbH'",
        "lookup_contact_no": f"CASE WHEN n = k THEN '' ELSE {sql.no('n')} END",
        "address": f"({h('k', 1)} % 200 + 1) || ' Main Street'",
        "address_2": "''",
        "post_code": f"CAST({h('k', 2)} % 90000 + 10000 AS TEXT)",
        "city": case(ci, CITIES),
        "country_code": case(ci, COUNTRIES),
        "territory_code": "''",
        "phone_no": "''",
        "mobile_phone_no": "''",
        "email": "'c' || n || '@example.com'",
        "job_title": "''",
        "language_code": "''",
        "salesperson_code": "'SP' || " + sql.pad(h("k", 4) + " % 10 + 1", 2),
        "correspondence_type": case(h("n", 5) + " % 3", ["email", "hard_copy", ""]),
        "exclude_from_segment": f"({h('n', 6)} % 100 = 0)",
        "privacy_blocked": f"({h('n', 8)} % 200 = 0)",
        "minor": sql.false,
        "parental_consent_received": sql.false,
    }
    table: Table = Contact.__table__  # type: ignore[assignment]
    assert set(values) == {c.key for c in table.columns}, set(values) ^ {c.key for c in table.columns}
    return (
        f"INSERT INTO contact ({', '.join(values)}) SELECT {', '.join(values.values())} "
        f"FROM (SELECT n, n - (n - 1) % 5 AS k FROM ({sql.seq()}) s) x"
    )


def assignment_sqls(sql: Sql) -> list[str]:
    seq = sql.seq()
    out = [
        f"INSERT INTO contact_mailing_group (contact_no, mailing_group_code) SELECT {sql.no('n')}, '{code}' "
        f"FROM ({seq}) s WHERE {h('n', 9 + i)} % 100 < {share}"
        for i, (code, share) in enumerate(MAILING_GROUPS.items())
    ]
    out.append(
        f"INSERT INTO contact_job_responsibility (contact_no, job_responsibility_code) "
        f"SELECT {sql.no('n')}, {case(h('n', 12) + ' % 4', JOBS)} FROM ({seq}) s WHERE (n - 1) % 5 <> 0"
    )
    out.append(
        f"INSERT INTO contact_industry_group (contact_no, industry_group_code) "
        f"SELECT {sql.no('n')}, {case(h('n', 13) + ' % 8', INDUSTRIES[:8])} FROM ({seq}) s WHERE (n - 1) % 5 = 0"
    )
    out.append(
        f"INSERT INTO contact_industry_group (contact_no, industry_group_code) "
        f"SELECT {sql.no('n')}, 'EXPORT' FROM ({seq}) s WHERE (n - 1) % 5 = 0 AND {h('n', 0)} % 100 < 30"
    )
    return out


def master_data(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        s.add_all(Salesperson(code=f"SP{i:02d}", name=f"Salesperson {i}", email=f"sp{i}@example.com", phone_no="",
                              blocked=False) for i in range(1, 11))
        s.add_all(MailingGroup(code=c, description=c.title()) for c in MAILING_GROUPS)
        s.add_all(JobResponsibility(code=c, description=c.title()) for c in JOBS)
        s.add_all(IndustryGroup(code=c, description=c.title()) for c in INDUSTRIES)
        s.add(InteractionGroup(code=GROUP, description="Mailings"))
        s.flush()
        s.add(InteractionTemplate(
            code=TEMPLATE, interaction_group_code=GROUP, description="Newsletter", unit_cost=Decimal("0.80"),
            unit_duration_min=Decimal(1), information_flow="outbound", initiated_by="us", campaign_no="",
            campaign_target=False, campaign_response=False, correspondence_type_default="hard_copy",
            wizard_action="", ignore_contact_corres_type=False, language_code_default="",
        ))
        s.add(Campaign(no=CAMPAIGN, description="Spring mailing", starting_date=None, ending_date=None,
                       salesperson_code="", status_code=""))
        s.add(setup.NumberSeries(code=SERIES, description="Segments", starting_no="SEG000001", ending_no="",
                                 increment_by=1, last_no_used="", manual_nos=True))
        s.flush()
        setup.get_marketing_setup(s).segment_nos = SERIES
        s.commit()


def build(engine: Engine, factory: sessionmaker[Session], contacts: int) -> dict[str, Any]:
    """Master data, contacts and their assignments, loaded set-based with the secondary indexes rebuilt after."""
    sql = Sql(engine)
    started = time.perf_counter()
    master_data(factory)
    tables = [Contact, ContactMailingGroup, ContactJobResponsibility, ContactIndustryGroup]
    indexes = [ix for model in tables for ix in model.__table__.indexes]  # type: ignore[attr-defined]
    params = {"lo": 1, "hi": contacts}
    with engine.begin() as conn:
        for ix in indexes:
            conn.exec_driver_sql(f"DROP INDEX {ix.name}")
        conn.execute(text(contact_sql(sql)), params)
        log(f"{contacts} contacts in {time.perf_counter() - started:.1f} s")
        for statement in assignment_sqls(sql):
            conn.execute(text(statement), params)
        log(f"assignments loaded at {time.perf_counter() - started:.1f} s; rebuilding {len(indexes)} indexes")
        for ix in indexes:
            ix.create(conn)
    if sql.pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("contact", "contact_mailing_group", "contact_job_responsibility", "contact_industry_group")
        }
    return {"seconds": round(time.perf_counter() - started, 1), "rows": counts}


# --- segments ----------------------------------------------------------------------------------------------------


def new_segment(factory: sessionmaker[Session]) -> str:
    with factory() as s:
        header = headers.create_segment(
            s, headers.SegmentCreate(description="Spring mailing", interaction_template_code=TEMPLATE,
                                     campaign_no=CAMPAIGN)
        )
        s.commit()
        return header.no


def clone_segment(engine: Engine, factory: sessionmaker[Session], source: str) -> str:
    """A new segment (header through Rapport) with a copy of `source`'s lines; no actions, no history."""
    no = new_segment(factory)
    others = ", ".join(LINE_COLUMNS[1:])
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO segment_line ({', '.join(LINE_COLUMNS)}) SELECT :new, {others} "
                 f"FROM segment_line WHERE segment_no = :src"),
            {"new": no, "src": source},
        )
    return no


def drop_segment(engine: Engine, no: str) -> None:
    with engine.begin() as conn:
        for table in ("segment_interaction_language", "segment_history", "segment_criteria_action", "segment_line"):
            conn.execute(text(f"DELETE FROM {table} WHERE segment_no = :no"), {"no": no})
        conn.execute(text("DELETE FROM segment_header WHERE no = :no"), {"no": no})


def header_params(factory: sessionmaker[Session], no: str) -> tuple[dict[str, Any], bool]:
    """The header's line defaults as bind parameters, and whether it ignores the contact's correspondence type."""
    with factory() as s:
        hd = s.get(SegmentHeader, no)
        assert hd is not None
        template = s.get(InteractionTemplate, hd.interaction_template_code)
        assert template is not None and not hd.salesperson_code
        params = {
            "seg": hd.no, "tpl": hd.interaction_template_code, "grp": hd.interaction_group_code,
            "descr": hd.description, "lang": hd.language_code_default,
            "corres": hd.correspondence_type_default if hd.ignore_contact_corres_type
            else template.correspondence_type_default,
            "date": hd.date, "cost": hd.unit_cost, "dur": hd.unit_duration_min, "flow": hd.information_flow,
            "init": hd.initiated_by, "camp": hd.campaign_no, "ct": hd.campaign_target, "cr": hd.campaign_response,
            "false": False, "swd": hd.send_word_docs_as_attachment,
        }
        return params, hd.ignore_contact_corres_type


def typed(statement: str) -> Any:
    """text() with the types the hand-written statements bind (dates, decimals and booleans per dialect)."""
    names = {"date": Date(), "cost": Numeric(18, 2), "dur": Numeric(18, 2), "ct": Boolean(), "cr": Boolean(),
             "false": Boolean(), "swd": Boolean()}
    clause = text(statement)
    return clause.bindparams(*[bindparam(n, type_=t) for n, t in names.items() if f":{n}" in statement])


def line_select(line_no: str, ignore_corres: bool) -> str:
    """The hand-written select list of a new line for contact `c`: the header's defaults as constants."""
    corres = (
        ":corres" if ignore_corres
        else "CASE WHEN c.correspondence_type = '' THEN :corres ELSE c.correspondence_type END"
    )
    return (
        f"CAST(:seg AS VARCHAR(20)), {line_no}, c.no, c.company_no, :tpl, :grp, :descr, '', :lang, {corres}, "
        "c.salesperson_code, :date, NULL, :cost, :dur, :flow, :init, :camp, :ct, :cr, '', :false, :swd, NULL, '', ''"
    )


# --- the hand-written limits ----------------------------------------------------------------------------------------


def in_list(values: str) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values.split("|")) + ")"


def limit_add(engine: Engine, params: dict[str, Any], ignore_corres: bool) -> int:
    order = "row_number() OVER (ORDER BY c.company_name, c.company_no, c.type, c.name, c.no) * 10000"
    statement = (
        f"INSERT INTO segment_line ({', '.join(LINE_COLUMNS)}) SELECT {line_select(order, ignore_corres)} "
        f"FROM contact c WHERE c.country_code IN {in_list(ADD_CRITERIA['contact']['country_code'])} "
        "AND c.privacy_blocked = :false AND c.exclude_from_segment = :false "
        "AND EXISTS (SELECT 1 FROM contact_mailing_group m WHERE m.contact_no = c.no "
        f"AND m.mailing_group_code = '{ADD_CRITERIA['mailing_group']['code']}') "
        "AND EXISTS (SELECT 1 FROM contact_job_responsibility j WHERE j.contact_no = c.no "
        f"AND j.job_responsibility_code IN {in_list(ADD_CRITERIA['job_responsibility']['code'])})"
    )
    with engine.begin() as conn:
        added = int(conn.execute(typed(statement), params).rowcount)
        conn.execute(text(HISTORY_OF_LINES), {"seg": params["seg"], "taken": "insertion"})
        return added


# The history rows that Go Back needs, written by both sides in the action's own transaction.
HISTORY_COLUMNS = "segment_history (segment_no, action_no, line_no, contact_no, action_taken)"
HISTORY_OF_LINES = (
    f"INSERT INTO {HISTORY_COLUMNS} SELECT segment_no, 1, line_no, contact_no, :taken FROM segment_line "
    "WHERE segment_no = :seg"
)


def limit_go_back_add(engine: Engine, no: str) -> int:
    with engine.begin() as conn:
        removed = conn.execute(
            text("DELETE FROM segment_line WHERE segment_no = :seg AND line_no IN (SELECT line_no FROM segment_history "
                 "WHERE segment_no = :seg AND action_no = 1 AND action_taken = 'insertion')"),
            {"seg": no},
        ).rowcount
        conn.execute(text("DELETE FROM segment_history WHERE segment_no = :seg AND action_no = 1"), {"seg": no})
        return int(removed)


REDUCE_WHERE = (
    f"AND contact_no IN (SELECT c.no FROM contact c WHERE c.salesperson_code IN "
    f"{in_list(REDUCE_CRITERIA['contact']['salesperson_code'])})"
)
REFINE_WHERE = (
    "AND NOT EXISTS (SELECT 1 FROM contact_mailing_group m WHERE m.contact_no = segment_line.contact_no "
    f"AND m.mailing_group_code = '{REFINE_CRITERIA['mailing_group']['code']}')"
)


def limit_delete(engine: Engine, no: str, where: str) -> int:
    """The lines deleted and their history written, the fastest way each database has: one statement on
    PostgreSQL (DELETE ... RETURNING feeding the INSERT), the INSERT then the DELETE on SQLite."""
    params = {"seg": no, "taken": "deletion"}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            statement = (
                f"WITH d AS (DELETE FROM segment_line WHERE segment_no = :seg {where} "
                "RETURNING segment_no, line_no, contact_no) "
                f"INSERT INTO {HISTORY_COLUMNS} SELECT segment_no, 1, line_no, contact_no, :taken FROM d"
            )
            return int(conn.execute(text(statement), params).rowcount)
        conn.execute(text(f"{HISTORY_OF_LINES} {where}"), params)
        result = conn.execute(text(f"DELETE FROM segment_line WHERE segment_no = :seg {where}"), {"seg": no})
        return int(result.rowcount)


def limit_go_back_deleted(engine: Engine, params: dict[str, Any], ignore_corres: bool) -> int:
    """The deleted lines back with fresh defaults on new lines after the last one, the highest old number first
    (domain.md 3.9), and the action's history gone."""
    line_no = (
        "(SELECT COALESCE(MAX(l.line_no), 0) FROM segment_line l WHERE l.segment_no = :seg) "
        "+ row_number() OVER (ORDER BY hi.line_no DESC) * 10000"
    )
    statement = (
        f"INSERT INTO segment_line ({', '.join(LINE_COLUMNS)}) SELECT {line_select(line_no, ignore_corres)} "
        "FROM segment_history hi JOIN contact c ON c.no = hi.contact_no "
        "WHERE hi.segment_no = :seg AND hi.action_no = 1 AND hi.action_taken = 'deletion'"
    )
    with engine.begin() as conn:
        restored = conn.execute(typed(statement), params).rowcount
        conn.execute(text("DELETE FROM segment_history WHERE segment_no = :seg AND action_no = 1"),
                     {"seg": params["seg"]})
        return int(restored)


def limit_log(engine: Engine, no: str) -> int:
    table: Table = InteractionLogEntry.__table__  # type: ignore[assignment]
    assert set(LOG_VALUES) == {c.key for c in table.columns} - {"entry_no"}
    statement = (
        f"INSERT INTO interaction_log_entry ({', '.join(LOG_VALUES)}) SELECT {', '.join(LOG_VALUES.values())} "
        "FROM segment_line l WHERE l.segment_no = :seg ORDER BY l.line_no"
    )
    params = {"seg": no, "user": USER, "false": False, "camp": CAMPAIGN, "campaign_entry": 999999,
              "logged_entry": 999999}
    with engine.begin() as conn:
        return int(conn.execute(typed(statement), params).rowcount)


def delete_entries(engine: Engine, no: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM interaction_log_entry WHERE segment_no = :seg"), {"seg": no})


def outcome(engine: Engine, no: str) -> str:
    """A digest of what an action left in segment `no`: its lines (every column but the segment's number) and its
    history; the two sides of an operation must leave the same."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for statement in (
            f"SELECT {', '.join(LINE_COLUMNS[1:])} FROM segment_line WHERE segment_no = :seg ORDER BY line_no",
            "SELECT action_no, line_no, contact_no, action_taken FROM segment_history WHERE segment_no = :seg "
            "ORDER BY action_no, line_no",
        ):
            for row in conn.execute(text(statement), {"seg": no}):
                digest.update(repr(tuple(row)).encode())
            digest.update(b"|")
    return digest.hexdigest()


# --- the Rapport side ----------------------------------------------------------------------------------------------


def in_session(factory: sessionmaker[Session], fn: Callable[[Session], int]) -> int:
    with factory() as s:
        rows = fn(s)
        s.commit()
        return rows


def rapport_add(factory: sessionmaker[Session], no: str) -> int:
    return in_session(factory, lambda s: actions.add_contacts(s, no, actions.AddContacts(criteria=ADD_CRITERIA)).added)


def rapport_remove(factory: sessionmaker[Session], no: str, action: str, criteria: dict[str, Any]) -> int:
    body = actions.RemoveContacts(criteria=criteria)
    return in_session(factory, lambda s: actions.remove_contacts(s, no, action, body)[0])


def rapport_go_back(factory: sessionmaker[Session], no: str) -> int:
    def go(s: Session) -> int:
        result = actions.go_back(s, no)
        return result["lines_removed"] + result["lines_restored"]

    return in_session(factory, go)


def rapport_log(factory: sessionmaker[Session], no: str) -> int:
    return in_session(
        factory, lambda s: seglog.log_segment(s, no, seglog.LogRequest(), user_id=USER)["no_of_interactions"]
    )


# --- measuring -----------------------------------------------------------------------------------------------------


class Results:
    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.runs: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"rapport": [], "limit": []})
        self.rows: dict[str, int] = {}
        self.failed: dict[str, str] = {}
        self.outcomes: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"rapport": set(), "limit": set()})

    def add(self, operation: str, side: str, seconds: float, rows: int) -> None:
        self.runs[operation][side].append(seconds)
        if side == "rapport":
            previous = self.rows.setdefault(operation, rows)
            if previous != rows:
                log(f"warning: {operation} did {rows} rows, earlier {previous}")
        log(f"{operation:15} {side:7} {seconds:8.3f} s  {rows} rows")

    def outcome(self, operation: str, side: str, digest: str) -> None:
        self.outcomes[operation][side].add(digest)

    def same_result(self, operation: str) -> bool | None:
        """Whether every run of both sides left the same lines and history (None when not compared)."""
        outcomes = self.outcomes.get(operation)
        if not outcomes or not outcomes["rapport"] or not outcomes["limit"]:
            return None
        same = len(outcomes["rapport"] | outcomes["limit"]) == 1
        if not same:
            log(f"warning: {operation} left different lines or history than the hand-written SQL")
        return same

    def emit(self, operation: str, limit_rows: int) -> None:
        """One JSON line; `rows` are the hand-written statement's (`rapport_rows` when Rapport reports others);
        `same_result` says whether both sides left the same lines and history (not compared for logging)."""
        runs = self.runs[operation]
        same = self.same_result(operation)
        limit_seconds = statistics.median(runs["limit"])
        seconds = None if operation in self.failed else statistics.median(runs["rapport"])
        ratio = None if seconds is None else seconds / limit_seconds
        record = {
            "operation": operation, "backend": self.backend, "rows": limit_rows,
            "seconds": None if seconds is None else round(seconds, 3), "limit_seconds": round(limit_seconds, 3),
            "ratio": None if ratio is None else round(ratio, 2), "target_ratio": TARGET_RATIO,
            "ok": ratio is not None and ratio <= TARGET_RATIO and same is not False, "same_result": same,
            "runs": [round(v, 3) for v in runs["rapport"]], "limit_runs": [round(v, 3) for v in runs["limit"]],
            "load_average": load_average(),
        }
        if operation in self.failed:
            record["error"] = self.failed[operation]
        elif limit_rows != self.rows[operation]:
            record["rapport_rows"] = self.rows[operation]
        print(json.dumps(record), flush=True)


def measure(engine: Engine, factory: sessionmaker[Session], results: Results, runs: int, profiler: Profiler,
            profile: bool, log_lines: int) -> None:
    def rapport(operation: str, run: int, fn: Callable[[], int]) -> bool:
        """Time one Rapport run; a PostgreSQL statement timeout marks the operation failed (no more runs)."""
        if operation in results.failed:
            return False
        with profiler.collect(operation, profile and run == 0):
            try:
                seconds, rows = timed(fn)
            except OperationalError as exc:
                if "statement timeout" not in str(exc.orig):
                    raise
                statement = " ".join(str(exc.statement).split())[:300]
                results.failed[operation] = f"statement timeout ({str(exc.orig).strip()}): {statement}"
                log(f"{operation}: {results.failed[operation]}")
                return False
        results.add(operation, "rapport", seconds, rows)
        return True

    # The ~100,000-line segment that reduce, refine and logging copy (also warms the caches).
    master = new_segment(factory)
    added = rapport_add(factory, master)
    params, ignore_corres = header_params(factory, master)
    log(f"master segment {master}: {added} lines")
    limit_rows: dict[str, int] = {}

    def action_and_go_back(operation: str, go_back: str, new: Callable[[], str],
                           rapport_action: Callable[[str], int], limit_action: Callable[[str], tuple[float, int]],
                           limit_go_back: Callable[[str], int]) -> None:
        """`runs` times on each side (alternating which goes first), on a fresh segment: the action, then Go Back
        of it; what each step leaves is compared between the sides."""
        for run in range(runs):
            for side in ("limit", "rapport") if run % 2 == 0 else ("rapport", "limit"):
                no = new()
                if side == "rapport":
                    if rapport(operation, run, lambda no=no: rapport_action(no)):
                        results.outcome(operation, side, outcome(engine, no))
                        if rapport(go_back, run, lambda no=no: rapport_go_back(factory, no)):
                            results.outcome(go_back, side, outcome(engine, no))
                    else:
                        results.failed.setdefault(go_back, f"{operation} failed: nothing to go back from")
                else:
                    seconds, limit_rows[operation] = limit_action(no)
                    results.add(operation, side, seconds, limit_rows[operation])
                    results.outcome(operation, side, outcome(engine, no))
                    seconds, limit_rows[go_back] = timed(lambda no=no: limit_go_back(no))
                    results.add(go_back, side, seconds, limit_rows[go_back])
                    results.outcome(go_back, side, outcome(engine, no))
                drop_segment(engine, no)
        results.emit(operation, limit_rows[operation])
        results.emit(go_back, limit_rows[go_back])

    def limit_add_run(no: str) -> tuple[float, int]:
        return timed(lambda: limit_add(engine, {**params, "seg": no}, ignore_corres))

    def limit_remove_run(where: str) -> Callable[[str], tuple[float, int]]:
        def run(no: str) -> tuple[float, int]:
            return timed(lambda: limit_delete(engine, no, where))

        return run

    def limit_restore(no: str) -> int:
        return limit_go_back_deleted(engine, {**params, "seg": no}, ignore_corres)

    def copy() -> str:
        return clone_segment(engine, factory, master)

    # Add Contacts into an empty segment; Reduce and Refine of a copy of the master; each then undone by Go Back.
    action_and_go_back("add_contacts", "go_back_add", lambda: new_segment(factory), lambda no: rapport_add(factory, no),
                       limit_add_run, lambda no: limit_go_back_add(engine, no))
    action_and_go_back("reduce", "go_back_reduce", copy,
                       lambda no: rapport_remove(factory, no, actions.REDUCE, REDUCE_CRITERIA),
                       limit_remove_run(REDUCE_WHERE), limit_restore)
    action_and_go_back("refine", "go_back_refine", copy,
                       lambda no: rapport_remove(factory, no, actions.REFINE, REFINE_CRITERIA),
                       limit_remove_run(REFINE_WHERE), limit_restore)

    # Log Segment of `log_lines` lines (the master's first lines).
    source = master
    if log_lines != added:
        source = clone_segment(engine, factory, master)
        with engine.begin() as conn:
            keep = conn.execute(text("SELECT line_no FROM segment_line WHERE segment_no = :s ORDER BY line_no "
                                     "LIMIT 1 OFFSET :n"), {"s": source, "n": log_lines - 1}).scalar()
            if keep is None:
                log(f"warning: the master segment has only {added} lines; logging all of them")
            else:
                conn.execute(text("DELETE FROM segment_line WHERE segment_no = :s AND line_no > :k"),
                             {"s": source, "k": keep})
    for run in range(runs):
        for side in ("limit", "rapport") if run % 2 == 0 else ("rapport", "limit"):
            no = clone_segment(engine, factory, source)
            if side == "rapport":
                if not rapport("log_segment", run, lambda no=no: rapport_log(factory, no)):
                    drop_segment(engine, no)
            else:
                seconds, limit_rows["log_segment"] = timed(lambda no=no: limit_log(engine, no))
                results.add("log_segment", side, seconds, limit_rows["log_segment"])
                drop_segment(engine, no)
            delete_entries(engine, no)
    results.emit("log_segment", limit_rows["log_segment"])


# --- memory ------------------------------------------------------------------------------------------------------


def memory_segment(engine: Engine, factory: sessionmaker[Session], lines: int) -> tuple[str, str]:
    """A segment of `lines` lines over the contacts (repeated when there are fewer), numbered as Add Contacts
    would number them (line numbers are 64-bit)."""
    no = new_segment(factory)
    params, ignore_corres = header_params(factory, no)
    note = ""
    step = LINE_STEP
    with engine.begin() as conn:
        contacts = conn.execute(typed("SELECT count(*) FROM contact WHERE privacy_blocked = :false"),
                                {"false": False}).scalar_one()
        copies = -(-lines // contacts)
        copies_sql = " UNION ALL ".join(f"SELECT {i} AS r" for i in range(copies))
        statement = (
            f"INSERT INTO segment_line ({', '.join(LINE_COLUMNS)}) "
            f"SELECT {line_select(f'row_number() OVER (ORDER BY cp.r, c.no) * {step}', ignore_corres)} "
            f"FROM contact c CROSS JOIN ({copies_sql}) cp WHERE c.privacy_blocked = :false "
            f"ORDER BY cp.r, c.no LIMIT {lines}"
        )
        conn.execute(typed(statement), params)
    return no, note


def memory_child(url: str, no: str) -> None:
    """In the subprocess: log segment `no`, print rows, seconds and peak RSS as JSON."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, rows = timed(lambda: rapport_log(factory, no))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": round(seconds, 3), "peak_rss_mb": round(peak, 1),
                      "baseline_rss_mb": round(baseline, 1)}))


def measure_memory(engine: Engine, factory: sessionmaker[Session], url: str, backend: str, lines: int) -> None:
    started = time.perf_counter()
    no, note = memory_segment(engine, factory, lines)
    log(f"memory segment {no} of {lines} lines in {time.perf_counter() - started:.1f} s; logging it in a subprocess")
    done = subprocess.run([sys.executable, __file__, "--memory-child", url, no], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        log(done.stderr[-3000:])
        raise RuntimeError(f"the memory run exited with {done.returncode}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    record = {
        "operation": "log_segment_memory", "backend": backend, "rows": child["rows"], "seconds": child["seconds"],
        "limit_seconds": None, "ratio": None, "peak_rss_mb": child["peak_rss_mb"],
        "baseline_rss_mb": child["baseline_rss_mb"], "target_mb": TARGET_RSS_MB,
        "ok": child["peak_rss_mb"] < TARGET_RSS_MB, "load_average": load_average(),
    }
    if note:
        record["note"] = note
    print(json.dumps(record), flush=True)
    delete_entries(engine, no)


# --- main --------------------------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--log-lines", type=int, default=100_000)
    parser.add_argument("--memory-lines", type=int, default=1_000_000, help="0 skips the memory run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="time per statement of each Rapport operation")
    parser.add_argument("--timeout", type=int, default=120,
                        help="PostgreSQL statement_timeout in seconds: a statement beyond it fails that operation")
    args = parser.parse_args()
    log(f"load average {load_average()}")
    pg = args.backend == "postgresql"
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp, fresh_database(args.backend, Path(tmp)) as url:
        upgrade(url)
        options = {"connect_args": {"options": f"-c statement_timeout={args.timeout * 1000}"}} if pg else {}
        engine = make_engine(url, **options)
        profiler = Profiler(engine)
        factory = make_sessionmaker(engine)
        try:
            built = build(engine, factory, args.contacts)
            log(f"built in {built['seconds']} s: {built['rows']}")
            print(json.dumps({"operation": "build", "backend": args.backend, **built, "load_average": load_average()}),
                  flush=True)
            results = Results(args.backend)
            measure(engine, factory, results, args.runs, profiler, args.profile, args.log_lines)
            if args.memory_lines:
                measure_memory(engine, factory, url, args.backend, args.memory_lines)
        finally:
            engine.dispose()
    log(f"load average {load_average()}")


if __name__ == "__main__":
    main()
