"""The RQ worker, run inside the app: `flask --app wsgi worker [--burst] [--with-scheduler]`.

WeasyPrint is imported and warmed before the worker forks (fonts, Pango, hyphenation
dictionaries, the PDF templates compiled), and what is loaded then is frozen out of the garbage
collector's reach (gc.freeze), so no job pays those costs; the database engine is disposed
before forking, so no child inherits a parent's connection. GRANTS_WORKER_WARM_UP=0 skips the
warm-up and the freeze – only to measure what they save (`python -m bench`).

Each job runs in a forked work-horse whose memory is capped (WORKER_MEMORY_MB; a watchdog on
resident memory and RLIMIT_AS, see grants.jobs.memory): a render that runs away fails with
MemoryError – the job row says so – instead of the kernel killing the worker. A worker started
with the scheduler also runs the sweeper every SWEEP_INTERVAL_SECONDS
(grants.jobs.sweeper.periodic_sweep).

SIGTERM (or Ctrl-C) is a warm shutdown: the job that is running finishes, then the worker
exits. A second signal, or SIGKILL, abandons the job; RQ puts it back on its queue when only the
work-horse died, and the sweeper does when the whole worker died."""

from __future__ import annotations

import gc
import logging
import os

from flask import Flask, has_app_context
from rq import Worker

from grants.db import db
from grants.jobs.memory import limit_memory
from grants.jobs.queue import all_queues, redis_connection

logger = logging.getLogger(__name__)

WARM_UP_OFF = {"0", "false", "no", "off"}
# The templates every render uses, compiled before forking.
PDF_TEMPLATES = ("pdf/application.html", "pdf/cofinancing_certificate.html",
                 "pdf/minutes.html", "forms/values.html")


class GrantsWorker(Worker):
    """RQ's forking worker, with the memory cap in each work-horse and the periodic sweep kept
    scheduled while the worker runs its scheduler."""

    grants_app: Flask | None = None

    def main_work_horse(self, job, queue):
        if self.grants_app is not None:
            limit_memory(int(self.grants_app.config.get("WORKER_MEMORY_MB") or 0))
        super().main_work_horse(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.scheduler is not None and self.grants_app is not None:
            from grants.jobs.sweeper import schedule_next_sweep  # noqa: PLC0415
            schedule_next_sweep(self.grants_app)


def warm_up_enabled() -> bool:
    """GRANTS_WORKER_WARM_UP=0 starts a worker without the warm-up, so that every job pays
    it: only for measuring what the warm-up saves (`python -m bench`), never in production."""
    return os.environ.get("GRANTS_WORKER_WARM_UP", "1").strip().lower() not in WARM_UP_OFF


def prepare_for_fork(app: Flask) -> None:
    from grants import features  # noqa: F401,PLC0415 - every job handler registered
    from grants.documents.pdf import warm_up  # noqa: PLC0415

    warm = warm_up_enabled()
    if warm:
        with app.app_context(), app.test_request_context():
            warm_up()
            for name in PDF_TEMPLATES:  # compiled once here, not in every work-horse
                app.jinja_env.get_template(name)
    else:
        logger.warning("GRANTS_WORKER_WARM_UP=0: every job loads fonts and dictionaries itself")
    if has_app_context():  # the CLI's context: a session opened there must not cross the fork
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    if warm:
        # Everything loaded so far lives as long as the worker: moved out of the collector's
        # reach, a work-horse's garbage collections neither walk these objects nor copy the
        # memory pages they sit on (a render is about a fifth faster).
        gc.collect()
        gc.freeze()


def run_worker(app: Flask, *, burst: bool = False, with_scheduler: bool = False,
               worker_class: type[Worker] = GrantsWorker) -> bool:
    from datetime import timedelta  # noqa: PLC0415

    from grants.jobs.sweeper import schedule_next_sweep, sweep  # noqa: PLC0415
    with app.app_context():  # work lost while no worker ran (e.g. Redis restarted) is picked up
        sweep(app, older_than=timedelta(seconds=0))
        db.session.remove()
    if with_scheduler and not burst:
        scheduled = schedule_next_sweep(app)
        logger.info("periodic sweep every %ss (next: %s)", app.config["SWEEP_INTERVAL_SECONDS"],
                    scheduled)
    prepare_for_fork(app)
    connection = redis_connection(app)
    queues = all_queues(app)
    worker = worker_class(queues, connection=connection)
    if isinstance(worker, GrantsWorker):
        worker.grants_app = app
    logger.info("worker listening on %s", ", ".join(q.name for q in queues))
    if not with_scheduler:
        logger.info("RQ's scheduler is not running in this worker: scheduled jobs (deadline "
                    "reminders, the periodic sweep) wait for a worker started with "
                    "--with-scheduler")
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
