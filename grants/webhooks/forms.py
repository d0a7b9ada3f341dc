"""The form of an endpoint (administration)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from grants.formengine.base import AppForm
from grants.webhooks.models import EVENT_TYPES


def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))


EVENT_LABELS = {
    "application.submitted": _l("Application submitted"),
    "decision.recorded": _l("Decision recorded"),
    "report.submitted": _l("Report submitted"),
    "webhook.test": _l("Test event"),
}


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EndpointForm(AppForm):
    url = StringField(_l("URL"), filters=[_strip],
                      description=_l("Where the events are posted, e.g. "
                                     "https://registry.example.org/hooks/grants"),
                      validators=[DataRequired(message=_l("Fill in this field.")),
                                  Length(max=500)])
    description = StringField(_l("Description"), filters=[_strip], validators=[Length(max=200)])
    events = CheckboxList(_l("Events"), choices=[
        SelectChoice(value, EVENT_LABELS[value]) for value in EVENT_TYPES],
        validators=[DataRequired(message=_l("Choose at least one event."))])
    active = BooleanField(_l("Active"), default=True)

    def validate_url(self, field) -> None:
        try:
            parts = urlsplit(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Enter a full web address beginning with https://.")) \
                from exc
        production = current_app.config.get("ENV_NAME") == "production"
        if production and parts.scheme != "https":
            raise ValidationError(_l("The address must begin with https://."))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(_l("Enter a full web address beginning with https://."))
        if parts.username or parts.password:
            raise ValidationError(_l("The address may not contain a user name or password."))
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValidationError(_l("The address has an invalid port.")) from exc


class ConfirmForm(AppForm):
    """The buttons (rotate, send again, test, deactivate, delete): CSRF only."""
