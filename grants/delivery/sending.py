"""The `deliver_submission` job: one attempt at emailing a submission to the funder.

Exactly once: the job first claims the delivery row with a conditional UPDATE (pending or a due
retry → sending, attempts + 1) and commits *before* it talks to the SMTP server, so a second run
of the job – or a second worker running it at the same moment – finds nothing to claim.

Temporary failures are tried again with backoff (1, 5, 15, 60, 240 minutes; 6 attempts, then
failed): RQ's scheduler runs the same job row again at `next_attempt_at`, and the sweeper
pushes a due retry whose scheduled RQ job was lost. An *uncertain* delivery (the connection
broke after the message was sent) is never tried again automatically: a coordinator decides."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from grants.accounts.models import User
from grants.applications.models import Application
from grants.audit import audit
from grants.db import db, utcnow
from grants.delivery import labels as texts
from grants.delivery import smtp
from grants.delivery.models import MAX_ATTEMPTS, Delivery, DeliveryAttempt
from grants.delivery.subject import one_line
from grants.documents.models import Document
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import (
    ALIVE,
    push_now,
    rq_job_status,
    schedule_after_commit,
    schedule_at,
)
from grants.jobs.runner import app_context, handler, run_job
from grants.jobs.sweeper import register_sweeper
from grants.notifications.mail import smtp_settings
from grants.notifications.notify import notify
from grants.submissions.models import Submission

logger = logging.getLogger(__name__)

JOB_KIND = "deliver_submission"
RETRY_FUNCTION = "grants.delivery.sending.run_delivery"
# Wait after the 1st, 2nd, … temporary failure of a round.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1), timedelta(hours=4))
# A retry run this much before its time (clocks of two machines) still counts as due.
DUE_TOLERANCE = timedelta(seconds=5)


def mail_timeout() -> float:
    return float(current_app.config.get("MAIL_TIMEOUT") or os.environ.get("MAIL_TIMEOUT") or 30)


def retry_delay(attempt_in_round: int) -> timedelta:
    return RETRY_DELAYS[min(max(attempt_in_round, 1), len(RETRY_DELAYS)) - 1]


def delivery_rq_id(app: Flask, delivery_id: int, attempts: int) -> str:
    """The RQ id of the retry after attempt `attempts` (unique per attempt, so a retry that
    is running can schedule the next one)."""
    return f"{app.config['RQ_QUEUE_PREFIX']}-delivery-{delivery_id}-{attempts}"


@handler(JOB_KIND)
def deliver_submission_job(job: Job) -> None:
    attempt_delivery(job.payload["delivery_id"])


def run_delivery(job_id: int) -> str:
    """Entry point RQ's scheduler (and the sweeper) calls for a retry: the same job row runs
    again. Opens an app context when the worker has none."""
    with app_context():
        return _run_again(job_id)


def _run_again(job_id: int) -> str:
    """Reopen the finished job row and run it. Its `attempts` (the job runner's count of starts
    that never finished, grants.jobs.runner.MAX_ATTEMPTS) starts afresh for the new run; the
    delivery row counts the delivery attempts."""
    db.session.execute(
        update(Job).where(Job.id == job_id, Job.kind == JOB_KIND,
                          Job.status.in_([JobStatus.done, JobStatus.failed]))
        .values(status=JobStatus.queued, attempts=0, error=None, finished_at=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return run_job(job_id)


# --- one attempt ------------------------------------------------------------------------------
def attempt_delivery(delivery_id: int) -> str:
    """Claim, send, record. Returns the outcome, or "skipped" when there was nothing to claim
    (already sent, being sent, uncertain, not due yet)."""
    now = utcnow()
    claimed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.channel == "email",
               Delivery.status.in_(["pending", "retry"]),
               or_(Delivery.next_attempt_at.is_(None),
                   Delivery.next_attempt_at <= now + DUE_TOLERANCE))
        .values(status="sending", attempts=Delivery.attempts + 1, last_attempt_at=now,
                next_attempt_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        logger.info("delivery %s: nothing to claim (sent, being sent, settled or not due)",
                    delivery_id)
        return "skipped"
    delivery = db.session.get(Delivery, delivery_id)
    db.session.refresh(delivery)
    number = (db.session.scalar(select(func.max(DeliveryAttempt.number)).where(
        DeliveryAttempt.delivery_id == delivery_id)) or 0) + 1
    attempt = DeliveryAttempt(delivery_id=delivery_id, number=number, started_at=now,
                              outcome="sending")
    db.session.add(attempt)
    db.session.commit()  # claimed before a byte goes to the SMTP server
    claimed_attempts = delivery.attempts

    submission = db.session.get(Submission, delivery.submission_id)
    if submission is None or submission.status != "current":
        outcome = smtp.Outcome(smtp.CANCELLED, error=texts.WITHDRAWN)
    else:
        outcome = _send(delivery, submission)
    db.session.refresh(delivery)
    if delivery.status != "sending" or delivery.attempts != claimed_attempts:
        # Settled meanwhile (the sweeper took this attempt for lost): keep that decision.
        _finish_attempt(attempt, outcome)
        db.session.commit()
        return "superseded"
    record_outcome(delivery, attempt, outcome)
    db.session.commit()
    logger.info("delivery %s attempt %s: %s %s %s", delivery_id, number, outcome.result,
                outcome.code or "", outcome.error)
    return outcome.result


def _send(delivery: Delivery, submission: Submission) -> smtp.Outcome:
    settings = smtp_settings()
    if not settings["server"]:
        return smtp.Outcome(smtp.PERMANENT, error=texts.NO_MAIL_SERVER)
    if not smtp.is_single_address(delivery.recipient):
        return smtp.Outcome(smtp.PERMANENT, error=texts.BAD_ADDRESS)
    if submission.final_document_id is None:
        return smtp.Outcome(smtp.TEMPORARY, error=texts.PDF_NOT_READY)
    try:
        message = compose(delivery, submission, settings["sender"])
    except (ValueError, TypeError, LookupError) as exc:
        logger.exception("delivery %s: the email could not be made", delivery.id)
        return smtp.Outcome(smtp.PERMANENT, error=f"The email could not be made: {exc}")
    recipient = delivery.recipient
    db.session.commit()  # no transaction stays open while the SMTP server takes its time
    outcome = smtp.send(message, settings=settings, recipient=recipient,
                        timeout=mail_timeout())
    outcome.message_id = str(message["Message-ID"])
    return outcome


def compose(delivery: Delivery, submission: Submission, sender: str):
    document = db.session.get(Document, submission.final_document_id)
    if document is None:
        raise LookupError("the final PDF is missing")
    application = db.session.get(Application, submission.application_id)
    values = {key: one_line(value) if isinstance(value, str) else value
              for key, value in submission_values(submission, application).items()}
    with force_locale(values["language"]):
        body = _("Hello,\n\nPlease find attached the application “%(title)s” from "
                 "%(organisation)s to the call “%(call)s” (%(funder)s).\n\n"
                 "Our reference: %(reference)s\nSubmission number: %(number)s\n"
                 "Project lead: %(lead)s\nSHA-256 of the submitted version: %(sha256)s\n\n"
                 "The attached PDF is the copy of record; the SHA-256 fingerprint identifies "
                 "exactly what was submitted.\n\nThis email was sent by Grants on behalf of "
                 "%(organisation)s.\n", title=values["title"],
                 organisation=values["organisation"], call=values["call"],
                 funder=values["funder"], reference=values["reference"],
                 number=values["number"], lead=values["lead"], sha256=submission.sha256)
    return smtp.build_message(sender=sender, sender_name=values["organisation"],
                              recipient=delivery.recipient, subject=delivery.subject, body=body,
                              pdf=document.content, filename=document.filename,
                              reply_to=values["lead_email"])


def submission_values(submission: Submission, application: Application | None = None) -> dict:
    """What the subject and the body say, from the frozen snapshot (live rows as fallback)."""
    application = application or db.session.get(Application, submission.application_id)
    snapshot = submission.snapshot or {}
    app_data = snapshot.get("application") or {}
    call_data = snapshot.get("call") or {}
    lead = app_data.get("project_lead") or {}
    funder = call_data.get("funder") or {}
    language = app_data.get("language") or application.language or "sv"
    return {
        "document": _document_name(snapshot.get("document"), language),
        "title": app_data.get("title") or application.title,
        "organisation": (app_data.get("lead_organisation") or {}).get("name")
        or application.lead_organisation.name,
        "call": call_data.get("title") or application.call.title,
        "funder": funder.get("name") or application.call.funder.name,
        "reference": (snapshot.get("submission") or {}).get("reference")
        or f"{application.id}-{submission.number}",
        "number": submission.number,
        "lead": lead.get("name") or application.lead_user.name,
        "lead_email": lead.get("email") or application.lead_user.email,
        "language": language,
    }


def _document_name(document: dict | None, language: str) -> str:
    """What is sent, in the document's language: "Ansökan" for an application, else its kind's
    label ("Lägesrapport 2")."""
    if not document:
        return "Application" if language.startswith("en") else "Ansökan"
    label = (document.get("label") or {}).get("en" if language.startswith("en") else "sv", "")
    return f"{label} {document['sequence']}" if document.get("sequence") else label


# --- what an attempt leads to -------------------------------------------------------------------
def _finish_attempt(attempt: DeliveryAttempt, outcome: smtp.Outcome) -> None:
    attempt.finished_at = utcnow()
    attempt.outcome = outcome.result
    attempt.stage = outcome.stage
    attempt.smtp_code = outcome.code
    attempt.smtp_response = (outcome.response or "")[:2000]
    attempt.error = (outcome.error or "")[:2000]


def record_outcome(delivery: Delivery, attempt: DeliveryAttempt, outcome: smtp.Outcome) -> None:
    """The delivery's new status, the attempt's result, notifications and the audit trail; in
    the caller's transaction."""
    _finish_attempt(attempt, outcome)
    now = attempt.finished_at
    delivery.smtp_code = outcome.code
    delivery.smtp_response = (outcome.response or "")[:2000]
    delivery.error = (outcome.error or "")[:2000]
    if outcome.message_id:
        delivery.message_id = outcome.message_id[:255]
    result = outcome.result
    if result == smtp.SENT:
        delivery.status, delivery.sent_at = "sent", now
        audit_delivery(delivery, "delivery.sent")
        notify_sent(delivery)
    elif result == smtp.TEMPORARY and delivery.attempts_this_round < MAX_ATTEMPTS:
        delivery.status = "retry"
        delivery.next_attempt_at = now + retry_delay(delivery.attempts_this_round)
        schedule_after_commit(db.session(), delivery.next_attempt_at, RETRY_FUNCTION,
                              delivery.job_id,
                              rq_id=delivery_rq_id(current_app, delivery.id, delivery.attempts))
    elif result in (smtp.TEMPORARY, smtp.PERMANENT):
        delivery.status = "failed"
        if result == smtp.TEMPORARY:
            delivery.error = texts.TOO_MANY
        audit_delivery(delivery, "delivery.failed")
        notify_trouble(delivery, "delivery_failed")
    elif result == smtp.UNCERTAIN:
        delivery.status = "uncertain"
        audit_delivery(delivery, "delivery.uncertain")
        notify_trouble(delivery, "delivery_uncertain")
    else:  # cancelled
        delivery.status = "cancelled"


