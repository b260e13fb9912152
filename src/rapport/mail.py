"""Sending e-mail: the Mailer protocol, an SMTP mailer, and a mailer that writes .eml files."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from rapport.settings import Settings


class MailError(Exception):
    """A message was not accepted. `temporary` errors are worth retrying later."""

    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


class Mailer(Protocol):
    """Hands one message to the outside world, or raises MailError."""

    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Delivers through an SMTP server (one connection per message: workers send few, reliably)."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    self._offered(smtp, "starttls", "STARTTLS", "set RAPPORT_SMTP_STARTTLS=false")
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    self._offered(smtp, "auth", "AUTH (sign-in)", "leave RAPPORT_SMTP_USERNAME empty")
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
        except MailError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise MailError(_reply("recipient refused", code, text), temporary=400 <= code < 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                _reply("refused", exc.smtp_code, exc.smtp_error), temporary=400 <= exc.smtp_code < 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"the mail server {self.host}:{self.port} is unreachable: {exc}", temporary=True) from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise MailError(_reply("recipient refused", code, text), temporary=400 <= code < 500)

    def _offered(self, smtp: smtplib.SMTP, extension: str, what: str, instead: str) -> None:
        """A server that lacks what the settings ask for is a setting to change, not an unreachable server.

        The error stays temporary: the message waits for a retry once the setting is corrected."""
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn(extension):
            raise MailError(
                f"the mail server {self.host}:{self.port} does not offer {what}: use a server that does, or {instead}",
                temporary=True,
            )


def _reply(what: str, code: int, text: bytes | str) -> str:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"the mail server {what} the message: {code} {detail}".strip()


class FileMailer:
    """Writes each message to `<folder>/<Message-ID>.eml`: the local default with no SMTP host.

    The file is named after the Message-ID, so a message written twice is still one file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"] or "message").strip("<>"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes())
            temporary.replace(self.folder / f"{name}.eml")
        except OSError as exc:
            raise MailError(f"the outbox folder {self.folder} cannot be written: {exc}", temporary=True) from exc


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when a host is configured, else .eml files under `<data dir>/outbox`."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return FileMailer(settings.data_dir / "outbox")
