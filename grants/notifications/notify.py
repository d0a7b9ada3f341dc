"""Tell people that something needs them: an in-app notification for every recipient, and an
email too unless the recipient chose in-app only. Written in the caller's transaction, in the
recipient's own language; emails leave through the outbox after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _

from grants.accounts.models import User
from grants.db import db
from grants.notifications.mail import absolute_url, queue_email
from grants.notifications.models import Notification

# A message is built inside the recipient's locale: returns (subject, body).
MessageBuilder = Callable[[], tuple[str, str]]


def notify(users: Iterable[User], kind: str, build: MessageBuilder, *,
           application_id: int | None = None, endpoint: str = "",
           url_values: dict | None = None) -> list[Notification]:
    """One notification per distinct active user; an email as well where the user wants one.
    The link goes to `endpoint` with `url_values` (default: the application's id), e.g.
    notify(users, "vote_awaited", build, application_id=7, endpoint="applications.show")."""
    if url_values is None and application_id is not None:
        url_values = {"application_id": application_id}
    link = absolute_url(endpoint, **(url_values or {})) if endpoint else ""
    path = urlsplit(link).path if link else ""
    created: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.is_active_account:
            continue
        seen.add(user.id)
        with force_locale(user.locale or "sv"):
            subject, body = build()
            email_body = body + ("\n\n" + _("Open it here: %(link)s", link=link) if link else "")
            footer = _("You receive this email because you take part in the application. "
                       "You can choose in-app notifications only under “My settings”.")
        note = Notification(user_id=user.id, application_id=application_id, kind=kind,
                            subject=subject, body=body, link=path,
                            emailed=bool(user.notify_by_email))
        db.session.add(note)
        if user.notify_by_email:
            queue_email(user.email, subject, f"{email_body}\n\n-- \n{footer}")
        created.append(note)
    db.session.flush()
    return created
