"""Delivering a submission to the funder: starting it (inside the transaction that stored the
final PDF), the lead's record of a portal submission (the funder's receipt and reference), and a
coordinator's decision on a delivery whose outcome is uncertain. Sending itself is the job in
`grants.delivery.sending`."""

from __future__ import annotations

import hashlib
import logging

from flask_babel import gettext as _
from sqlalchemy import select, update

from grants.accounts.models import User
from grants.applications.models import Application
from grants.db import db, utcnow
from grants.delivery import labels as texts
from grants.delivery.models import MAX_ATTEMPTS, Delivery
from grants.delivery.sending import JOB_KIND, audit_delivery, notify_trouble, submission_values
from grants.delivery.smtp import is_single_address
from grants.delivery.subject import DEFAULT_SUBJECT_FORMAT, one_line, render_subject
from grants.documents.models import Attachment
from grants.documents.uploads import KIND_MIME, identify, safe_filename
from grants.errors import FieldsRefused, OperationRefused
from grants.jobs.models import Job
from grants.jobs.runner import enqueue_job
from grants.notifications.notify import notify
from grants.submissions.models import Submission

logger = logging.getLogger(__name__)

LOG_ROLES = frozenset({"lead", "coordinator"})
DECISIONS = ("sent", "resend")


def submission_address(application: Application) -> str:
    """Where the email goes: the call's own submission address, else the funder's."""
    call = application.call
    return (call.submission_email or call.funder.submission_email or "").strip()


def email_subject(submission: Submission, application: Application) -> str:
    """The subject in the funder's format (ValueError for a format with problems)."""
    values = submission_values(submission, application)
    return render_subject(application.call.funder.email_subject_format
                          or DEFAULT_SUBJECT_FORMAT, values)


def _email_settings(submission: Submission, application: Application) -> tuple[str, str, str]:
    """(recipient, subject, problem): problem is "" when the email can be sent."""
    recipient = submission_address(application)
    try:
        subject = email_subject(submission, application)
    except ValueError:
        return recipient, "", texts.BAD_FORMAT
    if not recipient:
        return recipient, subject, texts.NO_ADDRESS
    if not is_single_address(recipient):
        return recipient, subject, texts.BAD_ADDRESS
    return recipient, subject, ""


def _new_job(delivery: Delivery, submission: Submission) -> Job:
    job = Job(kind=JOB_KIND, payload={"delivery_id": delivery.id,
                                      "submission_id": submission.id,
                                      "application_id": submission.application_id})
    db.session.add(job)
    db.session.flush()
    delivery.job_id = job.id
    enqueue_job(job)
    return job


def start_delivery(submission: Submission) -> Delivery:
    """Start delivering `submission` by the funder's method, in the caller's transaction (no
    commit). Email: a pending delivery and its job, pushed after commit. Portal: a delivery
    awaiting the funder's receipt, and the lead is told to submit it in the portal.
    Idempotent: a submission that already has a delivery gets nothing new."""
    existing = db.session.scalar(select(Delivery).where(
        Delivery.submission_id == submission.id).order_by(Delivery.id).limit(1))
    if existing is not None:
        return existing
    application = db.session.get(Application, submission.application_id)
    funder = application.call.funder
    if (funder.delivery_method or "email") == "portal":
        delivery = Delivery(submission_id=submission.id, application_id=application.id,
                            channel="portal", status="awaiting_receipt",
                            recipient=funder.portal_url or "")
        db.session.add(delivery)
        db.session.flush()
        _notify_portal(application, delivery)
        return delivery
    recipient, subject, problem = _email_settings(submission, application)
    delivery = Delivery(submission_id=submission.id, application_id=application.id,
                        channel="email", status="pending", recipient=recipient[:500],
                        subject=subject)
    db.session.add(delivery)
    db.session.flush()
    if problem:
        delivery.status, delivery.error = "failed", problem
        audit_delivery(delivery, "delivery.failed")
        notify_trouble(delivery, "delivery_failed")
        logger.warning("submission %s cannot be emailed: %s", submission.id, problem)
    else:
        _new_job(delivery, submission)
    return delivery


def _notify_portal(application: Application, delivery: Delivery) -> None:
    funder = application.call.funder

    def build():
        subject = _("Submit in the funder's portal: %(title)s", title=application.title)
        body = _("%(funder)s receives applications through its own portal. Submit the final "
                 "PDF of “%(title)s” there, then upload the funder's receipt and enter its "
                 "reference number (diarienummer) on the application page.",
                 funder=funder.name, title=application.title)
        if delivery.recipient:
            body += "\n\n" + _("The funder's portal: %(url)s", url=delivery.recipient)
        return subject, body
    notify([application.lead_user], "delivery_portal", build, application_id=application.id,
           endpoint="applications.show")


def delivery_of(application: Application, delivery_id) -> Delivery | None:
    """The delivery with this id if it belongs to the application (None otherwise)."""
    try:
        delivery_id = int(delivery_id)
    except (TypeError, ValueError):
        return None
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.application_id != application.id:
        return None
    return delivery


