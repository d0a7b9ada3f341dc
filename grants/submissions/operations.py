"""Submitting (freezing the copy of record), withdrawing a submission to resubmit, and
recording the funder's decision. Freezing and withdrawing run inside the transition's
transaction (they are workflow effects); recording a decision is one transaction."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.operations import fire_transition
from grants.applications.snapshot import build_snapshot, fingerprint, record_parts
from grants.db import db, utcnow
from grants.documents.models import Attachment
from grants.documents.uploads import KIND_MIME, identify, safe_filename
from grants.errors import FieldsRefused, OperationRefused
from grants.jobs.models import Job
from grants.jobs.runner import enqueue_job
from grants.submissions.models import FunderDecision, Submission, SubmissionDocument
from grants.workflow.definition import Transition, Workflow
from grants.workflow.engine import available_transitions

logger = logging.getLogger(__name__)

SUBMISSION_SCHEMA = 1


def current_submission(application_id: int) -> Submission | None:
    """The submission that counts: the latest one not withdrawn."""
    return db.session.scalar(select(Submission).where(
        Submission.application_id == application_id, Submission.status == "current")
        .order_by(Submission.number.desc()).limit(1))


def submissions_of(application_id: int) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(
        Submission.application_id == application_id).order_by(Submission.number.desc())))


def submission_snapshot(application: Application, form, answers: dict, partners: list, *,
                        number: int, submitted_at, actor: User) -> dict[str, Any]:
    """Everything the funder receives and the registry keeps, as plain canonical data."""
    snapshot = build_snapshot(application, form, answers, partners)
    snapshot["content_fingerprint"] = fingerprint(snapshot)
    snapshot["submission"] = {"schema": SUBMISSION_SCHEMA, "number": number,
                              "submitted_at": submitted_at.isoformat(),
                              "submitted_by": {"name": actor.name, "email": actor.email},
                              "reference": f"{application.id}-{number}"}
    # The steering group's decided rounds ("approvals") and the partners' confirmations
    # ("confirmations"), contributed by those features.
    snapshot.update(record_parts(application, partners))
    return snapshot


# Render jobs whose documents go into the dossier, and what makes one the latest of its kind:
# the minutes of each decided round, the co-financing certificate of each partner.
RECORD_JOBS = {"render_minutes": "round_id", "render_certificate": "partner_id"}


def documents_of_record(application_id: int) -> list[tuple[str, str]]:
    """(kind, fingerprint) of the minutes and certificates that belong to a submission frozen
    now: the latest requested of each round and of each partner, rendered yet or not."""
    latest: dict[tuple[str, Any], tuple[str, str]] = {}
    for job in db.session.scalars(select(Job).where(
            Job.application_id == application_id, Job.kind.in_(RECORD_JOBS))
            .order_by(Job.id)):
        if job.fingerprint and job.payload.get("kind"):
            key = (job.kind, job.payload.get(RECORD_JOBS[job.kind]))
            latest[key] = (job.payload["kind"], job.fingerprint)
    return sorted(set(latest.values()))


def freeze_submission(ctx) -> Submission:
    """The `submitted` transition's effect: freeze the snapshot, record the render job of the
    archival PDF (enqueued after commit). Another submission still current is superseded."""
    application = ctx.application
    for previous in db.session.scalars(select(Submission).where(
            Submission.application_id == application.id, Submission.status == "current")):
        previous.status, previous.withdrawn_at = "withdrawn", utcnow()
        previous.withdrawn_reason = previous.withdrawn_reason or _("Superseded by a new "
                                                                   "submission.")
    number = (db.session.scalar(select(func.max(Submission.number)).where(
        Submission.application_id == application.id)) or 0) + 1
    now = utcnow()
    snapshot = submission_snapshot(application, ctx.form, ctx.answers, ctx.partners,
                                   number=number, submitted_at=now, actor=ctx.actor)
    submission = Submission(application_id=application.id, number=number, submitted_at=now,
                            submitted_by_id=ctx.actor.id, snapshot=snapshot,
                            sha256=fingerprint(snapshot),
                            requested_amount=snapshot["application"].get("requested_amount"))
    db.session.add(submission)
    db.session.flush()
    for kind, doc_fingerprint in documents_of_record(application.id):
        db.session.add(SubmissionDocument(submission_id=submission.id, kind=kind,
                                          fingerprint=doc_fingerprint,
                                          application_id=application.id))
    job = Job(kind="render_submission", application_id=application.id,
              requested_by_id=ctx.actor.id, payload={"kind": "final",
                                                     "submission_id": submission.id},
              fingerprint=submission.sha256)
    db.session.add(job)
    db.session.flush()
    enqueue_job(job)
    ctx.notes["final_job"] = job
    ctx.notes["submission"] = submission
    events.submission_frozen.send(submission=submission, application=application,
                                  actor=ctx.actor)
    logger.info("application %s: submission %s frozen (%s)", application.id, number,
                submission.sha256[:12])
    return submission


def withdraw_submission(ctx) -> None:
    """The effect of taking a submission back to resubmit: it stops counting (it is kept, with
    its PDF and delivery log)."""
    submission = current_submission(ctx.application.id)
    if submission is not None:
        submission.status, submission.withdrawn_at = "withdrawn", utcnow()
        submission.withdrawn_reason = ctx.comment


def budget_csv(snapshot: dict[str, Any]) -> str:
    """The budget and co-financing of a snapshot as CSV (semicolons, for Swedish Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["type", "organisation", "category_or_kind", "source", "year",
                     "description", "amount_sek"])
    for line in snapshot["budget"]["lines"]:
        writer.writerow(["cost", line["organisation"], line["category"], "", line["year"],
                         line["description"], line["amount"]])
    for item in snapshot["budget"]["cofinancing"]:
        writer.writerow(["cofinancing", item["organisation"], item["kind"], item["source"],
                         item["year"], item["description"], item["amount"]])
    return out.getvalue()


