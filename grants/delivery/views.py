"""The delivery log on the application page (lead and coordinator only), the funder's receipt
for a portal submission, and a coordinator's decision on an uncertain delivery.
Load (404 alike for missing and not yours) → check → one operation → back to the page."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.applications.models import Application
from grants.applications.page import (
    attachment_of_record,
    load_application_page,
    page_form,
    render_application_page,
)
from grants.db import db
from grants.delivery import labels, operations
from grants.delivery.forms import ReceiptForm, ResolveForm
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.errors import FieldsRefused, OperationRefused
from grants.submissions.models import Submission

bp = Blueprint("delivery", __name__, url_prefix="/applications")
ANCHOR = "delivery-title"


@dataclass
class DeliveryRow:
    delivery: Delivery
    attempts: list[DeliveryAttempt]
    receipt_form: ReceiptForm | None = None
    resolve_form: ResolveForm | None = None


@dataclass
class SubmissionLog:
    submission: Submission
    deliveries: list[DeliveryRow] = field(default_factory=list)


@attachment_of_record
def _receipt(attachment) -> bool:
    """The funder's receipt of a delivery."""
    return db.session.scalar(select(Delivery.id).where(
        Delivery.receipt_attachment_id == attachment.id).limit(1)) is not None


def receipt_prefix(delivery_id: int) -> str:
    return f"receipt-{delivery_id}"


def resolve_prefix(delivery_id: int) -> str:
    return f"resolve-{delivery_id}"


@bp.app_template_global("delivery_log")
def delivery_log(application: Application, roles=frozenset()) -> list[SubmissionLog] | None:
    """For the lead and coordinators: each submission's deliveries and every attempt, with
    the forms they may use (a form refused a moment ago comes back with its errors). None for
    anyone else, and when nothing has been delivered yet."""
    roles = set(roles or ())
    if not operations.LOG_ROLES & roles:
        return None
    deliveries = db.session.scalars(select(Delivery).where(
        Delivery.application_id == application.id).order_by(Delivery.id)).all()
    if not deliveries:
        return None
    submissions = {s.id: s for s in db.session.scalars(select(Submission).where(
        Submission.id.in_({d.submission_id for d in deliveries})))}
    refused = {key: page_form(key) for key in
               [("receipt", d.id) for d in deliveries] + [("resolve", d.id) for d in deliveries]}
    refused = {key: form for key, form in refused.items() if form is not None}
    logs: dict[int, SubmissionLog] = {}
    for delivery in deliveries:
        entry = logs.setdefault(delivery.submission_id,
                                SubmissionLog(submissions[delivery.submission_id]))
        row = DeliveryRow(delivery, list(delivery.attempt_log))
        if delivery.status == "awaiting_receipt":
            row.receipt_form = refused.get(("receipt", delivery.id)) or ReceiptForm(
                formdata=None, prefix=receipt_prefix(delivery.id))
        if "coordinator" in roles and delivery.status in ("uncertain", "failed") \
                and delivery.channel == "email":
            row.resolve_form = refused.get(("resolve", delivery.id)) or ResolveForm(
                formdata=None, prefix=resolve_prefix(delivery.id))
        entry.deliveries.append(row)
    return sorted(logs.values(), key=lambda e: e.submission.number, reverse=True)


@bp.app_template_global("delivery_labels")
def delivery_labels():
    return labels


def _back(application_id: int):
    return redirect(url_for("applications.decision", application_id=application_id,
                            _anchor=ANCHOR), 303)


def _load_delivery():
    """The application (404 for missing and not yours), the user's roles on it, and the
    delivery named in the form (404 unless it belongs to this application and the user may see
    the log)."""
    application, roles, workflow, form_def = load_application_page(
        request.view_args["application_id"])
    if not operations.LOG_ROLES & roles:
        abort(404)
    delivery = operations.delivery_of(application, request.form.get("delivery_id"))
    if delivery is None:
        abort(404)
    return application, roles, workflow, form_def, delivery


def _show_again(application, roles, workflow, form_def, key, form):
    db.session.rollback()  # nothing was changed; start the page from a clean session
    flash(_("Nothing was saved: check the fields marked in “Delivery to the funder”."),
          "error")
    return render_application_page(application, roles, workflow, form_def, tab="decision",
                                   status=422, forms={key: form})


def _submit(loaded: tuple, key: tuple[str, int], form, act, done):
    """The receipt and the settling of a delivery alike: check the form, one operation; on
    success `done(result)` says what happened; a refused form comes back beside its fields."""
    application, roles, workflow, form_def, delivery = loaded
    if form.validate_on_submit():
        try:
            result = act(application, roles, delivery)
        except FieldsRefused as refused:
            for name, messages in refused.field_errors.items():
                form[name].errors = list(messages)
        except OperationRefused as refused:
            flash(refused.message, "error")
            return _back(application.id)
        else:
            flash(done(result), "success")
            return _back(application.id)
    return _show_again(application, roles, workflow, form_def, key, form)


@bp.post("/<int:application_id>/delivery/receipt")
def portal_receipt(application_id: int):
    loaded = _load_delivery()
    delivery = loaded[-1]
    form = ReceiptForm(prefix=receipt_prefix(delivery.id))
    return _submit(loaded, ("receipt", delivery.id), form, lambda application, roles, delivery:
                   operations.record_portal_receipt(
                       application=application, roles=roles, actor=current_user,
                       delivery=delivery, funder_reference=form.funder_reference.data or "",
                       receipt=form.receipt.data),
                   lambda _result: _("The funder's receipt and reference number are "
                                     "recorded."))


@bp.post("/<int:application_id>/delivery/resolve")
def resolve(application_id: int):
    loaded = _load_delivery()
    application, roles, delivery = loaded[0], loaded[1], loaded[-1]
    if "coordinator" not in roles:
        flash(_("Only a coordinator can settle a delivery."), "error")
        return _back(application.id)
    form = ResolveForm(prefix=resolve_prefix(delivery.id))
    return _submit(loaded, ("resolve", delivery.id), form, lambda application, roles, delivery:
                   operations.mark_uncertain_resolved(
                       application=application, roles=roles, actor=current_user,
                       delivery=delivery, decision=form.decision.data or "",
                       note=form.note.data or ""),
                   lambda settled: _("Recorded: the funder has received the application.")
                   if settled.status == "sent"
                   else _("The application will be sent to the funder again."))
