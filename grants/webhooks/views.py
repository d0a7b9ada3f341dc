"""The coordinator's pages of webhooks, under /admin/webhooks: the endpoints, their deliveries
with every attempt, "send again" and a test event. Coordinators only (403 for others)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.db import db
from grants.errors import OperationRefused
from grants.webhooks import operations
from grants.webhooks.forms import EVENT_LABELS, ConfirmForm, EndpointForm, event_label
from grants.webhooks.models import WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

SHOWN_DELIVERIES = 50


@bp.before_request
def coordinators_only():
    if not current_user.is_authenticated or not current_user.is_coordinator:
        abort(403)


@bp.app_context_processor
def webhook_labels():
    return {"webhook_event_label": event_label}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


@bp.get("/")
def index():
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template("webhooks/index.html", endpoints=endpoints, labels=EVENT_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = operations.create_endpoint(
                url=form.url.data, description=form.description.data or "",
                events=form.events.data or [], active=form.active.data, actor=current_user)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            return render_template("webhooks/secret.html", endpoint=endpoint, secret=secret,
                                   created=True)
    return render_template("webhooks/edit.html", form=form, endpoint=None,
                           title=_("New webhook endpoint")), _status(form)


@bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
def edit(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(obj=endpoint)
    if form.validate_on_submit():
        try:
            operations.update_endpoint(endpoint, url=form.url.data,
                                       description=form.description.data or "",
                                       events=form.events.data or [],
                                       active=form.active.data, actor=current_user)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            flash(_("The endpoint is saved."), "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), 303)
    return render_template("webhooks/edit.html", form=form, endpoint=endpoint,
                           title=_("Edit webhook endpoint")), _status(form)


@bp.get("/<int:endpoint_id>")
def show(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()).limit(SHOWN_DELIVERIES)).all()
    return render_template("webhooks/show.html", endpoint=endpoint, deliveries=deliveries,
                           form=ConfirmForm(), labels=EVENT_LABELS)


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/<int:endpoint_id>/rotate")
def rotate(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _confirmed()
    secret = operations.rotate_secret(endpoint, actor=current_user)
    return render_template("webhooks/secret.html", endpoint=endpoint, secret=secret,
                           created=False)


@bp.post("/<int:endpoint_id>/active")
def toggle_active(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _confirmed()
    operations.set_active(endpoint, not endpoint.active, actor=current_user)
    flash(_("The endpoint is active.") if endpoint.active
          else _("The endpoint is deactivated: it gets no more events."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _confirmed()
    operations.delete_endpoint(endpoint, actor=current_user)
    flash(_("The endpoint and its deliveries are deleted."), "success")
    return redirect(url_for("webhooks.index"), 303)


@bp.post("/<int:endpoint_id>/test")
def send_test(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _confirmed()
    operations.send_test_event(endpoint, actor=current_user)
    flash(_("A test event is on its way; its delivery is listed below."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/deliveries/<int:delivery_id>/resend")
def resend(delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    _confirmed()
    try:
        operations.send_again(delivery, actor=current_user)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The delivery will be sent again."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=delivery.endpoint_id), 303)
