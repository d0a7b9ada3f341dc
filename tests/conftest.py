"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL is
set), a real Redis (REDIS_URL, or an embedded one), and a real RQ worker in burst mode."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from grants import create_app
from grants.config import PROJECT_ROOT, Settings
from grants.db import db, utcnow
from grants.embedded_redis import EmbeddedRedis
from tests.factories import World, build_world

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

# Tests that ask for these drive the real browser (Playwright): they get the marker `browser`.
BROWSER_FIXTURES = {"chromium", "visitor"}
UNIT_TESTS = Path(__file__).parent / "unit"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if "app" in fixtures and item.path.is_relative_to(UNIT_TESTS):
            raise pytest.UsageError(f"{item.nodeid} builds the app: tests/unit/ holds tests "
                                    "without the app and the database; move it to features/")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not TEST_DATABASE_URL:
        yield None
        return
    from grants.config import _normalise_database_url  # noqa: PLC0415
    admin_url = sa.make_url(_normalise_database_url(TEST_DATABASE_URL))
    name = f"grants_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name)
    engine = sa.create_engine(url)
    from grants import models  # noqa: F401,PLC0415
    db.metadata.create_all(engine)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(tmp_path: Path, database_url: str, redis_url: str, **extra) -> Settings:
    return Settings(
        env="testing", secret_key="test-secret-" + uuid.uuid4().hex, database_url=database_url,
        redis_url=redis_url, instance_path=tmp_path / "instance",
        workflows_path=extra.pop("workflows_path", PROJECT_ROOT / "workflows"),
        demo_mode=True, queue_prefix=f"grants-test-{uuid.uuid4().hex[:8]}",
        public_url="https://bidrag.test", extra=extra)


@pytest.fixture
def workflows_path() -> Path:
    """The workflows/ directory (with its forms/) the app loads; a test module overrides this
    fixture to run the app on other files."""
    return PROJECT_ROOT / "workflows"


@pytest.fixture
def app(tmp_path, redis_url, postgres_database, workflows_path):
    database_url = postgres_database or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    application = create_app(settings=make_settings(tmp_path, database_url, redis_url,
                                                    workflows_path=workflows_path))
    with application.app_context():
        if postgres_database is None:
            db.create_all()
        yield application
        db.session.remove()
        if postgres_database is not None:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _delete_queue_keys(application)
        connection = application.extensions.get("grants.redis", {}).get("connection")
        if connection is not None:
            connection.close()
        db.engine.dispose()


def _delete_queue_keys(application) -> None:
    """Remove this test's RQ keys from a shared Redis (never FLUSHALL a shared server)."""
    from grants.jobs.queue import redis_connection  # noqa: PLC0415
    conn = redis_connection(application)
    prefix = application.config["RQ_QUEUE_PREFIX"]
    for key in conn.scan_iter(match=f"*{prefix}*", count=500):
        conn.delete(key)
    for key in ("rq:queues", "rq:workers"):
        for member in conn.smembers(key):
            if prefix.encode() in member:
                conn.srem(key, member)


@pytest.fixture
def world(app) -> World:
    return build_world()


@pytest.fixture
def client(app):
    return app.test_client()


class Browser:
    """A test client that logs in and posts forms with their CSRF token, like a browser."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self._token: str | None = None

    def csrf_token(self, page: str = "/") -> str:
        if self._token is None:
            html = self.get(page, follow_redirects=True).get_data(as_text=True)
            match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
                re.search(r'name="csrf_token" value="([^"]+)"', html)
            assert match, "no CSRF token on " + page
            self._token = match.group(1)
        return self._token

    def login(self, email: str, password: str = "demo-password"):
        response = self.post("/login", {"email": email, "password": password})
        self._token = None
        return response

    # Each request runs in its own app context (fresh `g`, its own DB session), as in
    # production; the test's own session is expired so it reads what the request committed.
    def get(self, url: str, **kwargs):
        with self.app.app_context():
            response = self.client.get(url, **kwargs)
        db.session.expire_all()
        return response

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        with self.app.app_context():
            response = self.client.post(url, data=data, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def login_as(app):
    def _login(email: str) -> Browser:
        b = Browser(app)
        response = b.login(email)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return b
    return _login


@pytest.fixture
def run_worker(app):
    """Run every queued RQ job now, in this process, with a real RQ SimpleWorker."""
    from grants.documents import rendering  # noqa: F401,PLC0415 - registers the handlers
    from grants.jobs.queue import all_queues, redis_connection  # noqa: PLC0415

    def _run() -> None:
        worker = SimpleWorker(all_queues(app), connection=redis_connection(app))
        worker.work(burst=True)
        db.session.expire_all()
    return _run


@pytest.fixture
def past_deadline():
    return utcnow() - timedelta(days=1)


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on a free local port; the app sends to it."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="bidrag@example.org")
    yield inbox
    controller.stop()


# --- a real browser ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, launched once per test session."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from tests.browser_support import launch_chromium  # noqa: PLC0415
    playwright = sync_playwright().start()
    browser = launch_chromium(playwright)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def live_server(app):
    from tests.browser_support import LiveServer  # noqa: PLC0415
    server = LiveServer(app)
    app.config["PUBLIC_URL"] = server.url  # links in emails lead to this server
    yield server
    server.stop()


@pytest.fixture
def visitor(chromium, live_server, request):
    """visitor(locale="sv") → a Visitor with its own cookies; screenshots go to
    test-artifacts/<test name>/."""
    import shutil  # noqa: PLC0415

    from tests.browser_support import ARTIFACTS, Visitor  # noqa: PLC0415
    contexts = []
    shutil.rmtree(ARTIFACTS / request.node.name, ignore_errors=True)

    def _new(locale: str = "sv-SE", width: int = 1280, height: int = 900) -> Visitor:
        context = chromium.new_context(locale=locale, viewport={"width": width,
                                                                "height": height})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Visitor(page=context.new_page(), base=live_server.url,
                       shots=ARTIFACTS / request.node.name)
    yield _new
    for context in contexts:
        context.close()
