"""What every measurement shares: a throw-away environment (temp instance folder, its own
Redis and database, worker processes), timing statistics, and the report of targets.

Nothing is left behind: `BenchEnv` stops every process it started, drops the database it
created and removes its temp folder, also when a measurement fails."""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grants.config import PROJECT_ROOT

# The PostgreSQL server used when DATABASE_URL is not set (the web-under-load part needs one).
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- statistics ------------------------------------------------------------------------------
def percentile(values: Iterable[float], fraction: float) -> float:
    """The `fraction` quantile (0.5 = median, 0.95 = p95), linear between ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.002,
               what: str = "condition") -> Any:
    """Poll `predicate` until it returns something true; its value. TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


# --- the report ------------------------------------------------------------------------------
@dataclass
class Result:
    part: str
    target: str
    measured: str
    ratio: float | None
    passed: bool | None          # None: not judged (skipped, or a figure without a target)
    details: dict[str, Any] = field(default_factory=dict)


class Report:
    def __init__(self) -> None:
        self.results: list[Result] = []
        self.started = time.monotonic()

    def add(self, result: Result) -> Result:
        self.results.append(result)
        verdict = {True: "MET", False: "MISSED", None: "-"}[result.passed]
        ratio = f"ratio {result.ratio:.3f}  " if result.ratio is not None else ""
        say(f"  [{verdict}] {result.target}: {ratio}{result.measured}")
        return result

    def skip(self, part: str, target: str, why: str) -> None:
        self.results.append(Result(part, target, f"skipped: {why}", None, None))
        say(f"  [SKIPPED] {target}: {why}")

    def summary(self) -> str:
        lines = ["", "=" * 78, "Summary (each target is a ratio to a baseline measured in the "
                 "same run)", "=" * 78]
        for r in self.results:
            verdict = {True: "MET   ", False: "MISSED", None: "  -   "}[r.passed]
            ratio = f"{r.ratio:7.3f}" if r.ratio is not None else "      -"
            lines.append(f"{verdict} {ratio}  {r.part}: {r.target}")
            lines.append(f"                {r.measured}")
        lines.append(f"Total time: {time.monotonic() - self.started:.0f} s")
        return "\n".join(lines)

    def as_json(self, machine: dict[str, Any]) -> str:
        return json.dumps({"machine": machine, "results": [r.__dict__ for r in self.results]},
                          ensure_ascii=False, indent=2, default=str)


def say(text: str) -> None:
    print(text, flush=True)


# --- the machine -----------------------------------------------------------------------------
def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_info(postgres_url: str | None = None) -> dict[str, Any]:
    """CPU, cores, memory, OS and versions: what readers need to compare figures. No paths."""
    info: dict[str, Any] = {"python": platform.python_version(),
                            "cores": os.cpu_count(), "load_average": load_average()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
        info["cpu"] = model.group(1).strip() if model else platform.processor()
    except OSError:  # pragma: no cover
        info["cpu"] = platform.processor() or "unknown"
    try:
        meminfo = Path("/proc/meminfo").read_text()
        total = int(re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M).group(1))
        info["memory"] = f"{total / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):  # pragma: no cover
        info["memory"] = "unknown"
    try:
        release = Path("/etc/os-release").read_text()
        pretty = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', release, re.M)
        info["os"] = f"{pretty.group(1) if pretty else platform.system()}, " \
                     f"kernel {platform.release()}"
    except OSError:  # pragma: no cover
        info["os"] = f"{platform.system()} {platform.release()}"
    import weasyprint  # noqa: PLC0415
    info["weasyprint"] = weasyprint.__version__
    try:
        import pydyf  # noqa: PLC0415
        info["pydyf"] = pydyf.__version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    info["postgresql"] = postgres_version(postgres_url) if postgres_url else "not used"
    try:
        from grants.embedded_redis import redis_server_binary  # noqa: PLC0415
        out = subprocess.run([redis_server_binary(), "--version"], capture_output=True,
                             text=True, timeout=10, check=False).stdout
        version = re.search(r"v=(\S+)", out)
        info["redis"] = version.group(1) if version else out.strip()
    except (OSError, RuntimeError, subprocess.SubprocessError):  # pragma: no cover
        info["redis"] = "unknown"
    return info


