"""A small HTTP load driver: N clients, each a thread with its own cookies, logging in like a
browser (the CSRF token from the login page) and then running a script of requests in a loop
for a fixed time. Only the standard library (http.client), so the driver itself costs little
CPU next to the server it measures; every request opens a connection, as gunicorn's sync
workers close each one.

Each request's latency is the time from sending it until its whole answer is read."""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile


class HTTPFailure(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """One user: a cookie jar (any cookie the server sets, Secure or not – this is a loopback
    test of a production-configured server) and the latest CSRF token."""

    def __init__(self, host: str, port: int, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.state: dict[str, Any] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        all_headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "grants-bench",
                       "Accept": "text/html,application/json"}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            answer = connection.getresponse()
            data = answer.read()
            for header, value in answer.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if "expires=thu, 01 jan 1970" in value.lower() or not cookie_value:
                        self.cookies.pop(name.strip(), None)
                    else:
                        self.cookies[name.strip()] = cookie_value
            return Response(answer.status, data, {k.lower(): v for k, v in answer.getheaders()})
        finally:
            connection.close()

    def remember_csrf(self, html: str) -> str:
        match = (re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
                 or re.search(r'name="csrf_token" value="([^"]+)"', html))
        if match:
            self.csrf = match.group(1)
        return self.csrf

    def login(self, email: str, password: str) -> None:
        page = self.request("GET", "/login")
        if not self.remember_csrf(page.text):
            raise HTTPFailure("no CSRF token on the login page")
        answer = self.request("POST", "/login", {"csrf_token": self.csrf, "email": email,
                                                 "password": password})
        if answer.status != 303:
            raise HTTPFailure(f"login as {email}: HTTP {answer.status}")


# A step: (label, function(client) -> Response, expected statuses)
Step = tuple[str, Callable[[Client], Response], tuple[int, ...]]


@dataclass
class Run:
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]

    @property
    def count(self) -> int:
        return len(self.all)

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def p(self, fraction: float, label: str | None = None) -> float:
        return percentile(self.latencies[label] if label else self.all, fraction)


def drive(clients: list[Client], script: Callable[[Client, int], Step], *, seconds: float,
          think: tuple[float, float] = (0.0, 0.0), seed: int = 1) -> Run:
    """Every client runs `script(client, n)` (its n-th step) in a loop until `seconds` have
    passed, pausing between requests for a time drawn evenly from `think` (a person reading
    the page; (0, 0): a closed loop at full speed). The same seed gives every run the same
    pauses."""
    run = Run(seconds=seconds)
    lock = threading.Lock()
    start_gate = threading.Barrier(len(clients) + 1)
    stop_at: list[float] = [0.0]

    def loop(client: Client, index: int) -> None:
        pauses = random.Random(seed * 1000 + index)
        local: dict[str, list[float]] = {}
        errors: list[str] = []
        start_gate.wait()
        if think[1] > 0:  # people do not all click at the same moment
            time.sleep(pauses.uniform(0, think[1]))
        n = 0
        while time.perf_counter() < stop_at[0]:
            label, call, ok = script(client, n)
            n += 1
            started = time.perf_counter()
            try:
                answer = call(client)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            if answer.status not in ok:
                errors.append(f"{label}: HTTP {answer.status}")
                continue
            if started + elapsed <= stop_at[0]:  # finished inside the window: counted
                local.setdefault(label, []).append(elapsed)
            if think[1] > 0:
                time.sleep(pauses.uniform(*think))
        with lock:
            for label, values in local.items():
                run.latencies.setdefault(label, []).extend(values)
            run.errors.extend(errors)

    threads = [threading.Thread(target=loop, args=(c, i), daemon=True)
               for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return run
