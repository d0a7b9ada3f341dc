"""Submissions of an application: the dossier, the snapshot, and recording the funder's
decision. Load (404 alike for missing and not yours) → check → one operation."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.applications.operations import record_download
from grants.applications.page import (
    attachment_of_record,
    job_documents,
    load_application_page,
    page_form,
    render_application_page,
)
from grants.applications.queries import load_answers
from grants.applications.workspace import own_form_transitions
from grants.db import db
from grants.documents.models import Document
from grants.documents.signatures import SignatureStatus
from grants.documents.uploads import content_disposition
from grants.errors import FieldsRefused, OperationRefused
from grants.formengine.fields import hidden_number
from grants.jobs.models import Job
from grants.processes import form_for
from grants.submissions import operations
from grants.submissions.archive import dossier_zip, snapshot_json
from grants.submissions.forms import DecisionForm
from grants.submissions.models import FunderDecision, Submission

bp = Blueprint("submissions", __name__, url_prefix="/applications")

ARCHIVE_ROLES = {"lead", "coordinator"}


def _submission(application, roles, number: int) -> Submission:
    if not ARCHIVE_ROLES & roles:
        abort(404)
    submission = db.session.scalar(select(Submission).where(
        Submission.application_id == application.id, Submission.number == number))
    if submission is None:
        abort(404)
    return submission


@bp.get("/<int:application_id>/submissions/<int:number>/dossier.zip")
def dossier(application_id: int, number: int):
    application, roles, _workflow, _form = load_application_page(application_id)
    submission = _submission(application, roles, number)
    if submission.final_document_id is None:
        flash(_("The archival PDF of this submission is still being made. Try again in a "
                "moment."), "info")
        return redirect(url_for("applications.decision", application_id=application.id,
                                _anchor="submissions"), 303)
    content, _manifest = dossier_zip(submission)
    record_download(application=application, actor=current_user, what="dossier",
                    details={"submission": number, "sha256": submission.sha256})
    response = Response(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(
        f"ansokan-{application.id}-{number}-akt.zip")
    return response


@bp.get("/<int:application_id>/submissions/<int:number>/snapshot.json")
def snapshot(application_id: int, number: int):
    application, roles, _workflow, _form = load_application_page(application_id)
    submission = _submission(application, roles, number)
    record_download(application=application, actor=current_user, what="snapshot",
                    details={"submission": number, "sha256": submission.sha256})
    response = Response(snapshot_json(submission.snapshot), mimetype="application/json")
    response.headers["Content-Disposition"] = content_disposition(
        f"ansokan-{application.id}-{number}.json")
    return response


@bp.post("/<int:application_id>/decision")
def decision(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    form = DecisionForm().offer(operations.decision_transitions(workflow, application.state,
                                                                roles))
    if not form.validate_on_submit():
        return render_application_page(application, roles, workflow, form_def, tab="decision",
                                       status=422, forms={"decision_form": form})
    expected = hidden_number(form.state_version, -1)
    try:
        operations.record_decision(
            application=application, roles=roles, actor=current_user, workflow=workflow,
            form=form_def, outcome=form.outcome.data, granted_amount=form.granted_amount.data,
            paid_amount=form.paid_amount.data, project_start=form.project_start.data,
            project_end=form.project_end.data, conditions=form.conditions.data or "",
            comment=form.comment.data or "", decision_date=form.decision_date.data,
            funder_reference=form.funder_reference.data, letter=form.letter.data,
            expected_state_version=expected)
    except FieldsRefused as refused:
        for name, errors in refused.field_errors.items():
            if name in form:
                form[name].errors = list(errors)
        form.form_errors.append(refused.message)
        return render_application_page(application, roles, workflow, form_def, tab="decision",
                                       status=422, forms={"decision_form": form})
    except OperationRefused as refused:
        flash(refused.message, "error")
        for detail in refused.details:
            flash(detail, "error-detail")
        return redirect(url_for("applications.decision", application_id=application.id,
                                _anchor="submissions"), 303)
    flash(_("The funder's decision is recorded."), "success")
    return redirect(url_for("applications.decision", application_id=application.id,
                            _anchor="submissions"), 303)


@job_documents("render_submission")
def _archival_documents(job: Job) -> list[tuple[int, str]]:
    """The archival job makes two documents: the PDF/A and the reading copy."""
    submission = db.session.get(Submission, job.payload.get("submission_id"))
    if submission is None or not submission.reading_document_id:
        return []
    return [(submission.final_document_id, _("Archival PDF (PDF/A)")),
            (submission.reading_document_id, _("Reading copy with attachments"))]


@attachment_of_record
def _submitted_attachment(attachment) -> bool:
    """An upload a frozen submission names (by id and SHA-256), or the funder's decision
    letter."""
    if db.session.scalar(select(FunderDecision.id).where(
            FunderDecision.letter_attachment_id == attachment.id)) is not None:
        return True
    return any(a.get("attachment_id") == attachment.id and a.get("sha256") == attachment.sha256
               for submission in operations.submissions_of(attachment.application_id)
               for a in submission.snapshot.get("attachments", []))


@own_form_transitions
def _decision_transitions(workflow, state: str, roles: set[str]) -> set[str]:
    """Recording the funder's decision has its own form (amount, date, reference, letter)."""
    return {t.name for t in operations.decision_transitions(workflow, state, roles).values()}


