from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from grants.accounts.forms import EmailAddress
from grants.formengine.base import AppForm
from grants.organisations.orgnr import is_valid


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ContactForm(AppForm):
    contact_name = StringField(_l("Contact person"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=200)], filters=[_strip])
    contact_email = EmailField(_l("Contact's email"), validators=[
        DataRequired(message=_l("Fill in this field.")), EmailAddress()], filters=[_strip],
        description=_l("The invitation is sent here."))


class AddPartnerForm(ContactForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int,
                                  description=_l("Choose from the register, or “New "
                                                 "organisation” and fill in the fields below."))
    # Required only for a new organisation: checked by the validate_* methods below (an
    # Optional() validator would stop them from running on empty input).
    new_name = StringField(_l("Name of the new organisation"), validators=[Length(max=200)],
                           filters=[_strip])
    new_org_number = StringField(_l("Organisation number"), filters=[_strip],
                                 description=_l("10 digits, e.g. 212000-0142."))
    new_county = StringField(_l("County"), validators=[Length(max=100)], filters=[_strip])
    new_kind = SelectField(_l("Type"))

    def validate_new_name(self, field):
        if self.organisation_id.data == 0 and not field.data:
            raise ValidationError(_l("Fill in this field."))

    def validate_new_org_number(self, field):
        if self.organisation_id.data == 0 and not is_valid(field.data or ""):
            raise ValidationError(_l("Not a valid organisation number: check the digits (the "
                                     "last one is a check digit)."))

    def validate_new_county(self, field):
        if self.organisation_id.data == 0 and not field.data:
            raise ValidationError(_l("Fill in this field."))


class NewAccountForm(AppForm):
    name = StringField(_l("Your name"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=200)], filters=[_strip])
    password = StringField(_l("Choose a password"), validators=[
        DataRequired(message=_l("Fill in this field.")),
        Length(min=12, max=1024, message=_l("At least %(min)d characters."))],
        render_kw={"type": "password", "autocomplete": "new-password"})


class AcceptForm(AppForm):
    pass


class ConfirmForm(AppForm):
    # The version the signatory was shown, and its parts' fingerprints (see
    # grants.partners.confirmation.shown_version).
    fingerprint = HiddenField()
    parts = HiddenField()
    authorised = BooleanField(_l("I am authorised to sign for the organisation (firmatecknare) "
                                 "and confirm its participation and co-financing as shown."),
                              validators=[DataRequired(message=_l("Tick the box to confirm."))])


class SignatoryForm(AppForm):
    """Name an organisation's authorised signatory: one of its people, or a new person."""

    user_id = SelectField(_l("Authorised signatory (firmatecknare)"), coerce=int,
                          description=_l("Choose a person of the organisation, or “New "
                                         "person” and fill in the name and email below: they "
                                         "are invited by email."))
    name = StringField(_l("Name of the new person"), validators=[Length(max=200)],
                       filters=[_strip])
    email = EmailField(_l("Email of the new person"), filters=[_strip])
    title = StringField(_l("Title (befattning)"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=200)], filters=[_strip],
        description=_l("E.g. head of library services, authorised by delegation."))

    def validate_name(self, field):
        if self.user_id.data == 0 and not field.data:
            raise ValidationError(_l("Fill in this field."))

    def validate_email(self, field):
        if self.user_id.data == 0:
            if not field.data:
                raise ValidationError(_l("Fill in this field."))
            EmailAddress()(self, field)
