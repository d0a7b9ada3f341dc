"""Runs web + worker together on embedded defaults (`flask --app wsgi demo run`, used by
`make demo`). Starts the embedded Redis when REDIS_URL is unset, passes its URL to both
children, and on Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

from grants.embedded_redis import EmbeddedRedis


def run_all(app: Flask, *, host: str, port: int, banner: str) -> int:
    env = dict(os.environ)
    server = None
    if not app.config.get("REDIS_URL"):
        share = Path(app.instance_path) / "embedded-redis.url"
        server = EmbeddedRedis(Path(app.instance_path), share_file=share)
        env["REDIS_URL"] = server.start()
    python = sys.executable
    children = [
        subprocess.Popen([python, "-m", "gunicorn", "--workers", "2", "--bind", f"{host}:{port}",
                          "--no-control-socket", "--access-logfile", "-", "wsgi:app"], env=env),
        subprocess.Popen([python, "-m", "flask", "--app", "wsgi", "worker", "--with-scheduler"],
                         env=env),
    ]
    print(banner, flush=True)
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"A process stopped (exit {child.returncode}); stopping the demo.",
                          flush=True)
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if server is not None:
            server.stop()
        print("Stopped.", flush=True)
    return exit_code