def postgres_version(url: str) -> str:
    import sqlalchemy as sa  # noqa: PLC0415

    from grants.config import _normalise_database_url  # noqa: PLC0415
    try:
        engine = sa.create_engine(_normalise_database_url(url),
                                  connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable
        return f"not reachable ({type(exc).__name__})"


def postgres_reachable(url: str) -> str | None:
    """None when a PostgreSQL server answers at `url`, else why not."""
    import sqlalchemy as sa  # noqa: PLC0415

    from grants.config import _normalise_database_url  # noqa: PLC0415
    try:
        engine = sa.create_engine(_normalise_database_url(url),
                                  connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def process_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children that have ended (a worker's work-horses)."""
    import psutil  # noqa: PLC0415
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process, its ended children, and its children still running."""
    import psutil  # noqa: PLC0415
    try:
        root = psutil.Process(pid)
        total = process_cpu_seconds(pid)
        for child in root.children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine (when it runs here)."""
    import psutil  # noqa: PLC0415
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


class CpuMeter:
    """Where the machine's CPU went between start() and stop(): each named group of
    processes, PostgreSQL, this process (the load driver), and everything else."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def _sample(self) -> dict[str, float]:
        sample = {name: sum(tree_cpu_seconds(pid) for pid in pids)
                  for name, pids in self.groups.items()}
        sample["PostgreSQL"] = postgres_cpu_seconds()
        times = os.times()
        sample["load driver"] = times.user + times.system
        sample["machine"] = machine_busy_seconds()
        sample["clock"] = time.perf_counter()
        return sample

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        """Cores used on average by each group (and "other processes") over the interval."""
        after = self._sample()
        seconds = after["clock"] - self.before["clock"]
        used = {k: (after[k] - self.before[k]) / seconds for k in after if k != "clock"}
        machine = used.pop("machine")
        used["other processes"] = max(0.0, machine - sum(used.values()))
        return used


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on this machine since boot (all cores, not idle)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / ticks


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (psutil when installed, else /proc/<pid>/status)."""
    try:
        import psutil  # noqa: PLC0415
        return psutil.Process(pid).memory_info().rss
    except ImportError:  # pragma: no cover - psutil is in requirements-dev.txt
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s*(\d+) kB", status, re.M).group(1)) * 1024


# --- a throw-away environment ------------------------------------------------------------------
class BenchEnv:
    """A temp instance folder, a Redis (REDIS_URL with its own key prefix, or an embedded
    one), a database (SQLite in the temp folder, or a fresh database on the PostgreSQL
    server `postgres_url` names), the app, and the processes started on it."""

    def __init__(self, name: str, *, postgres_url: str | None = None,
                 workflows_path: Path | None = None, env_name: str = "production"):
        self.name = name
        self.postgres_url = postgres_url
        self.workflows_path = workflows_path
        self.env_name = env_name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"grants-bench-{name}-"))
        self.instance = self.tmp / "instance"
        self.prefix = f"grants-bench-{uuid.uuid4().hex[:8]}"
        self.secret = secrets.token_hex(32)
        self.processes: list[subprocess.Popen] = []
        self._logs: list[Any] = []
        self._redis = None
        self._admin_engine = None
        self.database_name: str | None = None
        self.database_url = ""
        self.redis_url = ""
        self.app = None

    # -- start and stop --
    def __enter__(self) -> BenchEnv:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _start(self) -> None:
        import sqlalchemy as sa  # noqa: PLC0415

        from grants import create_app  # noqa: PLC0415
        from grants.config import Settings, _normalise_database_url  # noqa: PLC0415
        from grants.db import db  # noqa: PLC0415

        self.redis_url = os.environ.get("REDIS_URL", "")
        if not self.redis_url:
            from grants.embedded_redis import EmbeddedRedis  # noqa: PLC0415
            self._redis = EmbeddedRedis(self.tmp / "redis")
            self.redis_url = self._redis.start()
        if self.postgres_url:
            admin_url = sa.make_url(_normalise_database_url(self.postgres_url))
            self.database_name = f"grants_bench_{uuid.uuid4().hex[:10]}"
            self._admin_engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with self._admin_engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.database_name}"'))
            self.database_url = admin_url.set(database=self.database_name).render_as_string(
                hide_password=False)
        else:
            self.database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        settings = Settings(
            env=self.env_name, secret_key=self.secret, database_url=self.database_url,
            redis_url=self.redis_url, instance_path=self.instance,
            workflows_path=self.workflows_path or PROJECT_ROOT / "workflows",
            queue_prefix=self.prefix)
        self.app = create_app(settings=settings)
        with self.app.app_context():
            db.create_all()
            db.session.remove()

    def close(self) -> None:
        for process in self.processes:
            stop_process(process)
        self.processes.clear()
        for log in self._logs:
            log.close()
        if self.app is not None:
            from grants.db import db  # noqa: PLC0415
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
            connection = self.app.extensions.get("grants.redis", {}).get("connection")
            if connection is not None:
                self._delete_keys(connection)
                connection.close()
        if self._admin_engine is not None and self.database_name:
            import sqlalchemy as sa  # noqa: PLC0415
            with self._admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database_name}" '
                                     "WITH (FORCE)"))
            self._admin_engine.dispose()
            self._admin_engine = None
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _delete_keys(self, connection) -> None:
        """Our keys only: a shared REDIS_URL is never flushed."""
        if self._redis is not None:
            return  # our own server: it goes away
        try:
            for key in connection.scan_iter(match=f"*{self.prefix}*", count=500):
                connection.delete(key)
            for key in ("rq:queues", "rq:workers"):
                for member in connection.smembers(key):
                    if self.prefix.encode() in member:
                        connection.srem(key, member)
        except Exception:  # noqa: BLE001 - best effort at the end
            pass

    # -- processes on this environment --
    def environ(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("GRANTS_WORKER_WARM_UP", "FLASK_DEBUG"):
            env.pop(key, None)
        env.update({
            "GRANTS_ENV": self.env_name, "SECRET_KEY": self.secret,
            "GRANTS_PUBLIC_URL": "https://bidrag.bench.test",
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "GRANTS_INSTANCE_PATH": str(self.instance),
            "GRANTS_WORKFLOWS_PATH": str(self.workflows_path or PROJECT_ROOT / "workflows"),
            "GRANTS_RQ_QUEUE_PREFIX": self.prefix, "FLASK_APP": "wsgi",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        env.update(extra)
        return env

    def spawn(self, args: list[str], log_name: str, *, nice: int = 0,
              **extra_env: str) -> subprocess.Popen:
        log = open(self.tmp / f"{log_name}.log", "ab")  # noqa: SIM115 - closed in close()
        self._logs.append(log)
        process = subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT,
                                   env=self.environ(**extra_env), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        if nice:
            lower_priority(process.pid, nice)
        self.processes.append(process)
        return process

    def log_text(self, log_name: str) -> str:
        try:
            return (self.tmp / f"{log_name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def start_workers(self, count: int, *, warm_up: bool = True,
                      nice: int = 0) -> list[subprocess.Popen]:
        """`count` RQ workers (`flask worker`, at CPU priority `nice`), returned once each
        listens on its queues."""
        already = self.worker_count()
        started = []
        for _ in range(count):
            index = len(self.processes)
            extra = {} if warm_up else {"GRANTS_WORKER_WARM_UP": "0"}
            started.append(self.spawn(["-m", "flask", "--app", "wsgi", "worker"],
                                      f"worker-{index}", nice=nice, **extra))

        def ready() -> bool:
            for process in started:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited ({process.returncode}):\n"
                                       + self.log_text(f"worker-{self.processes.index(process)}")
                                       [-3000:])
            return self.worker_count() >= already + count
        wait_until(ready, timeout=120, interval=0.1, what=f"{count} worker(s) listening")
        return started

    def worker_count(self) -> int:
        from rq import Worker  # noqa: PLC0415

        from grants.jobs.queue import redis_connection  # noqa: PLC0415
        workers = Worker.all(connection=redis_connection(self.app))
        return sum(1 for w in workers if any(q.name.startswith(self.prefix) for q in w.queues)
                   and w.get_state() in ("idle", "busy", "started"))

    def stop(self, processes: Iterable[subprocess.Popen]) -> None:
        for process in list(processes):
            stop_process(process)
            if process in self.processes:
                self.processes.remove(process)


def lower_priority(pid: int, nice: int) -> None:
    """Lower a process's CPU priority to `nice` as a service manager would (systemd's Nice= /
    CPUWeight=). On Linux with autogroups, a process in a session of its own competes as a
    group, and the group's own nice value (/proc/<pid>/autogroup) is the one that counts."""
    import psutil  # noqa: PLC0415
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:  # no autogroups (or not allowed): the process's nice value has to do
        pass
    try:
        for process in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            if process.nice() < nice:
                process.nice(nice)
    except psutil.Error:
        pass


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM (a worker finishes its job first), then SIGKILL; its whole process group."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
    else:
        try:  # anything it left in its group (a work-horse)
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
