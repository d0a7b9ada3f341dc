"""Voting and declaring jäv on an application. Load (404 alike for missing and not yours) →
check → one operation → back to the application page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from grants.errors import FieldsRefused, OperationRefused
from grants.applications.views import _load, _render_show
from grants.approvals import operations
from grants.approvals.forms import RecusalForm, VoteForm
from grants.workflow.quorum import APPROVE, CHANGES

bp = Blueprint("approvals", __name__, url_prefix="/applications")


def _back(application_id: int):
    return redirect(url_for("applications.show", application_id=application_id,
                            _anchor="decision"), 303)


def _with_errors(application, roles, workflow, form_def, form, field_errors=None, message=""):
    for name, errors in (field_errors or {}).items():
        if name in form:
            form[name].errors = list(errors)
    if message:
        form.form_errors.append(message)
    kwargs = {"vote_form": form} if isinstance(form, VoteForm) else {"recusal_form": form}
    return _render_show(application, roles, workflow, form_def, status=422, **kwargs)


@bp.post("/<int:application_id>/vote")
def vote(application_id: int):
    application, roles, workflow, form_def = _load(application_id)
    form = VoteForm()
    if not form.validate_on_submit():
        return _with_errors(application, roles, workflow, form_def, form,
                            message=_("Nothing was recorded: check the fields marked below."))
    try:
        round_id = int(form.round_id.data or 0)
    except ValueError:
        round_id = 0
    try:
        operations.cast_vote(application=application, actor=current_user, workflow=workflow,
                             form=form_def, round_id=round_id, choice=form.choice.data,
                             comment=form.comment.data or "",
                             shown_fingerprint=form.fingerprint.data or "")
    except FieldsRefused as refused:
        return _with_errors(application, roles, workflow, form_def, form,
                            refused.field_errors, refused.message)
    except OperationRefused as refused:
        flash(refused.message, "error")
        return _back(application.id)
    if form.choice.data == APPROVE:
        flash(_("Your vote “approve” is recorded."), "success")
    elif form.choice.data == CHANGES:
        flash(_("Your request for changes is recorded."), "success")
    else:
        flash(_("Your abstention is recorded."), "success")
    return _back(application.id)


@bp.post("/<int:application_id>/recusal")
def recusal(application_id: int):
    application, roles, workflow, form_def = _load(application_id)
    form = RecusalForm()
    if not form.validate_on_submit():
        return _with_errors(application, roles, workflow, form_def, form,
                            message=_("Nothing was recorded: check the fields marked below."))
    try:
        operations.declare_recusal(application=application, actor=current_user,
                                   workflow=workflow, form=form_def, reason=form.reason.data)
    except FieldsRefused as refused:
        return _with_errors(application, roles, workflow, form_def, form,
                            refused.field_errors, refused.message)
    except OperationRefused as refused:
        flash(refused.message, "error")
        return _back(application.id)
    flash(_("Your jäv is recorded. You take no part in this decision."), "success")
    return _back(application.id)
