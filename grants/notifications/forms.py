from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired


class SettingsForm(FlaskForm):
    delivery = RadioField(_l("Notifications"), choices=[
        SelectChoice("email", _l("In the app and by email")),
        SelectChoice("app", _l("Only in the app"))],
        validators=[InputRequired(message=_l("Choose how you want to be notified."))])
    language = RadioField(_l("Language"), choices=[SelectChoice("sv", "Svenska"),
                                                         SelectChoice("en", "English")],
                          validators=[InputRequired(message=_l("Choose a language."))])
