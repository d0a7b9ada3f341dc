"""RQ entry points. They take ids, load committed rows, and are safe to run twice.

While a job runs, a thread in its work-horse refreshes a short-lived Redis key (the job's
heartbeat). A work-horse that is killed stops refreshing it, so the sweeper can tell an
abandoned job (its whole worker died) from one that is merely slow, and push it again. A job
that has been started MAX_ATTEMPTS times without finishing is failed instead of retried for
ever (a document that crashes every worker that renders it)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import update

from grants.db import db, utcnow
from grants.jobs.memory import Watchdog, cap_bytes
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import enqueue_after_commit, liveness_key, redis_connection

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The app factory a worker started without an app (plain `rq worker`) builds one with, named the
# way gunicorn and RQ name entry points: importing it here would make this core module depend on
# the start-up layer. `flask worker` always has an app, and never uses this.
APP_FACTORY = os.environ.get("GRANTS_APP_FACTORY", "grants:create_app")


@dataclass(frozen=True)
class JobKind:
    """A kind of background work: the function that does it, and the RQ queue it runs on."""

    name: str
    run: Callable[[Job], None]
    queue: str


KINDS: dict[str, JobKind] = {}


def handler(kind: str, *, queue: str = "default"):
    """Register the function that does jobs of `kind` (on RQ queue `queue`). Each feature
    registers its own, in its own folder; `grants.features` imports them all."""
    def decorator(function: Callable[[Job], None]) -> Callable[[Job], None]:
        KINDS[kind] = JobKind(kind, function, queue)
        return function
    return decorator


def queue_of(kind: str) -> str:
    """The RQ queue jobs of `kind` run on (the sweeper pushes lost ones back onto it)."""
    registered = KINDS.get(kind)
    return registered.queue if registered is not None else "default"


def enqueue_job(job: Job) -> None:
    """Push the (flushed) job row onto its kind's queue once the transaction commits."""
    enqueue_after_commit(db.session(), job.id, queue=queue_of(job.kind))


@contextmanager
def app_context():
    """The current app's context, or one of an app built by APP_FACTORY."""
    if has_app_context():
        yield current_app._get_current_object()
        return
    module_name, _sep, attribute = APP_FACTORY.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute or "create_app")
    app = factory()
    with app.app_context():
        yield app


def run_job(job_id: int) -> str:
    """Entry point RQ calls. Opens an app context when the worker has none."""
    with app_context():
        return _run(job_id)


def _run(job_id: int) -> str:
    # Claim the row: queued → running (or take over a running row whose worker died).
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.queued, JobStatus.running]),
               Job.attempts < MAX_ATTEMPTS)
        .values(status=JobStatus.running, attempts=Job.attempts + 1, started_at=utcnow(),
                error=None)
    ).rowcount
    db.session.commit()
    if not claimed:
        if _give_up(job_id):
            return "failed"
        logger.info("job %s is finished or gone; nothing to do", job_id)
        return "skipped"
    job = db.session.get(Job, job_id)
    try:
        with heartbeat(current_app._get_current_object(), job_id):
            KINDS[job.kind].run(job)
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


def _give_up(job_id: int) -> bool:
    """A row still unfinished after MAX_ATTEMPTS starts: its work-horse died every time."""
    gave_up = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.queued, JobStatus.running]),
               Job.attempts >= MAX_ATTEMPTS)
        .values(status=JobStatus.failed, finished_at=utcnow(),
                error=f"WorkerLost: the worker running this job stopped {MAX_ATTEMPTS} times "
                      "(killed, out of memory or crashed); it is not tried again.")
    ).rowcount
    db.session.commit()
    if gave_up:
        logger.error("job %s: work-horse lost %s times; failed", job_id, MAX_ATTEMPTS)
    return bool(gave_up)


class heartbeat:  # noqa: N801 - used as a context manager
    """Refresh the job's liveness key every JOB_HEARTBEAT_SECONDS (expiring after three times
    that) from a thread of the work-horse, and delete it when the job ends. Best effort: without
    Redis the job still runs; the sweeper then relies on RQ's own status. The same thread
    watches the work-horse's memory cap (grants.jobs.memory)."""

    TICK = 0.2

    def __init__(self, app: Flask, job_id: int):
        self.key = liveness_key(app, job_id)
        self.connection = redis_connection(app)
        self.every = app.config.get("JOB_HEARTBEAT_SECONDS", 5)
        self.watchdog = Watchdog()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}",
                                       daemon=True)

    def _touch(self) -> None:
        try:
            self.connection.set(self.key, os.getpid(), ex=3 * self.every)
        except (redis.RedisError, OSError) as exc:
            logger.warning("job heartbeat %s failed: %s", self.key, exc)

    def _beat(self) -> None:
        next_touch = time.monotonic() + self.every
        while not self.stop.wait(self.TICK):
            self.watchdog.check()
            if time.monotonic() >= next_touch:
                self._touch()
                next_touch = time.monotonic() + self.every

    def __enter__(self) -> heartbeat:
        self._touch()
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        try:
            self.connection.delete(self.key)
        except (redis.RedisError, OSError):
            pass


def pause_for_tests(point: str, job: Job) -> None:
    """Fault-injection hook for the reliability tests (tests/test_faults.py), inert unless
    GRANTS_ENV=testing *and* GRANTS_TEST_HOLD_DIR is set: writes `started-<job>-<attempt>`
    (pid, parent pid, address-space limit) into that folder, then waits while a file `hold`
    exists there (at most 60 s), so a test can kill or stop the worker at a known moment."""
    folder = os.environ.get("GRANTS_TEST_HOLD_DIR")
    if not folder or current_app.config.get("ENV_NAME") != "testing":
        return
    directory = Path(folder)
    marker = directory / f"started-{job.id}-{job.attempts}"
    marker.write_text(json.dumps({"point": point, "pid": os.getpid(), "ppid": os.getppid(),
                                  "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
                                  "memory_cap": cap_bytes()}))
    deadline = time.monotonic() + 60
    while (directory / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
