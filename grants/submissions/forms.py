from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from grants.formengine.base import AppForm
from grants.formengine.fields import IsoDateField, KronorField

# What the funder can answer, by outcome; a document is offered those its workflow offers.
OUTCOMES = {"granted": _l("Granted"), "rejected": _l("Rejected"),
            "accepted": _l("Accepted"), "returned": _l("Returned for completion")}


class DecisionForm(AppForm):
    state_version = HiddenField()
    outcome = RadioField(_l("The funder's decision"), choices=[
        SelectChoice(key, label) for key, label in OUTCOMES.items()],
        validators=[InputRequired(message=_l("Choose one of the decisions offered."))])
    granted_amount = KronorField(_l("Granted amount"), validators=[Optional()],
                                description=_l("In kronor, as in the decision letter."))
    project_start = IsoDateField(_l("Project starts"), validators=[Optional()],
                                 description=_l("The project period the decision grants."))
    project_end = IsoDateField(_l("Project ends"), validators=[Optional()])
    conditions = TextAreaField(_l("Conditions of the grant"), validators=[Length(max=4000)],
                               description=_l("As the decision letter gives them, e.g. "
                                              "what the reports must show."))
    paid_amount = KronorField(_l("Amount paid out"), validators=[Optional()],
                              description=_l("What the funder pays with its acceptance (a "
                                             "payment claim), in kronor."))
    comment = TextAreaField(_l("The funder's comment"), validators=[Length(max=4000)],
                            description=_l("What the funder asks to be completed, when it "
                                           "returns a report."))

    def offer(self, outcomes) -> DecisionForm:
        """Offer only these outcomes (those the document's workflow offers now)."""
        self.outcome.choices = [SelectChoice(key, OUTCOMES[key]) for key in OUTCOMES
                                if key in outcomes]
        return self
    decision_date = IsoDateField(_l("Date of the decision"), validators=[
        InputRequired(message=_l("Give the date of the funder's decision."))])
    funder_reference = StringField(_l("Funder's reference (diarienummer)"),
                                   validators=[Length(max=100)])
    letter = FileField(_l("Decision letter (PDF)"))
