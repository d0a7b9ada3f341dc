"""Nothing is lost under faults: real workers (`flask --app wsgi worker` as subprocesses) on real
Redis, killed and stopped at known moments; Redis restarted and flushed with work queued; the
periodic sweep from RQ's scheduler; enqueue-after-commit; job status after RQ forgets a job.

The worker processes share this test's database (the SQLite file, or PostgreSQL with
TEST_DATABASE_URL) and Redis (the embedded one's socket, or TEST_REDIS_URL) under the test's
own queue prefix. A render is held at a known point with the testing-only hook
`grants.jobs.runner.pause_for_tests` (GRANTS_ENV=testing and GRANTS_TEST_HOLD_DIR)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Worker
from rq.job import Job as RQJob
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

from grants.config import PROJECT_ROOT
from grants.db import db, utcnow
from grants.documents.models import Document
from grants.embedded_redis import EmbeddedRedis
from grants.jobs.memory import HEADROOM_MB
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import get_queue, queue_name, redis_connection, redis_url, rq_job_id
from grants.notifications.models import OutboxEmail
from tests.factories import FULL_ANSWERS

pytestmark = pytest.mark.faults


def wait_for(predicate, timeout: float = 25.0, every: float = 0.1, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def job_row(job_id: int) -> Job:
    db.session.expire_all()
    row = db.session.get(Job, job_id)
    db.session.rollback()  # end the read: never hold a transaction the workers wait for
    return row


class WorkerProcess:
    """`flask --app wsgi worker` in its own process, on this test's database, Redis and queue
    prefix; its output goes to a log file that is printed when a test fails."""

    def __init__(self, app, directory: Path, name: str, *, scheduler: bool = False,
                 env: dict[str, str] | None = None):
        self.log_path = directory / f"worker-{name}.log"
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("GRANTS_", "MAIL_")) and k not in (
                           "DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        environment.update({
            "GRANTS_ENV": "testing",
            "SECRET_KEY": app.config["SECRET_KEY"],
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": redis_url(app),
            "GRANTS_RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
            "GRANTS_INSTANCE_PATH": str(directory / f"instance-{name}"),
            "GRANTS_TEST_HOLD_DIR": str(directory),
            "GRANTS_JOB_HEARTBEAT_SECONDS": "1",
            "GRANTS_SWEEP_INTERVAL_SECONDS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        environment.update(env or {})
        self.log = self.log_path.open("w")
        args = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
        if scheduler:
            args.append("--with-scheduler")
        self.process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=environment, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def hold_dir(tmp_path):
    directory = tmp_path / "faults"
    directory.mkdir()
    return directory


@pytest.fixture
def workers(app, hold_dir):
    """Start workers with workers(name, scheduler=…); every one is stopped (or killed) before
    the database is cleaned up."""
    started: list[WorkerProcess] = []

    def _start(name: str, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(app, hold_dir, name, **kwargs)
        started.append(worker)
        return worker
    yield _start
    for worker in started:
        worker.kill()
        if not worker.log.closed:
            worker.log.close()
        # Shown by pytest only when the test failed.
        print(f"--- {worker.log_path.name} ---\n{worker.output()[-4000:]}")


def started_marker(hold_dir: Path, job_id: int, attempt: int) -> dict:
    path = hold_dir / f"started-{job_id}-{attempt}"
    wait_for(path.exists, what=f"attempt {attempt} of job {job_id} to start")
    for _ in range(50):
        try:
            return json.loads(path.read_text())
        except ValueError:  # written a moment ago, not yet complete
            time.sleep(0.02)
    raise AssertionError(f"unreadable marker {path}")


def request_preview(login_as, application) -> Job:
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/preview").status_code == 303
    db.session.expire_all()
    return db.session.scalar(select(Job).where(Job.application_id == application.id)
                             .order_by(Job.id.desc()))


def documents_of(application_id: int, kind: str = "preview") -> int:
    db.session.expire_all()
    count = db.session.scalar(select(func.count(Document.id)).where(
        Document.application_id == application_id, Document.kind == kind))
    db.session.rollback()
    return count


def registered_workers(app) -> int:
    return len(Worker.all(connection=redis_connection(app),
                          queue=get_queue("pdf", app)))


# --- 1. kill -9 and SIGTERM ----------------------------------------------------------------------
def test_killed_work_horse_is_retried_and_one_pdf_is_stored(app, world, login_as, workers,
                                                             hold_dir):
    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    (hold_dir / "hold").touch()
    worker = workers("a", env={"GRANTS_WORKER_MEMORY_MB": "1200"})
    first = started_marker(hold_dir, job.id, 1)
    # The horse has rendered the PDF and is about to store it.
    assert first["point"] == "render" and first["ppid"] == worker.pid
    # The work-horse runs under its memory cap (and the address-space backstop above it).
    assert first["rlimit_as"] == (1200 + HEADROOM_MB) * 1024 * 1024 and first["memory_cap"] \
        == 1200 * 1024 * 1024
    os.kill(first["pid"], signal.SIGKILL)
    (hold_dir / "hold").unlink()

    wait_for(lambda: job_row(job.id).status == JobStatus.done, what="the retried job")
    second = started_marker(hold_dir, job.id, 2)
    assert second["pid"] != first["pid"] and second["ppid"] == worker.pid
    row = job_row(job.id)
    assert row.attempts == 2 and row.document_id is not None and row.error is None
    assert documents_of(application.id) == 1
    assert worker.alive()
    assert worker.stop() == 0


def test_abandoned_job_of_a_killed_worker_is_completed_by_another(app, world, login_as,
                                                                   workers, hold_dir):
    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    (hold_dir / "hold").touch()
    first_worker = workers("a")
    first = started_marker(hold_dir, job.id, 1)
    second_worker = workers("b", scheduler=True)  # the one left standing runs the sweeper
    wait_for(lambda: registered_workers(app) == 2, what="the second worker to listen")

    os.kill(first_worker.pid, signal.SIGKILL)  # the whole worker: parent and work-horse
    os.kill(first["pid"], signal.SIGKILL)
    first_worker.process.wait(timeout=10)
    (hold_dir / "hold").unlink()
    # RQ still says "started"; the job's heartbeat stops, and the periodic sweep takes it over.
    assert RQJob.fetch(rq_job_id(app, job.id), connection=redis_connection(app)).get_status() \
        == "started"

    wait_for(lambda: job_row(job.id).status == JobStatus.done, what="the abandoned job")
    second = started_marker(hold_dir, job.id, 2)
    assert second["ppid"] == second_worker.pid
    row = job_row(job.id)
    assert row.attempts == 2 and row.document_id is not None
    assert documents_of(application.id) == 1
    assert second_worker.stop() == 0


def test_sigterm_mid_render_finishes_the_render_and_exits_cleanly(app, world, login_as,
                                                                  workers, hold_dir):
    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    (hold_dir / "hold").touch()
    worker = workers("a")
    marker = started_marker(hold_dir, job.id, 1)
    worker.process.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert worker.alive()  # warm shutdown: waits for the job
    assert job_row(job.id).status == JobStatus.running
    (hold_dir / "hold").unlink()
    assert worker.process.wait(timeout=20) == 0
    row = job_row(job.id)
    assert row.status == JobStatus.done and row.attempts == 1
    assert documents_of(application.id) == 1
    assert not (hold_dir / f"started-{job.id}-2").exists()
    assert marker["ppid"] == worker.pid
    assert "warm shut down requested" in worker.output().lower()


def test_a_job_whose_worker_dies_every_time_ends_failed_not_retried_for_ever(app, world):
    from grants.jobs.runner import MAX_ATTEMPTS, run_job
    application = world.new_application(answers=FULL_ANSWERS)
    job = Job(kind="render_application", application_id=application.id,
              status=JobStatus.running, attempts=MAX_ATTEMPTS, payload={})
    db.session.add(job)
    db.session.commit()
    assert run_job(job.id) == "failed"
    row = job_row(job.id)
    assert row.status == JobStatus.failed and row.error.startswith("WorkerLost")
    assert documents_of(application.id) == 0


# --- 2. Redis restarted or flushed; the sweeper and the periodic sweep ---------------------------
@pytest.fixture
def private_redis(app):
    """A Redis of this test's own, which the test may restart (the shared one it may not)."""
    import shutil
    import tempfile
    directory = Path(tempfile.mkdtemp(prefix="grants-faults-"))  # short: a unix socket path
    server = EmbeddedRedis(directory)
    url = server.start()

    def use(new_url: str) -> None:
        state = app.extensions.setdefault("grants.redis", {})
        connection = state.pop("connection", None)
        if connection is not None:
            connection.close()
        state.clear()
        state["url"] = new_url
        app.extensions.pop("grants.ratelimit", None)

    original = redis_url(app)
    use(url)

    class Control:
        def restart(self) -> None:
            server.stop()
            assert server.start() == url  # same socket, nothing kept
            use(url)

    yield Control()
    use(original)
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("fault", ["restart", "flush"])
def test_lost_redis_loses_no_work_and_sends_nothing_twice(app, world, login_as, smtp_server,
                                                          run_worker, private_redis, fault):
    coordinator = login_as("coordinator@demo.test")

    def invite(email: str, name: str):
        response = coordinator.post("/admin/users/invite", {
            "email": email, "name": name, "organisation_ids": str(world.orgs["kalmar"].id)})
        assert response.status_code == 303, response.get_data(as_text=True)[:1000]

    invite("first@demo.test", "Första Person")
    run_worker()  # sent before the fault
    assert [m.rcpt_tos for m in smtp_server.messages] == [["first@demo.test"]]

    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    invite("second@demo.test", "Andra Person")
    invite("third@demo.test", "Tredje Person")
    connection = redis_connection(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    assert get_queue("pdf").count == 1 and get_queue("default").count == 2

    if fault == "restart":
        private_redis.restart()
        connection = redis_connection(app)
        assert connection.dbsize() == 0
    else:
        for key in connection.scan_iter(match=f"*{prefix}*"):
            connection.delete(key)
    run_worker()
    assert job_row(job.id).status == JobStatus.queued  # nothing ran: the queue was lost

    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "Re-enqueued 3 job(s)" in result.output  # the render and the two emails, not the first
    run_worker()

    db.session.expire_all()
    assert {j.status for j in db.session.scalars(select(Job))} == {JobStatus.done}
    assert documents_of(application.id) == 1
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "first@demo.test", "second@demo.test", "third@demo.test"]
    assert {e.status for e in db.session.scalars(select(OutboxEmail))} == {"sent"}
    # Sweeping and working again sends nothing more.
    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--older-than", "0"])
    assert "Re-enqueued 0 job(s)." in result.output
    run_worker()
    assert len(smtp_server.messages) == 3


