"""The daily digest: one email a day to each person who chose "daily summary" for some kind of
notification, listing that person's notifications not yet digested, in the person's language.

RQ's scheduler (a worker started with `--with-scheduler`) runs `run_digest` once a day at
DIGEST_HOUR (Stockholm time, default 7); each run schedules the next day's. Its RQ id names the
day, so every worker schedules the same job. The sweeper ("digest") schedules it again when
Redis lost it, and runs a missed day's digest at once.

Exactly once: each person's digest is a row unique per person and day, inserted in the same
transaction that marks the notifications as digested (a conditional UPDATE of those still
undigested) and queues the email. A second run of the same day, on any worker, finds the row
and sends nothing; a notification is carried by one digest only."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from grants.accounts.models import User
from grants.db import db, utcnow
from grants.i18n import STOCKHOLM, format_datetime_local
from grants.jobs.queue import ALIVE, rq_job_status, schedule_at
from grants.jobs.runner import app_context
from grants.jobs.sweeper import register_sweeper
from grants.notifications.mail import absolute_url, queue_email
from grants.notifications.models import Notification, NotificationDigest
from grants.notifications.preferences import DIGEST

logger = logging.getLogger(__name__)

DIGEST_FUNCTION = "grants.notifications.digest.run_digest"


def digest_moment(app: Flask, day: date) -> datetime:
    """When the digest of `day` goes out: DIGEST_HOUR o'clock in Stockholm."""
    hour = int(app.config.get("DIGEST_HOUR", 7))
    return datetime.combine(day, time(hour), tzinfo=STOCKHOLM)


def digest_rq_id(app: Flask, day: date) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-digest-{day.isoformat()}"


def last_digest_day(app: Flask, now: datetime | None = None) -> date:
    """The latest day whose digest moment has passed."""
    now = now or utcnow()
    today = now.astimezone(STOCKHOLM).date()
    return today if digest_moment(app, today) <= now else today - timedelta(days=1)


def schedule_next_digest(app: Flask, now: datetime | None = None) -> str | None:
    """Schedule the next day's digest (the same RQ id on every worker). Returns the id, None
    when Redis is unreachable."""
    day = last_digest_day(app, now) + timedelta(days=1)
    rq_id = digest_rq_id(app, day)
    if rq_job_status(rq_id, app) in ALIVE:
        return rq_id
    return rq_id if schedule_at(digest_moment(app, day), DIGEST_FUNCTION, day.isoformat(),
                                rq_id=rq_id, app=app) else None


def run_digest(day: str) -> str:
    """Entry point RQ's scheduler calls: send `day`'s digests, then schedule the next day's."""
    with app_context() as app:
        try:
            sent = send_digests(date.fromisoformat(day))
        finally:
            schedule_next_digest(app)
        return f"sent {len(sent)} digests"


def pending_digest_users(before: datetime) -> list[int]:
    return list(db.session.scalars(
        select(Notification.user_id).where(Notification.delivery == DIGEST,
                                           Notification.digest_id.is_(None),
                                           Notification.created_at <= before)
        .distinct().order_by(Notification.user_id)))


def send_digests(day: date, *, now: datetime | None = None) -> list[int]:
    """Each person's digest of `day`: their undigested notifications up to now. One
    transaction per person. Returns the ids of the digests sent by this run."""
    now = now or utcnow()
    sent = []
    for user_id in pending_digest_users(now):
        digest = _send_one(user_id, day, now)
        if digest is not None:
            sent.append(digest.id)
    return sent


def _send_one(user_id: int, day: date, now: datetime) -> NotificationDigest | None:
    user = db.session.get(User, user_id)
    if user is None:
        return None
    if db.session.scalar(select(exists().where(NotificationDigest.user_id == user_id,
                                               NotificationDigest.day == day))):
        db.session.rollback()
        return None  # today's digest went out already: the rest waits for tomorrow's
    digest = NotificationDigest(user_id=user_id, day=day)
    db.session.add(digest)
    try:
        db.session.flush()
    except IntegrityError:  # another worker sent it at the same moment
        db.session.rollback()
        return None
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.delivery == DIGEST,
               Notification.digest_id.is_(None), Notification.created_at <= now)
        .values(digest_id=digest.id).execution_options(synchronize_session=False))
    notes = list(db.session.scalars(select(Notification).where(
        Notification.digest_id == digest.id).order_by(Notification.id)))
    if not notes or not user.is_active_account:
        db.session.rollback()
        return None
    digest.count = len(notes)
    with force_locale(user.locale or "sv"):
        subject, body = _message(user, notes)
    digest.outbox_id = queue_email(user.email, subject, body).id
    db.session.commit()
    logger.info("digest %s (%s) for user %s: %d notifications", digest.id, day, user_id,
                len(notes))
    return digest


def _message(user: User, notes: list[Notification]) -> tuple[str, str]:
    base = absolute_url("notifications.index")
    origin = base[: -len("/notifications")] if base.endswith("/notifications") else base
    subject = _("Your daily summary from Grants: %(count)d notifications", count=len(notes))
    parts = [_("Hello %(name)s,", name=user.name), "",
             _("This is what happened since your last summary:"), ""]
    for note in notes:
        parts.append(f"* {note.subject} ({format_datetime_local(note.created_at)})")
        if note.body:
            parts.extend("  " + line for line in note.body.splitlines())
        if note.link:
            parts.append("  " + origin + note.link)
        parts.append("")
    parts += [_("All your notifications: %(link)s", link=base), "", "-- ",
              _("You receive this summary because you chose a daily summary for some kinds of "
                "notification under “My settings”.")]
    return subject, "\n".join(parts)


# --- the sweeper's part -----------------------------------------------------------------------
@register_sweeper("digest")
def sweep_digest(app: Flask, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Schedule the next digest when Redis lost it; run a missed day's digest at once (when
    notifications from before its moment are still undigested). Returns nothing to count."""
    schedule_next_digest(app)
    day = last_digest_day(app)
    if pending_digest_users(digest_moment(app, day)):
        rq_id = digest_rq_id(app, day)
        if rq_job_status(rq_id, app) not in ALIVE:
            schedule_at(utcnow(), DIGEST_FUNCTION, day.isoformat(), rq_id=rq_id, app=app)
            logger.warning("sweeper: the digest of %s had not run; it runs now", day)
    return []
