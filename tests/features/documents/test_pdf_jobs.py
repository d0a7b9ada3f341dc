"""PDF rendering in background jobs: real Redis, a real RQ worker, real WeasyPrint, pypdf."""

import io
import re

import pypdf
import pytest
from sqlalchemy import func, select

from grants.db import db
from grants.documents.models import Document
from grants.documents.pdf import html_to_pdf
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import get_queue
from tests.factories import FULL_ANSWERS, lead_signs


def pdf_text(content: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def preview(browser, application):
    return browser.post(f"/applications/{application.id}/preview")


def test_preview_job_renders_and_downloads(login_as, world, run_worker):
    answers = dict(FULL_ANSWERS, summary={"summary": "Läsfrämjande på Öland och i Åseda – "
                                                     "ÅÄÖ åäö é"})
    application = world.new_application(answers=answers)
    lead = login_as("lead@demo.test")
    assert preview(lead, application).status_code == 303
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.queued and job.payload["kind"] == "preview"
    page = lead.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "I kö" in page and "data-job-url" in page
    status = lead.get(f"/applications/{application.id}/jobs/{job.id}").get_json()
    assert status["status"] == "queued" and status["document_url"] is None

    run_worker()

    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.done and job.attempts == 1 and job.document_id
    status = lead.get(f"/applications/{application.id}/jobs/{job.id}").get_json()
    assert status["status"] == "done"
    page = lead.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "Ladda ner PDF" in page
    response = lead.get(status["document_url"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    content = response.data
    assert content.startswith(b"%PDF")
    document = db.session.get(Document, job.document_id)
    import hashlib
    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)
    reader, text = pdf_text(content)
    assert "Läsfrämjande på Öland och i Åseda – ÅÄÖ åäö é" in text
    assert "UTKAST" in text  # draft watermark
    assert re.search(r"Sida 2 av \d+", text)
    assert "Sammanfattning" in text and "450\u00a0000 kr" in text
    assert reader.metadata.title == "Läslyftet i sydost – åäö"
    assert reader.metadata.author == "Kalmar stadsbibliotek"


def test_same_content_is_rendered_once(login_as, world, run_worker):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    preview(lead, application)
    run_worker()
    preview(lead, application)  # same content: answered from the store, no new render
    jobs = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert [j.status for j in jobs] == [JobStatus.done, JobStatus.done]
    assert jobs[0].document_id == jobs[1].document_id
    assert get_queue("pdf").count == 0
    assert db.session.scalar(select(func.count(Document.id))) == 1
    # A changed section gives a new version and a new document.
    lead.post(f"/applications/{application.id}/sections/aims", {"aims": "Nya mål", "version": "1"})
    preview(lead, application)
    run_worker()
    assert db.session.scalar(select(func.count(Document.id))) == 2


def test_running_the_same_job_twice_stores_one_pdf(login_as, world, run_worker, app):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    preview(lead, application)
    job_id = db.session.scalar(select(Job.id))
    from grants.jobs.runner import run_job
    run_job(job_id)
    db.session.expire_all()
    assert run_job(job_id) == "skipped"
    run_worker()  # the queued RQ copy of the same job finds it done
    assert db.session.scalar(select(func.count(Document.id))) == 1
    assert db.session.get(Job, job_id).attempts == 1


def test_submitted_pdf_has_no_watermark(login_as, world, run_worker):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    lead_signs(application)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/transitions/submit", {"state_version": "1"})
    job = db.session.scalar(select(Job))
    assert job.payload["kind"] == "final"
    run_worker()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.done
    _reader, text = pdf_text(db.session.get(Document, job.document_id).content)
    assert "UTKAST" not in text and "Utkast – inte inskickad" not in text
    assert "Läslyftet i sydost – åäö" in text


def test_rolled_back_transition_enqueues_nothing(login_as, world, app):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    world.call.deadline_at = world.call.opens_at  # closed: the guard refuses
    db.session.commit()
    login_as("lead@demo.test").post(f"/applications/{application.id}/transitions/submit",
                                    {"state_version": "1"})
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert get_queue("pdf").count == 0


def test_failed_job_shows_its_reason(login_as, world, run_worker, monkeypatch):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    preview(lead, application)
    job = db.session.scalar(select(Job))
    job.payload = {"kind": "preview", "snapshot": {"broken": True}}  # a snapshot that can't render
    db.session.commit()
    run_worker()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.failed and "KeyError" in job.error
    page = lead.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "Misslyckades" in page and "KeyError" in page


def test_job_row_survives_redis_being_unreachable(login_as, world, app, run_worker):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    from grants.jobs.queue import redis_connection
    redis_connection(app)
    state = app.extensions["grants.redis"]
    real_url = state["url"]
    state["connection"].close()
    state.pop("connection")
    state["url"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert preview(lead, application).status_code == 303
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.queued  # the row is the truth; a sweeper re-enqueues it
    state.pop("connection")
    state["url"] = real_url
    from grants.jobs.queue import enqueue_now
    assert enqueue_now(job.id, "pdf", app)
    run_worker()
    assert db.session.get(Job, job.id).status == JobStatus.done


@pytest.fixture
def listener():
    """A local TCP listener that counts connections: the renderer must never open one."""
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    accepted: list[int] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("template", [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="http://127.0.0.1:{port}/x.png">',
    '<style>@import url(http://127.0.0.1:{port}/x.css);</style>',
    '<div style="background: url(http://127.0.0.1:{port}/bg.png)">x</div>',
])
def test_renderer_fetches_nothing_outside_our_assets(app, listener, template):
    port, accepted = listener
    html = template.format(port=port)
    content = html_to_pdf(f"<html><body><p>Text åäö</p>{html}</body></html>")
    reader, text = pdf_text(content)
    assert "Text åäö" in text and "root:" not in text
    assert accepted == []
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"])


def test_fetcher_serves_our_assets_and_refuses_the_rest():
    from grants.documents.pdf import ASSET_BASE, AssetsOnlyFetcher
    fetcher = AssetsOnlyFetcher()
    response = fetcher.fetch(ASSET_BASE + "pdf/application.css")
    assert b"@page" in response.read()
    for url in ["file:///etc/passwd", ASSET_BASE + "../../../etc/passwd",
                ASSET_BASE + "pdf/../../config.py", "http://169.254.169.254/latest/meta-data/"]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_funder_template_is_used_when_it_has_one(app, world):
    from jinja2 import ChoiceLoader, DictLoader

    from grants.applications.queries import load_answers
    from grants.applications.snapshot import build_snapshot
    from grants.documents.rendering import application_html
    from grants.processes import get_form

    application = world.new_application(answers=FULL_ANSWERS)
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "pdf/kulturradet/application.html": "<p>Kulturrådets egen mall: {{ snap.application.title }}</p>"
    }), app.jinja_env.loader])
    snapshot = build_snapshot(application, get_form("standard"), load_answers(application.id))
    assert "Kulturrådets egen mall: Läslyftet" in application_html(snapshot, "preview")
    world.call.funder.slug = "annan"
    db.session.commit()
    snapshot = build_snapshot(application, get_form("standard"), load_answers(application.id))
    assert "Kulturrådets egen mall" not in application_html(snapshot, "preview")


def test_sweeper_requeues_work_lost_with_redis(login_as, world, app, run_worker):
    from datetime import timedelta

    from grants.jobs.queue import redis_connection
    from grants.jobs.sweeper import sweep

    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    preview(lead, application)
    job = db.session.scalar(select(Job))
    # Redis loses everything of ours (as after a restart without persistence).
    connection = redis_connection(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)
    run_worker()
    assert db.session.get(Job, job.id).status == JobStatus.queued  # nothing ran: the job was lost
    assert sweep(app, older_than=timedelta(seconds=0)) == [job.id]
    assert sweep(app, older_than=timedelta(seconds=0)) == []  # already back in the queue
    run_worker()
    assert db.session.get(Job, job.id).status == JobStatus.done
    assert db.session.scalar(select(func.count(Document.id))) == 1
    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--older-than", "0"])
    assert result.exit_code == 0 and "Re-enqueued 0 job(s)." in result.output
