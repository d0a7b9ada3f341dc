"""Changes to a user's notifications and settings (one transaction each)."""

from __future__ import annotations

from sqlalchemy import update

from grants.accounts.models import User
from grants.db import db, utcnow
from grants.notifications.models import Notification, NotificationPreference
from grants.notifications.preferences import BY_KEY, DELIVERIES


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                  Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()


def save_settings(user: User, *, preferences: dict[str, str], locale: str) -> None:
    """The user's choice per category (email / digest / app) and language."""
    unknown = [k for k, v in preferences.items() if k not in BY_KEY or v not in DELIVERIES]
    if unknown:
        raise ValueError(f"unknown notification preferences: {unknown}")  # the form checks
    for category, delivery in preferences.items():
        row = db.session.get(NotificationPreference, (user.id, category))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, category=category,
                                                  delivery=delivery))
        else:
            row.delivery = delivery
    user.locale = locale
    db.session.commit()
