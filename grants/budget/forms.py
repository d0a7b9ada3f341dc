from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grants.formengine.base import AppForm
from grants.formengine.fields import KronorField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class BudgetLineForm(AppForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    category = SelectField(_l("Cost category"))
    year = SelectField(_l("Year"), coerce=int)
    description = StringField(_l("Description"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=300)], filters=[_strip])
    amount = KronorField(_l("Amount"),
                         validators=[InputRequired(message=_l("Fill in this field."))],
                         min_value=1)


class CofinancingForm(AppForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    kind = SelectField(_l("Kind"))
    source = SelectField(_l("Public or private"))
    year = SelectField(_l("Year"), coerce=int)
    description = StringField(_l("Description"), validators=[
        DataRequired(message=_l("Fill in this field.")), Length(max=300)], filters=[_strip],
        description=_l("E.g. staff time (20 percent), premises, municipal funds."))
    amount = KronorField(_l("Amount"), validators=[Optional()], min_value=1,
                         description=_l("Or, for work in kind, the hours and the hourly rate "
                                        "below."))
    hours = IntegerField(_l("Hours (work in kind)"), validators=[
        Optional(), NumberRange(min=1, max=1_000_000, message=_l("Give whole hours, at "
                                                                 "least 1."))])
    hourly_rate = KronorField(_l("Hourly rate (work in kind)"), validators=[Optional()],
                              min_value=1)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        given = self.hours.data is not None, self.hourly_rate.data is not None
        if self.amount.data is None and not all(given):
            self.amount.errors = [*self.amount.errors, _l("Give the amount, or the hours "
                                                          "and the hourly rate.")]
            return False
        if any(given) and not all(given):
            field = self.hourly_rate if given[0] else self.hours
            field.errors = [*field.errors, _l("Give both the hours and the hourly rate.")]
            return False
        if all(given) and self.kind.data != "in_kind":
            self.hours.errors = [*self.hours.errors, _l("Hours and an hourly rate are for "
                                                        "co-financing in kind.")]
            return False
        return valid


class DeleteForm(AppForm):
    pass


class ExplanationForm(AppForm):
    organisation_id = IntegerField(validators=[InputRequired()])
    category = StringField(validators=[InputRequired(), Length(max=30)])
    text = TextAreaField(_l("Explanation of the deviation"), validators=[Length(max=2000)],
                         filters=[_strip])
