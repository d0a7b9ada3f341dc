"""The one module that talks to RQ: connections, queues, enqueue-after-commit.

A background job is first a `Job` row written in the caller's transaction. Only after that
transaction commits is the row's id pushed to RQ, so a worker never sees a job whose rows are not
visible, and a rolled-back request enqueues nothing. If Redis is down at that moment the row
stays `queued` and the sweeper pushes it again later.

Work for later (deadline reminders) goes the same way into RQ's scheduled-job registry with
`schedule_after_commit`; a worker started with the scheduler moves it onto its queue when due."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import redis
from flask import Flask, current_app
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from grants.embedded_redis import EmbeddedRedis, shared_url

# RQ states in which a job will still run (or runs now): anything else is lost or finished.
ALIVE = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.DEFERRED, RQStatus.SCHEDULED}

logger = logging.getLogger(__name__)

QUEUE_NAMES = ("pdf", "default")
# A job whose work-horse dies (killed, out of memory) is put back on its queue by RQ this many
# times; after that the sweeper's attempt limit (grants.jobs.runner.MAX_ATTEMPTS) ends it.
RQ_RETRIES = 2
_PENDING_KEY = "grants.pending_enqueue"
_PENDING_SCHEDULE_KEY = "grants.pending_schedule"


def redis_url(app: Flask) -> str:
    """REDIS_URL, or an embedded Redis (shared with other processes of this checkout)."""
    state = app.extensions.setdefault("grants.redis", {})
    if state.get("url"):
        return state["url"]
    url = app.config.get("REDIS_URL") or ""
    if not url:
        share_file = Path(app.instance_path) / "embedded-redis.url"
        url = shared_url(share_file) or ""
        if not url:
            server = EmbeddedRedis(Path(app.instance_path), share_file=share_file)
            url = server.start()
            state["server"] = server
    state["url"] = url
    return url


def redis_connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app._get_current_object()
    state = app.extensions.setdefault("grants.redis", {})
    if "connection" not in state:
        # Never decode_responses=True: RQ stores pickled payloads.
        state["connection"] = redis.Redis.from_url(redis_url(app), health_check_interval=30)
    return state["connection"]


def queue_name(app: Flask, name: str) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-{name}"


def get_queue(name: str, app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()
    return Queue(queue_name(app, name), connection=redis_connection(app))


def all_queues(app: Flask | None = None) -> list[Queue]:
    return [get_queue(name, app) for name in QUEUE_NAMES]


def rq_job_id(app: Flask, job_id: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-job-{job_id}"


def liveness_key(app: Flask, job_id: int) -> str:
    """A short-lived Redis key a running job refreshes (grants.jobs.runner): while it exists
    the job's work-horse is alive; when it has expired the job was abandoned."""
    return f"{app.config['RQ_QUEUE_PREFIX']}-alive-{job_id}"


def reminder_rq_job_id(app: Flask, reminder_id: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-reminder-{reminder_id}"


def rq_job_status(rq_id: str, app: Flask | None = None) -> RQStatus | None:
    """The RQ status of a job id, None when RQ has no such job."""
    app = app or current_app._get_current_object()
    try:
        return RQJob.fetch(rq_id, connection=redis_connection(app)).get_status()
    except NoSuchJobError:
        return None


def schedule_at(when: datetime, function: str, *args, rq_id: str, queue: str = "default",
                app: Flask | None = None) -> bool:
    """Put a job into RQ's scheduled-job registry for `when` (a moment in the past: as soon as a
    worker with the scheduler runs). The id is deterministic, so scheduling the same thing again
    replaces the earlier entry instead of adding one; a job that is running is left alone.
    Returns False (and logs) when Redis is unreachable."""
    app = app or current_app._get_current_object()
    try:
        connection = redis_connection(app)
        try:
            existing = RQJob.fetch(rq_id, connection=connection)
        except NoSuchJobError:
            existing = None
        if existing is not None:
            status = existing.get_status()
            if status == RQStatus.STARTED:
                return True
            if status != RQStatus.SCHEDULED:  # finished, failed, queued…: start afresh
                existing.delete()
        get_queue(queue, app).enqueue_at(
            when, function, *args, job_id=rq_id,
            job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
            result_ttl=3600, failure_ttl=7 * 24 * 3600, description=f"grants {rq_id}")
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not schedule %s (%s); the sweeper will retry", rq_id, exc)
        return False
    return True


def push_now(function: str, *args, rq_id: str, queue: str = "default",
             app: Flask | None = None) -> bool:
    """Put a job on the queue now under its deterministic id, replacing a finished or failed
    RQ job of that id (the sweeper's retry of work Redis lost or a worker dropped). Returns
    False (and logs) when Redis is unreachable."""
    app = app or current_app._get_current_object()
    try:
        try:
            RQJob.fetch(rq_id, connection=redis_connection(app)).delete()
        except NoSuchJobError:
            pass
        get_queue(queue, app).enqueue(
            function, *args, job_id=rq_id, job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
            result_ttl=3600, failure_ttl=7 * 24 * 3600, description=f"grants {rq_id}")
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not push %s (%s); the sweeper will retry", rq_id, exc)
        return False
    return True


def unschedule(rq_id: str, app: Flask | None = None) -> None:
    """Remove a job that is still waiting (scheduled or queued) from RQ; a running or finished
    one is left alone. Best effort: the job itself also checks its row."""
    app = app or current_app._get_current_object()
    try:
        job = RQJob.fetch(rq_id, connection=redis_connection(app))
        if job.get_status() in (RQStatus.SCHEDULED, RQStatus.QUEUED):
            job.delete()
    except NoSuchJobError:
        pass
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not remove %s from RQ (%s)", rq_id, exc)


def schedule_after_commit(session: Session, when: datetime, function: str, *args, rq_id: str,
                          queue: str = "default") -> None:
    """`schedule_at` once `session` commits; nothing if it rolls back."""
    session.info.setdefault(_PENDING_SCHEDULE_KEY, []).append(
        ("schedule", rq_id, when, function, args, queue))


def unschedule_after_commit(session: Session, rq_id: str) -> None:
    session.info.setdefault(_PENDING_SCHEDULE_KEY, []).append(
        ("unschedule", rq_id, None, "", (), ""))


def enqueue_now(job_id: int, queue: str = "default", app: Flask | None = None) -> bool:
    """Push a committed job row to RQ. Returns False (and logs) when Redis is unreachable."""
    app = app or current_app._get_current_object()
    try:
        get_queue(queue, app).enqueue(
            "grants.jobs.runner.run_job", job_id,
            job_id=rq_job_id(app, job_id),
            job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
            result_ttl=3600, failure_ttl=7 * 24 * 3600, retry=Retry(max=RQ_RETRIES),
            description=f"grants job {job_id}",
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not enqueue job %s (%s); the sweeper will retry", job_id, exc)
        return False
    return True


def enqueue_after_commit(session: Session, job_id: int, queue: str = "default") -> None:
    """Enqueue `job_id` once `session` commits; forget it if the session rolls back."""
    session.info.setdefault(_PENDING_KEY, []).append((job_id, queue))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    scheduling = session.info.pop(_PENDING_SCHEDULE_KEY, [])
    if not pending and not scheduling:
        return
    app = current_app._get_current_object()
    for job_id, queue in pending:
        enqueue_now(job_id, queue, app)
    for action, rq_id, when, function, args, queue in scheduling:
        if action == "unschedule":
            unschedule(rq_id, app)
        else:
            schedule_at(when, function, *args, rq_id=rq_id, queue=queue, app=app)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_PENDING_SCHEDULE_KEY, None)