def audit_delivery(delivery: Delivery, action: str, actor: User | None = None,
                   before: dict | None = None) -> None:
    audit(
        actor_id=actor.id if actor else None, action=action, object_type="delivery",
        object_id=delivery.id, before=before,
        after={"application_id": delivery.application_id,
               "submission_id": delivery.submission_id, "channel": delivery.channel,
               "status": delivery.status, "recipient": delivery.recipient,
               "attempts": delivery.attempts, "smtp_code": delivery.smtp_code,
               "message_id": delivery.message_id, "funder_reference": delivery.funder_reference,
               "resolution": delivery.resolution})


def coordinators() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_coordinator.is_(True),
                                                      User.is_active_account.is_(True))))


def notify_sent(delivery: Delivery) -> None:
    application = db.session.get(Application, delivery.application_id)

    def build():
        return (_("Sent to the funder: %(title)s", title=application.title),
                _("The application “%(title)s” was emailed to %(address)s, and the funder's "
                  "mail server accepted it. The delivery log on the application page shows "
                  "the server's answer.", title=application.title, address=delivery.recipient))
    notify([application.lead_user], "delivery_sent", build, application_id=application.id,
           endpoint="applications.show")


def notify_trouble(delivery: Delivery, kind: str) -> None:
    application = db.session.get(Application, delivery.application_id)

    def build():
        if kind == "delivery_uncertain":
            return (_("Check with the funder: %(title)s may not have arrived",
                      title=application.title),
                    _("The connection to the mail server broke after the application "
                      "“%(title)s” had been sent to %(address)s, so the funder may or may not "
                      "have received it. It will not be sent again automatically. Check with "
                      "the funder's registry; a coordinator then records that it arrived or "
                      "sends it again.", title=application.title, address=delivery.recipient))
        return (_("Not delivered to the funder: %(title)s", title=application.title),
                _("The application “%(title)s” could not be emailed to the funder (%(address)s)."
                  " Reason: %(reason)s. A coordinator can send it again once the problem is "
                  "fixed.", title=application.title, address=delivery.recipient or "–",
                  reason=delivery.smtp_response or texts.error_text(delivery.error) or "–"))
    notify([application.lead_user, *coordinators()], kind, build,
           application_id=application.id, endpoint="applications.show")


