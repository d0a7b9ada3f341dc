from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, BooleanField
from wtforms.validators import DataRequired, EqualTo, Length

from grants.accounts.operations import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
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


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Fill in your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    new_password, repeat_password = _new_password_fields()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"})


class ResetPasswordForm(FlaskForm):
    new_password, repeat_password = _new_password_fields()
