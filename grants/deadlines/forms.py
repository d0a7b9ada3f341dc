from flask_babel import lazy_gettext as _l
from wtforms import DateField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, StopValidation

from grants.formengine.base import AppForm


class Given:
    """The field has a value; an unreadable one keeps its own message ("give the date as…")."""

    def __init__(self, message):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field):
        if field.data is None and not field.process_errors:
            raise StopValidation(self.message)


class _BlankIsMissing:
    """An empty input is missing (Given says so), not also "not a valid value"."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata([v.strip() for v in valuelist])


class LocalDateField(_BlankIsMissing, DateField):
    pass


class LocalTimeField(_BlankIsMissing, TimeField):
    pass


class ExtensionForm(AppForm):
    """A coordinator extends one application's deadline: a date and a time in Swedish time."""

    new_date = LocalDateField(
        _l("New deadline"), validators=[Given(_l("Give a date."))],
        invalid_value_message=_l("Give the date as YYYY-MM-DD, e.g. 2027-03-31."))
    new_time = LocalTimeField(
        _l("Time (Swedish time)"), validators=[Given(_l("Give a time."))],
        invalid_value_message=_l("Give the time as HH:MM, e.g. 23:59."))
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Say why the deadline is extended.")),
        Length(max=2000, message=_l("At most %(max)d characters."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v], render_kw={"rows": 2})
