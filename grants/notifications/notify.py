"""Tell people that something needs them: an in-app notification for every recipient, and by
the recipient's choice for the notification's category an email at once, a line in the daily
digest, or nothing more (grants/notifications/preferences.py). Written in the caller's
transaction, in the recipient's own language; emails leave through the outbox after commit.

Each notification is remembered for the rest of the transaction (`already_told`), so that a
later sender in the same transaction (the transition's "whose turn" notice after a vote's own)
does not tell the same person about the same application twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from grants.accounts.models import User
from grants.db import db
from grants.notifications.mail import absolute_url, queue_email
from grants.notifications.models import Notification
from grants.notifications.preferences import BY_KEY, EMAIL, category_of, choice_for

# A message is built inside the recipient's locale: returns (subject, body).
MessageBuilder = Callable[[], tuple[str, str]]

_TOLD = "grants.notified"


def notify(users: Iterable[User], kind: str, build: MessageBuilder, *,
           application_id: int | None = None, endpoint: str = "",
           url_values: dict | None = None, category: str | None = None) -> list[Notification]:
    """One notification per distinct active user; an email as well where the user wants one
    for this category (default: the kind's, `preferences.category_of`). The link goes to
    `endpoint` with `url_values` (default: the application's id), e.g.
    notify(users, "vote_awaited", build, application_id=7, endpoint="applications.show")."""
    category = category if category in BY_KEY else category_of(kind)
    if url_values is None and application_id is not None:
        url_values = {"application_id": application_id}
    link = absolute_url(endpoint, **(url_values or {})) if endpoint else ""
    path = urlsplit(link).path if link else ""
    created: list[Notification] = []
    seen: set[int] = set()
    told = db.session.info.setdefault(_TOLD, set())
    for user in users:
        if user is None or user.id in seen or not user.is_active_account:
            continue
        seen.add(user.id)
        delivery = choice_for(user.id, category)
        with force_locale(user.locale or "sv"):
            subject, body = build()
            email_body = body + ("\n\n" + _("Open it here: %(link)s", link=link) if link else "")
            footer = _("You receive this email because you take part in the application. "
                       "Under “My settings” you choose, for each kind of notification, email "
                       "at once, a daily summary or the app only.")
        note = Notification(user_id=user.id, application_id=application_id, kind=kind,
                            subject=subject, body=body, link=path, delivery=delivery,
                            emailed=delivery == EMAIL)
        db.session.add(note)
        if delivery == EMAIL:
            queue_email(user.email, subject, f"{email_body}\n\n-- \n{footer}")
        told.add((user.id, application_id))
        created.append(note)
    db.session.flush()
    return created


def already_told(user_id: int, application_id: int | None) -> bool:
    """Whether this transaction has already notified the user about the application."""
    return (user_id, application_id) in db.session.info.get(_TOLD, ())


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_who_was_told(session: Session) -> None:
    session.info.pop(_TOLD, None)
