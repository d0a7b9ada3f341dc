from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

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
    amount = KronorField(_l("Amount"),
                         validators=[InputRequired(message=_l("Fill in this field."))],
                         min_value=1)


class DeleteForm(AppForm):
    pass
