"""The coordinator's administration: funders, calls, organisations, users, steering groups,
form previews and the audit log. Every page is for coordinators only."""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grants.accounts.models import User
from grants.admin import operations, previews
from grants.admin.forms import (
    CallForm,
    FunderForm,
    InviteForm,
    OrganisationForm,
    SteeringGroupForm,
    UserForm,
)
from grants.applications.audit_text import describe_events
from grants.audit import AuditEvent
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.config import PROJECT_ROOT
from grants.db import db
from grants.documents.models import Document
from grants.documents.uploads import content_disposition
from grants.errors import OperationRefused
from grants.formengine.builder import section_form_class
from grants.i18n import current_locale, pick_label
from grants.jobs.models import Job
from grants.organisations.models import Organisation, OrganisationKind
from grants.processes import forms, get_form, plans, workflows
from grants.steering.models import SteeringGroup, SteeringMember

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def coordinators_only():
    if not current_user.is_authenticated or not current_user.is_coordinator:
        abort(403)


def _get(model, object_id):
    obj = db.session.get(model, object_id) if object_id is not None else None
    if object_id is not None and obj is None:
        abort(404)
    return obj


def _done(message: str, endpoint: str):
    flash(message, "success")
    return redirect(url_for(endpoint), 303)


def _edit_page(form, save, *, saved: str, back: str, title: str):
    """Every edit page of the administration: on a valid POST, `save()` (one operation); a
    refusal is shown above the form, success goes back to the list `back` with `saved`."""
    if form.validate_on_submit():
        try:
            save()
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            return _done(saved, back)
    return render_template("admin/edit.html", form=form, title=title,
                           back=url_for(back)), _status(form)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


@bp.get("/")
def index():
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(15)).all()
    return render_template("admin/index.html", events=events)


# --- funders -------------------------------------------------------------------------------
def _pdf_templates() -> list[SelectChoice]:
    root = PROJECT_ROOT / "templates" / "pdf"
    folders = sorted(p.name for p in root.iterdir() if (p / "application.html").exists())
    return [SelectChoice("", _("Default"))] + [SelectChoice(f, f) for f in folders]


@bp.get("/funders")
def funders():
    rows = db.session.scalars(select(Funder).order_by(Funder.name)).all()
    return render_template("admin/funders.html", funders=rows)


@bp.route("/funders/new", methods=["GET", "POST"], defaults={"funder_id": None})
@bp.route("/funders/<int:funder_id>", methods=["GET", "POST"])
def edit_funder(funder_id):
    funder = _get(Funder, funder_id)
    form = FunderForm(obj=funder)
    form.pdf_template.choices = _pdf_templates()
    return _edit_page(
        form, lambda: operations.save_funder(current_user, funder, form.data),
        saved=_("The funder was saved."), back="admin.funders",
        title=funder.name if funder else _("New funder"))


# --- calls ---------------------------------------------------------------------------------
@bp.get("/calls")
def calls():
    rows = db.session.scalars(select(Call).order_by(Call.deadline_at.desc())).all()
    return render_template("admin/calls.html", calls=rows, workflows=workflows(), forms=forms())


@bp.route("/calls/new", methods=["GET", "POST"], defaults={"call_id": None})
@bp.route("/calls/<int:call_id>", methods=["GET", "POST"])
def edit_call(call_id):
    call = _get(Call, call_id)
    form = CallForm(obj=call)
    if request.method == "GET" and call is not None:
        form.opens_at.data = call.opens_at.astimezone(STOCKHOLM).replace(tzinfo=None)
        form.deadline_at.data = call.deadline_at.astimezone(STOCKHOLM).replace(tzinfo=None)
        form.steering_group_id.data = call.steering_group_id or 0
    form.funder_id.choices = [SelectChoice(f.id, f.name) for f in db.session.scalars(
        select(Funder).order_by(Funder.name))]
    form.workflow_name.choices = [SelectChoice(w.name, pick_label(w.title))
                                  for w in sorted(workflows().values(), key=lambda w: w.name)]
    form.form_name.choices = [SelectChoice(f.name, pick_label(f.title))
                              for f in sorted(forms().values(), key=lambda f: f.name)]
    form.reporting_plan.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(p.name, pick_label(p.title))
        for p in sorted(plans().values(), key=lambda p: p.name)]
    form.steering_group_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(g.id, g.name) for g in db.session.scalars(
            select(SteeringGroup).order_by(SteeringGroup.name))]
    return _edit_page(
        form, lambda: operations.save_call(current_user, call, form.data),
        saved=_("The call was saved."), back="admin.calls",
        title=call.title if call else _("New call"))


