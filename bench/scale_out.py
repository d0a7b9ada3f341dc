"""Target 3: scale-out. PDFs per minute with one worker, then with two, on this machine.

Each worker is a separate `flask worker` process, as on separate machines: they share only
the database and Redis. Each first renders one PDF (not counted); then a batch of render jobs
of the realistic application (each a different content) is committed and pushed onto the queue
at once, and the clock runs until the last one is stored. Twice as many jobs for two workers,
so both runs last about as long. Target: (PDFs/min with 2) ÷ (PDFs/min with 1) ≥ 1.8."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench import data
from bench.common import (
    BenchEnv,
    Report,
    Result,
    machine_busy_seconds,
    process_cpu_seconds,
    say,
    wait_until,
)

TARGET_SPEEDUP = 1.8


class DoneCounter:
    """Counts finished jobs over one open connection (cheap to poll)."""

    def __init__(self, app):
        from grants.db import db  # noqa: PLC0415
        with app.app_context():
            self.connection = db.engine.connect()

    def done(self, job_ids: list[int]) -> int:
        import sqlalchemy as sa  # noqa: PLC0415
        rows = self.connection.execute(
            sa.text("SELECT status, count(*) FROM background_job WHERE id IN "
                    f"({', '.join(str(int(i)) for i in job_ids)}) GROUP BY status")).all()
        self.connection.rollback()
        counts = {status: count for status, count in rows}
        if counts.get("failed"):
            raise RuntimeError(f"{counts['failed']} render job(s) failed")
        return counts.get("done", 0)

    def close(self) -> None:
        self.connection.close()


def batch(env: BenchEnv, counter: DoneCounter, application_id: int, snapshot: dict,
          count: int, tag: str) -> float:
    """Seconds from pushing `count` jobs until all are stored."""
    snapshots = [data.variant(snapshot, f"{tag}-{i}") for i in range(count)]
    start = time.perf_counter()
    ids = data.enqueue_renders(env.app, application_id, snapshots)
    wait_until(lambda: counter.done(ids) == len(ids), timeout=600, interval=0.05,
               what=f"{count} renders")
    return time.perf_counter() - start


def run(report: Report, *, quick: bool, postgres_url: str | None) -> None:
    per_worker = 3 if quick else 10
    tmp = Path(tempfile.mkdtemp(prefix="grants-bench-forms-"))
    try:
        workflows = data.bench_workflows(tmp)
        with BenchEnv("scale", postgres_url=postgres_url, workflows_path=workflows) as env:
            seeded = data.seed(env.app)
            snapshot = data.snapshot_of(env.app, seeded.application_id)
            counter = DoneCounter(env.app)
            try:
                rates, cpu_per_pdf, others = {}, {}, {}
                for workers in (1, 2):
                    started = env.start_workers(workers)
                    batch(env, counter, seeded.application_id, snapshot, workers,
                          f"warm{workers}")
                    jobs = per_worker * workers
                    cpu_before = sum(process_cpu_seconds(p.pid) for p in started)
                    busy_before = machine_busy_seconds()
                    elapsed = batch(env, counter, seeded.application_id, snapshot, jobs,
                                    f"run{workers}")
                    ours = sum(process_cpu_seconds(p.pid) for p in started) - cpu_before
                    busy = machine_busy_seconds() - busy_before
                    rates[workers] = jobs / elapsed * 60
                    cpu_per_pdf[workers] = ours / jobs
                    # Cores busy with anything but the workers (this process, other programs).
                    others[workers] = max(0.0, busy - ours) / elapsed
                    say(f"  {workers} worker(s): {jobs} PDFs in {elapsed:.1f} s = "
                        f"{rates[workers]:.1f} PDFs/min; {cpu_per_pdf[workers]:.2f} CPU s per "
                        f"PDF; other processes kept {others[workers]:.2f} cores busy")
                    env.stop(started)
            finally:
                counter.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    speedup = rates[2] / rates[1]
    report.add(Result(
        "3. Scale-out", f"PDFs/min with 2 workers ÷ with 1 ≥ {TARGET_SPEEDUP}",
        f"1 worker {rates[1]:.1f} PDFs/min, 2 workers {rates[2]:.1f} PDFs/min "
        f"(12-page application, {per_worker} PDFs per worker); CPU per PDF "
        f"{cpu_per_pdf[1]:.2f} s with 1, {cpu_per_pdf[2]:.2f} s with 2 workers; other "
        f"processes on the machine kept {others[1]:.2f} and {others[2]:.2f} of "
        f"{os.cpu_count()} cores busy",
        speedup, speedup >= TARGET_SPEEDUP,
        {"pdfs_per_minute": {str(k): round(v, 1) for k, v in rates.items()},
         "cpu_seconds_per_pdf": {str(k): round(v, 3) for k, v in cpu_per_pdf.items()},
         "other_cores_busy": {str(k): round(v, 2) for k, v in others.items()}}))
