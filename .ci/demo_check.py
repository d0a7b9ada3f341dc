"""CI's first step: the newcomer's path. Runs `make demo PORT=...` in this clone exactly as the
README says, waits until /health answers, logs in as the demo lead over HTTP with the CSRF
token of the login page, fetches the overview, stops the demo with SIGINT (Ctrl-C) and checks
that nothing it started is left running. Standard library only: it runs before any virtualenv
exists. On failure it prints the last lines of the demo's output and exits 1.

    python3 .ci/demo_check.py [--port 5055] [--timeout 900]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEAD = ("lead@demo.test", "demo-password")
LEAD_NAME = "Lena Lindqvist"
STOP_MARK = "-- demo_check: Ctrl-C --"  # the lead's name, shown on the overview when logged in


class DemoFailed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
        return None


def _opener(jar: http.cookiejar.CookieJar, follow: bool = True) -> urllib.request.OpenerDirector:
    handlers: list = [urllib.request.HTTPCookieProcessor(jar)]
    if not follow:
        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers)


def _get(opener, url: str, timeout: float = 10) -> tuple[int, str, dict]:
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), \
                dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


def wait_for_health(base: str, demo: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    opener = urllib.request.build_opener()
    while True:
        if demo.poll() is not None:
            raise DemoFailed(f"make demo exited with status {demo.returncode} before /health "
                             "answered")
        try:
            status, _body, _headers = _get(opener, base + "/health", timeout=2)
            if status == 200:
                return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() - started > timeout:
            raise DemoFailed(f"/health did not answer within {timeout:.0f} s")
        time.sleep(1)


def log_in_and_open_the_overview(base: str) -> None:
    jar = http.cookiejar.CookieJar()
    status, page, _headers = _get(_opener(jar), base + "/login")
    if status != 200:
        raise DemoFailed(f"GET /login answered {status}")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not match:
        raise DemoFailed("the login page has no CSRF token")
    form = urllib.parse.urlencode({"csrf_token": match.group(1), "email": LEAD[0],
                                   "password": LEAD[1]}).encode()
    request = urllib.request.Request(base + "/login", data=form, method="POST",
                                     headers={"Content-Type":
                                              "application/x-www-form-urlencoded"})
    try:
        with _opener(jar, follow=False).open(request, timeout=10) as response:
            status, location = response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        status, location = error.code, error.headers.get("Location", "")
        if status not in (302, 303):
            body = error.read().decode("utf-8", "replace")
            alert = re.findall(r'<li[^>]*>(.*?)</li>', body)[:3]
            raise DemoFailed(f"logging in as {LEAD[0]} answered {status} {alert}") from None
    if status not in (302, 303) or "/login" in location:
        raise DemoFailed(f"logging in as {LEAD[0]} did not succeed ({status}, to {location!r})")
    status, overview, _headers = _get(_opener(jar), urllib.parse.urljoin(base + "/", location))
    if status != 200:
        raise DemoFailed(f"the overview answered {status} after logging in")
    if LEAD_NAME not in overview or 'name="csrf_token"' not in overview:
        raise DemoFailed("the overview does not show the logged-in lead")


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def processes_of_this_clone() -> list[str]:
    """Processes running from this clone (their working directory, executable or command line
    is inside it), other than this script and its ancestors: gunicorn, the worker and its
    work-horses, the embedded Redis from the virtualenv, make itself."""
    root = str(ROOT)
    mine = _ancestors()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace").strip()
            places = [cmdline]
            for link in ("cwd", "exe"):
                try:
                    places.append(os.readlink(entry / link))
                except OSError:
                    pass
        except OSError:
            continue
        if not cmdline:  # a zombie or a kernel thread
            continue
        if any(p == root or p.startswith(root + "/") or f" {root}/" in f" {p}" for p in places):
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def port_open(port: int) -> bool:
    import socket  # noqa: PLC0415 - start-up script, one use
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stop(demo: subprocess.Popen, grace: float = 60) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the demo's whole process group."""
    try:
        os.killpg(demo.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        demo.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        raise DemoFailed(f"make demo did not stop within {grace:.0f} s of Ctrl-C") from None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds to wait for /health (the first run installs everything)")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    if port_open(args.port):
        print(f"Port {args.port} is in use before the demo starts: choose another with --port.")
        return 1
    log = tempfile.NamedTemporaryFile(prefix="grants-demo-", suffix=".log", delete=False)
    print(f"== make demo PORT={args.port} (output in {log.name})", flush=True)
    started = time.monotonic()
    demo = subprocess.Popen(["make", "demo", f"PORT={args.port}"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)  # its own process group, as in a terminal
    failure = None
    try:
        ready = wait_for_health(base, demo, args.timeout)
        print(f"   /health answered after {ready:.0f} s", flush=True)
        log_in_and_open_the_overview(base)
        print(f"   logged in as {LEAD[0]} and opened the overview", flush=True)
        with open(log.name, "a") as marker:  # what follows is the shutdown's own output
            marker.write(f"\n{STOP_MARK}\n")
        stop(demo)
        print(f"   stopped with Ctrl-C (SIGINT), exit status {demo.returncode}", flush=True)
        deadline = time.monotonic() + 15
        left = processes_of_this_clone()
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = processes_of_this_clone()
        if left:
            raise DemoFailed("processes the demo started are still running after Ctrl-C:\n"
                             + "\n".join("  " + p for p in left))
        if port_open(args.port):
            raise DemoFailed(f"something still listens on port {args.port} after Ctrl-C")
        output = Path(log.name).read_text(errors="replace")
        if "Stopped." not in output:
            raise DemoFailed("the demo did not say it stopped everything ('Stopped.')")
        after_stop = output[output.rfind(STOP_MARK):] if STOP_MARK in output else output
        if "Traceback (most recent call last)" in after_stop:
            raise DemoFailed("stopping the demo with Ctrl-C printed a traceback")
    except DemoFailed as error:
        failure = str(error)
    finally:
        if demo.poll() is None:
            try:
                os.killpg(demo.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            demo.wait()
        for line in processes_of_this_clone():  # never leave anything for the next step
            try:
                os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        log.close()
    if failure:
        print(f"FAILED: {failure}")
        print("-- last lines of the demo's output --")
        lines = Path(log.name).read_text(errors="replace").splitlines()
        print("\n".join(lines[-60:]))
        return 1
    print(f"   the newcomer's path works ({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
