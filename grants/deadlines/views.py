"""The deadline panel on the application page, and a coordinator's extension of one
application's deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.applications.models import Application
from grants.applications.page import load_application_page, page_form, render_application_page
from grants.db import db, utcnow
from grants.deadlines import operations
from grants.deadlines.forms import ExtensionForm
from grants.deadlines.milestones import STOCKHOLM, NonexistentLocalTime, from_local, is_passed
from grants.deadlines.models import Reminder, ReminderStatus
from grants.errors import FieldsRefused, OperationRefused
from grants.i18n import format_datetime_local
from grants.processes import workflow_for

bp = Blueprint("deadlines", __name__)
FORM_PREFIX = "extension"  # field names and ids unique on the application page


@dataclass
class MilestoneRow:
    key: str
    label: str
    at: datetime
    passed: bool
    is_next: bool = False
    owing: list[str] = field(default_factory=list)
    reminder_sent: bool = False


@dataclass
class DeadlinePanel:
    deadline: datetime
    call_deadline: datetime
    extended: bool
    finished: bool
    milestones: list[MilestoneRow]
    form: ExtensionForm | None


@bp.app_template_global("effective_deadline")
def effective_deadline(application: Application):
    """The application's deadline: a coordinator's extension, else the call's."""
    return operations.effective_deadline(application)


@bp.app_template_global("deadline_panel")
def deadline_panel(application: Application, roles=frozenset()) -> DeadlinePanel:
    """What the application page shows: the effective deadline, each milestone in Swedish
    time, which have passed, who still owes something for those ahead; for a coordinator,
    the extension form (with its errors after a refused attempt)."""
    now = utcnow()
    workflow = workflow_for(application)
    finished = operations.is_finished(application, workflow)
    sent = {row.milestone for row in db.session.scalars(select(Reminder).where(
        Reminder.application_id == application.id, Reminder.status == ReminderStatus.sent))
        if row.recipients}  # not the ones nobody needed
    rows, next_found = [], False
    for milestone in operations.application_milestones(application, workflow):
        passed = is_passed(milestone.at, now)
        row = MilestoneRow(milestone.key, milestone.label, milestone.at, passed,
                           reminder_sent=milestone.key in sent)
        if not passed and not finished:
            row.owing = [d.name for d in operations.who_owes(application, milestone.key,
                                                             workflow)]
            if not next_found:
                row.is_next = next_found = True
        rows.append(row)
    form = None
    if "coordinator" in roles and not finished:
        form = page_form("extension_form")
        if form is None:
            local = operations.effective_deadline(application).astimezone(STOCKHOLM)
            form = ExtensionForm(formdata=None, prefix=FORM_PREFIX, new_date=local.date(),
                                 new_time=local.time().replace(second=0, microsecond=0))
    return DeadlinePanel(deadline=operations.effective_deadline(application),
                         call_deadline=application.own_deadline,
                         extended=application.deadline_extended_to is not None,
                         finished=finished, milestones=rows, form=form)


@bp.post("/applications/<int:application_id>/deadline")
def extend(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    if not current_user.is_coordinator:
        flash(_("Only a coordinator can extend an application's deadline."), "error")
        return redirect(url_for("applications.show", application_id=application.id), 303)
    form = ExtensionForm(prefix=FORM_PREFIX)
    if form.validate_on_submit():
        try:
            new_deadline = from_local(form.new_date.data, form.new_time.data)
        except NonexistentLocalTime:
            form.new_time.errors.append(_("This time does not exist in Sweden: the clocks go "
                                          "forward from 02:00 to 03:00 that night. Choose "
                                          "another time."))
        else:
            try:
                operations.extend_deadline(application=application, actor=current_user,
                                           new_deadline=new_deadline, reason=form.reason.data)
            except FieldsRefused as refused:
                targets = {"new_deadline": form.new_date, "reason": form.reason}
                for name, messages in refused.field_errors.items():
                    targets[name].errors.extend(messages)
            except OperationRefused as refused:
                flash(refused.message, "error")
                return redirect(url_for("applications.show", application_id=application.id),
                                303)
            else:
                flash(_("The deadline of this application is now %(deadline)s.",
                        deadline=format_datetime_local(new_deadline)), "success")
                return redirect(url_for("applications.show", application_id=application.id,
                                        _anchor="deadlines-title"), 303)
    flash(_("The deadline was not extended: check the fields marked in “Deadlines”."), "error")
    for name in ("new_date", "new_time", "reason"):
        for message in form[name].errors:
            flash(f"{form[name].label.text}: {message}", "error-detail")
    db.session.rollback()  # nothing was changed; start the page from a clean session
    return render_application_page(application, roles, workflow, form_def, status=422,
                                   forms={"extension_form": form})
