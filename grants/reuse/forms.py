from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from grants.formengine.base import AppForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class StartForm(AppForm):
    """Step 1, a GET form (no CSRF: it changes nothing): the earlier application, the call
    to apply to and the new title. The view checks the choices and says what is wrong."""

    class Meta(AppForm.Meta):
        csrf = False

    source = SelectField(_l("Earlier application"), coerce=_int_or_none, validate_choice=False)
    call = SelectField(_l("Call to apply to"), coerce=_int_or_none, validate_choice=False,
                       description=_l("Calls open for applications now."))
    title = StringField(_l("Title of the new application"), filters=[_strip],
                        validators=[Optional(), Length(max=300,
                                                       message=_l("At most %(max)d characters."))])


class CopyForm(AppForm):
    """Step 2, the preview's POST: what to carry over (the view checks the values)."""
    call = HiddenField()
    title = HiddenField(filters=[_strip])
    sections = SelectMultipleField(validate_choice=False)
    partners = SelectMultipleField(coerce=_int_or_none, validate_choice=False)
    budget = BooleanField()


class LinkForm(AppForm):
    other = SelectField(_l("Another application of the same project"), coerce=_int_or_none,
                        validate_choice=False)


class UnlinkForm(AppForm):
    pass
