"""Benchmark: e-mail delivery through the outbox and the worker, against plain smtplib to the same SMTP sink.

    python bench/delivery.py [--database sqlite|postgresql] [--messages 10000] [--workers 1,2] [--runs 3]
                             [--body html|docx] [--batch-size 50] [--profile]

(run it with the project's virtualenv: `.venv/bin/python bench/delivery.py --database postgresql`)

1. Builds a database with the migrations (SQLite in a temp dir, or `rapport_bench_<random>` on the local
   PostgreSQL server, dropped at the end) with an admin user and `--messages` contacts (one company in five
   followed by its 4 persons, each with an e-mail address, a city and one of 10 salespeople), then starts
   `rapport serve --no-worker` and, through the API, makes a language, the salespeople, and an e-mail
   interaction template whose attachment is an HTML body (~2 KB) with 7 {{Field}} placeholders
   (`--body docx`: a Word letter with MERGEFIELDs, sent merged as a .docx attachment).
2. Starts an SMTP sink on loopback (aiosmtpd Controller in this process; its handler only counts).
3. For each worker count K in `--workers`, `--runs` times:
     log      POST /segments, add-contacts of every contact, then the timed POST /segments/{no}/log with
              {"deliver": true}: the interactions, the logged segment and the N outbox rows in one call;
     worker   K processes, each `Worker(settings, mailer=SmtpMailer(sink)).run_once()` in a loop until it
              finds nothing to claim (what `rapport worker --once` does), timed from a common start signal
              until the last one is done; then every row must be `sent` and the sink must have N more messages;
     raw      the limit: K processes sending the same N messages built with the stdlib (EmailMessage with the
              same text + HTML alternatives, fields merged with str.replace and html.escape; for docx the
              letter's XML merged with str.replace and zipped) through smtplib to the same sink, one
              connection per message as the worker does; no database, no outbox bookkeeping.
   Worker and raw alternate which goes first. Child processes are started and warmed up (imports, a
   database connection) before the timing.
4. With --profile, one more log + single worker drain runs under cProfile with a CPU-time clock (not
   counted); its top functions by CPU go to stderr.

Prints one JSON object per worker count on stdout: log seconds, worker seconds and e-mails/s, raw seconds and
e-mails/s (medians of the runs), ratio = worker seconds / raw seconds (of the medians), the CPU seconds per
1,000 messages of the worker and raw processes and of this process (the sink), the mean message sizes, the
single runs and the load average. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import html
import io
import json
import multiprocessing as mp
import pstats
import resource
import smtplib
import statistics
import sys
import tempfile
import time
import zipfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, fresh_database, load_average, log, server_ms, smtp_sink

import rapport.models  # noqa: F401  (registers every table)
from rapport import accounts
from rapport.core import deliveries, merge
from rapport.core.contacts import Contact
from rapport.core.enums import Role
from rapport.db import make_engine, make_sessionmaker
from rapport.mail import SmtpMailer
from rapport.migrate import upgrade
from rapport.settings import Settings
from rapport.worker import Worker

ADMIN, PASSWORD = "admin", "bench-password-1"
MAIL_FROM = "news@rapport.example"
SUBJECT = "Spring newsletter"
CITIES = ["Berlin", "Paris", "Lyon", "Madrid", "Porto", "Gent", "Bern", "Oslo", "Turku", "Graz"]
SALESPEOPLE = [(f"SP{i:02d}", f"Salesperson {i}", f"sp{i}@rapport.example") for i in range(1, 11)]
# The fields the body uses; the raw side merges the same values.
FIELDS = ["Contact_Name", "Contact_Company_Name", "Contact_City", "Salesperson_Name", "Salesperson_Email",
          "Interaction_Subject", "Interaction_Date"]
TOKENS = {name: "{{" + name + "}}" for name in FIELDS}
PARAGRAPH = (
    "<p>Our spring range is here: new materials, shorter delivery times and a service desk that answers "
    "within the hour. As a customer in {{Contact_City}} you can order from the regional warehouse and "
    "receive your goods the next working day.</p>"
)
BODY_HTML = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{{Interaction_Subject}}</title>"
    "<style>body{font-family:sans-serif;color:#222}h1{font-size:20px}.foot{color:#777;font-size:11px}</style>"
    "</head><body><h1>{{Interaction_Subject}}</h1><p>Dear {{Contact_Name}},</p>"
    "<p>thank you for working with us at {{Contact_Company_Name}}.</p>"
    + PARAGRAPH * 5
    + "<p>Kind regards,<br>{{Salesperson_Name}}<br>{{Salesperson_Email}}</p>"
    "<p class=\"foot\">Sent on {{Interaction_Date}}. You receive this e-mail because you are a customer.</p>"
    "</body></html>"
)
LETTER_LINES = [
    "{name}", "{company}", "{city}", "", "Dear {name},", "",
    "Our spring range is here: new materials, shorter delivery times and a service desk that answers within "
    "the hour. As a customer in {city} you can order from the regional warehouse.",
    "", "Kind regards,", "{salesperson}", "{salesperson_email}", "{date}",
]
DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- data ----------------------------------------------------------------------------------------


def contact_rows(count: int) -> list[dict[str, Any]]:
    """`count` contacts: every fifth (1, 6, ...) a company, then its 4 persons; all with e-mail and salesperson."""
    table = Contact.__table__
    blank = {c.key: (c.default.arg if c.default is not None else None) for c in table.columns}
    rows = []
    for i in range(1, count + 1):
        k = i - (i - 1) % 5
        company = i == k
        name = f"Company {k} GmbH" if company else f"Person {i} Example"
        rows.append({
            **blank, "no": f"CT{i:07d}", "type": "company" if company else "person", "name": name,
            "search_name": name.upper(), "company_no": f"CT{k:07d}", "company_name": f"Company {k} GmbH",
            "address": f"{i % 200 + 1} Main Street", "city": CITIES[k % len(CITIES)], "job_title": "Buyer",
            "email": f"c{i}@example.com", "salesperson_code": SALESPEOPLE[k % len(SALESPEOPLE)][0],
        })
    return rows


def build(url: str, count: int) -> float:
    """Migrate, an admin user and the contacts; the seconds it took."""
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        accounts.create_user(session, accounts.UserCreate(username=ADMIN, role=Role.ADMIN, password=PASSWORD))
        session.commit()
    with engine.begin() as conn:
        rows = contact_rows(count)
        for lo in range(0, len(rows), 5000):
            conn.execute(insert(Contact), rows[lo:lo + 5000])
    engine.dispose()
    return time.perf_counter() - started


class Api:
    """The few JSON API calls of the set-up and of each run."""

    def __init__(self, server: Server) -> None:
        token = server.token(ADMIN, PASSWORD)
        self.client = httpx.Client(base_url=f"{server.base}/api/v1", headers={"Authorization": f"Bearer {token}"},
                                   timeout=1800)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, json=body, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def setup(self, body: str) -> None:
        self.call("POST", "/number-series", {"code": "SEG", "starting_no": "SEG00001"})
        self.call("PUT", "/setup/marketing", {"segment_nos": "SEG"})
        self.call("POST", "/languages", {"code": "ENU", "name": "English"})
        for code, name, mail in SALESPEOPLE:
            self.call("POST", "/salespeople", {"code": code, "name": name, "email": mail})
        self.call("POST", "/interaction-groups", {"code": "MAIL", "description": "Mailings"})
        self.call("POST", "/interaction-templates", {
            "code": "NEWS", "interaction_group_code": "MAIL", "description": "Newsletter",
            "correspondence_type_default": "email", "ignore_contact_corres_type": True,
            "information_flow": "outbound", "initiated_by": "us",
        })
        self.call("POST", "/interaction-templates/NEWS/languages", {"language_code": "ENU", "description": "News"})
        self.call("PATCH", "/interaction-templates/NEWS", {"language_code_default": "ENU"})
        if body == "html":
            upload = ("news.html", BODY_HTML.encode())
        else:
            fields = {"name": "«Contact_Name»", "company": "«Contact_Company_Name»", "city": "«Contact_City»",
                      "salesperson": "«Salesperson_Name»", "salesperson_email": "«Salesperson_Email»",
                      "date": "«Interaction_Date»"}
            upload = ("letter.docx", merge.make_docx([line.format(**fields) for line in LETTER_LINES]))
        self.call("PUT", "/interaction-templates/NEWS/languages/ENU/attachment", files={"file": upload})

    def logged_segment(self, count: int, body: str) -> dict[str, Any]:
        """A segment of every contact, logged with delivery: the log call's figures."""
        header: dict[str, Any] = {"description": SUBJECT, "interaction_template_code": "NEWS"}
        if body == "docx":
            header["send_word_docs_as_attachment"] = True
        no = self.call("POST", "/segments", header).json()["no"]
        added = self.call("POST", f"/segments/{no}/add-contacts", {"criteria": {"contact": {"email": "<>''"}}})
        if added.json()["added"] != count:
            raise RuntimeError(f"add-contacts added {added.json()['added']} lines, expected {count}")
        started = time.perf_counter()
        response = self.call("POST", f"/segments/{no}/log", {"deliver": True})
        seconds = time.perf_counter() - started
        result = response.json()
        if result.get("emails_queued") != count:
            raise RuntimeError(f"the log queued {result.get('emails_queued')} e-mails, expected {count}: {result}")
        return {"seconds": seconds, "server_ms": server_ms(response.headers), "segment_no": no}


