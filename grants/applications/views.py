"""Application pages. Each view: load (404 for missing and not-yours) → check → one operation."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grants.applications import operations, queries
from grants.applications.forms import (
    FormMoveForm,
    MoveForm,
    NewApplicationForm,
    PreviewForm,
    TransitionForm,
)
from grants.applications.models import instance_key
from grants.applications.page import (
    ATTACHMENTS_OF_RECORD,
    JOB_DOCUMENTS,
    load_application_page,
    render_application_page,
)
from grants.applications.snapshot import build_snapshot, export_parts, fingerprint
from grants.calls.models import Call
from grants.db import db, utcnow
from grants.documents.models import Attachment, Document
from grants.documents.uploads import content_disposition
from grants.errors import FieldsRefused, OperationRefused, StaleEdit
from grants.formengine.builder import (
    form_data_from_values,
    relax_hidden_fields,
    section_form_class,
    values_from_form,
)
from grants.formengine.changes import compare_forms
from grants.formengine.fields import hidden_number
from grants.i18n import current_locale, format_time_local, pick_label
from grants.jobs.models import Job
from grants.organisations.models import Organisation
from grants.partners.models import ApplicationPartner
from grants.processes import form_version_number, get_form, get_workflow, sha256_text

bp = Blueprint("applications", __name__, url_prefix="/applications")

# Documents whose downloads are not audited: drafts anyone involved may make at any time.
DRAFT_KINDS = {"preview"}


@bp.route("/new", methods=["GET", "POST"])
def new():
    now = utcnow()
    calls = db.session.scalars(select(Call).where(Call.opens_at <= now, Call.deadline_at > now)
                               .order_by(Call.deadline_at)).all()
    organisations = sorted(current_user.organisations, key=lambda o: o.name)
    form = NewApplicationForm()
    form.call_id.choices = [SelectChoice(c.id, f"{c.funder.short_name}: {c.title}")
                            for c in calls]
    form.organisation_id.choices = [SelectChoice(o.id, o.name) for o in organisations]
    if request.method == "GET" and request.args.get("call", type=int):
        form.call_id.data = request.args.get("call", type=int)
    if form.validate_on_submit():
        call = db.session.get(Call, form.call_id.data)
        organisation = db.session.get(Organisation, form.organisation_id.data)
        workflow = get_workflow(call.workflow_name)
        form_def = get_form(call.form_name)
        if workflow is None or form_def is None:
            form.form_errors.append(_("This call's workflow or form is missing; a coordinator "
                                      "must fix the call."))
        else:
            try:
                application = operations.create_application(
                    actor=current_user, call=call, organisation=organisation,
                    title=form.title.data, language=form.language.data, workflow=workflow,
                    form=form_def)
            except OperationRefused as refused:
                form.form_errors.append(refused.message)
            else:
                flash(_("The application was created. Fill in the sections below."), "success")
                return redirect(url_for(".show", application_id=application.id), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("applications/new.html", form=form, calls=calls,
                           organisations=organisations), status


@bp.get("/<int:application_id>")
def show(application_id: int):
    """The workspace's overview: state, whose turn it is, your actions, the checklist."""
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_application_page(application, roles, workflow, form_def)


