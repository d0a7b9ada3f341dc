"""Pure computation of milestones and reminder times: no database, no app.

Every deadline is a moment (an aware UTC datetime). Milestones are counted back from it in
*Swedish wall-clock days*: seven days before 31 March 23:59 (summer time, UTC+2) is 24 March
23:59 (winter time, UTC+1) – the same time on the clock, one hour less in absolute time. So
“23:59” stays 23:59 for everyone in Sweden whichever side of a daylight-saving change a
milestone falls on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from grants.i18n import pick_label
from grants.workflow.definition import Label

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Today's milestones in the order they fall due (a form's `milestones:` key may configure
# others, docs/forms.md); the deadline itself is the last milestone.
MILESTONES = ("partner_input", "steering_meeting", "signatures", "deadline")
# The call's column that says how many days before the deadline each milestone is.
DAYS_FIELDS = {
    "partner_input": "partner_input_days_before",
    "steering_meeting": "steering_meeting_days_before",
    "signatures": "signatures_days_before",
}
MILESTONE_LABELS = {
    "partner_input": _l("Partner input due"),
    "steering_meeting": _l("Steering group meeting"),
    "signatures": _l("Signatures"),
    "deadline": _l("Deadline for submission"),
}
# Reminders go out at this Swedish time on the day N days before a milestone.
REMINDER_TIME = time(8, 0)


class NonexistentLocalTime(ValueError):
    """A Swedish wall-clock time that does not exist (the hour skipped when clocks go forward)."""


@dataclass(frozen=True)
class Milestone:
    key: str
    at: datetime  # aware, UTC
    days_before: int  # calendar days before the deadline (0 for the deadline itself)
    own_label: Label | None = None  # the form's label of a milestone of its own

    @property
    def local(self) -> datetime:
        return self.at.astimezone(STOCKHOLM)

    @property
    def label(self) -> str:
        return pick_label(self.own_label) if self.own_label else milestone_label(self.key)


def milestone_label(key: str) -> str:
    return str(MILESTONE_LABELS.get(key, key))


def wall_clock_days_before(moment: datetime, days: int) -> datetime:
    """`days` calendar days before `moment` at the same Swedish wall-clock time, in UTC.

    Aware arithmetic in a ZoneInfo zone is wall-clock arithmetic: the UTC offset is worked out
    again for the result. A result in the hour skipped in spring is read with the offset before
    the change (02:30 becomes 03:30 summer time); one in the hour repeated in autumn is the
    first of the two (summer time)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to wall_clock_days_before")
    if days == 0:
        return moment.astimezone(UTC)
    local = moment.astimezone(STOCKHOLM)
    return (local - timedelta(days=days)).replace(fold=0).astimezone(UTC)


def compute_milestones(deadline: datetime, days_before: Mapping[str, int],
                       keys: tuple[str, ...] = MILESTONES,
                       labels: Mapping[str, Label] | None = None) -> list[Milestone]:
    """The milestones in `keys`, counted back from `deadline`, in the order they fall due
    (on the same moment, in the order of `keys`). `days_before` maps a milestone key to its
    number of days (the deadline's is 0); `labels` the form's labels of its own milestones."""
    result = []
    labels = labels or {}
    for key in keys:
        days = 0 if key == "deadline" else int(days_before[key])
        result.append(Milestone(key, wall_clock_days_before(deadline, days), days,
                                labels.get(key)))
    return sorted(result, key=lambda m: (m.at, keys.index(m.key)))


def reminder_time(milestone_at: datetime, days_before: int) -> datetime:
    """When the reminder for a milestone goes out: 08:00 Swedish time on the day `days_before`
    days before the milestone's day. If that is not before the milestone (0 days and a
    milestone before 08:00), 08:00 the day before. Returned in UTC."""
    local = milestone_at.astimezone(STOCKHOLM)
    day = local.date() - timedelta(days=days_before)
    send = from_local(day, REMINDER_TIME, strict=False)
    if send >= milestone_at:
        send = from_local(day - timedelta(days=1), REMINDER_TIME, strict=False)
    return send


def from_local(day: date, clock: time, *, strict: bool = True) -> datetime:
    """A Swedish date and wall-clock time as a UTC moment. `strict`: refuse a time that does not
    exist (NonexistentLocalTime); an ambiguous one (the repeated hour in autumn) is the first,
    summer-time one."""
    local = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=STOCKHOLM)
    utc = local.astimezone(UTC)
    if strict and utc.astimezone(STOCKHOLM).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{day} {clock} does not exist in Europe/Stockholm")
    return utc


def is_passed(moment: datetime, now: datetime) -> bool:
    """A deadline or milestone has passed from its very minute on (23:59 means before 23:59)."""
    return now >= moment
