"""The reminder job. RQ's scheduler (a worker started with `--with-scheduler`) moves it onto
the default queue at the reminder's `send_at`; it takes only the row's id.

The job claims its row with a conditional UPDATE (scheduled → sent) in the same transaction as
the notifications (and the outbox emails) it writes, so the reminder goes out at most once even
when the job runs twice or two workers run it at the same moment: the second waits for the
first's row lock and then finds nothing to claim. A cancelled row does nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select, update

from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.queries import current_partners
from grants.db import db, utcnow
from grants.deadlines.milestones import MILESTONES as DEFAULT_KEYS
from grants.deadlines.milestones import is_passed
from grants.deadlines.models import Reminder, ReminderStatus
from grants.deadlines.operations import (
    REMINDER_JOB,
    application_milestones,
    is_finished,
    reminds_partners,
    who_owes,
)
from grants.i18n import format_datetime_local, pick_label
from grants.jobs.queue import ALIVE, reminder_rq_job_id, rq_job_status, schedule_at
from grants.jobs.runner import app_context
from grants.jobs.sweeper import register_sweeper
from grants.notifications.notify import notify
from grants.processes import workflow_for

logger = logging.getLogger(__name__)

# A job that RQ hands over up to this much before its time still counts as on time.
EARLY_TOLERANCE = timedelta(minutes=1)


def run_reminder(reminder_id: int) -> str:
    """Entry point RQ calls. Opens an app context when the worker has none."""
    with app_context():
        return send_reminder(reminder_id)


def send_reminder(reminder_id: int, *, now: datetime | None = None) -> str:
    """Send one reminder to whoever still owes something for its milestone. Returns what
    happened: sent, cancelled, skipped (not scheduled any more), early, or gone."""
    now = now or utcnow()
    reminder = db.session.get(Reminder, reminder_id)
    if reminder is None:
        return "gone"
    if reminder.status != ReminderStatus.scheduled:
        logger.info("reminder %s is %s; nothing to do", reminder_id, reminder.status)
        return "skipped"
    if reminder.send_at - EARLY_TOLERANCE > now:
        # Run before its time (pushed by hand): the sweeper schedules it again.
        logger.info("reminder %s is not due until %s", reminder_id, reminder.send_at)
        return "early"
    claimed = db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.scheduled)
        .values(status=ReminderStatus.sent, sent_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        return "skipped"
    db.session.refresh(reminder)
    application = db.session.get(Application, reminder.application_id)
    workflow = workflow_for(application)
    if is_finished(application, workflow) or is_passed(reminder.milestone_at, now):
        reminder.status, reminder.sent_at = ReminderStatus.cancelled, None
        db.session.commit()
        logger.info("reminder %s cancelled: application %s is %s", reminder_id,
                    application.id, "finished" if is_finished(application, workflow)
                    else "past the milestone")
        return "cancelled"
    users = [debtor.user for debtor in who_owes(application, reminder.milestone, workflow)
             if debtor.user is not None]
    reminded = _notify(application, workflow, reminder, users)
    reminder.recipients = [user.id for user in reminded]
    db.session.commit()
    logger.info("reminder %s (%s, application %s) sent to users %s", reminder_id,
                reminder.milestone, application.id, reminder.recipients)
    return "sent"


def _notify(application: Application, workflow, reminder: Reminder,
            users: list[User]) -> list[User]:
    """One notification (and email) per user, written in each user's language."""
    if not users:
        return []
    kind = f"reminder_{reminder.milestone}"
    if reminds_partners(application, reminder.milestone):
        reminded = []
        organisations = _partner_organisations(application.id)
        for user in users:
            organisation = organisations.get(user.id, "")
            notes = notify([user], kind, _builder(application, workflow, reminder, organisation),
                           application_id=application.id, endpoint="applications.show")
            if notes:
                reminded.append(user)
        return reminded
    notes = notify(users, kind, _builder(application, workflow, reminder),
                   application_id=application.id, endpoint="applications.show")
    by_id = {user.id: user for user in users}
    return [by_id[note.user_id] for note in notes]


