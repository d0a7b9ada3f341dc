"""The one module that talks to RQ: connections, queues, enqueue-after-commit.

A background job is first a `Job` row written in the caller's transaction. Only after that
transaction commits is the row's id pushed to RQ, so a worker never sees a job whose rows are not
visible, and a rolled-back request enqueues nothing. If Redis is down at that moment the row
stays `queued` and the sweeper pushes it again later."""

from __future__ import annotations

import logging
from pathlib import Path

import redis
from flask import Flask, current_app
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from grants.embedded_redis import EmbeddedRedis, shared_url

logger = logging.getLogger(__name__)

QUEUE_NAMES = ("pdf", "default")
_PENDING_KEY = "grants.pending_enqueue"


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


def enqueue_now(job_id: int, queue: str = "default", app: Flask | None = None) -> bool:
    """Push a committed job row to RQ. Returns False (and logs) when Redis is unreachable."""
    app = app or current_app._get_current_object()
    try:
        get_queue(queue, app).enqueue(
            "grants.jobs.tasks.run_job", job_id,
            job_id=rq_job_id(app, job_id),
            job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
            result_ttl=3600, failure_ttl=7 * 24 * 3600,
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
    if not pending:
        return
    app = current_app._get_current_object()
    for job_id, queue in pending:
        enqueue_now(job_id, queue, app)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