def recipients(url: str) -> list[dict[str, str]]:
    """The merge fields of every contact, as the raw side merges them."""
    engine = make_engine(url)
    sp = {code: (name, mail) for code, name, mail in SALESPEOPLE}
    today = dt.date.today().isoformat()
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.no, c.name, c.email, c.city, c.salesperson_code, k.name FROM contact c "
            "LEFT JOIN contact k ON k.no = c.company_no AND k.no <> c.no ORDER BY c.no")).all()
    engine.dispose()
    return [
        {"no": no, "email": email, "Contact_Name": name, "Contact_Company_Name": company or "", "Contact_City": city,
         "Salesperson_Name": sp[code][0], "Salesperson_Email": sp[code][1], "Interaction_Subject": SUBJECT,
         "Interaction_Date": today}
        for no, name, email, city, code, company in rows
    ]


def outbox_state(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        counts = deliveries.outbox_counts(session)
    engine.dispose()
    return counts


# --- the child processes -------------------------------------------------------------------------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_child(url: str, data_dir: str, port: int, batch: int, profile_path: str, ready: Any, start: Any,
                 results: Any) -> None:
    """One delivery worker: claim, build, send, mark until nothing is left to claim."""
    settings = Settings(database_url=url, data_dir=Path(data_dir), mail_from=MAIL_FROM, delivery_batch_size=batch)
    worker = Worker(settings, mailer=SmtpMailer("127.0.0.1", port, timeout=60))
    with worker.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    ready.release()
    start.wait()
    profiler = cProfile.Profile(time.process_time) if profile_path else None  # CPU time: waits do not count
    cpu, started = cpu_seconds(), time.perf_counter()
    handled = 0
    if profiler:
        profiler.enable()
    while n := worker.run_once():
        handled += n
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
    results.put({"handled": handled, "seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu})
    worker.engine.dispose()


def raw_message(i: int, r: dict[str, str], body: str, html_body: str, text_body: str,
                letter: dict[str, bytes]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = MAIL_FROM
    message["To"] = r["email"]
    message["Subject"] = SUBJECT
    message["Message-ID"] = f"<{i}.raw@rapport>"
    message["Date"] = formatdate(localtime=False)
    if body == "html":
        merged_html, merged_text = html_body, text_body
        for name in FIELDS:
            merged_html = merged_html.replace(TOKENS[name], html.escape(r[name]))
            merged_text = merged_text.replace(TOKENS[name], r[name])
        message.set_content(merged_text)
        message.add_alternative(merged_html, subtype="html")
        return message
    xml = letter["word/document.xml"].decode()
    for name in FIELDS:
        xml = xml.replace(TOKENS[name], html.escape(r[name], quote=False))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in letter.items():
            archive.writestr(part, xml.encode() if part == "word/document.xml" else content)
    message.set_content(SUBJECT)
    message.add_attachment(out.getvalue(), maintype="application", subtype=DOCX_MEDIA.split("/")[1],
                           filename=f"{SUBJECT}.docx")
    return message


def raw_child(port: int, share: list[tuple[int, dict[str, str]]], body: str, ready: Any, start: Any,
              results: Any) -> None:
    """The limit: the same messages built with the stdlib and sent with smtplib, one connection each."""
    text_body = deliveries._html_to_text(BODY_HTML)  # the same plain-text alternative, made once
    placeholders = {"name": "{{Contact_Name}}", "company": "{{Contact_Company_Name}}", "city": "{{Contact_City}}",
                    "salesperson": "{{Salesperson_Name}}", "salesperson_email": "{{Salesperson_Email}}",
                    "date": "{{Interaction_Date}}"}
    with zipfile.ZipFile(io.BytesIO(merge.make_docx([line.format(**placeholders) for line in LETTER_LINES]))) as z:
        letter = {name: z.read(name) for name in z.namelist()}
    ready.release()
    start.wait()
    cpu, started = cpu_seconds(), time.perf_counter()
    for i, r in share:
        message = raw_message(i, r, body, BODY_HTML, text_body, letter)
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            smtp.send_message(message)
    results.put({"handled": len(share), "seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu})


def run_children(target: Any, args_per_child: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Start the children, wait until all are warm, release them at once; wall time until the last is done."""
    ctx = mp.get_context("spawn")
    ready, start, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    children = [ctx.Process(target=target, args=(*args, ready, start, results)) for args in args_per_child]
    for child in children:
        child.start()
    for _ in children:
        if not ready.acquire(timeout=180):
            for child in children:
                child.kill()
            raise RuntimeError("a child process did not get ready within 180 s")
    own_cpu = cpu_seconds()
    started = time.perf_counter()
    start.set()
    reports = [results.get(timeout=7200) for _ in children]
    seconds = time.perf_counter() - started
    own_cpu = cpu_seconds() - own_cpu
    for child in children:
        child.join(60)
        if child.exitcode != 0:
            raise RuntimeError(f"a child process exited with {child.exitcode}")
    return {"seconds": seconds, "handled": sum(r["handled"] for r in reports),
            "child_cpu": sum(r["cpu"] for r in reports), "sink_cpu": own_cpu,
            "per_child": [round(r["seconds"], 2) for r in reports]}


# --- measuring -----------------------------------------------------------------------------------


def measure(args: argparse.Namespace, url: str, tmp: Path) -> None:
    log(f"building {args.messages} contacts ({args.database})")
    built = build(url, args.messages)
    log(f"built in {built:.1f} s")
    people = recipients(url)
    with smtp_sink() as (sink, port), Server(url, tmp) as server:
        api = Api(server)
        api.setup(args.body)

        def drain(workers: int, profile_path: str = "") -> dict[str, Any]:
            before = (sink.messages, sink.bytes)
            result = run_children(worker_child, [(url, str(tmp), port, args.batch_size, profile_path)] * workers)
            result["messages"], result["bytes"] = sink.messages - before[0], sink.bytes - before[1]
            state = outbox_state(url)
            if result["messages"] != args.messages or state["pending"] or state["sending"] or state["failed"]:
                raise RuntimeError(f"the sink got {result['messages']} messages; outbox {state}")
            return result

        def raw(workers: int) -> dict[str, Any]:
            before = (sink.messages, sink.bytes)
            numbered = list(enumerate(people))
            result = run_children(raw_child, [(port, numbered[k::workers], args.body) for k in range(workers)])
            result["messages"], result["bytes"] = sink.messages - before[0], sink.bytes - before[1]
            if result["messages"] != args.messages:
                raise RuntimeError(f"the sink got {result['messages']} raw messages, expected {args.messages}")
            return result

        for workers in args.workers:
            runs: dict[str, list[dict[str, Any]]] = {"log": [], "worker": [], "raw": []}
            for run in range(args.runs):
                for side in ("worker", "raw") if run % 2 == 0 else ("raw", "worker"):
                    if side == "worker":
                        logged = api.logged_segment(args.messages, args.body)
                        runs["log"].append(logged)
                        log(f"K={workers} run {run + 1}: log {logged['seconds']:.2f} s")
                        result = drain(workers)
                    else:
                        result = raw(workers)
                    runs[side].append(result)
                    log(f"K={workers} run {run + 1}: {side:6} {result['seconds']:7.2f} s "
                        f"{args.messages / result['seconds']:7.1f} e-mails/s  child CPU {result['child_cpu']:.1f} s "
                        f"sink CPU {result['sink_cpu']:.1f} s  per child {result['per_child']}")
            print(json.dumps(summary(args, workers, runs)), flush=True)

        if args.profile:
            path = str(tmp / "worker.prof")
            api.logged_segment(args.messages, args.body)
            drain(1, path)
            stats = pstats.Stats(path, stream=sys.stderr)
            log("CPU profile of one worker draining the outbox (sorted by own CPU time, then cumulative):")
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)


def summary(args: argparse.Namespace, workers: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    n = args.messages

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    seconds, limit = med("worker", "seconds"), med("raw", "seconds")
    return {
        "operation": "deliver_emails", "backend": args.database, "messages": n, "workers": workers,
        "body": args.body, "batch_size": args.batch_size,
        "log_seconds": round(med("log", "seconds"), 3),
        "log_server_ms": round(statistics.median(r["server_ms"] or 0 for r in runs["log"]), 1),
        "seconds": round(seconds, 2), "emails_per_s": round(n / seconds, 1),
        "limit_seconds": round(limit, 2), "limit_emails_per_s": round(n / limit, 1),
        "ratio": round(seconds / limit, 2),
        "cpu_s_per_1000": {
            "worker_processes": round(med("worker", "child_cpu") / n * 1000, 3),
            "raw_processes": round(med("raw", "child_cpu") / n * 1000, 3),
            "sink_during_worker": round(med("worker", "sink_cpu") / n * 1000, 3),
            "sink_during_raw": round(med("raw", "sink_cpu") / n * 1000, 3),
        },
        "mean_message_bytes": {"worker": round(med("worker", "bytes") / n), "raw": round(med("raw", "bytes") / n)},
        "runs": [round(r["seconds"], 2) for r in runs["worker"]],
        "limit_runs": [round(r["seconds"], 2) for r in runs["raw"]],
        "log_runs": [round(r["seconds"], 3) for r in runs["log"]],
        "load_average": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", "--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")], default=[1, 2],
                        help="worker (and raw sender) process counts, e.g. 1,2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--body", choices=["html", "docx"], default="html",
                        help="html: an HTML body with {{Field}}s; docx: a Word letter sent merged as an attachment")
    parser.add_argument("--batch-size", type=int, default=Settings().delivery_batch_size,
                        help="RAPPORT_DELIVERY_BATCH_SIZE of the workers")
    parser.add_argument("--profile", action="store_true", help="profile one more single-worker drain (stderr)")
    args = parser.parse_args()
    log(f"load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp, fresh_database(args.database, Path(tmp)) as url:
        measure(args, url, Path(tmp))
    log(f"load average {load_average()}")


if __name__ == "__main__":
    main()