def _partner_organisations(application_id: int) -> dict[int, str]:
    return {p.contact_user_id: p.organisation.name for p in current_partners(application_id)
            if p.contact_user_id is not None}


def _builder(application: Application, workflow, reminder: Reminder, organisation: str = ""):
    """A zero-argument message builder, evaluated inside each recipient's locale."""
    title = application.title

    def build() -> tuple[str, str]:
        when = format_datetime_local(reminder.milestone_at)
        state = workflow.state(application.state) if workflow is not None else None
        state_label = pick_label(state.label) if state is not None else application.state
        if reminder.milestone == "partner_input":
            return (_("Reminder: partner input for “%(title)s” is due on %(date)s",
                      title=title, date=when),
                    _("Partner input for the application “%(title)s” is due on %(date)s. "
                      "%(organisation)s has not yet confirmed its part: fill in your "
                      "organisation's part and confirm participation and co-financing.",
                      title=title, date=when, organisation=organisation))
        if reminder.milestone == "steering_meeting":
            return (_("Reminder: “%(title)s” goes to the steering group on %(date)s",
                      title=title, date=when),
                    _("The steering group meets about “%(title)s” on %(date)s. The application "
                      "must be ready for the steering group's decision by then; it is now in "
                      "state “%(state)s”.", title=title, date=when, state=state_label))
        if reminder.milestone not in DEFAULT_KEYS:
            # A milestone of the form's own, under its own label.
            label = next((m.label for m in application_milestones(application, workflow)
                          if m.key == reminder.milestone), reminder.milestone)
            if reminds_partners(application, reminder.milestone):
                return (_("Reminder: “%(milestone)s” for “%(title)s” is due on %(date)s",
                          milestone=label, title=title, date=when),
                        _("“%(milestone)s” for the application “%(title)s” is due on "
                          "%(date)s. %(organisation)s has not yet confirmed its part: fill in "
                          "your organisation's part and confirm participation and "
                          "co-financing.", milestone=label, title=title, date=when,
                          organisation=organisation))
            return (_("Reminder: “%(milestone)s” for “%(title)s” is due on %(date)s",
                      milestone=label, title=title, date=when),
                    _("“%(milestone)s” for the application “%(title)s” is due on %(date)s. "
                      "It is now in state “%(state)s”.", milestone=label, title=title,
                      date=when, state=state_label))
        if reminder.milestone == "signatures":
            return (_("Reminder: signatures for “%(title)s” are due on %(date)s",
                      title=title, date=when),
                    _("Signatures for “%(title)s” are due on %(date)s, so that the application "
                      "can be submitted before the deadline. It is now in state “%(state)s”.",
                      title=title, date=when, state=state_label))
        return (_("Reminder: the deadline for “%(title)s” is %(date)s", title=title, date=when),
                _("The application “%(title)s” must be submitted to %(funder)s by %(date)s. It "
                  "has not been submitted yet; it is now in state “%(state)s”.", title=title,
                  funder=application.call.funder.name, date=when, state=state_label))
    return build


# --- the sweeper's part -----------------------------------------------------------------------
@register_sweeper("reminders")
def sweep_reminders(app: Flask, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Schedule again every reminder row still `scheduled` (and older than `older_than`) whose RQ
    job is missing or dead, for its `send_at` (at once if that has passed). Returns the reminder
    ids scheduled. A reminder that runs twice finds its row sent and does nothing."""
    cutoff = utcnow() - older_than
    pushed = []
    rows = db.session.scalars(select(Reminder).where(
        Reminder.status == ReminderStatus.scheduled, Reminder.created_at < cutoff)
        .order_by(Reminder.id)).all()
    for row in rows:
        rq_id = reminder_rq_job_id(app, row.id)
        if rq_job_status(rq_id, app) in ALIVE:
            continue
        if schedule_at(row.send_at, REMINDER_JOB, row.id, rq_id=rq_id, app=app):
            pushed.append(row.id)
    if pushed:
        logger.warning("sweeper scheduled reminders %s again", pushed)
    return pushed
