"""The rounds a steering member voted on, as points "what changed since" compares with."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from grants.approvals.models import Vote, VoteRound
from grants.collaboration.shown import shown_content
from grants.collaboration.since import SeenPoint, seen_point
from grants.db import db
from grants.i18n import format_date_local


@seen_point("round")
def round_seen(application, number: str) -> SeenPoint | None:
    """Round N of the application's vote: the content its members voted on."""
    round_ = db.session.scalar(select(VoteRound).where(
        VoteRound.application_id == application.id, VoteRound.number == int(number)))
    if round_ is None:
        return None
    kept = shown_content(application.id, round_.fingerprint)
    return SeenPoint(_("round %(number)d of the steering group's vote (%(date)s)",
                       number=round_.number, date=format_date_local(round_.opened_at)),
                     kept.snapshot if kept is not None else None)


def last_round_voted(application_id: int, user_id: int, before_number: int) -> int | None:
    """The latest earlier round of this application in which the user voted (None: none)."""
    return db.session.scalar(select(VoteRound.number).join(Vote, Vote.round_id == VoteRound.id)
                             .where(VoteRound.application_id == application_id,
                                    Vote.user_id == user_id,
                                    VoteRound.number < before_number)
                             .order_by(VoteRound.number.desc()).limit(1))
