"""Target 6: memory does not grow with the number of renders.

(i) A running worker (`flask worker`) renders the two-page application over and over, each job
a different content; its resident memory (RSS) is sampled after 10 and after 500 jobs. Each job
runs in a work-horse forked for it, so this shows that the worker process itself keeps nothing
from job to job.
(ii) Because forking would hide a leak in the renderer itself, one process also renders the
same application 500 times in a row without forking (HTML from the template, then WeasyPrint),
and its RSS is sampled after 10, every 100 and after 500 renders. (This found one: WeasyPrint
keeps about 0.2 MB of native memory per document when each gets a font configuration of its
own; grants.documents.pdf now shares one per process.)
Target for both: RSS after 500 ÷ RSS after 10 ≤ 1.05 (growth within noise)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench import data
from bench.common import BenchEnv, Report, Result, rss_bytes, stop_process, wait_until
from bench.scale_out import DoneCounter

TARGET_GROWTH = 1.05
MB = 1024 * 1024


def run(report: Report, *, quick: bool, postgres_url: str | None) -> None:
    first, total = 10, (60 if quick else 500)
    with BenchEnv("memory", postgres_url=postgres_url) as env:
        seeded = data.seed(env.app)
        snapshot = data.snapshot_of(env.app, seeded.small_application_id)
        _worker(env, report, seeded.small_application_id, snapshot, first, total)
        _in_process(env, report, snapshot, first, total)


def _worker(env: BenchEnv, report: Report, application_id: int, snapshot: dict, first: int,
            total: int) -> None:
    [worker] = env.start_workers(1)
    counter = DoneCounter(env.app)
    try:
        rss = {}
        done_so_far = 0
        started = time.perf_counter()
        for upto in (first, total):
            snapshots = [data.variant(snapshot, f"m{i}") for i in range(done_so_far, upto)]
            ids = []
            for start in range(0, len(snapshots), 100):  # committed and pushed in batches
                ids += data.enqueue_renders(env.app, application_id, snapshots[start:start + 100])
            wait_until(lambda ids=ids: counter.done(ids) == len(ids), timeout=900,
                       interval=0.1, what=f"{len(ids)} renders")
            time.sleep(0.5)  # the worker has reaped the last work-horse
            rss[upto] = rss_bytes(worker.pid)
            done_so_far = upto
        elapsed = time.perf_counter() - started
    finally:
        counter.close()
        env.stop([worker])
    growth = rss[total] / rss[first]
    report.add(Result(
        "6. Memory", f"worker RSS after {total} ÷ after {first} renders ≤ {TARGET_GROWTH}",
        f"worker process RSS {rss[first] / MB:.1f} MB after {first}, {rss[total] / MB:.1f} MB "
        f"after {total} render jobs (2-page application; {total / elapsed:.1f} jobs/s, each "
        "in a forked work-horse)",
        growth, growth <= TARGET_GROWTH,
        {"rss_mb": {str(k): round(v / MB, 1) for k, v in rss.items()}}))


def _in_process(env: BenchEnv, report: Report, snapshot: dict, first: int, total: int) -> None:
    path = env.tmp / "snapshot.json"
    path.write_text(json.dumps(snapshot), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.memory", "--renders", str(total), "--sample", str(first),
         "--snapshot", str(path)], env=env.environ(), stdout=subprocess.PIPE, text=True,
        cwd=str(data.PROJECT_ROOT))
    try:
        out, _ = process.communicate(timeout=900)
    finally:
        stop_process(process)
    if process.returncode != 0:
        raise RuntimeError(f"in-process renders failed ({process.returncode})")
    samples = {int(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}
    growth = samples[total] / samples[first]
    steps = ", ".join(f"{samples[k] / MB:.1f} MB after {k}" for k in sorted(samples))
    report.add(Result(
        "6. Memory", f"one process rendering {total} times: RSS after {total} ÷ after {first} "
        f"≤ {TARGET_GROWTH}",
        f"RSS {steps} renders without forking (template + WeasyPrint, 2-page application)",
        growth, growth <= TARGET_GROWTH,
        {"rss_mb": {str(k): round(v / MB, 1) for k, v in samples.items()}}))


def _renders(count: int, sample_after: int, snapshot_path: str) -> dict[int, int]:
    """In this process: render `count` times; RSS after `sample_after` and after `count`."""
    import gc  # noqa: PLC0415
    import os  # noqa: PLC0415

    from grants import create_app  # noqa: PLC0415
    from grants.documents.rendering import render_application_pdf  # noqa: PLC0415
    app = create_app()
    snapshot = json.loads(open(snapshot_path, encoding="utf-8").read())  # noqa: SIM115
    samples = {}
    with app.app_context(), app.test_request_context():
        for i in range(1, count + 1):
            render_application_pdf(data.variant(snapshot, f"p{i}"), "preview")
            if i in (sample_after, count) or i % 100 == 0:
                gc.collect()
                samples[i] = rss_bytes(os.getpid())
    return samples


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, required=True)
    parser.add_argument("--sample", type=int, required=True)
    parser.add_argument("--snapshot", required=True)
    arguments = parser.parse_args()
    print(json.dumps(_renders(arguments.renders, arguments.sample, arguments.snapshot)))
