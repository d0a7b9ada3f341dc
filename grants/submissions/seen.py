"""What was submitted, as a point "what changed since" compares with (a resubmission)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from grants.collaboration.since import SeenPoint, seen_point
from grants.db import db
from grants.i18n import format_date_local
from grants.submissions.models import Submission


@seen_point("submission")
def submission_seen(application, number: str) -> SeenPoint | None:
    """Submission N: the frozen snapshot that was sent."""
    submission = db.session.scalar(select(Submission).where(
        Submission.application_id == application.id, Submission.number == int(number)))
    if submission is None:
        return None
    return SeenPoint(_("submission %(number)d (%(date)s)", number=submission.number,
                       date=format_date_local(submission.submitted_at)), submission.snapshot)
