from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from grants.formengine.base import AppForm


class NewApplicationForm(AppForm):
    call_id = SelectField(_l("Call"), coerce=int,
                          validators=[DataRequired(message=_l("Choose a call."))])
    organisation_id = SelectField(_l("Lead organisation"), coerce=int,
                                  validators=[DataRequired(message=_l("Choose an organisation."))])
    title = StringField(_l("Project title"), validators=[
        DataRequired(message=_l("Give the project a title.")),
        Length(max=300, message=_l("At most %(max)d characters."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])
    language = SelectField(_l("Language of the application"),
                           choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
                           default="sv",
                           description=_l("The PDF for the funder is written in this language."))


class TransitionForm(AppForm):
    state_version = HiddenField()
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)],
                            render_kw={"rows": 3})


class MoveForm(AppForm):
    """A coordinator moves an application onto the current version of its workflow."""
    state_version = HiddenField()
    to_state = SelectField(_l("State in the current version"),
                           validators=[DataRequired(message=_l("Choose a state."))])
    comment = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Say why the application is moved.")), Length(max=5000)],
        render_kw={"rows": 2})


class FormMoveForm(AppForm):
    """A coordinator moves an application onto the current version of its form, after seeing
    what changes: the versions compared travel with the form."""
    from_version = HiddenField()
    to_sha256 = HiddenField()
    comment = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Say why the application is moved.")), Length(max=5000)],
        render_kw={"rows": 2})


class PreviewForm(AppForm):
    pass