@bp.get("/<int:application_id>/sections")
def sections(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_application_page(application, roles, workflow, form_def, tab="sections")


@bp.get("/<int:application_id>/decision")
def decision(application_id: int):
    """The steering group's vote, the submissions and the funder's decision."""
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_application_page(application, roles, workflow, form_def, tab="decision")


@bp.get("/<int:application_id>/documents")
def documents(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_application_page(application, roles, workflow, form_def, tab="documents")


@bp.get("/<int:application_id>/history")
def history(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_application_page(application, roles, workflow, form_def, tab="history")


@bp.route("/<int:application_id>/sections/<section_key>", methods=["GET", "POST"],
          defaults={"partner_id": None})
@bp.route("/<int:application_id>/partners/<int:partner_id>/sections/<section_key>",
          methods=["GET", "POST"])
def edit_section(application_id: int, section_key: str, partner_id: int | None):
    application, roles, workflow, form_def = load_application_page(application_id)
    section = form_def.section(section_key)
    if section is None or (section.part == "partner_part") != (partner_id is not None):
        abort(404)
    partner = None
    if partner_id is not None:
        partner = db.session.get(ApplicationPartner, partner_id)
        if partner is None or partner.application_id != application.id or not partner.is_current:
            abort(404)
    if not queries.may_edit_section(application, roles, current_user, workflow, section,
                                       partner):
        state = workflow.state(application.state)
        flash(_("“%(section)s” cannot be edited by you while the application is in state "
                "“%(state)s”.", section=pick_label(section.title),
                state=pick_label(state.label) if state else application.state), "error")
        return redirect(url_for(".sections", application_id=application.id), 303)
    row = queries.section_answer(application.id, section.key, partner.id if partner else None)
    saved = row.data if row else {}
    locale = current_locale()
    FormClass = section_form_class(section, call_limit=application.call.max_chars_per_field,
                                   max_amount=application.call.max_requested_amount,
                                   locale=locale)
    if request.method == "POST":
        form = FormClass()
    else:
        form = FormClass(data={**form_data_from_values(section, saved),
                               "version": row.version if row else 0})
    answers = queries.load_answers(application.id)
    hidden = relax_hidden_fields(form, section, form_def, answers,
                                 instance_key(section.key, partner.id if partner else None))
    conflict = None
    extra_errors: dict[str, list[str]] = {}
    add_row = request.form.get("add_row") if request.method == "POST" else None
    if add_row and add_row in {f.id for f in section.fields if f.type == "table"}:
        # "Add a row" re-shows the form with one more row; nothing is saved yet.
        if len(form[add_row].entries) < form[add_row].max_entries:
            form[add_row].append_entry()
        return _render_section(application, section, form, form_def, workflow, saved, hidden,
                               None, {}, 200, partner)
    autosave = request.method == "POST" and request.headers.get("X-Autosave") == "1"
    if form.validate_on_submit():
        try:
            saved_row = operations.save_section(
                application=application, roles=roles, actor=current_user, workflow=workflow,
                form=form_def, section_key=section.key, values=values_from_form(section, form),
                expected_version=hidden_number(form.version, 0),
                remove_files=frozenset(request.form.getlist("remove_file")), partner=partner,
                hidden=frozenset(hidden))
        except StaleEdit as stale:
            if autosave:
                return jsonify({"saved": False, "conflict": True, "message": stale.message}), 409
            conflict = stale
            form.version.data = stale.current_version
            form.form_errors.append(stale.message)
        except FieldsRefused as refused:
            extra_errors = refused.field_errors
            form.form_errors.append(refused.message)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            if autosave:
                return jsonify({"saved": True, "version": saved_row.version,
                                "message": _("Draft saved at %(time)s.",
                                             time=format_time_local(utcnow()))})
            flash(_("“%(section)s” was saved.", section=pick_label(section.title)), "success")
            return _after_saving(application, form_def, section, partner)
    status = 409 if conflict else (422 if form.errors or form.form_errors or extra_errors
                                   else 200)
    if autosave:  # not saved: the text stays in the browser; the user sees why on Save
        return jsonify({"saved": False, "message": _("Not saved automatically: check the "
                                                     "marked fields, then press Save.")}), 422
    return _render_section(application, section, form, form_def, workflow, saved, hidden,
                           conflict, extra_errors, status, partner)


def _after_saving(application, form_def, section, partner):
    """Back to the section on the sections tab, or on to the next common section ("Save and
    continue")."""
    if request.form.get("next_section") and partner is None:
        keys = [s.key for s in form_def.sections if s.part != "partner_part"]
        index = keys.index(section.key)
        if index + 1 < len(keys):
            return redirect(url_for(".edit_section", application_id=application.id,
                                    section_key=keys[index + 1]), 303)
    key = instance_key(section.key, partner.id if partner else None).replace("@", "-")
    return redirect(url_for(".sections", application_id=application.id,
                            _anchor=f"section-{key}"), 303)


def _render_section(application, section, form, form_def, workflow, saved, hidden, conflict,
                    extra_errors, status, partner=None):
    key = instance_key(section.key, partner.id if partner else None)
    stated = queries.stated_answers(application.id, form_def, {key: saved},
                                    [partner] if partner else [])[key]
    return render_template("applications/section.html", application=application,
                           section=section, form=form, form_def=form_def, conflict=conflict,
                           workflow=workflow, saved=stated, hidden=hidden, partner=partner,
                           extra_errors=extra_errors), status


@bp.post("/<int:application_id>/transitions/<name>")
def transition(application_id: int, name: str):
    application, roles, workflow, form_def = load_application_page(application_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("The form could not be read. Nothing was changed; please try again."), "error")
        return redirect(url_for(".show", application_id=application.id), 303)
    expected = hidden_number(form.state_version, -1)
    try:
        record = operations.fire_transition(
            application=application, roles=roles, actor=current_user, workflow=workflow,
            form=form_def, name=name, comment=form.comment.data or "",
            expected_state_version=expected)
    except OperationRefused as refused:
        flash(refused.message, "error")
        for detail in refused.details:
            flash(detail, "error-detail")
        return redirect(url_for(".show", application_id=application.id), 303)
    label = pick_label(workflow.transitions[record.transition].label)
    target = workflow.state(record.to_state)
    flash(_("Done: “%(transition)s”. The application is now in state “%(state)s”.",
            transition=label, state=pick_label(target.label)), "success")
    return redirect(url_for(".show", application_id=application.id), 303)


@bp.post("/<int:application_id>/workflow-version")
def move_to_current_workflow(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    current = get_workflow(application.workflow_name)
    form = MoveForm()
    form.to_state.choices = [SelectChoice(s, s) for s in (current.states if current else {})]
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(".show", application_id=application.id), 303)
    expected = hidden_number(form.state_version, -1)
    try:
        operations.move_to_current_workflow(
            application=application, roles=roles, actor=current_user, current=current,
            to_state=form.to_state.data, comment=form.comment.data or "",
            expected_state_version=expected)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The application now follows version %(version)d of the workflow, in state "
                "“%(state)s”.", version=current.version,
                state=pick_label(current.states[form.to_state.data].label)), "success")
    return redirect(url_for(".show", application_id=application.id), 303)


@bp.route("/<int:application_id>/form-version", methods=["GET", "POST"])
def form_version(application_id: int):
    """A coordinator sees what moving the application onto the current version of its form
    adds and removes, and confirms the move."""
    application, roles, workflow, form_def = load_application_page(application_id)
    current = get_form(application.form_name)
    if "coordinator" not in roles or current is None:  # as for the copy of record: 404
        abort(404)
    form = FormMoveForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.move_to_current_form(
                application=application, roles=roles, actor=current_user, workflow=workflow,
                form=form_def, current=current,
                seen_version=(hidden_number(form.from_version, -1)
                              if form.from_version.data else None),
                seen_sha256=form.to_sha256.data or "", comment=form.comment.data or "")
        except OperationRefused as refused:
            flash(refused.message, "error")
            return redirect(url_for(".form_version", application_id=application.id), 303)
        flash(_("The application now uses version %(version)d of its form.",
                version=application.form_version), "success")
        return redirect(url_for(".show", application_id=application.id), 303)
    if request.method == "POST":
        status = 400
    form.from_version.data = "" if application.form_version is None \
        else str(application.form_version)
    form.to_sha256.data = sha256_text(current.source_text)
    partners = {str(p.id): p.organisation.name for p in queries.current_partners(application.id)}
    number = form_version_number(current)
    return render_template(
        "applications/form_version.html", application=application, form=form,
        changes=compare_forms(form_def, current, queries.load_answers(application.id)),
        pinned=application.form_version, current_number=number,
        up_to_date=number == application.form_version,
        closed=bool(workflow.state(application.state)
                    and workflow.state(application.state).terminal),
        partner_name=lambda key: partners.get(key.partition("@")[2], "")), status


@bp.post("/<int:application_id>/preview")
def preview(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    form = PreviewForm()
    if not form.validate_on_submit():
        abort(400)
    job = operations.request_preview(application=application, actor=current_user, form=form_def)
    if job.document_id:
        flash(_("The preview PDF is ready."), "success")
    else:
        flash(_("The preview PDF is being made. This page shows when it is ready."), "info")
    return redirect(url_for(".documents", application_id=application.id, _anchor="documents"),
                    303)


@bp.get("/<int:application_id>/jobs/<int:job_id>")
def job_status(application_id: int, job_id: int):
    application, *_rest = load_application_page(application_id)
    job = db.session.get(Job, job_id)
    if job is None or job.application_id != application.id:
        abort(404)
    return jsonify(job_status_data(application, job))


def job_status_data(application, job) -> dict:
    """What the page needs to update a job in place: its status in words and, once done,
    the links to what it made."""
    labels = {"queued": _("Queued"), "running": _("Rendering…"), "done": _("Done"),
              "failed": _("Failed")}
    links = []
    if job.document_id:
        def link(document_id, label):
            return {"url": url_for(".download", application_id=application.id,
                                   document_id=document_id), "label": label}
        documents = JOB_DOCUMENTS[job.kind](job) if job.kind in JOB_DOCUMENTS else None
        if documents:
            links = [link(document_id, label) for document_id, label in documents]
        else:
            links = [link(job.document_id, _("Download PDF"))]
    return {"id": job.id, "status": str(job.status),
            "status_label": labels.get(str(job.status), str(job.status)),
            "error": job.error, "links": links,
            "document_url": links[0]["url"] if links else None}


@bp.get("/<int:application_id>/export.json")
def export_json(application_id: int):
    """The application's content as JSON: the same snapshot the PDF is made from, and beside
    it what features add for this reader (`EXPORT_PARTS`: the comment threads they may see)."""
    application, roles, _workflow, form_def = load_application_page(application_id)
    snapshot = build_snapshot(application, form_def, queries.load_answers(application.id),
                              queries.current_partners(application.id))
    extra = export_parts(application, current_user, roles)
    body = json.dumps({**extra, "fingerprint": fingerprint(snapshot), "snapshot": snapshot},
                      ensure_ascii=False, indent=2, sort_keys=True)
    return _download(body.encode("utf-8"), "application/json",
                     f"ansokan-{application.id}.json")


@bp.get("/<int:application_id>/attachments/<int:attachment_id>")
def attachment(application_id: int, attachment_id: int):
    application, *_rest = load_application_page(application_id)
    stored = db.session.get(Attachment, attachment_id)
    if stored is None or stored.application_id != application.id:
        abort(404)
    if any(of_record(stored) for of_record in ATTACHMENTS_OF_RECORD):
        operations.record_download(application=application, actor=current_user,
                                   what="attachment", details={
                                       "attachment": stored.id, "field": stored.field_id,
                                       "filename": stored.filename, "sha256": stored.sha256})
    return _download(stored.content, stored.mime_type, stored.filename)


def _download(content: bytes, mime_type: str, filename: str) -> Response:
    """Always a download, never rendered inline: user files cannot run in our origin."""
    response = Response(content, mimetype=mime_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/<int:application_id>/documents/<int:document_id>")
def download(application_id: int, document_id: int):
    application, *_rest = load_application_page(application_id)
    document = db.session.get(Document, document_id)
    if document is None or document.application_id != application.id:
        abort(404)
    if document.kind not in DRAFT_KINDS:  # a document of record: who took a copy, and when
        operations.record_download(application=application, actor=current_user,
                                   what="document", details={
                                       "document": document.id, "kind": document.kind,
                                       "filename": document.filename,
                                       "sha256": document.sha256})
    return _download(document.content, document.mime_type, document.filename)
