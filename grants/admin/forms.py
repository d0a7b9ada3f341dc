"""Forms of the coordinator's administration pages."""

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from grants.accounts.forms import EmailAddress
from grants.calls.models import DEFAULT_SUBJECT_FORMAT, MILESTONE_DAY_DEFAULTS
from grants.delivery.subject import MAX_FORMAT_LENGTH, format_problems
from grants.formengine.base import AppForm
from grants.formengine.fields import KronorField, WholeNumberField
from grants.organisations.orgnr import is_valid

MAX_MILESTONE_DAYS = 365


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class FunderForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    short_name = StringField(_l("Short name"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=60)], filters=[_strip])
    slug = StringField(_l("Identifier"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=60)], filters=[_strip],
        description=_l("Lower-case letters, digits and hyphens, e.g. kulturradet."))
    submission_email = EmailField(_l("Submission email"), validators=[
        Optional(), EmailAddress()],
        filters=[_strip])
    pdf_template = SelectField(_l("PDF template"))
    delivery_method = SelectField(_l("Delivery to the funder"), default="email", choices=[
        SelectChoice("email", _l("By email to the submission address, with the PDF attached")),
        SelectChoice("portal", _l("In the funder's own portal (the lead uploads the "
                                  "funder's receipt)"))])
    email_subject_format = StringField(
        _l("Subject of the email"), validators=[Optional(), Length(max=MAX_FORMAT_LENGTH)],
        filters=[_strip], default=DEFAULT_SUBJECT_FORMAT,
        description=_l("The subject the funder expects. Placeholders: {title}, {organisation}, "
                       "{call}, {reference}, {number}. Leave blank for “%(default)s”.",
                       default=DEFAULT_SUBJECT_FORMAT))
    portal_url = StringField(_l("Address of the funder's portal"),
                             validators=[Optional(), Length(max=500)], filters=[_strip],
                             description=_l("For delivery in the portal, e.g. "
                                            "https://portal.example.se/"))

    def validate_slug(self, field):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits and hyphens."))

    def validate_email_subject_format(self, field):
        problems = format_problems(field.data or "")
        if problems:
            raise ValidationError(" ".join(problems))

    def validate_portal_url(self, field):
        value = field.data or ""
        if not value:
            return
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc or any(
                ch.isspace() or ord(ch) < 32 for ch in value):
            raise ValidationError(_l("Give the full address, starting with https://."))