def comparison_csv(snapshot: dict[str, Any]) -> str | None:
    """Budget against actual of a snapshot as CSV (None: the document has no baseline)."""
    comparison = snapshot.get("comparison")
    if not comparison:
        return None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["organisation", "category", "year", "budget_sek", "earlier_sek",
                     "this_document_sek", "variance_sek"])
    for org in comparison["organisations"]:
        for row in org["rows"]:
            writer.writerow([org["name"], row["category"], row["year"], row["budget"],
                             row["earlier"], row["current"], row["variance"]])
        c = org["cofinancing"]
        writer.writerow([org["name"], "cofinancing", "", c["budget"], c["earlier"],
                         c["current"], c["variance"]])
    return out.getvalue()


# --- the funder's decision ---------------------------------------------------------------------
# A transition guarded by one of these records the funder's answer to a submission: it is
# fired by the decision form (date, reference, letter, and what the outcome needs), never by
# a bare button, whatever the workflow file calls it. Which outcomes a document can have is
# what its workflow offers from its state.
DECISION_GUARDS = {"granted": "grant_recorded", "rejected": "rejection_recorded",
                   "accepted": "acceptance_recorded", "returned": "return_recorded"}


def decision_transitions(workflow: Workflow, state: str, roles) -> dict[str, Transition]:
    """By outcome, the transitions out of `state` these roles may fire to record the funder's
    decision (empty: the application is not waiting for one, or not from these roles)."""
    found: dict[str, Transition] = {}
    for transition in available_transitions(workflow, state, roles):
        for outcome, guard in DECISION_GUARDS.items():
            if guard in transition.requires:
                found.setdefault(outcome, transition)
    return found


def current_decision(application_id: int) -> FunderDecision | None:
    """The funder's answer to the submission that counts (or, for a decision recorded before
    answers were kept per submission, the application's)."""
    submission = current_submission(application_id)
    decisions = list(db.session.scalars(select(FunderDecision).where(
        FunderDecision.application_id == application_id).order_by(FunderDecision.id.desc())))
    for decision in decisions:
        if submission is None or decision.submission_id in (submission.id, None):
            return decision
    return None


def decisions_of(application_id: int) -> list[FunderDecision]:
    """Every answer the funder gave, newest first (a returned report has several)."""
    return list(db.session.scalars(select(FunderDecision).where(
        FunderDecision.application_id == application_id).order_by(FunderDecision.id.desc())))


