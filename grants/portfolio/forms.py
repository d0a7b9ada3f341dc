"""The portfolio's filters: a GET form (no CSRF: it changes nothing). A value that is not one
of the choices gets a message beside its field and is left out of the figures."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField
from wtforms.validators import ValidationError

from grants.portfolio.queries import Filters


class _OneOfTheChoices:
    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        allowed = {str(choice[0]) for choice in field.choices}
        if field.data not in (None, "") and field.data not in allowed:
            raise ValidationError(self.message)


class PortfolioFilterForm(Form):
    funder = SelectField(_l("Funder"), validate_choice=False,
                         validators=[_OneOfTheChoices(_l("Choose a funder from the list."))])
    county = SelectField(_l("County"), validate_choice=False,
                         validators=[_OneOfTheChoices(_l("Choose a county from the list."))])
    year = SelectField(_l("Year"), validate_choice=False,
                       validators=[_OneOfTheChoices(_l("Choose a year from the list."))])
    state = SelectField(_l("State"), validate_choice=False,
                        validators=[_OneOfTheChoices(_l("Choose a state from the list."))])

    def set_choices(self, *, funders, counties, years, states) -> None:
        """funders: (id, short name, name); counties: names; years: ints; states: (name,
        label)."""
        self.funder.choices = [("", _("All funders"))] + [
            (str(funder_id), short if short == name else f"{short} – {name}")
            for funder_id, short, name in funders]
        self.county.choices = [("", _("All counties"))] + [(c, c) for c in counties]
        self.year.choices = [("", _("All years"))] + [(str(y), str(y)) for y in years]
        self.state.choices = [("", _("All states"))] + list(states)

    def filters(self) -> Filters:
        """The valid filters (call after validate(): a field with errors is left out)."""
        def value(field):
            return field.data if field.data and not field.errors else None
        funder, year = value(self.funder), value(self.year)
        return Filters(funder_id=int(funder) if funder else None, county=value(self.county),
                       year=int(year) if year else None, state=value(self.state))
