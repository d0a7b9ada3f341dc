"""Changes to a user's notifications and settings (one transaction each)."""

from __future__ import annotations

from sqlalchemy import update

from grants.accounts.models import User
from grants.db import db, utcnow
from grants.notifications.models import Notification


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                  Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()


def save_settings(user: User, *, notify_by_email: bool, locale: str) -> None:
    user.notify_by_email = notify_by_email
    user.locale = locale
    db.session.commit()