def record_decision(*, application: Application, roles: set[str], actor: User, workflow, form,
                    outcome: str, decision_date: date, funder_reference: str,
                    granted_amount: int | None = None, paid_amount: int | None = None,
                    project_start: date | None = None, project_end: date | None = None,
                    conditions: str = "", comment: str = "", letter=None,
                    expected_state_version: int) -> FunderDecision:
    """Record what the funder answered to the current submission and move the document on
    (granted / rejected, accepted / returned), in one transaction. A grant needs the amount
    and the project's period (it starts the project: `decision_recorded`); a return needs
    the funder's comment. The letter is checked by its content, like every upload."""
    offered = decision_transitions(workflow, application.state, roles)
    if outcome not in DECISION_GUARDS or (offered and outcome not in offered):
        raise FieldsRefused(_("Nothing was saved: choose the decision."),
                            field_errors={"outcome": [_("Choose one of the decisions "
                                                        "offered.")]})
    transition = offered.get(outcome)
    if transition is None:
        raise OperationRefused(_("The funder's decision cannot be recorded now: the "
                                 "application is not waiting for it, or you may not record "
                                 "it."))
    errors: dict[str, list[str]] = {}
    conditions, comment = (conditions or "").strip(), (comment or "").strip()
    if outcome == "granted":
        if granted_amount is None or granted_amount <= 0:
            errors["granted_amount"] = [_("Give the granted amount in kronor.")]
        if project_start is None:
            errors["project_start"] = [_("Give the first day of the project period.")]
        if project_end is None:
            errors["project_end"] = [_("Give the last day of the project period.")]
        elif project_start is not None and project_end <= project_start:
            errors["project_end"] = [_("The project must end after it starts (%(start)s).",
                                       start=project_start.isoformat())]
    if outcome == "returned" and not comment:
        errors["comment"] = [_("Say what the funder asks you to complete.")]
    if paid_amount is not None and paid_amount < 0:
        errors["paid_amount"] = [_("The amount paid cannot be negative.")]
    if decision_date > date.today():
        errors["decision_date"] = [_("The decision date cannot be in the future.")]
    attachment = None
    if letter is not None and getattr(letter, "filename", ""):
        content = letter.read()
        kind = identify(content)
        if kind != "pdf":
            errors["letter"] = [_("The decision letter must be a PDF (its content was "
                                  "checked, not its name).")]
        else:
            attachment = Attachment(application_id=application.id, field_id="decision_letter",
                                    filename=safe_filename(letter.filename, kind), kind=kind,
                                    mime_type=KIND_MIME[kind], size=len(content),
                                    sha256=hashlib.sha256(content).hexdigest(),
                                    content=content, uploaded_by_id=actor.id)
    if errors:
        raise FieldsRefused(_("Nothing was saved: check the fields marked below."),
                            field_errors=errors)
    submission = current_submission(application.id)
    if db.session.scalar(select(FunderDecision).where(
            FunderDecision.application_id == application.id,
            FunderDecision.submission_id == (submission.id if submission else None))
            ) is not None:
        raise OperationRefused(_("The funder's decision has already been recorded."))
    if attachment is not None:
        db.session.add(attachment)
        db.session.flush()
    granted = outcome == "granted"
    decision = FunderDecision(
        application_id=application.id, submission_id=submission.id if submission else None,
        outcome=outcome, granted_amount=granted_amount if granted else None,
        paid_amount=paid_amount if outcome == "accepted" else None,
        project_start=project_start if granted else None,
        project_end=project_end if granted else None,
        conditions=conditions[:4000] if granted else "", comment=comment[:4000],
        decision_date=decision_date, funder_reference=(funder_reference or "").strip()[:100],
        letter_attachment_id=attachment.id if attachment else None, recorded_by_id=actor.id)
    db.session.add(decision)
    db.session.flush()
    text = _("Funder's decision of %(date)s, reference %(reference)s.",
             date=decision_date.isoformat(), reference=decision.funder_reference or "–")
    if comment:
        text = f"{text} {comment}"
    # What follows from the answer (a grant starts the project) joins this transaction.
    events.decision_recorded.send(application=application, decision=decision,
                                  submission=submission, actor=actor)
    # The transition commits the decision together with the state change, or nothing.
    fire_transition(application=application, roles=roles, actor=actor, workflow=workflow,
                    form=form, name=transition.name, comment=text,
                    expected_state_version=expected_state_version)
    return decision