# --- the sweeper's part -----------------------------------------------------------------------
@register_sweeper("deliveries", counts_jobs=True)
def sweep_deliveries(app: Flask, older_than: timedelta | None = None) -> list[int]:
    """Push again every retry whose scheduled RQ job is gone (at once when it is due, else
    scheduled for its time), and take a delivery stuck in "sending" (its worker died) for
    uncertain. Uncertain, failed and sent deliveries are never touched. Returns the job ids
    pushed or scheduled."""
    now = utcnow()
    pushed: list[int] = []
    for row in db.session.scalars(select(Delivery).where(
            Delivery.status == "retry", Delivery.job_id.is_not(None)).order_by(Delivery.id)):
        rq_id = delivery_rq_id(app, row.id, row.attempts)
        if rq_job_status(rq_id, app) in ALIVE:
            continue
        when = row.next_attempt_at or now
        if when <= now + DUE_TOLERANCE:
            ok = push_now(RETRY_FUNCTION, row.job_id, rq_id=rq_id, app=app)
        else:
            ok = schedule_at(when, RETRY_FUNCTION, row.job_id, rq_id=rq_id, app=app)
        if ok:
            pushed.append(row.job_id)
    _settle_lost_attempts(app, now)
    if pushed:
        logger.warning("sweeper pushed delivery retries (jobs %s)", pushed)
    return pushed



