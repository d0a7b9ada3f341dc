from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, BooleanField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Fill in your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay logged in on this device"))
