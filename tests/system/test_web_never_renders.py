"""The web process never renders a PDF: every PDF is made by a worker (a job row, enqueued after
commit). Checked twice: no view module reaches for WeasyPrint, and no page – every GET route,
and the buttons that ask for a PDF – runs WeasyPrint in the request."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import weasyprint

from grants.config import PROJECT_ROOT
from tests.factories import FULL_ANSWERS

RENDERING_NAMES = {"weasyprint", "html_to_pdf", "render_application_pdf", "write_pdf",
                   "render_archival_pdf", "warm_up"}
SAMPLE_NAMES = {"workflows.show": "joint_application"}


def view_modules() -> list[Path]:
    root = PROJECT_ROOT / "grants"
    return sorted([*root.glob("*/views.py"), root / "applications" / "page.py", root / "web.py",
                   root / "about.py"])


@pytest.mark.parametrize("path", view_modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_view_module_uses_the_renderer(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            used |= {(node.module or "").split(".")[0]} | {alias.name for alias in node.names}
        elif isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
    assert not used & RENDERING_NAMES, f"{path.name} uses {sorted(used & RENDERING_NAMES)}"


@pytest.fixture
def renders(monkeypatch):
    """Every WeasyPrint render in this process, recorded (and still done)."""
    calls = []
    write_pdf = weasyprint.HTML.write_pdf

    def recorded(self, *args, **kwargs):
        calls.append(self)
        return write_pdf(self, *args, **kwargs)
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", recorded)
    return calls


def every_get_url(app, values: dict[str, object]) -> list[str]:
    from flask import url_for  # noqa: PLC0415
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            arguments = {name: SAMPLE_NAMES.get(rule.endpoint, values.get(name, 1))
                         if name == "name" else values.get(name, 1)
                         for name in rule.arguments}
            urls.append(url_for(rule.endpoint, **arguments))
    return sorted(set(urls))


def test_no_page_renders_a_pdf_in_the_request(app, login_as, world, renders, run_worker):
    draft = world.new_application(answers=FULL_ANSWERS)
    voting = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    coordinator = login_as("coordinator@demo.test")
    lead = login_as("lead@demo.test")

    # The buttons that ask for PDFs: a job each, nothing rendered here.
    assert lead.post(f"/applications/{draft.id}/preview").status_code == 303
    assert coordinator.post("/admin/forms/standard/preview.pdf").status_code == 303
    assert not renders

    answered = 0
    for application in (draft, voting):
        values = {"application_id": application.id, "section_key": "summary",
                  "name": "standard", "job_id": 1, "document_id": 1, "number": 1,
                  "token": "x" * 20}
        for url in every_get_url(app, values):
            for browser in (coordinator, lead):
                status = browser.get(url).status_code
                assert status < 500, (url, status)
                answered += status == 200
    assert answered > 20
    assert not renders, f"{len(renders)} PDF(s) rendered by web requests"

    run_worker()  # the worker does render them
    assert len(renders) == 2