def _settle_lost_attempts(app: Flask, now) -> None:
    """A delivery still "sending" long after any attempt could have finished lost its worker
    mid-conversation: the funder may have the email, so it becomes uncertain."""
    limit = timedelta(seconds=app.config["JOB_TIMEOUT_SECONDS"]) + 2 * timedelta(
        seconds=mail_timeout())
    stale = db.session.scalars(select(Delivery).where(
        Delivery.status == "sending", Delivery.last_attempt_at < now - limit)).all()
    for row in stale:
        settled = db.session.execute(
            update(Delivery).where(Delivery.id == row.id, Delivery.status == "sending",
                                   Delivery.attempts == row.attempts)
            .values(status="uncertain", error=texts.WORKER_STOPPED)
            .execution_options(synchronize_session=False)).rowcount
        if not settled:
            db.session.rollback()
            continue
        db.session.refresh(row)
        for attempt in row.attempt_log:
            if attempt.outcome == "sending":
                _finish_attempt(attempt, smtp.Outcome(smtp.UNCERTAIN,
                                                      error=texts.WORKER_STOPPED))
        audit_delivery(row, "delivery.uncertain")
        notify_trouble(row, "delivery_uncertain")
        db.session.commit()
        logger.warning("delivery %s: its worker stopped while sending; now uncertain", row.id)

