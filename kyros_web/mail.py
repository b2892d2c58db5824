"""Mail (issue 17, item 5): messages a service queues in its transaction and this module sends
once that transaction has committed, when SMTP is configured (KYROS_SMTP_URL). Without it
nothing is queued and everything stays in the app.

KYROS_SMTP_URL is `smtp://user:password@host:587` (STARTTLS, then the credentials; the
server's certificate checked against the system's CAs or KYROS_SMTP_CA_FILE), `smtps://…:465`
(TLS from the start) or `smtp://host:25?tls=none` (a relay without TLS, only when asked for
in so many words). The sender is KYROS_SMTP_FROM; KYROS_BASE_URL, when set, makes the links in
a message absolute.

A mail failure never undoes what was decided: the decision has committed before the first
message leaves, and a refused or unreachable server is logged, not raised."""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("kyros_web.mail")

QUEUE = "kyros_mail"
TIMEOUT = 10  # seconds for each step with the server


class MailConfigError(ValueError):
    """KYROS_SMTP_URL cannot be read; the message says why."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # "starttls", "tls" or "none"


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    subject: str
    body: str


def parse_url(url: str) -> Smtp:
    """The server of a KYROS_SMTP_URL (see the module's docstring)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError("KYROS_SMTP_URL must look like smtp://user:password@host:587 "
                              f"or smtps://host:465, got {url!r}")
    tls = parse_qs(parts.query).get("tls", [""])[0]
    if tls not in ("", "none"):
        raise MailConfigError(f"KYROS_SMTP_URL's tls= can only be 'none', got {tls!r}")
    security = "tls" if parts.scheme == "smtps" else "none" if tls == "none" else "starttls"
    try:
        port = parts.port or (465 if security == "tls" else 587 if security == "starttls" else 25)
    except ValueError:
        raise MailConfigError(f"KYROS_SMTP_URL has no valid port: {url!r}") from None
    return Smtp(parts.hostname, port, unquote(parts.username) if parts.username else None,
                unquote(parts.password) if parts.password else None, security)


def configured() -> bool:
    return has_app_context() and bool(current_app.config.get("KYROS_SMTP_URL"))


def link(path: str) -> str:
    """A path of the app, absolute when KYROS_BASE_URL is set."""
    base = current_app.config.get("KYROS_BASE_URL") or ""
    return base.rstrip("/") + path


def queue(session: Session, message: Message) -> None:
    """Send `message` once the session's transaction commits (dropped if it rolls back);
    nothing at all without SMTP or recipients."""
    if message.to and configured():
        # The message belongs to a transaction: begin one if none has, so its commit (or
        # rollback) is the one that sends (or drops) it.
        session.connection()
        session.info.setdefault(QUEUE, []).append(message)


def tell(session: Session, emails, subject: str, body: str) -> None:
    """Queue one message per address (no address sees another's)."""
    for email in emails:
        queue(session, Message((email,), subject, body))


def send_now(messages: list[Message]) -> int:
    """Send over one connection; the number sent. Failures are logged, never raised."""
    if not messages or not configured():
        return 0
    config = current_app.config
    sent = 0
    try:
        server = parse_url(config["KYROS_SMTP_URL"])
        with _connect(server, config.get("KYROS_SMTP_CA_FILE")) as smtp:
            for message in messages:
                smtp.send_message(_email(message, config["KYROS_SMTP_FROM"]))
                sent += 1
    except (OSError, smtplib.SMTPException, MailConfigError, ssl.SSLError) as exc:
        log.warning("mail not sent (%d of %d sent): %s", sent, len(messages), exc)
    return sent


def _connect(server: Smtp, ca_file: str | None) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=ca_file or None)
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        if server.security == "starttls":
            smtp.starttls(context=context)
    if server.username:
        smtp.login(server.username, server.password or "")
    return smtp


def _email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    messages = session.info.pop(QUEUE, None)
    if messages:
        send_now(messages)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(QUEUE, None)