# --- the portal: the funder's receipt and reference -------------------------------------------
def record_portal_receipt(*, application: Application, roles: set[str], actor: User,
                          delivery: Delivery, funder_reference: str, receipt) -> Delivery:
    """The lead (or a coordinator) submitted in the funder's portal: store the receipt (a PDF,
    checked by its content) and the funder's reference number; the delivery is confirmed. One
    transaction."""
    if not LOG_ROLES & set(roles):
        raise OperationRefused(_("Only the project lead or a coordinator can record the "
                                 "funder's receipt."))
    if delivery.application_id != application.id or delivery.channel != "portal":
        raise OperationRefused(_("This delivery does not belong to the application."))
    errors: dict[str, list[str]] = {}
    reference = one_line(funder_reference or "")
    if not reference:
        errors["funder_reference"] = [_("Enter the funder's reference number (diarienummer).")]
    elif len(reference) > 100:
        errors["funder_reference"] = [_("At most %(max)d characters.", max=100)]
    content = receipt.read() if receipt is not None and getattr(receipt, "filename", "") else b""
    if not content:
        errors["receipt"] = [_("Upload the funder's receipt (PDF).")]
    elif identify(content) != "pdf":
        errors["receipt"] = [_("The receipt must be a PDF (its content was checked, not its "
                               "name).")]
    if errors:
        raise FieldsRefused(_("Nothing was saved: check the fields marked below."),
                            field_errors=errors)
    attachment = Attachment(application_id=application.id, field_id="delivery_receipt",
                            filename=safe_filename(receipt.filename, "pdf"), kind="pdf",
                            mime_type=KIND_MIME["pdf"], size=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), content=content,
                            uploaded_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    before = {"status": delivery.status}
    confirmed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery.id,
                               Delivery.status == "awaiting_receipt")
        .values(status="confirmed", funder_reference=reference,
                receipt_attachment_id=attachment.id, confirmed_by_id=actor.id,
                confirmed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not confirmed:
        db.session.rollback()
        raise OperationRefused(_("The funder's receipt has already been recorded."))
    db.session.refresh(delivery)
    audit_delivery(delivery, "delivery.receipt", actor, before)
    db.session.commit()
    return delivery


# --- a coordinator settles an uncertain delivery -----------------------------------------------
def mark_uncertain_resolved(*, application: Application, roles: set[str], actor: User,
                            delivery: Delivery, decision: str, note: str) -> Delivery:
    """A coordinator's explicit decision on an uncertain delivery: "sent" (the funder confirmed
    it arrived) or "resend" (it did not: send it again; also for a failed delivery once its
    problem is fixed). Recorded on the delivery and in the audit log; one transaction."""
    if "coordinator" not in roles:
        raise OperationRefused(_("Only a coordinator can settle a delivery."))
    if delivery.application_id != application.id or delivery.channel != "email":
        raise OperationRefused(_("This delivery does not belong to the application."))
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = [_("Choose what happened.")]
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Say how you checked, e.g. who at the funder confirmed it.")]
    elif len(note) > 2000:
        errors["note"] = [_("At most %(max)d characters.", max=2000)]
    if errors:
        raise FieldsRefused(_("Nothing was saved: check the fields marked below."),
                            field_errors=errors)
    allowed = ["uncertain"] if decision == "sent" else ["uncertain", "failed"]
    if decision == "sent" and delivery.status == "failed":
        raise OperationRefused(_("A delivery that failed cannot be marked as sent; send it "
                                 "again once the problem is fixed."))
    if delivery.status not in allowed:
        raise OperationRefused(_("This delivery is not waiting for a decision any more. "
                                 "Reload the page."))
    now = utcnow()
    before = {"status": delivery.status, "recipient": delivery.recipient,
              "subject": delivery.subject}
    values = {"resolution": decision, "resolution_note": note, "resolved_by_id": actor.id,
              "resolved_at": now}
    job = None
    if decision == "sent":
        values.update(status="sent", sent_at=delivery.last_attempt_at or now)
    else:
        submission = db.session.get(Submission, delivery.submission_id)
        if submission is None or submission.status != "current":
            raise OperationRefused(_("This submission has been withdrawn; it is not sent "
                                     "again."))
        recipient, subject, problem = _email_settings(submission, application)
        if problem:
            raise OperationRefused(_("It cannot be sent: %(problem)s",
                                     problem=texts.error_text(problem)))
        job = _new_job(delivery, submission)
        values.update(status="pending", next_attempt_at=None, error="", recipient=recipient,
                      subject=subject, attempt_limit=Delivery.attempts + MAX_ATTEMPTS,
                      job_id=job.id)
    settled = db.session.execute(
        update(Delivery).where(Delivery.id == delivery.id, Delivery.status.in_(allowed))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if not settled:
        db.session.rollback()
        raise OperationRefused(_("This delivery is not waiting for a decision any more. "
                                 "Reload the page."))
    db.session.refresh(delivery)
    audit_delivery(delivery, "delivery.resolve", actor, before)
    db.session.commit()
    return delivery