class CallForm(AppForm):
    funder_id = SelectField(_l("Funder"), coerce=int)
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Fill in this field.")),
                                                 Length(max=300)], filters=[_strip])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    opens_at = DateTimeLocalField(_l("Opens (Swedish time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired(message=_l("Give a date and time."))])
    deadline_at = DateTimeLocalField(_l("Deadline (Swedish time)"), format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired(message=_l("Give a date and time."))])
    workflow_name = SelectField(_l("Workflow"))
    form_name = SelectField(_l("Form"))
    # Blank: none. The operation refuses a plan that does not exist.
    reporting_plan = SelectField(_l("Reporting after the grant"), validate_choice=False,
                                 description=_l(
        "What a granted project reports to the funder: its revised budget, reports and "
        "payment claims, with the dates they are due."))
    steering_group_id = SelectField(_l("Steering group"), coerce=int)
    max_chars_per_field = WholeNumberField(_l("Max characters per text field"),
                                           validators=[Optional()], min_value=50)
    max_requested_amount = KronorField(_l("Max requested amount"), validators=[Optional()])
    min_cofinancing_percent = WholeNumberField(_l("Minimum co-financing (percent of total cost)"),
                                               validators=[Optional()], max_value=100)
    max_indirect_percent = WholeNumberField(_l("Max indirect costs (percent of direct costs)"),
                                            validators=[Optional()], max_value=100)
    allow_resubmission = BooleanField(_l("The lead may withdraw and resubmit before the deadline"))
    submission_email = EmailField(
        _l("Submission email for this call"), validators=[Optional(), EmailAddress()],
        filters=[_strip],
        description=_l("Only if this call's applications go to another address than the "
                       "funder's. Leave blank to use the funder's."))
    # Internal milestones, counted back from the deadline in days (blank: the default).
    partner_input_days_before = WholeNumberField(
        _l("Partner input due (days before the deadline)"), validators=[Optional()],
        min_value=0, max_value=MAX_MILESTONE_DAYS,
        default=MILESTONE_DAY_DEFAULTS["partner_input_days_before"],
        description=_l("Leave blank for %(days)d.",
                       days=MILESTONE_DAY_DEFAULTS["partner_input_days_before"]))
    steering_meeting_days_before = WholeNumberField(
        _l("Steering group meeting (days before the deadline)"), validators=[Optional()],
        min_value=0, max_value=MAX_MILESTONE_DAYS,
        default=MILESTONE_DAY_DEFAULTS["steering_meeting_days_before"],
        description=_l("Leave blank for %(days)d.",
                       days=MILESTONE_DAY_DEFAULTS["steering_meeting_days_before"]))
    signatures_days_before = WholeNumberField(
        _l("Signatures due (days before the deadline)"), validators=[Optional()],
        min_value=0, max_value=MAX_MILESTONE_DAYS,
        default=MILESTONE_DAY_DEFAULTS["signatures_days_before"],
        description=_l("Leave blank for %(days)d.",
                       days=MILESTONE_DAY_DEFAULTS["signatures_days_before"]))
    reminder_days_before = WholeNumberField(
        _l("Reminders (days before each milestone)"), validators=[Optional()],
        min_value=0, max_value=MAX_MILESTONE_DAYS,
        default=MILESTONE_DAY_DEFAULTS["reminder_days_before"],
        description=_l("Whoever still owes something is reminded this many days before each "
                       "milestone. Leave blank for %(days)d.",
                       days=MILESTONE_DAY_DEFAULTS["reminder_days_before"]))

    def validate_deadline_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The deadline must be after the opening."))

    def _days(self, name: str) -> int:
        value = self[name].data
        return MILESTONE_DAY_DEFAULTS[name] if value is None else value

    def validate_steering_meeting_days_before(self, field):
        if self.partner_input_days_before.errors or field.errors:
            return
        partner = self._days("partner_input_days_before")
        if self._days(field.name) > partner:
            raise ValidationError(_l(
                "The steering group meets after partner input is due: give at most %(days)d "
                "(the number of days before the deadline that partner input is due).",
                days=partner))

    def validate_signatures_days_before(self, field):
        if self.steering_meeting_days_before.errors or field.errors:
            return
        steering = self._days("steering_meeting_days_before")
        if self._days(field.name) > steering:
            raise ValidationError(_l(
                "Signatures come after the steering group meeting: give at most %(days)d (the "
                "number of days before the deadline that the steering group meets).",
                days=steering))


class OrganisationForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    org_number = StringField(_l("Organisation number"), validators=[
        DataRequired(message=_l("Fill in this field."))], filters=[_strip],
        description=_l("10 digits, e.g. 212000-0142."))
    county = StringField(_l("County"), validators=[DataRequired(message=_l("Fill in this field.")),
                                                   Length(max=100)], filters=[_strip])
    kind = SelectField(_l("Type"))

    def validate_org_number(self, field):
        if not is_valid(field.data or ""):
            raise ValidationError(_l("Not a valid organisation number: check the digits (the "
                                     "last one is a check digit)."))


class InviteForm(AppForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in this field.")), EmailAddress()], filters=[_strip])
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    organisation_ids = CheckboxList(_l("Organisations"), coerce=int)
    is_coordinator = BooleanField(_l("Coordinator (administers calls, workflows and users)"))


class UserForm(AppForm):
    organisation_ids = CheckboxList(_l("Organisations"), coerce=int)
    is_coordinator = BooleanField(_l("Coordinator (administers calls, workflows and users)"))
    is_active_account = BooleanField(_l("Active (may log in)"))


class SteeringGroupForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    member_ids = CheckboxList(_l("Members"), coerce=int)
    chair_id = SelectField(_l("Chair"), coerce=int)

    def validate_chair_id(self, field):
        if field.data and field.data not in (self.member_ids.data or []):
            raise ValidationError(_l("The chair must be one of the members."))