def test_worker_with_scheduler_sweeps_periodically(app, world, login_as, workers, monkeypatch):
    worker = workers("a", scheduler=True)
    connection = redis_connection(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]

    def scheduled_sweeps() -> list[str]:
        registry = ScheduledJobRegistry(queue_name(app, "default"), connection=connection)
        return [job_id for job_id in registry.get_job_ids()
                if job_id.startswith(f"{prefix}-sweep-")]
    wait_for(scheduled_sweeps, what="the periodic sweep to be scheduled")
    wait_for(lambda: registered_workers(app) == 1, what="the worker to listen")

    # A job row whose push to Redis was lost (Redis was down at the commit).
    import grants.jobs.queue as queue_module
    monkeypatch.setattr(queue_module, "enqueue_now", lambda *args, **kwargs: False)
    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    monkeypatch.undo()
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert get_queue("pdf").count == 0

    wait_for(lambda: job_row(job.id).status == JobStatus.done, what="the periodic sweep")
    assert documents_of(application.id) == 1
    wait_for(scheduled_sweeps, what="the next sweep to be scheduled")
    assert worker.stop() == 0


def test_sweeps_are_scheduled_once_per_interval_however_many_schedule_them(app):
    from grants.jobs.sweeper import schedule_next_sweep
    app.config["SWEEP_INTERVAL_SECONDS"] = 3600
    first, second = schedule_next_sweep(app), schedule_next_sweep(app)
    assert first == second
    registry = ScheduledJobRegistry(queue_name(app, "default"), connection=redis_connection(app))
    assert [j for j in registry.get_job_ids() if "-sweep-" in j] == [first]


