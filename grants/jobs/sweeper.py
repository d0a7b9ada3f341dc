"""Re-enqueues background work whose RQ job is gone (Redis restarted or flushed, a worker
killed). The database rows are the truth; this makes Redis only the transport.

Runs from `flask jobs sweep`, when a worker starts, and every SWEEP_INTERVAL_SECONDS in a worker
started with `--with-scheduler` (`periodic_sweep`, a job in RQ's scheduled-job registry that
schedules its successor)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import select

from grants.db import db, utcnow
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import (
    ALIVE,
    enqueue_now,
    liveness_key,
    redis_connection,
    rq_job_id,
    schedule_at,
)
from grants.jobs.runner import app_context, queue_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweeper:
    """Work of a feature's own that Redis may lose (deliveries' scheduled retries, deadline
    reminders): `run(app, older_than)` pushes it again and returns the ids it pushed. When
    `counts_jobs`, those are job ids and are part of `sweep`'s answer."""

    name: str
    run: Callable[[Flask, timedelta], list[int]]
    counts_jobs: bool


SWEEPERS: dict[str, Sweeper] = {}


def register_sweeper(name: str, *, counts_jobs: bool = False):
    def decorator(function: Callable[[Flask, timedelta], list[int]]):
        SWEEPERS[name] = Sweeper(name, function, counts_jobs)
        return function
    return decorator


def sweep(app: Flask, *, older_than: timedelta = timedelta(seconds=30),
          others: bool = True) -> list[int]:
    """Push again every unfinished job row whose RQ job is lost: missing or dead in RQ (Redis
    restarted or flushed; only rows older than `older_than`, so a row committed a moment ago is
    not raced before its own enqueue), or "started" in RQ while nothing runs it (its worker was
    killed: the job's heartbeat has expired). Then the features' own sweepers (deliveries always;
    the others, such as reminders, with `others`). Returns the job ids pushed. Safe to run any
    time, on any machine: a job that runs twice finds its row done and does nothing."""
    if others:
        for extra in SWEEPERS.values():
            if not extra.counts_jobs:
                extra.run(app, older_than)
    pushed = sweep_jobs(app, older_than=older_than)
    for extra in SWEEPERS.values():
        if extra.counts_jobs:
            pushed += extra.run(app, older_than)
    return pushed


def sweep_jobs(app: Flask, *, older_than: timedelta) -> list[int]:
    """The job rows' part of `sweep`."""
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
        if enqueue_now(row.id, queue_of(row.kind), app):
            pushed.append(row.id)
    if pushed:
        logger.warning("sweeper re-enqueued jobs %s", pushed)
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
    when = datetime.fromtimestamp(slot * interval, UTC)
    rq_id = sweep_rq_id(app, slot)
    return rq_id if schedule_at(when, SWEEP_FUNCTION, rq_id=rq_id, app=app) else None


def periodic_sweep() -> str:
    """Entry point RQ's scheduler runs every SWEEP_INTERVAL_SECONDS: sweep, then schedule the
    next one. Opens an app context when the worker has none."""
    with app_context() as app:
        return _periodic_sweep(app)


def _periodic_sweep(app: Flask) -> str:
    try:
        pushed = sweep(app)
        db.session.commit()
    finally:
        schedule_next_sweep(app)
    return f"re-enqueued {len(pushed)}"
