from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from grants.formengine.base import AppForm

VOTE_CHOICES = [SelectChoice("approve", _l("Approve")),
                SelectChoice("changes", _l("Request changes")),
                SelectChoice("abstain", _l("Abstain"))]


class VoteForm(AppForm):
    round_id = HiddenField()
    fingerprint = HiddenField()
    choice = RadioField(_l("Your vote"), choices=VOTE_CHOICES, validators=[
        InputRequired(message=_l("Choose approve, request changes or abstain."))])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=4000)],
                            description=_l("Required when you request changes: say what should "
                                           "change. It goes to the project lead and into the "
                                           "minutes."),
                            render_kw={"rows": 3})


class RecusalForm(AppForm):
    reason = TextAreaField(_l("Reason for your jäv"), validators=[
        InputRequired(message=_l("Say why you have a conflict of interest (it goes into the "
                                 "minutes).")), Length(max=4000)],
        description=_l("For example: “I sit on the board of one of the partner "
                       "organisations.”"), render_kw={"rows": 2})
