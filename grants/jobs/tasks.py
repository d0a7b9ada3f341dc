"""RQ entry points. They take ids, load committed rows, and are safe to run twice."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from flask import has_app_context
from sqlalchemy import update

from grants.db import db, utcnow
from grants.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[Job], None]] = {}


def handler(kind: str):
    def decorator(function: Callable[[Job], None]) -> Callable[[Job], None]:
        HANDLERS[kind] = function
        return function
    return decorator


def run_job(job_id: int) -> str:
    """Entry point RQ calls. Opens an app context when the worker has none."""
    if has_app_context():
        return _run(job_id)
    from grants import create_app  # noqa: PLC0415 - only for workers started without one
    with create_app().app_context():
        return _run(job_id)


def _run(job_id: int) -> str:
    from grants.jobs import all_handlers  # noqa: F401,PLC0415 - every kind registered
    # Claim the row: queued → running (or take over a running row whose worker died).
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
        .values(status=JobStatus.running, attempts=Job.attempts + 1, started_at=utcnow(),
                error=None)
    ).rowcount
    db.session.commit()
    if not claimed:
        logger.info("job %s is finished or gone; nothing to do", job_id)
        return "skipped"
    job = db.session.get(Job, job_id)
    try:
        HANDLERS[job.kind](job)
        job.status = JobStatus.done
        job.finished_at = utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.status = JobStatus.failed
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = utcnow()
        db.session.commit()
        logger.error("job %s failed:\n%s", job_id, traceback.format_exc())
        raise
    return "done"
