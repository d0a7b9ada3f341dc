"""Start an application from an earlier one (two steps: choose, then see what is carried
over and create), the copy's report, and the "Also applied to" panel with its links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from grants.applications.models import Application
from grants.applications.page import load_application_page
from grants.calls.models import Call
from grants.db import db
from grants.errors import OperationRefused
from grants.i18n import pick_label
from grants.processes import workflows
from grants.reuse import matching, operations
from grants.reuse.forms import CopyForm, LinkForm, StartForm, UnlinkForm
from grants.reuse.queries import (
    copyable_applications,
    link_of,
    linked_applications,
    may_copy,
    open_calls,
)

bp = Blueprint("reuse", __name__)


def copy_title(source: Application) -> str:
    return _("%(title)s (copy)", title=source.title)[:300]


def _call_choices(calls: list[Call]) -> list[SelectChoice]:
    return [SelectChoice("", _("Choose a call"))] + [
        SelectChoice(c.id, f"{c.funder.short_name}: {c.title}") for c in calls]


def _state_label(application: Application) -> str:
    workflow = workflows().get(application.workflow_name)
    state = workflow.state(application.state) if workflow else None
    return pick_label(state.label) if state else application.state


@bp.get("/applications/reuse")
def start():
    """Step 1: the earlier application (own, or led by the user's organisation), the call
    and the title; on to the preview of that copy."""
    sources = copyable_applications(current_user)
    calls = open_calls()
    form = StartForm(request.args)
    form.source.choices = [SelectChoice("", _("Choose an application"))] + [
        SelectChoice(a.id, f"{a.title} – {a.call.funder.short_name}: {a.call.title} "
                           f"({_state_label(a)})") for a in sources]
    form.call.choices = _call_choices(calls)
    form.title.description = _("Leave the title empty to use the earlier title followed by "
                               "“(copy)”.")
    status = 200
    if request.args:
        valid = form.validate()
        source = next((a for a in sources if a.id == form.source.data), None)
        if source is None:
            form.source.errors = [_("Choose one of the applications listed: your own, or one "
                                    "your organisation leads.")]
        call = next((c for c in calls if c.id == form.call.data), None)
        if call is None:
            form.call.errors = [_("Choose one of the calls open for applications now.")]
        if valid and source is not None and call is not None:
            return redirect(url_for(".copy", application_id=source.id, call=call.id,
                                    title=form.title.data or copy_title(source)), 303)
        status = 422
    return render_template("reuse/start.html", form=form, sources=sources, calls=calls,
                           state_label=_state_label), status


def _preview(source: Application, step: StartForm, copy_form: CopyForm | None,
             plan: operations.CopyPlan | None, status: int = 200):
    return render_template("reuse/copy.html", source=source, step=step, copy_form=copy_form,
                           plan=plan, reason_text=reason_text, state_label=_state_label,
                           pick_label=pick_label), status


def _step_form(source: Application, calls: list[Call], data) -> StartForm:
    step = StartForm(data)
    step.call.choices = _call_choices(calls)
    if not step.title.data:
        step.title.data = copy_title(source)
    return step


def _copyable(application_id: int) -> Application:
    """The source of a copy: an application the user may see (else 404, as everywhere) and
    may copy (their own or their organisation's; else 404 too)."""
    application, _roles, _workflow, _form = load_application_page(application_id)
    if not may_copy(current_user, application):
        abort(404)
    return application


@bp.route("/applications/<int:application_id>/copy", methods=["GET", "POST"])
def copy(application_id: int):
    """Without a call: choose it (step 1 for this application). With one: what the copy
    carries over, with the choices, and "Create"."""
    source = _copyable(application_id)
    calls = open_calls()
    if request.method == "POST":
        copy_form = CopyForm()
        step = _step_form(source, calls, MultiDict({"call": copy_form.call.data or "",
                                                    "title": copy_form.title.data or ""}))
        call = db.session.get(Call, step.call.data) if step.call.data else None
        if not copy_form.validate():
            step.form_errors.append(_("The form had expired. Check the choices and create "
                                      "the copy again."))
            return _create_refused(source, step, copy_form, call)
        try:
            created, report = operations.copy_application(
                actor=current_user, source=source, call=call,
                title=copy_form.title.data or "", sections=set(copy_form.sections.data or []),
                partner_ids={p for p in copy_form.partners.data or [] if p is not None},
                budget=bool(copy_form.budget.data))
        except OperationRefused as refused:
            step.form_errors.append(refused.message)
            return _create_refused(source, step, copy_form, call)
        flash(_("The new application was created from “%(title)s”. Check what was not "
                "carried over below.", title=source.title), "success")
        return redirect(url_for(".result", application_id=created.id), 303)
    step = _step_form(source, calls, request.args)
    if "call" not in request.args:
        return _preview(source, step, None, None)
    call = db.session.get(Call, step.call.data) if step.call.data else None
    try:
        plan = operations.plan_copy(source, call)
    except OperationRefused as refused:
        step.call.errors = [refused.message]
        return _preview(source, step, None, None, 422)
    copy_form = CopyForm(formdata=None, call=str(call.id), title=step.title.data,
                         sections=[s.instance_key for s in plan.sections
                                   if s.partner_id is None and s.values],
                         partners=[p.id for p in plan.partners], budget=True)
    return _preview(source, step, copy_form, plan)


def _create_refused(source: Application, step: StartForm, copy_form: CopyForm,
                    call: Call | None):
    """The preview again, with the refusal and the user's choices (or step 1 alone when the
    call can no longer be used)."""
    try:
        plan = operations.plan_copy(source, call)
    except OperationRefused:
        plan, copy_form = None, None
    return _preview(source, step, copy_form, plan, 422)


@bp.get("/applications/<int:application_id>/copied")
def result(application_id: int):
    """What the copy carried over, and everything it could not, by label."""
    application, _roles, _workflow, _form = load_application_page(application_id)
    link = link_of(application.id)
    if link is None or not link.copy_report:
        return redirect(url_for("applications.show", application_id=application.id), 303)
    source = db.session.get(Application, link.copied_from_id) if link.copied_from_id else None
    return render_template("reuse/result.html", application=application, report=link.copy_report,
                           source=source, reason_text=reason_text, pick_label=pick_label)


@bp.post("/applications/<int:application_id>/link")
def link(application_id: int):
    application = _copyable(application_id)
    form = LinkForm()
    if form.validate():
        other = db.session.get(Application, form.other.data) if form.other.data else None
        try:
            operations.link_applications(actor=current_user, application=application,
                                         other=other)
        except OperationRefused as refused:
            flash(refused.message, "error")
        else:
            flash(_("The applications are linked: each shows the other."), "success")
    else:
        flash(_("The form had expired. Try again."), "error")
    return redirect(url_for("applications.show", application_id=application.id) + "#linked",
                    303)


@bp.post("/applications/<int:application_id>/unlink")
def unlink(application_id: int):
    application = _copyable(application_id)
    if UnlinkForm().validate():
        try:
            operations.unlink_application(actor=current_user, application=application)
        except OperationRefused as refused:
            flash(refused.message, "error")
        else:
            flash(_("The application is no longer linked with the others."), "success")
    else:
        flash(_("The form had expired. Try again."), "error")
    return redirect(url_for("applications.show", application_id=application.id) + "#linked",
                    303)


@bp.app_template_global("linked_panel")
def linked_panel(application: Application) -> dict[str, Any]:
    """The overview's panel: the project's applications at other funders that the viewer may
    see, with their outcome; for the lead's organisation, copying and linking."""
    others = linked_applications(application, current_user)
    manage = may_copy(current_user, application)
    link_form = None
    if manage:
        shown = {application.id} | {o.application.id for o in others}
        link_form = LinkForm(formdata=None)
        link_form.other.choices = [SelectChoice("", _("Choose an application"))] + [
            SelectChoice(a.id, f"{a.title} – {a.call.funder.short_name}: {a.call.title}")
            for a in copyable_applications(current_user) if a.id not in shown]
        if len(link_form.other.choices) == 1:
            link_form = None
    return {"others": others, "manage": manage, "link_form": link_form,
            "linked": link_of(application.id) is not None, "unlink_form": UnlinkForm(),
            "state_label": _state_label}


def reason_text(item: dict[str, Any]) -> str:
    """Why something was not carried over, in the reader's language."""
    params = item.get("params") or {}
    reason = item.get("reason")
    texts = {
        matching.SECTION_MISSING: _("the new form has no such section"),
        matching.MISSING: _("the new form has no such field in this section"),
        matching.KIND: _("the new form asks for a different kind of answer"),
        matching.LINES: _("the new form takes one line here"),
        matching.LIMITS: _("the number is outside the new form's limits"),
        matching.OPTIONS: _("the new form does not offer this choice"),
        matching.COLUMNS: _("the new form's table has other columns"),
        matching.FILE: _("files are not copied: upload it again in the new application"),
        "partner": _("its partner is not carried over"),
        "unchosen": _("not chosen"),
    }
    if reason == matching.LENGTH:
        return _("too long for the new form (%(length)d characters, at most %(limit)d)",
                 length=params.get("length", 0), limit=params.get("limit", 0))
    if reason == matching.ROWS:
        return _("too many rows for the new form (%(rows)d, at most %(limit)d)",
                 rows=params.get("rows", 0), limit=params.get("limit", 0))
    if reason == "category":
        return _("the new form has no cost category “%(category)s”",
                 category=params.get("category", ""))
    return texts.get(reason, _("not carried over"))
