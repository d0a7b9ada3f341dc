"""Headers, stored XSS on every page and in the PDF, uploads, and PDF rendering that cannot be
turned against the server (OWASP ASVS level 2: chapters 5, 12 and 14)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser

import pypdf
import pytest
from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.config import PROJECT_ROOT
from grants.db import db
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import redis_url
from tests import files
from tests.conftest import Browser
from tests.factories import FULL_ANSWERS
from tests.features.documents.test_pdf_jobs import listener  # noqa: F401 - the fixture
from tests.features.forms.test_form_fields import post_section
from tests.system.test_access_matrix import ROLES, build, setting  # noqa: F401 - the fixture


# --- headers -----------------------------------------------------------------------------------
def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if
            part.strip()}


def test_security_headers_on_pages(app, world, login_as, browser):
    for response, logged_in in ((browser.get("/login"), False),
                                (login_as("lead@demo.test").get("/"), True)):
        csp = csp_directives(response)
        assert csp["script-src"] == "'self'"  # no inline script, no eval
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert csp["default-src"] == "'self'" and csp["base-uri"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # not in development
        assert (response.headers.get("Cache-Control") == "no-store") is logged_in


def test_hsts_only_in_production(production_app):
    client = production_app.test_client()
    with production_app.app_context():
        response = client.get("/login", base_url="https://grants.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


from tests.system.test_sessions import production_app  # noqa: E402,F401 - the fixture


def test_templates_have_no_inline_script_or_event_handlers():
    """What the CSP forbids is not used (so the policy never needs loosening)."""
    problems = []
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S | re.I):
            if "src=" not in match.group(1) or match.group(2).strip():
                problems.append(f"{path.name}: inline <script>")
        if re.search(r"<[^>]+\son[a-z]+\s*=", text, re.I):
            problems.append(f"{path.name}: on…= event handler")
        if "javascript:" in text.lower():
            problems.append(f"{path.name}: javascript: URL")
    assert problems == []


# --- stored XSS --------------------------------------------------------------------------------
PAYLOADS = [
    '<script>alert("x1")</script>',
    '<img src=x onerror=alert("x2")>',
    '[klicka här](javascript:alert("x3"))',
    '<svg onload=alert("x4")>',
    '<a href="javascript:alert(5)">x5</a>',
    '"><script>alert("x6")</script>',
    "javascript:alert('x7')",
    "<iframe src=//evil.example></iframe>",
]
PAYLOAD = " ".join(PAYLOADS)


class InertCheck(HTMLParser):
    """Collects what would run: script elements that are not our own files, event-handler
    attributes, javascript: URLs, frames and plugins."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in self.URL_ATTRIBUTES and value and re.sub(r"[\s\x00-\x1f]", "", value) \
                    .lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value[:40]}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script src={src!r}>")
            self._script = True
        if tag in ("iframe", "frame", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script and data.strip():
            self.problems.append("inline script")


def problems_in(html: str) -> list[str]:
    check = InertCheck()
    check.feed(html)
    check.close()
    return check.problems


@pytest.fixture
def poisoned(setting, world, app, login_as):
    """The access-matrix setting with the payloads in every field a user can type into: the
    title, every section (text, long text, formatted text, table cells), budget texts, partner
    contacts, names of people and organisations, comments on transitions and votes, jäv
    reasons, the call and the funder, notifications and the audit log's before/after."""
    from grants.approvals.models import Recusal
    from grants.budget.models import BudgetLine, Cofinancing
    from grants.calls.models import Call, Funder
    from grants.notifications.models import Notification
    from grants.organisations.models import Organisation
    from grants.partners.models import ApplicationPartner
    target = db.session.get(Application, setting["target"])
    target.title = "Titel " + PAYLOADS[0]
    for row in db.session.scalars(select(Funder)):
        row.name = "Bidragsgivare " + PAYLOADS[1]
    for row in db.session.scalars(select(Call)):
        row.title = "Utlysning " + PAYLOADS[3]
        row.description = PAYLOAD
    db.session.get(Organisation, world.orgs["vaxjo"].id).name = "Växjö " + PAYLOADS[5]
    world.user("partner2") if "partner2" in world.users else None
    for partner in db.session.scalars(select(ApplicationPartner)):
        partner.contact_name = "Kontakt " + PAYLOADS[4]
    world.user("steering1").name = "Sara " + PAYLOADS[1]
    for row in db.session.scalars(select(BudgetLine)):
        row.description = PAYLOAD[:200]
    for row in db.session.scalars(select(Cofinancing)):
        row.description = PAYLOAD[:200]
    for row in db.session.scalars(select(Notification)):
        row.subject, row.body = PAYLOADS[0], PAYLOAD
    db.session.add(TransitionRecord(application_id=target.id, transition="request_changes",
                                    from_state="internal_review", to_state="steering_approval",
                                    actor_id=world.users["coordinator"].id, comment=PAYLOAD))
    db.session.add(Recusal(application_id=target.id, user_id=world.users["steering2"].id,
                           reason=PAYLOAD))
    db.session.commit()
    lead = login_as("lead@demo.test")
    for key, data in {
        "summary": {"short_name": PAYLOADS[3][:60], "summary": PAYLOAD,
                    "start_date": "2027-08-15", "end_date": "2029-06-30"},
        "background": {"background": PAYLOAD},
        "cultural_aims": {"cultural_aims": PAYLOAD, "priorities": ["literacy"]},
        "target_groups": {"target_groups-0-group": PAYLOADS[1][:120],
                          "target_groups-0-count": "5"},
        "activities": {"activities-0-activity": PAYLOADS[3], "activities-0-start": "2027-09-01",
                       "activities-0-end": "2027-12-15",
                       "activities-0-responsible": PAYLOADS[4]},
        "results": {"expected_results": PAYLOAD, "follow_up": PAYLOADS[6]},
    }.items():
        version = "1" if key == "summary" else "0"
        response = post_section(lead, target, key, data, version=version)
        assert response.status_code == 303, (key, response.get_data(as_text=True)[:2000])
    return setting


def test_stored_xss_is_inert_on_every_page(app, poisoned, world):
    """Every GET page of the URL map, as every role, with the payloads in every field: nothing
    runs. (The payloads do reach the pages – escaped – so the check is not vacuous.)"""
    pages = 0
    seen_escaped = False
    for role in ("lead", "partner", "steering", "recused", "coordinator"):
        browser = Browser(app)
        browser.login(ROLES[role])
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            response = browser.get(build(rule, poisoned["T"]))
            if response.mimetype != "text/html":
                response.close()
                continue
            html = response.get_data(as_text=True)
            pages += 1
            assert problems_in(html) == [], (role, rule.rule)
            seen_escaped = seen_escaped or "&lt;script&gt;alert(" in html
    assert pages > 60 and seen_escaped


def test_stored_xss_is_inert_in_the_pdfs(app, poisoned, run_worker, login_as):
    from grants.applications.queries import current_partners, load_answers
    from grants.applications.snapshot import build_snapshot
    from grants.documents.pdf import html_to_pdf
    from grants.documents.rendering import application_html, certificate_html
    from grants.processes import form_for
    target = db.session.get(Application, poisoned["target"])
    snapshot = build_snapshot(target, form_for(target), load_answers(target.id),
                              current_partners(target.id))
    with app.test_request_context():
        documents = {"application": application_html(snapshot, "preview"),
                     "certificate": certificate_html(snapshot, snapshot["partners"][0]["id"])}
    for name, html in documents.items():
        assert problems_in(html) == [], name
        assert "&lt;script&gt;" in html, name
        with app.test_request_context():
            pdf = html_to_pdf(html)
        assert_inert_pdf(pdf)
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert "alert(" in text  # shown as text, not run


def assert_inert_pdf(pdf: bytes) -> None:
    """No PDF actions that run or open anything: JavaScript, launch, javascript: links, forms
    that submit, embedded files."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # WeasyPrint keeps dictionaries in compressed object streams, where a byte scan sees
    # nothing: scan a copy written out with every object in plain text.
    plain = io.BytesIO()
    pypdf.PdfWriter(clone_from=reader).write(plain)
    assert b"/ObjStm" not in plain.getvalue()
    for marker in (b"/JavaScript", b"/JS ", b"/JS(", b"/Launch", b"/SubmitForm",
                   b"/EmbeddedFile", b"javascript:", b"/AcroForm"):
        assert marker not in plain.getvalue(), marker
    root = reader.trailer["/Root"]
    assert "/OpenAction" not in root and "/AA" not in root and "/AcroForm" not in root
    names = root.get("/Names")  # named destinations of the table of contents are fine
    if names is not None:
        assert "/JavaScript" not in names.get_object() and "/EmbeddedFiles" not in \
            names.get_object()
    for page in reader.pages:
        assert "/AA" not in page
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            assert "/AA" not in annotation
            action = annotation.get("/A")
            if action is not None:
                action = action.get_object()
                assert action.get("/S") in (None, "/URI", "/GoTo"), action.get("/S")
                uri = str(action.get("/URI", ""))
                assert not uri.lower().startswith("javascript"), uri


# --- PDF rendering cannot reach files, the network or exhaust the worker --------------------------
SSRF = [
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
    '<style>@import url(http://127.0.0.1:{port}/import.css);</style>',
    '@import url(http://127.0.0.1:{port}/);',
    '<img src="http://169.254.169.254/latest/meta-data/">',
    "![bild](http://127.0.0.1:{port}/markdown.png)",
    "[länk](http://127.0.0.1:{port}/link)",
    '<span style="font-size: 100000px">GIANTTEXT</span>',
    '<table><tr><td colspan="1000000">bred</td></tr></table>',
    '<div style="background: url(http://127.0.0.1:{port}/bg.png)">x</div>',
]


def test_user_text_cannot_make_the_renderer_fetch_or_embed_anything(app, world, login_as,
                                                                     run_worker, listener):
    port, accepted = listener
    payload = " ".join(s.format(port=port) for s in SSRF)
    world.call.max_chars_per_field = None
    db.session.commit()
    application = world.new_application(
        answers={key: {field: (payload if isinstance(value, str) else value)
                       for field, value in values.items()}
                 for key, values in FULL_ANSWERS.items()},
        # The title also goes into the PDF's running footer (CSS): it cannot leave its string.
        title='x"} @page { background: url(http://127.0.0.1:%d/title.png) } x { content: "'
              % port)
    lead = login_as("lead@demo.test")
    started = time.monotonic()
    lead.post(f"/applications/{application.id}/preview")
    run_worker()
    elapsed = time.monotonic() - started
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.done, job.error
    pdf = db.session.get(Document, job.document_id).content
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert accepted == []  # not one connection, to our listener or anywhere it could see
    assert "root:" not in text  # embedded files: assert_inert_pdf below
    assert "GIANTTEXT" in text and "1000000" in text  # the markup is text, not layout
    assert len(reader.pages) < 30 and elapsed < 30
    assert_inert_pdf(pdf)


def test_a_five_megabyte_paste_is_refused_by_the_form(app, world, login_as):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    response = lead.post(f"/applications/{application.id}/sections/summary",
                         {"summary": "a" * (5 * 1024 * 1024), "version": "0"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(SectionAnswer.id))) == 0


def test_table_cells_without_their_own_limit_have_one(app, world):
    import inspect

    from grants.formengine.builder import DEFAULT_CELL_LIMIT, _column_field
    from grants.formengine.definition import Column
    parameters = inspect.signature(Column).parameters
    column = Column(**{name: (None if p.default is inspect.Parameter.empty else p.default)
                       for name, p in parameters.items()} | {"id": "c", "type": "text",
                                                             "max_chars": None,
                                                             "label": {"sv": "C", "en": "C"}})
    field = _column_field(column, "sv")
    limits = [v.max for v in field.kwargs["validators"] if hasattr(v, "max")]
    assert limits == [DEFAULT_CELL_LIMIT]


def test_oversized_content_fails_the_job_at_once_and_the_worker_goes_on(app, world, login_as,
                                                                        run_worker):
    from grants.documents.rendering import MAX_RENDER_INPUT_CHARS
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/preview")
    job = db.session.scalar(select(Job))
    snapshot = dict(job.payload["snapshot"])
    snapshot["sections"] = [dict(s) for s in snapshot["sections"]]
    snapshot["sections"][0]["fields"] = [dict(snapshot["sections"][0]["fields"][0],
                                              value="x" * (5 * 1024 * 1024))]
    job.payload = {"kind": "preview", "snapshot": snapshot}  # 5 MB that got past the forms
    db.session.commit()
    lead.post(f"/applications/{application.id}/sections/aims", {"aims": "Nya mål",
                                                                 "version": "1"})
    lead.post(f"/applications/{application.id}/preview")  # an ordinary job after it
    started = time.monotonic()
    run_worker()
    assert time.monotonic() - started < 20
    jobs = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert jobs[0].status == JobStatus.failed
    assert jobs[0].error.startswith("RenderInputTooLarge") and str(MAX_RENDER_INPUT_CHARS) in \
        jobs[0].error
    assert jobs[1].status == JobStatus.done


def test_a_render_that_outgrows_the_memory_cap_fails_cleanly(app, world, login_as, tmp_path):
    """In a work-horse capped like the worker caps it, a render that needs more memory fails
    with MemoryError – recorded on the job row – and the process lives on; nothing is killed."""
    application = world.new_application(answers=FULL_ANSWERS)
    login_as("lead@demo.test").post(f"/applications/{application.id}/preview")
    job = db.session.scalar(select(Job))
    snapshot = dict(job.payload["snapshot"])
    big = "\n\n".join(["Läsfrämjande insatser i Kalmar län. " * 8] * 2000)  # ~600 000 chars
    snapshot["sections"] = [dict(snapshot["sections"][0], fields=[dict(
        snapshot["sections"][0]["fields"][0], value=big)])]
    job.payload = {"kind": "preview", "snapshot": snapshot}
    db.session.commit()
    script = (
        "import os, sys\n"
        "from grants import create_app\n"
        "from grants.jobs.memory import limit_memory\n"
        "from grants.worker import prepare_for_fork\n"
        "from grants.jobs.runner import run_job\n"
        "app = create_app()\n"
        "prepare_for_fork(app)\n"
        "from grants.jobs.memory import resident_bytes\n"
        "limit_memory(resident_bytes() // 2**20 + 30)  # this much more than now\n"
        "with app.app_context():\n"
        "    try:\n"
        "        run_job(int(sys.argv[1]))\n"
        "    except MemoryError:\n"
        "        print('caught MemoryError')\n"
        "print('alive')\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRANTS_")}
    environment.update({"GRANTS_ENV": "testing", "SECRET_KEY": app.config["SECRET_KEY"],
                        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                        "REDIS_URL": redis_url(app),
                        "GRANTS_RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
                        "GRANTS_INSTANCE_PATH": str(tmp_path / "horse")})
    done = subprocess.run([sys.executable, "-c", script, str(job.id)], cwd=PROJECT_ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "alive" in done.stdout
    db.session.expire_all()
    row = db.session.get(Job, job.id)
    assert row.status == JobStatus.failed and row.error.startswith("MemoryCapExceeded"), \
        row.error


# --- uploads -----------------------------------------------------------------------------------
class CountingStream(io.RawIOBase):
    """A request body that counts what is read of it."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True


    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def test_oversize_request_is_refused_before_its_body_is_read(app, world, login_as):
    from werkzeug.test import EnvironBuilder, run_wsgi_app
    application = world.new_application()
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    lead = login_as("lead@demo.test")
    stream = CountingStream(50 * 1024 * 1024)
    environ = EnvironBuilder(
        path=f"/applications/{application.id}/sections/summary", method="POST",
        content_type="multipart/form-data; boundary=xyz",
        headers={"Cookie": f"session={lead.client.get_cookie('session').value}"}).get_environ()
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = stream, str(stream.size)
    with app.app_context():
        body, status, _headers = run_wsgi_app(app.wsgi_app, environ)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
    assert status.startswith("413")
    assert stream.read_bytes == 0
    assert db.session.scalar(select(func.count(SectionAnswer.id))) == 0


def test_user_files_and_exports_are_never_served_inline(app, setting, browsers=None):
    """Every GET route that answers with something other than a page – uploads, PDFs, the
    dossier, JSON and CSV exports – is a download with nosniff; uploads get a sandbox CSP."""
    browser = Browser(app)
    browser.login("coordinator@demo.test")
    downloads = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "health") or \
                rule.endpoint.endswith("status"):  # the pages' own JSON about a job
            continue
        response = browser.get(build(rule, setting["T"]))
        response.close()
        if response.status_code != 200 or response.mimetype == "text/html":
            continue
        downloads += 1
        assert response.headers["Content-Disposition"].startswith("attachment"), rule.rule
        assert response.headers["X-Content-Type-Options"] == "nosniff", rule.rule
    assert downloads >= 6
    response = browser.get(f"/applications/{setting['target']}/attachments/"
                           f"{setting['T']['attachment_id']}")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_upload_kind_comes_from_the_bytes_not_the_name(app, world, login_as):
    """(Every kind:
    tests/features/forms/test_form_fields.py::test_upload_kind_is_read_from_the_content.)"""
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling")
    lead = login_as("lead@demo.test")
    response = post_section(lead, application, "attachments", {
        "letter_of_intent": (io.BytesIO(files.HTML_DISGUISED_AS_PDF), "brev.pdf")})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    response = post_section(lead, application, "attachments", {
        "letter_of_intent": (io.BytesIO(files.png_bytes()), "brev.pdf")})  # a PNG named .pdf
    assert response.status_code == 422


def test_nul_bytes_are_refused_as_unreadable(app, world, login_as):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    response = lead.post(f"/applications/{application.id}/sections/summary",
                         {"summary": "a\x00b", "version": "0"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(SectionAnswer.id))) == 0
    assert lead.get("/portfolio?q=%00").status_code in (400, 404)
