"""Re-enqueues background work whose RQ job is gone (Redis restarted or flushed, a worker
killed). The database rows are the truth; this makes Redis only the transport."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import select

from grants.db import db, utcnow
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import enqueue_now, redis_connection, rq_job_id

logger = logging.getLogger(__name__)

QUEUE_OF_KIND = {"render_application": "pdf", "render_certificate": "pdf"}
ALIVE = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.DEFERRED, RQStatus.SCHEDULED}


def sweep(app: Flask, *, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Push again every unfinished job row older than `older_than` whose RQ job is missing or
    dead. Returns the ids pushed. Safe to run any time, on any machine: a job that runs twice
    finds its row done and does nothing."""
    connection = redis_connection(app)
    cutoff = utcnow() - older_than
    pushed = []
    rows = db.session.scalars(select(Job).where(
        Job.status.in_([JobStatus.queued, JobStatus.running]), Job.created_at < cutoff)
        .order_by(Job.id)).all()
    for row in rows:
        try:
            status = RQJob.fetch(rq_job_id(app, row.id), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status in ALIVE:
            continue
        if enqueue_now(row.id, QUEUE_OF_KIND.get(row.kind, "default"), app):
            pushed.append(row.id)
    if pushed:
        logger.warning("sweeper re-enqueued jobs %s", pushed)
    return pushed
