"""Forms of the coordinator's administration pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, EmailField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from grants.forms.fields import KronorField, WholeNumberField
from grants.organisations.orgnr import is_valid


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EmailAddress:
    """A syntactically valid address (no DNS look-up). The `.test` domain of the demo accounts
    is accepted in demo and test mode only."""

    def __call__(self, form, field):
        from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415
        from flask import current_app  # noqa: PLC0415
        relaxed = bool(current_app.config.get("TESTING") or current_app.config.get("DEMO_MODE"))
        try:
            validate_email(field.data or "", check_deliverability=False,
                           test_environment=relaxed)
        except EmailNotValidError:
            raise ValidationError(_l("This is not a valid email address.")) from None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class FunderForm(FlaskForm):
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

    def validate_slug(self, field):
        import re  # noqa: PLC0415
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits and hyphens."))


class CallForm(FlaskForm):
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
    steering_group_id = SelectField(_l("Steering group"), coerce=int)
    max_chars_per_field = WholeNumberField(_l("Max characters per text field"),
                                           validators=[Optional()], min_value=50)
    max_requested_amount = KronorField(_l("Max requested amount"), validators=[Optional()])
    min_cofinancing_percent = WholeNumberField(_l("Minimum co-financing (percent of total cost)"),
                                               validators=[Optional()], max_value=100)
    max_indirect_percent = WholeNumberField(_l("Max indirect costs (percent of direct costs)"),
                                            validators=[Optional()], max_value=100)
    allow_resubmission = BooleanField(_l("The lead may withdraw and resubmit before the deadline"))

    def validate_deadline_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The deadline must be after the opening."))


class OrganisationForm(FlaskForm):
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


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Fill in this field.")), EmailAddress()], filters=[_strip])
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    organisation_ids = CheckboxList(_l("Organisations"), coerce=int)
    is_coordinator = BooleanField(_l("Coordinator (administers calls, workflows and users)"))


class UserForm(FlaskForm):
    organisation_ids = CheckboxList(_l("Organisations"), coerce=int)
    is_coordinator = BooleanField(_l("Coordinator (administers calls, workflows and users)"))
    is_active_account = BooleanField(_l("Active (may log in)"))


class SteeringGroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Fill in this field.")),
                                               Length(max=200)], filters=[_strip])
    member_ids = CheckboxList(_l("Members"), coerce=int)
    chair_id = SelectField(_l("Chair"), coerce=int)

    def validate_chair_id(self, field):
        if field.data and field.data not in (self.member_ids.data or []):
            raise ValidationError(_l("The chair must be one of the members."))


class AcceptInvitationForm(FlaskForm):
    password = StringField(_l("Choose a password"), validators=[
        DataRequired(message=_l("Fill in this field.")),
        Length(min=12, max=1024, message=_l("At least %(min)d characters."))],
        render_kw={"type": "password", "autocomplete": "new-password"})
