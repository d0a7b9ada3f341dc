"""Re-enqueues background work whose RQ job is gone (Redis restarted or flushed, a worker
killed). The database rows are the truth; this makes Redis only the transport.

Runs from `flask jobs sweep`, when a worker starts, and every SWEEP_INTERVAL_SECONDS in a worker
started with `--with-scheduler` (`periodic_sweep`, a job in RQ's scheduled-job registry that
schedules its successor)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import select

from grants.db import db, utcnow
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import (enqueue_now, liveness_key, redis_connection, reminder_rq_job_id,
                               rq_job_id, rq_job_status, schedule_at)

logger = logging.getLogger(__name__)

QUEUE_OF_KIND = {"render_application": "pdf", "render_certificate": "pdf",
                 "render_form_preview": "pdf",
                 "render_submission": "pdf", "render_minutes": "pdf"}
ALIVE = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.DEFERRED, RQStatus.SCHEDULED}


def sweep(app: Flask, *, older_than: timedelta = timedelta(seconds=30),
          reminders: bool = True) -> list[int]:
    """Push again every unfinished job row whose RQ job is lost: missing or dead in RQ (Redis
    restarted or flushed; only rows older than `older_than`, so a row committed a moment ago is
    not raced before its own enqueue), or "started" in RQ while nothing runs it (its worker was
    killed: the job's heartbeat has expired). Returns the ids pushed. Safe to run any time, on
    any machine: a job that runs twice finds its row done and does nothing. With `reminders`,
    also `sweep_reminders`."""
    if reminders:
        sweep_reminders(app, older_than=older_than)
    connection = redis_connection(app)
    now = utcnow()
    cutoff = now - older_than
    silent_for = timedelta(seconds=3 * app.config.get("JOB_HEARTBEAT_SECONDS", 5))
    pushed = []
    rows = db.session.scalars(select(Job).where(
        Job.status.in_([JobStatus.queued, JobStatus.running])).order_by(Job.id)).all()
    for row in rows:
        if connection.exists(liveness_key(app, row.id)):
            continue  # its work-horse is running it right now
        try:
            rq_job = RQJob.fetch(rq_job_id(app, row.id), connection=connection)
            status = rq_job.get_status()
        except NoSuchJobError:
            rq_job, status = None, None
        if status == RQStatus.STARTED:
            started = max((t for t in (row.started_at, rq_job.started_at, rq_job.enqueued_at)
                           if t is not None), default=now)
            if started > now - silent_for:
                continue  # just started: its heartbeat may not have been written yet
            logger.warning("job %s: its worker stopped answering; taking it over", row.id)
        elif status in ALIVE:
            continue
        elif row.created_at >= cutoff:
            continue
        if enqueue_now(row.id, QUEUE_OF_KIND.get(row.kind, "default"), app):
            pushed.append(row.id)
    if pushed:
        logger.warning("sweeper re-enqueued jobs %s", pushed)
    # Deliveries to funders: a due retry whose scheduled RQ job is gone is pushed again (never
    # an uncertain one), and one stuck in "sending" by a dead worker becomes uncertain.
    from grants.delivery.jobs import sweep_deliveries  # noqa: PLC0415
    pushed += sweep_deliveries(app)
    return pushed


# --- the periodic sweep, run by RQ's scheduler ---------------------------------------------------
SWEEP_FUNCTION = "grants.jobs.sweeper.periodic_sweep"


def sweep_rq_id(app: Flask, slot: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-sweep-{slot}"


def schedule_next_sweep(app: Flask) -> str | None:
    """Put the next periodic sweep into RQ's scheduled-job registry, at the next multiple of
    SWEEP_INTERVAL_SECONDS. The RQ id names that moment, so every worker (at start, at its
    maintenance, and the sweep that just ran) schedules the *same* job: one sweep per
    interval however many workers run. Returns the RQ id (None when Redis is unreachable)."""
    interval = app.config.get("SWEEP_INTERVAL_SECONDS", 300)
    slot = int(utcnow().timestamp() // interval) + 1
    when = datetime.fromtimestamp(slot * interval, timezone.utc)
    rq_id = sweep_rq_id(app, slot)
    return rq_id if schedule_at(when, SWEEP_FUNCTION, rq_id=rq_id, app=app) else None


def periodic_sweep() -> str:
    """Entry point RQ's scheduler runs every SWEEP_INTERVAL_SECONDS: sweep, then schedule the
    next one. Opens an app context when the worker has none."""
    from flask import current_app, has_app_context  # noqa: PLC0415
    if not has_app_context():  # pragma: no cover - `flask worker` always has one
        from grants import create_app  # noqa: PLC0415
        with create_app().app_context():
            return periodic_sweep()
    app = current_app._get_current_object()
    try:
        pushed = sweep(app)
        db.session.commit()
    finally:
        schedule_next_sweep(app)
    return f"re-enqueued {len(pushed)}"


def sweep_reminders(app: Flask, *, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Schedule again every reminder row still `scheduled` (and older than `older_than`) whose RQ
    job is missing or dead, for its `send_at` (at once if that has passed). Returns the reminder
    ids scheduled. A reminder that runs twice finds its row sent and does nothing."""
    from grants.deadlines.models import Reminder, ReminderStatus  # noqa: PLC0415
    from grants.deadlines.operations import REMINDER_JOB  # noqa: PLC0415
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