def _project_dates(application, form_def) -> dict:
    """The project period the application stated (its fields that state the budget's first
    and last year, `mirrors:`), to start the decision form with."""
    if form_def is None:
        return {}
    facts = {"budget.first_year": "project_start", "budget.last_year": "project_end"}
    found = {}
    answers = None
    for section in form_def.sections:
        for form_field in section.fields:
            name = facts.get(form_field.mirrors.fact) if form_field.mirrors else None
            if name and section.part == "common":
                if answers is None:
                    answers = load_answers(application.id)
                value = (answers.get(section.key) or {}).get(form_field.id)
                try:
                    found[name] = date.fromisoformat(str(value)) if value else None
                except ValueError:
                    continue
    return {k: v for k, v in found.items() if v}


@bp.app_template_global("submissions_panel")
def submissions_panel(application, roles, workflow) -> dict | None:
    """What the application page shows about submissions and the funder's decision (None:
    nothing to show); after a refused decision form, that form with its errors."""
    decision_form = page_form("decision_form")
    submissions = operations.submissions_of(application.id)
    decisions = operations.decisions_of(application.id)
    current = next((s for s in submissions if s.counts), None)
    recorded = operations.current_decision(application.id) if current else (
        decisions[0] if decisions else None)
    offered = operations.decision_transitions(workflow, application.state, roles)
    may_decide = current is not None and bool(offered) and (
        recorded is None or recorded.submission_id not in (current.id, None))
    if not submissions and recorded is None:
        return None
    if may_decide and decision_form is None:
        dates = _project_dates(application, form_for(application))
        decision_form = DecisionForm(state_version=application.state_version,
                                     **dates).offer(offered)
    jobs = {}
    for job in db.session.scalars(select(Job).where(
            Job.application_id == application.id, Job.kind == "render_submission")):
        jobs[job.payload.get("submission_id")] = job
    final_ids = [s.final_document_id for s in submissions if s.final_document_id]
    seals = {document_id: SignatureStatus.from_dict(signature) for document_id, signature in
             db.session.execute(select(Document.id, Document.signature).where(
                 Document.id.in_(final_ids)))} if final_ids else {}
    return {"submissions": submissions, "decision": recorded, "decisions": decisions,
            "jobs": jobs, "seals": seals, "offered": set(offered),
            "decision_form": decision_form if may_decide else None,
            "archive": bool(ARCHIVE_ROLES & roles)}
