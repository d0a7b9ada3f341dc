"""Email: queued in the outbox table, sent by a background job over SMTP.

Settings from the environment: MAIL_SERVER, MAIL_PORT (25), MAIL_USERNAME, MAIL_PASSWORD,
MAIL_USE_TLS (STARTTLS), MAIL_FROM. Without MAIL_SERVER (development) emails are written to the
worker's log instead of being sent; `make demo` runs a local mailbox (grants/demo_mailbox.py).
Links in emails come from GRANTS_PUBLIC_URL (`absolute_url`)."""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import update

from grants.db import db, utcnow
from grants.jobs.models import Job
from grants.jobs.runner import enqueue_job, handler
from grants.notifications.models import OutboxEmail

logger = logging.getLogger(__name__)


def _clean_header(value: str) -> str:
    """No line breaks in headers: user text can never add a header."""
    return " ".join(str(value).replace("\r", " ").replace("\n", " ").split())


def queue_email(recipient: str, subject: str, body: str) -> OutboxEmail:
    """Record an email and its send job in the caller's transaction (sent after commit)."""
    email = OutboxEmail(recipient=_clean_header(recipient), subject=_clean_header(subject),
                        body=body)
    db.session.add(email)
    db.session.flush()
    job = Job(kind="send_email", payload={"outbox_id": email.id})
    db.session.add(job)
    db.session.flush()
    enqueue_job(job)
    return email


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email, always on GRANTS_PUBLIC_URL – in a request too: the request's Host
    header is chosen by the client, and a forged one would otherwise put the attacker's address
    into a password-reset or invitation link."""
    parts = urlsplit(current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def smtp_settings() -> dict:
    config = current_app.config
    env = os.environ
    return {
        "server": config.get("MAIL_SERVER") or env.get("MAIL_SERVER", ""),
        "port": int(config.get("MAIL_PORT") or env.get("MAIL_PORT", 25)),
        "username": config.get("MAIL_USERNAME") or env.get("MAIL_USERNAME", ""),
        "password": config.get("MAIL_PASSWORD") or env.get("MAIL_PASSWORD", ""),
        "use_tls": str(config.get("MAIL_USE_TLS") or env.get("MAIL_USE_TLS", "")) in {"1", "true"},
        "sender": config.get("MAIL_FROM") or env.get("MAIL_FROM", "grants@localhost"),
    }


@handler("send_email")
def send_email_job(job: Job) -> None:
    outbox_id = job.payload["outbox_id"]
    claimed = db.session.execute(
        update(OutboxEmail).where(OutboxEmail.id == outbox_id,
                                  OutboxEmail.status.in_(["pending", "failed"]))
        .values(status="sending", attempts=OutboxEmail.attempts + 1)).rowcount
    db.session.commit()
    if not claimed:
        return  # already sent (or being sent): never twice
    email = db.session.get(OutboxEmail, outbox_id)
    settings = smtp_settings()
    message = EmailMessage()
    message["From"] = formataddr(("Bidrag", settings["sender"]))
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="grants.local")
    message.set_content(email.body)
    try:
        if not settings["server"]:
            logger.info("email (no MAIL_SERVER set, not sent) to %s: %s\n%s", email.recipient,
                        email.subject, email.body)
        else:
            with smtplib.SMTP(settings["server"], settings["port"], timeout=30) as smtp:
                if settings["use_tls"]:
                    smtp.starttls()
                if settings["username"]:
                    smtp.login(settings["username"], settings["password"])
                smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        email.status, email.error = "failed", f"{type(exc).__name__}: {exc}"
        db.session.commit()
        raise
    email.status, email.sent_at, email.error = "sent", utcnow(), None
