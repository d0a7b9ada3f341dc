from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from grants.accounts.operations import MIN_PASSWORD_LENGTH
from grants.formengine.base import AppForm


class LoginForm(AppForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Fill in your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay logged in on this device"))


def _new_password_fields():
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Fill in this field.")),
        Length(min=MIN_PASSWORD_LENGTH, max=1024, message=_l("At least %(min)d characters."))],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least %(min)d characters. A few unrelated words make a good one.",
                       min=MIN_PASSWORD_LENGTH))
    repeat_password = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(message=_l("Fill in this field.")),
        EqualTo("new_password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})
    return new_password, repeat_password


class ChangePasswordForm(AppForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Fill in your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    new_password, repeat_password = _new_password_fields()


class ForgotPasswordForm(AppForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"})


class ResetPasswordForm(AppForm):
    new_password, repeat_password = _new_password_fields()


class EmailAddress:
    """A syntactically valid address (no DNS look-up). The `.test` domain of the demo accounts
    is accepted in demo and test mode only."""

    def __call__(self, form, field):
        relaxed = bool(current_app.config.get("TESTING") or current_app.config.get("DEMO_MODE"))
        try:
            validate_email(field.data or "", check_deliverability=False,
                           test_environment=relaxed)
        except EmailNotValidError:
            raise ValidationError(_l("This is not a valid email address.")) from None


class AcceptInvitationForm(AppForm):
    password = StringField(_l("Choose a password"), validators=[
        DataRequired(message=_l("Fill in this field.")),
        Length(min=12, max=1024, message=_l("At least %(min)d characters."))],
        render_kw={"type": "password", "autocomplete": "new-password"})
