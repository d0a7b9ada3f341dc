"""The user's inbox of notifications, and how each kind of notification reaches them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.db import db
from grants.notifications import operations
from grants.notifications.forms import SettingsForm
from grants.notifications.models import Notification
from grants.notifications.preferences import choices_of

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index():
    notes = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()).limit(200)).all()
    return render_template("notifications/index.html", notes=notes)


@bp.post("/notifications/read")
def mark_read():
    operations.mark_all_read(current_user)
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"), 303)


@bp.post("/notifications/<int:note_id>/open")
def open_note(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    operations.mark_read(note)
    target = note.link if note.link.startswith("/") and not note.link.startswith("//") \
        else url_for("notifications.index")
    return redirect(target, 303)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    form = SettingsForm()
    if request.method == "GET":
        for key, delivery in choices_of(current_user.id).items():
            form[f"notify_{key}"].data = delivery
        form.language.data = current_user.locale or "sv"
    if form.validate_on_submit():
        operations.save_settings(current_user, preferences=form.chosen(),
                                 locale=form.language.data)
        flash(_("Your settings were saved."), "success")
        return redirect(url_for("notifications.settings"), 303)
    status = 422 if form.errors else 200
    return render_template("notifications/settings.html", form=form), status