# --- organisations -------------------------------------------------------------------------
@bp.get("/organisations")
def organisations():
    rows = db.session.scalars(select(Organisation).order_by(Organisation.county,
                                                            Organisation.name)).all()
    return render_template("admin/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"org_id": None})
@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
def edit_organisation(org_id):
    org = _get(Organisation, org_id)
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org is not None:
        form.kind.data = org.kind.value
    form.kind.choices = [SelectChoice(k.value, k.value) for k in OrganisationKind]
    return _edit_page(
        form, lambda: operations.save_organisation(current_user, org, form.data),
        saved=_("The organisation was saved."), back="admin.organisations",
        title=org.name if org else _("New organisation"))


# --- users ---------------------------------------------------------------------------------
def _organisation_choices():
    return [SelectChoice(o.id, f"{o.name} ({o.county})") for o in db.session.scalars(
        select(Organisation).order_by(Organisation.name))]


@bp.get("/users")
def users():
    rows = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/invite", methods=["GET", "POST"])
def invite_user():
    form = InviteForm()
    form.organisation_ids.choices = _organisation_choices()
    return _edit_page(
        form, lambda: operations.invite_user(
            current_user, email=form.email.data, name=form.name.data,
            organisation_ids=form.organisation_ids.data or [],
            is_coordinator=form.is_coordinator.data, locale=current_locale()),
        saved=_("The invitation was sent to %(email)s.", email=form.email.data),
        back="admin.users",
        title=_("Invite a user"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    user = _get(User, user_id)
    form = UserForm(obj=user)
    form.organisation_ids.choices = _organisation_choices()
    if request.method == "GET":
        form.organisation_ids.data = [o.id for o in user.organisations]
    return _edit_page(
        form, lambda: operations.update_user(
            current_user, user, organisation_ids=form.organisation_ids.data or [],
            is_coordinator=form.is_coordinator.data, is_active=form.is_active_account.data),
        saved=_("The user was saved."), back="admin.users",
        title=f"{user.name} ({user.email})")


# --- steering groups -----------------------------------------------------------------------
@bp.get("/steering-groups")
def steering_groups():
    groups = db.session.scalars(select(SteeringGroup).order_by(SteeringGroup.name)).all()
    members = db.session.scalars(select(SteeringMember)).all()
    by_group: dict[int, list] = {}
    for member in members:
        by_group.setdefault(member.group_id, []).append(member)
    return render_template("admin/steering_groups.html", groups=groups, by_group=by_group)


@bp.route("/steering-groups/new", methods=["GET", "POST"], defaults={"group_id": None})
@bp.route("/steering-groups/<int:group_id>", methods=["GET", "POST"])
def edit_steering_group(group_id):
    group = _get(SteeringGroup, group_id)
    form = SteeringGroupForm(obj=group)
    people = db.session.scalars(select(User).where(User.is_active_account.is_(True))
                                .order_by(User.name)).all()
    form.member_ids.choices = [SelectChoice(u.id, f"{u.name} – "
                                            f"{', '.join(o.name for o in u.organisations)}")
                               for u in people]
    form.chair_id.choices = [SelectChoice(0, _("None"))] + [SelectChoice(u.id, u.name)
                                                            for u in people]
    if request.method == "GET" and group is not None:
        current = db.session.scalars(select(SteeringMember).where(
            SteeringMember.group_id == group.id)).all()
        form.member_ids.data = [m.user_id for m in current]
        form.chair_id.data = next((m.user_id for m in current if m.is_chair), 0)
    return _edit_page(
        form, lambda: operations.save_steering_group(
            current_user, group, name=form.name.data, member_ids=form.member_ids.data or [],
            chair_id=form.chair_id.data or None),
        saved=_("The steering group was saved."), back="admin.steering_groups",
        title=group.name if group else _("New steering group"))


# --- forms: preview as an applicant sees them, and as PDF ----------------------------------
@bp.get("/forms/<name>")
def preview_form(name: str):
    form_def = get_form(name)
    if form_def is None:
        abort(404)
    locale = current_locale()
    sections = [(section, section_form_class(section, call_limit=None, max_amount=None,
                                             locale=locale)(meta={"csrf": False}))
                for section in form_def.sections]
    return render_template("admin/form_preview.html", form_def=form_def, sections=sections)


@bp.post("/forms/<name>/preview.pdf")
def preview_form_pdf(name: str):
    """Ask for the form as a PDF: a worker makes it (the web process never renders)."""
    form_def = get_form(name)
    if form_def is None:
        abort(404)
    job = previews.request_form_preview(form_def=form_def, language=current_locale(),
                                        actor=current_user)
    if job.document_id:
        flash(_("The preview PDF is ready."), "success")
    else:
        flash(_("The preview PDF is being made. This page shows when it is ready."), "info")
    return redirect(url_for("admin.form_preview_job", name=name, job_id=job.id), 303)


def _preview_job(name: str, job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != previews.JOB_KIND or job.payload.get("form") != name:
        abort(404)
    return job


@bp.get("/forms/<name>/preview/<int:job_id>")
def form_preview_job(name: str, job_id: int):
    job = _preview_job(name, job_id)
    form_def = get_form(name)
    if form_def is None:
        abort(404)
    return render_template("admin/form_preview_job.html", job=job, form_def=form_def,
                           status=_preview_status(name, job))


@bp.get("/forms/<name>/preview/<int:job_id>/status")
def form_preview_status(name: str, job_id: int):
    """What the page's script needs to update the job in place (as for applications)."""
    return _preview_status(name, _preview_job(name, job_id))


def _preview_status(name: str, job: Job) -> dict:
    labels = {"queued": _("Queued"), "running": _("Rendering…"), "done": _("Done"),
              "failed": _("Failed")}
    links = []
    if job.document_id:
        links = [{"url": url_for("admin.form_preview_download", name=name, job_id=job.id),
                  "label": _("Download PDF")}]
    return {"id": job.id, "status": str(job.status),
            "status_label": labels.get(str(job.status), str(job.status)),
            "error": job.error, "links": links,
            "document_url": links[0]["url"] if links else None}


@bp.get("/forms/<name>/preview/<int:job_id>/pdf")
def form_preview_download(name: str, job_id: int):
    job = _preview_job(name, job_id)
    document = db.session.get(Document, job.document_id) if job.document_id else None
    if document is None:
        abort(404)
    response = Response(document.content, mimetype=document.mime_type)
    response.headers["Content-Disposition"] = content_disposition(document.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- audit log -----------------------------------------------------------------------------
# The export: the row as stored, for machines (ids, action, JSON of before and after), and the
# same row in words, for people (names, what happened, what changed).
CSV_COLUMNS = ["id", "time", "actor", "actor_name", "action", "what", "object_type",
               "object_id", "object_name", "changes", "before", "after"]


@bp.get("/audit")
def audit_log():
    """The audit log, newest first; `?format=csv` exports it (every row), `?application=ID`
    narrows it to one application's changes."""
    query = select(AuditEvent)
    application_id = request.args.get("application", type=int)
    if application_id is not None:
        query = query.where(AuditEvent.object_type == "application",
                            AuditEvent.object_id == application_id)
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for e, said in describe_events(db.session.scalars(query.order_by(AuditEvent.id))):
            writer.writerow([e.id, e.created_at.isoformat(), e.actor.email if e.actor else "",
                             e.actor.name if e.actor else "", e.action, said.summary,
                             e.object_type, e.object_id or "", said.object_name,
                             said.changes_text(), _json_cell(e.before), _json_cell(e.after)])
        name = f"audit-application-{application_id}.csv" if application_id else "audit.csv"
        response = Response(buffer.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(500)).all()
    return render_template("admin/audit.html", events=events)


def _json_cell(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
