from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from grants.accounts import operations
from grants.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from grants.accounts.operations import accept_invitation as accept
from grants.accounts.operations import authenticate, set_user_locale
from grants.accounts.ratelimit import (
    login_locked,
    record_login_failure,
    record_login_success,
    reset_allowed,
)
from grants.errors import FieldsRefused, OperationRefused
from grants.i18n import LOCALES

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or ""
        if login_locked(form.email.data, address):
            form.form_errors.append(_("Too many login attempts. Wait 15 minutes and try again."))
            return render_template("accounts/login.html", form=form), 429
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            record_login_success(form.email.data)
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")), 303)
        record_login_failure(form.email.data, address)
        form.form_errors.append(_("The email address or the password is wrong."))
    status = 200 if not form.errors and not form.form_errors else 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    # Ends this session and every copy of its cookie (and remember-me cookies) everywhere.
    operations.end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"), 303)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        address = request.remote_addr or ""
        if login_locked(user.email, address):
            form.form_errors.append(_("Too many attempts. Wait 15 minutes and try again."))
            return render_template("accounts/change_password.html", form=form), 429
        try:
            operations.change_password(user, current=form.current_password.data,
                                       new=form.new_password.data)
        except FieldsRefused as refused:
            if "current_password" in refused.field_errors:  # a wrong password counts as a failure
                record_login_failure(user.email, address)
            for name, errors in refused.field_errors.items():
                form[name].errors = list(errors)
            form.form_errors.append(refused.message)
        else:
            record_login_success(user.email)
            login_user(user)  # this session goes on; every other one has ended
            flash(_("Your password is changed. You were logged out on every other device."),
                  "success")
            return redirect(url_for("notifications.settings"), 303)
    return render_template("accounts/change_password.html", form=form), _status(form)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same answer whether or not the address has an account, and when asked too often.
        if reset_allowed(form.email.data, request.remote_addr or ""):
            operations.request_password_reset(form.email.data)
        return render_template("accounts/forgot_password_sent.html")
    return render_template("accounts/forgot_password.html", form=form), _status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if operations.valid_reset(token) is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password(token, form.new_password.data)
        except OperationRefused:
            return render_template("accounts/reset_invalid.html"), 404
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is changed. Log in with your new password."), "success")
        return redirect(url_for("accounts.login"), 303)
    return render_template("accounts/reset_password.html", form=form), _status(form)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    response = redirect(_safe_next(request.form.get("next")), 303)
    if lang in LOCALES:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        if current_user.is_authenticated:
            set_user_locale(current_user, lang)
    return response


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = accept(token, form.password.data)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            login_user(user)
            flash(_("Welcome! Your password is set."), "success")
            return redirect(url_for("dashboard.index"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/accept_invitation.html", form=form), status
