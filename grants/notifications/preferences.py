"""The categories of notifications, and how each user wants each one: by email at once, in a
daily digest, or only in the app. Every notification appears in the app whatever the choice.

A notification's `kind` (e.g. "vote_awaited", "reminder_deadline") belongs to one category; a
sender may name the category itself (`notify(..., category=...)`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.db import db
from grants.notifications.models import NotificationPreference

EMAIL, DIGEST, APP = "email", "digest", "app"
DELIVERIES = (EMAIL, DIGEST, APP)
DELIVERY_LABELS = {EMAIL: _l("By email at once"), DIGEST: _l("In a daily summary email"),
                   APP: _l("Only in the app")}


@dataclass(frozen=True)
class Category:
    key: str
    label: object   # lazy text
    hint: object
    default: str


CATEGORIES: tuple[Category, ...] = (
    Category("action", _l("It is your turn"),
             _l("An application is waiting for you: a transition you may make, or a problem "
                "only you can solve."), EMAIL),
    Category("confirmation", _l("Confirmations"),
             _l("Your organisation's confirmation is due, or must be given again because the "
                "application changed."), EMAIL),
    Category("vote", _l("Steering group votes"),
             _l("A vote awaits you, or your vote must be cast again."), EMAIL),
    Category("reminder", _l("Deadline reminders"),
             _l("Reminders of milestones and of the funder's deadline."), EMAIL),
    Category("decision", _l("Decisions and submissions"),
             _l("The steering group's decision, the submission to the funder and its "
                "delivery."), EMAIL),
    Category("comment", _l("Comments and mentions"),
             _l("Someone mentioned you in a comment, or replied in a thread you wrote in."),
             EMAIL),
    Category("state", _l("Other changes of state"),
             _l("An application you take part in moved to another state."), DIGEST),
)
BY_KEY = {category.key: category for category in CATEGORIES}

# Kinds sent today, by prefix (first match wins); anything else: "action".
KIND_PREFIXES = (
    ("vote_", "vote"), ("too_few_eligible", "action"), ("reminder_", "reminder"),
    ("decision_", "decision"), ("delivery_", "decision"), ("confirm", "confirmation"),
    ("state_changed", "state"), ("turn", "action"), ("comment_", "comment"),
)


def category_of(kind: str) -> str:
    for prefix, category in KIND_PREFIXES:
        if kind.startswith(prefix):
            return category
    return "action"


def choices_of(user_id: int) -> dict[str, str]:
    """Every category's choice for the user (defaults where they chose nothing)."""
    chosen = dict(db.session.execute(select(
        NotificationPreference.category, NotificationPreference.delivery).where(
        NotificationPreference.user_id == user_id)).all())
    return {c.key: chosen.get(c.key) if chosen.get(c.key) in DELIVERIES else c.default
            for c in CATEGORIES}


def choice_for(user_id: int, category: str) -> str:
    row = db.session.get(NotificationPreference, (user_id, category))
    if row is not None and row.delivery in DELIVERIES:
        return row.delivery
    return BY_KEY[category].default if category in BY_KEY else EMAIL
