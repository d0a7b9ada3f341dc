from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from grants.formengine.base import AppForm
from grants.notifications.preferences import CATEGORIES, DELIVERIES, DELIVERY_LABELS

PREFIX = "notify_"


class SettingsForm(AppForm):
    """How each category of notifications reaches the user, and the user's language. One
    radio group per category (`notify_<category>`)."""

    language = RadioField(_l("Language"), choices=[SelectChoice("sv", "Svenska"),
                                                   SelectChoice("en", "English")],
                          validators=[InputRequired(message=_l("Choose a language."))])

    def categories(self):
        """(category, its radio group), in the order of CATEGORIES."""
        return [(category, self[PREFIX + category.key]) for category in CATEGORIES]

    def chosen(self) -> dict[str, str]:
        return {category.key: field.data for category, field in self.categories()}


for _category in CATEGORIES:
    setattr(SettingsForm, PREFIX + _category.key, RadioField(
        _category.label, description=_category.hint,
        choices=[SelectChoice(d, DELIVERY_LABELS[d]) for d in DELIVERIES],
        validators=[InputRequired(message=_l("Choose how you want to hear of this."))]))
