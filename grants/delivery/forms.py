"""Forms of the delivery log: the funder's receipt for a portal submission, and a
coordinator's decision on an uncertain delivery. The operations check the values (the receipt
by its content); the forms carry them and the CSRF token."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from grants.formengine.base import AppForm


class ReceiptForm(AppForm):
    funder_reference = StringField(_l("The funder's reference number (diarienummer)"),
                                   validators=[Length(max=100)])
    receipt = FileField(_l("The funder's receipt (PDF)"),
                        render_kw={"accept": "application/pdf,.pdf"})


class ResolveForm(AppForm):
    decision = RadioField(_l("What did the funder say?"), choices=[
        SelectChoice("sent", _l("The funder has received it: mark it as sent")),
        SelectChoice("resend", _l("The funder has not received it: send it again"))],
        validate_choice=False)
    note = TextAreaField(_l("How you checked"), validators=[Length(max=2000)],
                         description=_l("E.g. who at the funder's registry confirmed it, and "
                                        "when. Recorded with your decision."))
