"""WTForms field types for form definitions, with messages in the user's language."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import Field, RadioField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, TextInput

from grants.i18n import format_money

_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_WHOLE = 10**12


class WholeNumberField(Field):
    """A whole number. Accepts '1 234' with spaces; refuses decimals, signs and words."""

    widget = TextInput()
    unit_pattern = r""

    def __init__(self, *args, min_value: int | None = None, max_value: int | None = None,
                 **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "numeric")
        super().__init__(*args, **kwargs)
        self.min_value = min_value
        self.max_value = max_value

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:,}".replace(",", "\u00a0")

    def decimal_message(self):
        return _l("Give a whole number, without decimals.")

    def shape_message(self):
        return _l("Give a whole number, e.g. 25.")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        raw = (valuelist[0] or "").strip()
        if not raw:
            return
        text = _SPACES.sub("", raw)
        if self.unit_pattern:
            text = re.sub(self.unit_pattern, "", text)
        if re.fullmatch(r"\d+[.,]\d+", text):
            raise ValueError(self.decimal_message())
        if not text.isdigit():
            raise ValueError(self.shape_message())
        value = int(text)
        if value > MAX_WHOLE:
            raise ValueError(_l("The number is unreasonably large."))
        self.data = value

    def format_limit(self, value: int) -> str:
        return f"{value:,}".replace(",", "\u00a0")

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.max_value is not None and self.data > self.max_value:
            raise ValidationError(_l("At most %(max)s.", max=self.format_limit(self.max_value)))
        if self.min_value is not None and self.data < self.min_value:
            raise ValidationError(_l("At least %(min)s.", min=self.format_limit(self.min_value)))


class KronorField(WholeNumberField):
    """Whole kronor: '450000', '450 000', '450 000 kr'."""

    unit_pattern = r"(?i)(kr|sek|kronor)\.?$"

    def decimal_message(self):
        return _l("Give the amount in whole kronor, without öre.")

    def shape_message(self):
        return _l("Give the amount as a whole number of kronor, e.g. 450 000.")

    def format_limit(self, value: int) -> str:
        return format_money(value)

    def pre_validate(self, form):
        if self.data is not None and self.max_value is not None and self.data > self.max_value:
            raise ValidationError(_l("The amount may be at most %(max)s.",
                                     max=self.format_limit(self.max_value)))
        super().pre_validate(form)


class IsoDateField(Field):
    """A date as YYYY-MM-DD (the browser shows its own date picker)."""

    widget = DateInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "") or ""
        if not raw.strip():
            return
        try:
            self.data = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(_l("Give the date as YYYY-MM-DD, e.g. 2027-03-31.")) from None


class ChoiceField(RadioField):
    """One of the options, with a translated message for anything else."""

    def pre_validate(self, form):
        if self.data is None or self.data == "":
            return
        if self.data not in {str(c.value) for c in self.choices or []}:
            raise ValidationError(_l("Choose one of the options."))


class MultiChoiceField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        valid = {str(c.value) for c in self.choices or []}
        for value in self.data or []:
            if value not in valid:
                raise ValidationError(_l("Choose among the options."))


def hidden_number(field, default: int, invalid: int = -1) -> int:
    """The whole number a hidden field carries back (a version, a state version, a round id):
    `default` when it is empty, `invalid` when it is not a number – a value no row has, so the
    operation refuses it as stale."""
    try:
        return int(field.data or default)
    except (TypeError, ValueError):
        return invalid
