"""The RQ worker, run inside the app: `flask --app wsgi worker [--burst] [--with-scheduler]`.

WeasyPrint is imported and its fonts warmed before the worker forks, so no job pays that cost;
the database engine is disposed before forking, so no child inherits a parent's connection."""

from __future__ import annotations

import logging

from flask import Flask, has_app_context
from rq import Worker

from grants.db import db
from grants.jobs.queue import all_queues, redis_connection

logger = logging.getLogger(__name__)


def prepare_for_fork(app: Flask) -> None:
    from grants.jobs import all_handlers  # noqa: F401,PLC0415 - registers job handlers
    from grants.documents.pdf import warm_up  # noqa: PLC0415

    with app.app_context():
        with app.test_request_context():
            warm_up()
    if has_app_context():  # the CLI's context: a session opened there must not cross the fork
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


def run_worker(app: Flask, *, burst: bool = False, with_scheduler: bool = False,
               worker_class: type[Worker] = Worker) -> bool:
    from datetime import timedelta  # noqa: PLC0415
    from grants.jobs.sweeper import sweep  # noqa: PLC0415
    with app.app_context():  # work lost while no worker ran (e.g. Redis restarted) is picked up
        sweep(app, older_than=timedelta(seconds=0))
        db.session.remove()
    prepare_for_fork(app)
    connection = redis_connection(app)
    queues = all_queues(app)
    worker = worker_class(queues, connection=connection)
    logger.info("worker listening on %s", ", ".join(q.name for q in queues))
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