# --- 3. enqueue after commit ---------------------------------------------------------------------
def test_a_request_that_fails_after_writing_enqueues_nothing(app, world, login_as, monkeypatch):
    from grants.applications import operations
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    real = operations.record_render_job

    def record_then_fail(*args, **kwargs):
        job = real(*args, **kwargs)
        db.session.flush()
        assert db.session.get(Job, job.id) is not None  # written in the transaction …
        raise RuntimeError("the request fails after writing")
    monkeypatch.setattr(operations, "record_render_job", record_then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = lead.post(f"/applications/{application.id}/preview")
    assert response.status_code == 500
    # … rolled back, and nothing reached Redis.
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert get_queue("pdf").count == 0 and get_queue("default").count == 0
    connection = redis_connection(app)
    assert not list(connection.scan_iter(match=f"rq:job:{app.config['RQ_QUEUE_PREFIX']}-job-*"))


def test_a_job_never_reaches_redis_before_its_rows_are_visible(app, world, login_as,
                                                               monkeypatch):
    import grants.jobs.queue as queue_module
    application = world.new_application(answers=FULL_ANSWERS)
    seen: list[tuple[int, str | None]] = []
    real = queue_module.enqueue_now
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def checking_enqueue(job_id, queue="default", app=None):
        # What another process (a worker) sees at the moment the job is pushed.
        with other.connect() as connection:
            seen.append((job_id, connection.execute(sa.text(
                "SELECT status FROM background_job WHERE id = :id"), {"id": job_id}).scalar()))
        return real(job_id, queue, app)
    monkeypatch.setattr(queue_module, "enqueue_now", checking_enqueue)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/preview")
    lead.post(f"/applications/{application.id}/sections/aims", {"aims": "Nya mål",
                                                                 "version": "1"})
    lead.post(f"/applications/{application.id}/preview")
    other.dispose()
    assert len(seen) == 2 and all(status == "queued" for _id, status in seen), seen


# --- 5. status after RQ forgets the job ----------------------------------------------------------
def test_job_status_and_result_outlive_rqs_result_ttl(app, world, login_as, run_worker):
    application = world.new_application(answers=FULL_ANSWERS)
    job = request_preview(login_as, application)
    run_worker()
    connection = redis_connection(app)
    rq_job = RQJob.fetch(rq_job_id(app, job.id), connection=connection)
    assert rq_job.get_status() == "finished"
    assert 0 < connection.ttl(rq_job.key) <= 3600  # RQ keeps the result for an hour at most
    rq_job.delete()  # what the expiry does
    lead = login_as("lead@demo.test")
    status = lead.get(f"/applications/{application.id}/jobs/{job.id}").get_json()
    assert status["status"] == "done" and status["document_url"]
    assert lead.get(status["document_url"]).data.startswith(b"%PDF")
    page = lead.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "Ladda ner PDF" in page
    # And the sweeper does not mistake a forgotten, finished job for a lost one.
    from grants.jobs.sweeper import sweep
    assert sweep(app, older_than=timedelta(0)) == []
