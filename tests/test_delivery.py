"""Delivery (domain.md 3.12-3.14): e-mails through the outbox and a real SMTP server on loopback,
letters merged for Hard Copy, resend, the merged-document preview, and a worker killed mid-send."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from rapport.core import deliveries, merge
from rapport.mail import FileMailer, MailError, SmtpMailer
from rapport.worker import Worker
from tests.api.helpers import assert_error

API = "/api/v1"
LETTER = merge.make_docx(
    [
        "«Contact_Name»",
        "«Contact_Company_Name»",
        "«Contact_Address»",
        "Dear «Contact_Name»,",
        "«Personal_Text»",
        "Kind regards, «Salesperson_Name»",
    ]
)
BODY = "<p>Hello {{Contact_Name}}, about {{ interaction_subject }}.</p><p>{{Personal_Text}}</p>"


class Sink:
    """An SMTP server's handler that keeps every message and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.on_message = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)
        return "250 Message accepted for delivery"

    def restart(self) -> None:
        """The server comes back on the same port."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.controller.port)
        self.controller.start()

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {str(m["To"]): m for m in self.messages}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.controller = controller
    yield sink
    with contextlib.suppress(AssertionError, RuntimeError):  # already stopped by the test
        sink.controller.stop()


@pytest.fixture
def call(client, admin):
    def request(method, path, body=None, status=None, **kwargs):
        response = client.request(method, API + path, json=body, headers=admin, **kwargs)
        expected = [status] if status else {"POST": [200, 201], "DELETE": [204], "PUT": [200, 201]}.get(method, [200])
        assert response.status_code in expected, f"{method} {path}: {response.text}"
        return response.json() if response.headers.get("content-type", "").startswith("application/json") else response

    return request


@pytest.fixture
def crm(call):
    """A salesperson, a language, templates with a Word letter and an HTML e-mail body, and contacts."""
    call("POST", "/number-series", {"code": "SEG", "starting_no": "SEG00001"})
    call("PUT", "/setup/marketing", {"segment_nos": "SEG"})
    call("POST", "/languages", {"code": "ENU", "name": "English"})
    call("POST", "/salespeople", {"code": "SP", "name": "Sam Seller", "email": "sam@example.com"})
    call("POST", "/interaction-groups", {"code": "MAIL", "description": "Mailings"})
    for code, kind, file_name, content in (
        ("WORD", "email", "letter.docx", LETTER),
        ("HTML", "email", "body.html", BODY.encode()),
        ("POST", "hard_copy", "letter.docx", LETTER),
    ):
        call(
            "POST",
            "/interaction-templates",
            {
                "code": code,
                "interaction_group_code": "MAIL",
                "description": f"{code} mailing",
                "correspondence_type_default": kind,
                "ignore_contact_corres_type": True,
            },
        )
        call("POST", f"/interaction-templates/{code}/languages", {"language_code": "ENU", "description": code})
        call("PATCH", f"/interaction-templates/{code}", {"language_code_default": "ENU"})
        call("PUT", f"/interaction-templates/{code}/languages/ENU/attachment", files={"file": (file_name, content)})
    people = [
        ("P1", "Anna Alm", "anna@example.com", False),
        ("P2", "Bert <b>Bold</b>", "bert@example.com", False),
        ("P3", "Cleo Cole", "cleo@example.com", False),
        ("P4", "Dora Dunn", "", False),
        ("PB", "Bianca Blocked", "bianca@example.com", True),
    ]
    call("POST", "/contacts", {"no": "C1", "name": "Acme Ltd", "address": "1 Main Street", "salesperson_code": "SP"})
    for no, name, mail, blocked in people:
        call(
            "POST",
            "/contacts",
            {
                "no": no,
                "type": "person",
                "name": name,
                "company_no": "C1",
                "email": mail,
                "salesperson_code": "SP",
                "privacy_blocked": blocked,
            },
        )
    return call


def segment(call, template, nos, **header):
    no = call("POST", "/segments", {"description": "Autumn news", "interaction_template_code": template, **header})[
        "no"
    ]
    call("POST", f"/segments/{no}/add-contacts", {"criteria": {"contact": {"no": "|".join(nos)}}})
    return no


def worker(app, settings, smtp=None, **overrides):
    configured = settings.model_copy(update=overrides)
    mailer = (
        SmtpMailer("127.0.0.1", smtp.controller.port, timeout=5) if smtp else FileMailer(settings.data_dir / "outbox")
    )
    return Worker(configured, mailer=mailer, engine=app.state.engine)


def entries(call, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return {e["contact_no"]: e for e in call("GET", f"/interactions?limit=1000&{params}")["items"]}


def test_logging_with_delivery_sends_one_merged_email_per_line_and_none_twice(crm, app, settings, smtp):
    no = segment(crm, "HTML", ["P1", "P2", "P3", "PB"])
    lines = {line["contact_no"]: line for line in crm("GET", f"/segments/{no}/lines")["items"]}
    crm("PATCH", f"/segments/{no}/lines/{lines['P3']['line_no']}", {"personal_text": "See you at the fair!"})
    result = crm("POST", f"/segments/{no}/log", {"deliver": True})
    assert result["no_of_interactions"] == 3 and result["emails_queued"] == 3
    assert "PB" not in lines, "privacy-blocked contacts never enter a segment"
    logged = entries(crm, segment_no=no)
    assert {e["delivery_status"] for e in logged.values()} == {"in_progress"}

    sender = worker(app, settings, smtp)
    assert sender.run_once() == 3
    assert sender.run_once() == 0
    received = smtp.by_recipient()
    assert len(smtp.messages) == 3 and set(received) == {"anna@example.com", "bert@example.com", "cleo@example.com"}
    assert "bianca@example.com" not in received
    bert = received["bert@example.com"]
    assert bert["Subject"] == "Autumn news", "the line's subject (the segment's description by default)"
    html = bert.get_body(("html",)).get_content()
    assert "Hello Bert &lt;b&gt;Bold&lt;/b&gt;, about Autumn news." in html
    assert "See you at the fair!" in received["cleo@example.com"].get_body(("html",)).get_content()
    assert bert["Message-ID"].startswith(f"<{logged['P2']['entry_no']}.")
    assert str(bert["Date"]).endswith("+0000")  # UTC, not -0000 (a zone unknown)
    assert {e["delivery_status"] for e in entries(crm, segment_no=no).values()} == {"sent"}


def test_a_word_letter_is_sent_as_a_merged_attachment_or_as_the_html_body(crm, app, settings, smtp):
    as_attachment = segment(crm, "WORD", ["P1"], send_word_docs_as_attachment=True)
    crm("POST", f"/segments/{as_attachment}/log", {"deliver": True})
    as_body = segment(crm, "WORD", ["P3"])
    crm("POST", f"/segments/{as_body}/log", {"deliver": True})
    worker(app, settings, smtp).run_once()
    received = smtp.by_recipient()
    attachment = next(received["anna@example.com"].iter_attachments())
    assert attachment.get_filename() == "Autumn news.docx"
    document = merge.docx_to_text(attachment.get_content())
    assert "Dear Anna Alm," in document and "Sam Seller" in document
    assert b"MERGEFIELD" not in zipfile.ZipFile(io.BytesIO(attachment.get_content())).read("word/document.xml")
    html = received["cleo@example.com"].get_body(("html",)).get_content()
    assert "Dear Cleo Cole," in html and "Acme Ltd" in html
    plain = received["cleo@example.com"].get_body(("plain",)).get_content()
    assert "Kind regards, Sam Seller" in plain


def test_smtp_down_keeps_the_messages_shows_the_error_and_a_later_retry_sends_each_once(crm, app, settings, smtp):
    no = segment(crm, "HTML", ["P1", "P3"])
    crm("POST", f"/segments/{no}/log", {"deliver": True})
    smtp.controller.stop()
    sender = worker(app, settings, smtp)
    sender.mailer = SmtpMailer("127.0.0.1", smtp.controller.port, timeout=2)
    assert sender.run_once() == 2
    failed = entries(crm, segment_no=no)
    assert {e["delivery_status"] for e in failed.values()} == {"error"}
    assert all("unreachable" in e["delivery_error"] for e in failed.values())
    with app.state.sessionmaker() as session:
        assert deliveries.outbox_counts(session)["pending"] == 2
    assert sender.run_once() == 0, "nothing is retried before its back-off has passed"

    smtp.restart()
    sender.mailer = SmtpMailer("127.0.0.1", smtp.controller.port, timeout=5)
    with app.state.write_sessionmaker() as session:  # the clock moves past the back-off
        session.execute(update(deliveries.Delivery).values(next_attempt_at=deliveries.now_utc()))
        session.commit()
    assert sender.run_once() == 2
    assert sender.run_once() == 0
    assert sorted(str(m["To"]) for m in smtp.messages) == ["anna@example.com", "cleo@example.com"]
    assert {e["delivery_status"] for e in entries(crm, segment_no=no).values()} == {"sent"}


@pytest.mark.parametrize(
    ("options", "setting"),
    [({"starttls": True}, "RAPPORT_SMTP_STARTTLS"), ({"username": "u", "password": "p"}, "RAPPORT_SMTP_USERNAME")],
)
def test_a_mail_server_without_starttls_or_auth_names_the_setting_to_change_and_keeps_the_message(
    smtp, options, setting
):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "crm@example.com", "anna@example.com", "Hello"
    message.set_content("Hello")
    with pytest.raises(MailError) as failure:
        SmtpMailer("127.0.0.1", smtp.controller.port, timeout=5, **options).send(message)
    assert setting in failure.value.reason and "unreachable" not in failure.value.reason
    assert failure.value.temporary, "kept for a retry once the setting is corrected"
    assert smtp.messages == []


def test_a_recipient_refused_by_the_server_fails_alone_and_is_not_retried(crm, app, settings, smtp):
    smtp.refuse.add("anna@example.com")
    no = segment(crm, "HTML", ["P1", "P3"])
    crm("POST", f"/segments/{no}/log", {"deliver": True})
    sender = worker(app, settings, smtp)
    sender.run_once()
    logged = entries(crm, segment_no=no)
    assert logged["P3"]["delivery_status"] == "sent"
    assert logged["P1"]["delivery_status"] == "error" and "550" in logged["P1"]["delivery_error"]
    with app.state.sessionmaker() as session:
        assert deliveries.outbox_counts(session) == {"pending": 0, "sending": 0, "sent": 1, "failed": 1}
    assert [str(m["To"]) for m in smtp.messages] == ["cleo@example.com"]


def test_delivering_to_a_contact_without_an_address_is_refused_and_nothing_is_logged(crm, client, admin):
    no = segment(crm, "HTML", ["P1", "P4"])
    response = client.post(f"{API}/segments/{no}/log", json={"deliver": True}, headers=admin)
    assert_error(response, 409, "conflict")
    assert "P4" in response.json()["error"]["message"]
    assert entries(crm, segment_no=no) == {}
    # Without delivery the e-mail type is downgraded to blank for that contact (domain.md 3.5).
    crm("POST", f"/segments/{no}/log", {"deliver": False})
    logged = entries(crm, segment_no=no)
    assert logged["P4"]["correspondence_type"] == "" and logged["P1"]["correspondence_type"] == "email"
    assert {e["delivery_status"] for e in logged.values()} == {""}


def test_hard_copy_lines_get_their_own_merged_letter_and_one_combined_printable_document(crm, client, admin):
    no = segment(crm, "POST", ["P1", "P3", "P4"])
    result = crm("POST", f"/segments/{no}/log", {"deliver": True})
    assert result["letters"] == 3 and result["emails_queued"] == 0
    logged = entries(crm, segment_no=no)
    for contact_no, name in (("P1", "Anna Alm"), ("P4", "Dora Dunn")):
        entry = logged[contact_no]
        assert entry["delivery_status"] == ""
        letter = client.get(f"{API}/attachments/{entry['attachment_no']}", headers=admin)
        assert letter.headers["content-disposition"].startswith('attachment; filename="Acme Ltd - ')
        assert f"Dear {name}," in merge.docx_to_text(letter.content)
    book = client.get(f"{API}/logged-segments/{result['logged_segment_entry_no']}/letters", headers=admin)
    assert book.status_code == 200 and book.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    body = merge.docx_to_text(book.content)
    positions = [body.index(f"Dear {name},") for name in ("Anna Alm", "Cleo Cole", "Dora Dunn")]
    assert positions == sorted(positions)


def test_a_logged_segment_without_letters_says_so(crm, client, admin):
    no = segment(crm, "HTML", ["P1"])
    result = crm("POST", f"/segments/{no}/log", {"deliver": False})
    response = client.get(f"{API}/logged-segments/{result['logged_segment_entry_no']}/letters", headers=admin)
    assert_error(response, 404, "not_found")


def test_the_line_document_is_the_merged_letter_or_body_for_that_lines_contact(crm, client, admin):
    word = segment(crm, "WORD", ["P1"])
    line = crm("GET", f"/segments/{word}/lines")["items"][0]
    response = client.get(f"{API}/segments/{word}/lines/{line['line_no']}/document", headers=admin)
    assert response.status_code == 200
    assert "Dear Anna Alm," in merge.docx_to_text(response.content)
    html = segment(crm, "HTML", ["P2"])
    line = crm("GET", f"/segments/{html}/lines")["items"][0]
    response = client.get(f"{API}/segments/{html}/lines/{line['line_no']}/document", headers=admin)
    assert response.headers["content-type"].startswith("text/html")
    assert "Hello Bert &lt;b&gt;Bold&lt;/b&gt;" in response.text
    missing = client.get(f"{API}/segments/{html}/lines/999/document", headers=admin)
    assert_error(missing, 404, "not_found")


def test_create_interaction_with_deliver_queues_the_email_and_resend_sends_it_again(crm, app, settings, smtp):
    entry = crm("POST", "/interactions", {"contact_no": "P1", "interaction_template_code": "HTML", "deliver": True})
    assert entry["delivery_status"] == "in_progress"
    sender = worker(app, settings, smtp)
    sender.run_once()
    assert crm("GET", f"/interactions/{entry['entry_no']}")["delivery_status"] == "sent"
    again = crm("POST", f"/interactions/{entry['entry_no']}/resend", {})
    assert again["delivery_status"] == "in_progress"
    sender.run_once()
    assert [str(m["To"]) for m in smtp.messages] == ["anna@example.com", "anna@example.com"]
    assert smtp.messages[0]["Message-ID"] != smtp.messages[1]["Message-ID"]
    as_letter = crm("POST", f"/interactions/{entry['entry_no']}/resend", {"correspondence_type": "hard_copy"})
    assert as_letter["correspondence_type"] == "hard_copy"
    assert as_letter["delivery_status"] == "error", "an HTML body cannot be printed as a letter"


def test_resending_an_entry_whose_email_is_still_queued_sends_it_once(crm, app, settings, smtp):
    entry = crm("POST", "/interactions", {"contact_no": "P1", "interaction_template_code": "HTML", "deliver": True})
    again = crm("POST", f"/interactions/{entry['entry_no']}/resend", {})
    assert again["delivery_status"] == "in_progress"
    crm("POST", f"/interactions/{entry['entry_no']}/resend", {})
    sender = worker(app, settings, smtp)
    assert sender.run_once() == 1
    assert sender.run_once() == 0
    assert [str(m["To"]) for m in smtp.messages] == ["anna@example.com"]
    assert crm("GET", f"/interactions/{entry['entry_no']}")["delivery_status"] == "sent"


def test_resending_an_email_that_awaits_its_retry_sends_it_now_and_only_once(crm, app, settings, smtp):
    entry = crm("POST", "/interactions", {"contact_no": "P1", "interaction_template_code": "HTML", "deliver": True})
    smtp.controller.stop()
    sender = worker(app, settings, smtp)
    sender.mailer = SmtpMailer("127.0.0.1", smtp.controller.port, timeout=2)
    assert sender.run_once() == 1
    assert crm("GET", f"/interactions/{entry['entry_no']}")["delivery_status"] == "error"

    smtp.restart()
    sender.mailer = SmtpMailer("127.0.0.1", smtp.controller.port, timeout=5)
    assert crm("POST", f"/interactions/{entry['entry_no']}/resend", {})["delivery_status"] == "in_progress"
    assert sender.run_once() == 1, "the resend does not wait for the back-off"
    with app.state.write_sessionmaker() as session:  # the clock moves past the back-off
        session.execute(update(deliveries.Delivery).values(next_attempt_at=deliveries.now_utc()))
        session.commit()
    assert sender.run_once() == 0
    assert [str(m["To"]) for m in smtp.messages] == ["anna@example.com"]
    assert crm("GET", f"/interactions/{entry['entry_no']}")["delivery_status"] == "sent"


def test_create_interaction_delivering_to_a_contact_without_an_address_logs_nothing(crm, client, admin):
    response = client.post(
        f"{API}/interactions",
        json={"contact_no": "P4", "interaction_template_code": "HTML", "deliver": True},
        headers=admin,
    )
    assert_error(response, 409, "conflict")
    assert entries(crm, contact_no="P4") == {}


def test_without_an_smtp_host_messages_are_written_to_the_outbox_folder_once(crm, app, settings):
    no = segment(crm, "HTML", ["P1", "P3"])
    crm("POST", f"/segments/{no}/log", {"deliver": True})
    sender = worker(app, settings)
    assert sender.run_once() == 2
    files = sorted((settings.data_dir / "outbox").glob("*.eml"))
    assert len(files) == 2
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] in ("anna@example.com", "cleo@example.com")


def test_a_worker_killed_between_send_and_mark_never_loses_a_message_and_repeats_only_its_message_id(
    crm, app, settings, smtp, data_dir
):
    no = segment(crm, "HTML", ["P1", "P2", "P3"])
    crm("POST", f"/segments/{no}/log", {"deliver": True})
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": settings.database_url,
        "RAPPORT_DATA_DIR": str(data_dir),
        "RAPPORT_SECRET_KEY": "test-secret-key-not-for-production",
        "RAPPORT_SMTP_HOST": "127.0.0.1",
        "RAPPORT_SMTP_PORT": str(smtp.controller.port),
        "RAPPORT_WORKER_POLL_SECONDS": "0.2",
    }
    rapport = Path(sys.executable).parent / "rapport"
    process = subprocess.Popen([str(rapport), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # The server takes the first message, then the worker dies before it hears "250" and marks the row.
    smtp.on_message = lambda message: os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    smtp.on_message = None
    assert len(smtp.messages) == 1
    with app.state.sessionmaker() as session:
        assert deliveries.outbox_counts(session)["sending"] == 3, "the dead worker's claim is still held"

    survivor = worker(app, settings, smtp, delivery_lease_seconds=1)
    assert survivor.run_once() == 0, "a claim is not taken over before its lease ends"
    time.sleep(1.2)
    assert survivor.run_once() == 3
    with app.state.sessionmaker() as session:
        queued = {
            mid: status
            for mid, status in session.execute(select(deliveries.Delivery.message_id, deliveries.Delivery.status))
        }
    assert set(queued.values()) == {"sent"}
    received_ids = [str(m["Message-ID"]) for m in smtp.messages]
    assert set(received_ids) == set(queued), "every queued message arrived"
    assert len(received_ids) == 4 and len(set(received_ids)) == 3
    repeated = {mid for mid in received_ids if received_ids.count(mid) > 1}
    copies = [m for m in smtp.messages if str(m["Message-ID"]) in repeated]
    assert len(copies) == 2 and copies[0]["To"] == copies[1]["To"], "the retry is the same message, same ID"
    assert {e["delivery_status"] for e in entries(crm, segment_no=no).values()} == {"sent"}


def test_the_retry_delay_backs_off_and_is_capped():
    from rapport.worker import retry_delay

    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(40) == dt.timedelta(hours=6)


def test_pdf_letters_need_libreoffice_and_say_so_when_it_is_missing(crm, client, admin, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    no = segment(crm, "POST", ["P1"])
    result = crm("POST", f"/segments/{no}/log", {"deliver": True})
    response = client.get(
        f"{API}/logged-segments/{result['logged_segment_entry_no']}/letters?format=pdf", headers=admin
    )
    assert_error(response, 409, "conflict", field="format")
    assert "LibreOffice" in response.json()["error"]["message"]


def test_a_line_can_carry_its_own_document_which_is_merged_and_sent_for_that_line_only(
    crm, client, admin, app, settings, smtp
):
    no = segment(crm, "HTML", ["P1", "P3"])
    lines = {line["contact_no"]: line for line in crm("GET", f"/segments/{no}/lines")["items"]}
    cleo = lines["P3"]["line_no"]
    own = b"<p>Special offer for {{Contact_Name}} only.</p>"
    path = f"/segments/{no}/lines/{cleo}/attachment"
    created = crm("PUT", path, files={"file": ("cleo.html", own)}, status=201)
    assert crm("GET", f"/segments/{no}/lines/{cleo}")["attachment_no"] == created["attachment_no"]
    assert crm("GET", path).content == own
    preview = client.get(f"{API}/segments/{no}/lines/{cleo}/document", headers=admin)
    assert "Special offer for Cleo Cole only." in preview.text
    # A change of the segment's own language content does not overwrite the line's document.
    crm("PUT", f"/segments/{no}/languages/ENU", {"subject": "New subject"})
    assert crm("GET", f"/segments/{no}/lines/{cleo}")["attachment_no"] == created["attachment_no"]

    crm("POST", f"/segments/{no}/log", {"deliver": True})
    worker(app, settings, smtp).run_once()
    received = smtp.by_recipient()
    assert "Special offer for Cleo Cole only." in received["cleo@example.com"].get_body(("html",)).get_content()
    assert "Hello Anna Alm" in received["anna@example.com"].get_body(("html",)).get_content()


def test_removing_a_lines_own_document_gives_it_the_segments_again(crm, client, admin):
    no = segment(crm, "HTML", ["P1"])
    line = crm("GET", f"/segments/{no}/lines")["items"][0]
    inherited = line["attachment_no"]
    path = f"/segments/{no}/lines/{line['line_no']}/attachment"
    assert_error(client.get(API + path, headers=admin), 404, "not_found")
    own = crm("PUT", path, files={"file": ("own.txt", b"Hi {{Contact_Name}}")}, status=201)
    assert (
        crm("PUT", path, files={"file": ("own2.txt", b"Hello {{Contact_Name}}")}, status=200)["attachment_no"]
        == own["attachment_no"]
    )
    crm("DELETE", path)
    assert crm("GET", f"/segments/{no}/lines/{line['line_no']}")["attachment_no"] == inherited
    assert client.get(f"{API}/attachments/{own['attachment_no']}", headers=admin).status_code == 404
