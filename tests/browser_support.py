"""A real browser for the tests: Debian's Chromium driven by Playwright, against the test app
served on a local port, with axe-core for accessibility checks."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import make_server

from grants.config import PROJECT_ROOT

CHROMIUM = os.environ.get("GRANTS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))
SERIOUS = {"serious", "critical"}


class LiveServer:
    """The test app on 127.0.0.1:<free port>, in a thread (each request in its own context)."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])


@dataclass
class Visitor:
    """One person in the browser: their own context (cookies), page and language."""

    page: object
    base: str
    shots: Path
    taken: list[Path] = field(default_factory=list)

    def goto(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, email: str, password: str = "demo-password") -> Visitor:
        self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("main button[type=submit]")
        self.page.wait_for_url(lambda url: "/login" not in url)
        return self

    def shot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        number = len(list(self.shots.glob("*.png"))) + 1   # one sequence for all visitors
        path = self.shots / f"{number:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415
    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                            f"– {targets}")
    return problems
