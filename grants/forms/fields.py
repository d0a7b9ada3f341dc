"""WTForms field types that the form definitions use beyond WTForms' own."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_KRONOR = 10**12


class KronorField(Field):
    """Whole kronor. Accepts '450000', '450 000', '450 000 kr'; refuses decimals and signs."""

    widget = TextInput()

    def __init__(self, *args, max_value: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_value = max_value

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:,}".replace(",", "\u00a0")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        raw = (valuelist[0] or "").strip()
        if not raw:
            return
        text = _SPACES.sub("", raw)
        text = re.sub(r"(?i)(kr|sek|kronor)\.?$", "", text)
        if re.fullmatch(r"\d+[.,]\d+", text):
            raise ValueError(_l("Give the amount in whole kronor, without öre."))
        if not text.isdigit():
            raise ValueError(_l("Give the amount as a whole number of kronor, e.g. 450 000."))
        value = int(text)
        if value > MAX_KRONOR:
            raise ValueError(_l("The amount is unreasonably large."))
        self.data = value

    def pre_validate(self, form):
        if self.data is not None and self.max_value is not None and self.data > self.max_value:
            from grants.i18n import format_money  # noqa: PLC0415
            raise ValidationError(_l("The amount may be at most %(max)s.",
                                     max=format_money(self.max_value)))
