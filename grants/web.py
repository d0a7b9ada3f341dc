"""Wires the web layer: blueprints, login, default-deny, error pages, template helpers."""

from __future__ import annotations

import json
import logging

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.audit_text import describe_events
from grants.db import db
from grants.documents.pdf import css_string
from grants.extensions import login_manager
from grants.formengine.richtext import render_markdown
from grants.i18n import (
    current_locale,
    format_date_local,
    format_datetime_local,
    format_filesize,
    format_iso_date,
    format_money,
    format_number,
    option_text,
    pick_label,
)
from grants.labels import (
    audit_value,
    category_label,
    cofinancing_label,
    document_label,
    event_label,
    guard_label,
    history_label,
    minutes_rule,
    outcome_label,
    part_label,
    quorum_rule_text,
    quorum_sentence,
    role_label,
    vote_label,
)
from grants.notifications.models import Notification

logger = logging.getLogger(__name__)

# Endpoints anyone may reach; everything else requires a logged-in user (default-deny).
PUBLIC_ENDPOINTS = {"accounts.login", "static", "health", "accounts.set_language",
                    "accounts.accept_invitation", "partners.accept", "about.accessibility",
                    "accounts.forgot_password", "accounts.reset_password"}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, generation = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_generation != generation or not user.is_active_account:
        return None
    return user


def condition_value_label(value, form_field) -> str:
    """How a condition's value reads: an option's label, or yes/no."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    option = form_field.option_label(value) if form_field is not None else None
    return f"“{pick_label(option)}”" if option else f"“{value}”"


def unread_notifications() -> int:
    if not current_user.is_authenticated:
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None))) or 0


# Filters and globals every template may use.
FILTERS = {
    "money": format_money,
    "number": format_number,
    "option_text": option_text,
    "isodate": format_iso_date,
    "filesize": format_filesize,
    "markdown": render_markdown,
    "lower_json": lambda v: json.dumps(v),
    "condition_value": condition_value_label,
    "datetime": format_datetime_local,
    "date": format_date_local,
    "label": pick_label,
    "vote_label": vote_label,
    "role_label": role_label,
    "guard_label": guard_label,
    "category_label": category_label,
    "event_label": event_label,
    "audit_value": audit_value,
    "css_string": css_string,
    "cofinancing_label": cofinancing_label,
    "outcome_label": outcome_label,
    "document_label": document_label,
}
GLOBALS = {
    "pick_label": pick_label,
    "current_locale": current_locale,
    "unread_notifications": unread_notifications,
    "history_label": history_label,
    "quorum_sentence": quorum_sentence,
    "minutes_rule": minutes_rule,
    "quorum_rule_text": quorum_rule_text,
    "part_label": part_label,
    "describe_events": describe_events,
}


def register_web(app: Flask, blueprints: list) -> None:
    """The features' blueprints (given by the app factory, from grants.features), login and
    default-deny, request checks and security headers, error pages and template helpers."""
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    _register_login(app)
    _register_request_checks(app)
    _register_error_pages(app)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
    app.jinja_env.globals["forms_list"] = lambda: sorted(app.extensions["grants.forms"].items())


def _register_login(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Log in to continue.")
    login_manager.login_message_category = "info"

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


def _register_request_checks(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes():
        """No NUL character reaches a form or the database (PostgreSQL refuses them in text,
        which would otherwise be a 500): such a request is refused as unreadable."""
        if "\x00" in request.path:
            abort(400)
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400)
        for upload in request.files.values():
            if "\x00" in (upload.filename or ""):
                abort(400)
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        if app.config.get("ENV_NAME") == "production":
            # Browsers keep to HTTPS for a year once they have seen this (ASVS 14.4.5).
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        flash(_("The form had expired or came from elsewhere, so nothing was saved. "
                "Please try again."), "error")
        return redirect(request.referrer or url_for("dashboard.index")), 303

    def error_page(status: int, title: str, message: str):
        return render_template("errors/error.html", status=status, title=title,
                               message=message), status

    @app.errorhandler(400)
    def bad_request(error):
        return error_page(400, _("Not possible"),
                          _("The request could not be read. Nothing was saved."))

    @app.errorhandler(403)
    def forbidden(error):
        return error_page(403, _("Not allowed"),
                          _("You do not have permission to do this."))

    @app.errorhandler(404)
    def not_found(error):
        return error_page(404, _("Page not found"),
                          _("The page does not exist, or you do not have access to it."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return error_page(405, _("Not possible"), _("This address cannot be used that way."))

    @app.errorhandler(413)
    def too_large(error):
        limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return error_page(413, _("The file is too large"),
                          _("Files may be at most %(mb)d MB. Nothing was saved.", mb=limit_mb))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return error_page(500, _("Something went wrong"),
                          _("Nothing was saved. Please try again; if it keeps happening, "
                            "contact your coordinator."))
