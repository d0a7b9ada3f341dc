"""The email to the funder, and one attempt at handing it to the SMTP server.

The conversation is driven step by step (EHLO, MAIL, RCPT, DATA, the message, its reply) so
that where it broke is known exactly:

- before the server answered DATA with 354 it cannot have the message: a broken connection,
  a timeout or a 4xx answer is temporary (try again later), a 5xx answer permanent;
- once the message data has been sent, a broken connection or a timeout means the server may
  have accepted it: the outcome is *uncertain* and nobody sends it again automatically.

Every header value from user text or configuration is one line (see `subject.one_line`), and
`EmailMessage` itself refuses a header value with a line break: a title like
"x\\r\\nBcc: evil@example.org" stays text in the subject."""

from __future__ import annotations

import email.policy
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from grants.delivery.labels import UNREADABLE_ANSWER
from grants.delivery.subject import one_line

logger = logging.getLogger(__name__)

# Outcomes of one attempt.
SENT = "sent"
TEMPORARY = "temporary_failure"
PERMANENT = "permanent_failure"
UNCERTAIN = "uncertain"
CANCELLED = "cancelled"

_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\"\\]+@[^@\s,;:<>()\[\]\"\\]+\.[^@\s,;:<>()\[\]\"\\.]+")


def is_single_address(value: str | None) -> bool:
    """One plain address (local@domain.tld): no display name, no list, no line break."""
    return bool(value) and len(value) <= 254 and bool(_ADDRESS.fullmatch(value))


@dataclass
class Outcome:
    result: str            # SENT, TEMPORARY, PERMANENT, UNCERTAIN, CANCELLED
    stage: str = ""        # connect, ehlo, starttls, auth, mail, rcpt, data, message
    code: int | None = None
    response: str = ""
    error: str = ""
    message_id: str = ""


def message_domain(sender: str) -> str:
    domain = sender.rpartition("@")[2]
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain or "") else "grants.local"


def build_message(*, sender: str, sender_name: str, recipient: str, subject: str, body: str,
                  pdf: bytes, filename: str, reply_to: str = "") -> EmailMessage:
    """The email: From (our address, the lead organisation's name), To (one address), the
    subject, a plain-text body and the PDF attached."""
    if not is_single_address(recipient):
        raise ValueError(f"not one plain email address: {recipient!r}")
    message = EmailMessage()
    message["From"] = formataddr((one_line(sender_name), sender)) if sender_name else sender
    message["To"] = recipient
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=message_domain(sender))
    if reply_to and is_single_address(reply_to):
        try:
            message["Reply-To"] = Address(addr_spec=reply_to)
        except (ValueError, IndexError):  # not an address after all: no Reply-To
            pass
    message.set_content(body, cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=one_line(filename) or "ansokan.pdf")
    return message


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return reply.strip()


def _answer(code: int, reply, stage: str) -> Outcome:
    """What a server's answer means, before the message was sent."""
    if 400 <= code < 500:
        result = TEMPORARY
    elif 500 <= code < 600:
        result = PERMANENT
    else:  # unreadable answer before the message: nothing was handed over
        result = TEMPORARY
    return Outcome(result, stage, code, _text(reply))


def _final(code: int, reply) -> Outcome:
    """The server's answer to the message itself."""
    if 200 <= code < 300:
        return Outcome(SENT, "message", code, _text(reply))
    if 400 <= code < 500:
        return Outcome(TEMPORARY, "message", code, _text(reply))
    if 500 <= code < 600:
        return Outcome(PERMANENT, "message", code, _text(reply))
    return Outcome(UNCERTAIN, "message", code, _text(reply), error=UNREADABLE_ANSWER)


def _data_payload(message: EmailMessage) -> bytes:
    """The message as DATA sends it: CRLF lines, leading dots doubled, ending CRLF.CRLF."""
    data = message.as_bytes(policy=email.policy.SMTP)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def send(message: EmailMessage, *, settings: dict, recipient: str, timeout: float) -> Outcome:
    """One attempt. Never raises for anything the network or the server does."""
    stage = "connect"
    smtp = smtplib.SMTP(timeout=timeout)
    outcome: Outcome | None = None
    try:
        code, reply = smtp.connect(settings["server"], settings["port"])
        if code != 220:
            return (outcome := _answer(code, reply, stage))
        stage = "ehlo"
        code, reply = smtp.ehlo()
        if not 200 <= code < 300:
            code, reply = smtp.helo()
            if not 200 <= code < 300:
                return (outcome := _answer(code, reply, stage))
        if settings.get("use_tls"):
            stage = "starttls"
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.get("username"):
            stage = "auth"
            smtp.login(settings["username"], settings["password"])
        stage = "mail"
        code, reply = smtp.mail(settings["sender"])
        if code != 250:
            return (outcome := _answer(code, reply, stage))
        stage = "rcpt"
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            return (outcome := _answer(code, reply, stage))
        stage = "data"
        code, reply = smtp.docmd("DATA")
        if code != 354:
            return (outcome := _answer(code, reply, stage))
        # From here on the server may end up with the message whatever happens next.
        stage = "message"
        smtp.send(_data_payload(message))
        code, reply = smtp.getreply()
        return (outcome := _final(code, reply))
    except smtplib.SMTPNotSupportedError as exc:  # e.g. no STARTTLS, no AUTH: configuration
        return (outcome := Outcome(PERMANENT, stage, None, "",
                                   f"{type(exc).__name__}: {exc}"))
    except smtplib.SMTPResponseException as exc:  # starttls, login: an answer with a code
        if stage == "message":
            return (outcome := Outcome(UNCERTAIN, stage, exc.smtp_code, _text(exc.smtp_error),
                                       f"{type(exc).__name__}: {exc}"))
        outcome = _answer(exc.smtp_code, exc.smtp_error, stage)
        outcome.error = f"{type(exc).__name__}"
        return outcome
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timeout, disconnected
        result = UNCERTAIN if stage == "message" else TEMPORARY
        return (outcome := Outcome(result, stage, None, "", f"{type(exc).__name__}: {exc}"))
    finally:
        _close(smtp, polite=outcome is not None and outcome.result == SENT)


def _close(smtp: smtplib.SMTP, *, polite: bool) -> None:
    try:
        if polite:
            smtp.quit()
        else:
            smtp.close()
    except (OSError, smtplib.SMTPException):
        smtp.close()
