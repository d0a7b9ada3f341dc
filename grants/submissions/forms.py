from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from grants.formengine.base import AppForm
from grants.formengine.fields import IsoDateField, KronorField


class DecisionForm(AppForm):
    state_version = HiddenField()
    outcome = RadioField(_l("The funder's decision"), choices=[
        SelectChoice("granted", _l("Granted")), SelectChoice("rejected", _l("Rejected"))],
        validators=[InputRequired(message=_l("Choose granted or rejected."))])
    granted_amount = KronorField(_l("Granted amount"), validators=[Optional()],
                                description=_l("In kronor, as in the decision letter."))
    decision_date = IsoDateField(_l("Date of the decision"), validators=[
        InputRequired(message=_l("Give the date of the funder's decision."))])
    funder_reference = StringField(_l("Funder's reference (diarienummer)"),
                                   validators=[Length(max=100)])
    letter = FileField(_l("Decision letter (PDF)"))
