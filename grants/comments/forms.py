from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from grants.comments.models import STEERING, TEAM
from grants.comments.queries import MAX_CHARS
from grants.formengine.base import AppForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CommentBody:
    """The text of a comment: plain text, not empty, at most MAX_CHARS characters."""

    body = TextAreaField(_l("Comment"), validators=[
        DataRequired(message=_l("Write a comment.")),
        Length(min=1, max=MAX_CHARS, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Plain text. Mention someone on the application with @ and their name "
                       "or email address, e.g. @Lena Lindqvist; they are notified."),
        render_kw={"rows": 4, "data-max-chars": MAX_CHARS, "data-mention": "1"})


class ThreadForm(CommentBody, AppForm):
    target = HiddenField()
    audience = RadioField(_l("Who sees the thread"), choices=[
        SelectChoice(TEAM, _l("The team: the lead, the partners, the signatories and the "
                              "coordinators")),
        SelectChoice(STEERING, _l("The team and the steering group"))], default=TEAM,
        validate_choice=False)


class ReplyForm(CommentBody, AppForm):
    pass


class StatusForm(AppForm):
    """Resolve or reopen (the CSRF token only)."""
