"""What the delivery log says: statuses, attempt outcomes, stages, and the problems the app
itself records (stored in English, shown in the reader's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from grants.applications.audit_text import value_words

# Problems recorded in Delivery.error / DeliveryAttempt.error (the English text is stored).
NO_MAIL_SERVER = "MAIL_SERVER is not set: nothing was sent."
BAD_ADDRESS = "The submission address is not one valid email address."
NO_ADDRESS = "Neither the call nor the funder has a submission address."
BAD_FORMAT = "The funder's subject format is not valid."
PDF_NOT_READY = "The final PDF is not ready yet."
WITHDRAWN = "The submission was withdrawn before it was sent."
TOO_MANY = "Too many temporary failures: no more attempts."
WORKER_STOPPED = "The worker stopped while sending; the email may have been sent."
UNREADABLE_ANSWER = "The server's answer to the message could not be read."

KNOWN_ERRORS = {
    NO_MAIL_SERVER: _l("MAIL_SERVER is not set: nothing was sent."),
    BAD_ADDRESS: _l("The submission address is not one valid email address."),
    NO_ADDRESS: _l("Neither the call nor the funder has a submission address."),
    BAD_FORMAT: _l("The funder's subject format is not valid."),
    PDF_NOT_READY: _l("The final PDF is not ready yet."),
    WITHDRAWN: _l("The submission was withdrawn before it was sent."),
    TOO_MANY: _l("Too many temporary failures: no more attempts."),
    WORKER_STOPPED: _l("The worker stopped while sending; the email may have been sent."),
    UNREADABLE_ANSWER: _l("The server's answer to the message could not be read."),
}

STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "retry": _l("Will try again"),
    "failed": _l("Not delivered"),
    "uncertain": _l("Uncertain – check with the funder"),
    "cancelled": _l("Cancelled"),
    "awaiting_receipt": _l("Waiting for the funder's receipt"),
    "confirmed": _l("Submitted in the portal"),
}
CHANNEL_LABELS = {"email": _l("By email"), "portal": _l("In the funder's portal")}
OUTCOME_LABELS = {
    "sending": _l("In progress"),
    "sent": _l("Accepted by the server"),
    "temporary_failure": _l("Temporary failure"),
    "permanent_failure": _l("Refused"),
    "uncertain": _l("Uncertain"),
    "cancelled": _l("Cancelled"),
}
STAGE_LABELS = {
    "connect": _l("connecting"),
    "ehlo": _l("greeting"),
    "starttls": _l("starting encryption"),
    "auth": _l("logging in"),
    "mail": _l("sender"),
    "rcpt": _l("recipient"),
    "data": _l("before the message"),
    "message": _l("after the message was sent"),
}


def error_text(error: str) -> str:
    return str(KNOWN_ERRORS.get(error, error))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def outcome_label(outcome: str) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome))


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


# The audit log names a delivery's status and channel in words (grants.applications.audit_text).
value_words("delivery", "status")(status_label)
value_words("delivery", "channel")(channel_label)
