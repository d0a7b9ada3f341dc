"""Who is editing now: a lease in Redis, seen across two web processes, gone when the page
closes or, if it could not say so, when the lease runs out."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from grants.config import PROJECT_ROOT
from grants.db import db
from tests.factories import add_partner

LEASE = 3  # seconds (GRANTS_PRESENCE_SECONDS of the two web processes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_web_processes(app, tmp_path):
    """The app served by two separate processes (`flask run`) on the test's database and
    Redis, as two gunicorn workers or two machines would be."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], SECRET_KEY="presence-test-secret",
               GRANTS_ENV="testing", GRANTS_RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
               GRANTS_WORKFLOWS_PATH=app.config["WORKFLOWS_PATH"],
               GRANTS_INSTANCE_PATH=str(tmp_path / "instance"),
               GRANTS_PRESENCE_SECONDS=str(LEASE))
    servers, urls = [], []
    for _ in range(2):
        port = free_port()
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
             "--port", str(port), "--no-reload", "--without-threads"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, server in zip(urls, servers, strict=True):
            for _attempt in range(200):
                try:
                    urllib.request.urlopen(url + "/health", timeout=2).close()
                    break
                except OSError:
                    assert server.poll() is None, server.stderr.read().decode()
                    time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
            server.stderr.close()


class Person:
    """Someone in a browser-like HTTP session against one of the web processes."""

    def __init__(self, base: str, email: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.get("/login")
        self.post("/login", {"email": email, "password": "demo-password",
                             "csrf_token": self.token(page)})

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path: str, data: dict) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path,
                                         data=urllib.parse.urlencode(data).encode())
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def still_here(self, path: str, page: str) -> dict:
        url = re.search(r'data-presence-url="([^"]+)"', page).group(1)
        status, body = self.post(url, {"csrf_token": self.token(page)})
        assert status == 200, body
        return json.loads(body)

    def leave(self, page: str) -> None:
        url = re.search(r'data-presence-leave="([^"]+)"', page).group(1)
        assert self.post(url, {"csrf_token": self.token(page)})[0] == 200


def test_two_people_on_two_web_processes_see_each_other_editing(world, two_web_processes):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling", title="Samtidigt")
    partner = add_partner(world, application)
    db.session.commit()
    path = f"/applications/{application.id}/partners/{partner.id}/sections/partner_part"
    first, second = two_web_processes
    lead, olle = Person(first, "lead@demo.test"), Person(second, "other@demo.test")

    lead_page = lead.get(path)
    assert "redigerar också" not in lead_page          # nobody else yet
    olle_page = olle.get(path)
    assert "Lena Lindqvist redigerar också avsnittet just nu." in olle_page
    assert lead.still_here(path, lead_page)["others"] == ["Olle Öberg"]

    # Closing the page gives the lease back at once.
    lead.leave(lead_page)
    assert olle.still_here(path, olle_page) == {"others": [], "message": ""}

    # A tab closed without a word: gone when its lease runs out, while Olle's page, which
    # keeps renewing, stays.
    lead.get(path)
    assert olle.still_here(path, olle_page)["others"] == ["Lena Lindqvist"]
    deadline = time.monotonic() + 5 * LEASE
    while olle.still_here(path, olle_page)["others"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert olle.still_here(path, olle_page)["others"] == []
    assert lead.still_here(path, lead.get(path))["others"] == ["Olle Öberg"]


def test_only_someone_who_may_edit_the_section_takes_a_lease(world, two_web_processes):
    application = world.new_application(title="Bara läsare")
    first, _second = two_web_processes
    lead = Person(first, "lead@demo.test")
    page = lead.get(f"/applications/{application.id}/sections/summary")
    steering = Person(first, "steering1@demo.test")
    url = re.search(r'data-presence-url="([^"]+)"', page).group(1)
    status, body = steering.post(url, {"csrf_token": steering.token(
        steering.get(f"/applications/{application.id}"))})
    assert status == 403, body[:300]
