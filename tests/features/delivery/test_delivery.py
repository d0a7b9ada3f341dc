"""Delivery of a submission to the funder: by email through a real SMTP server (aiosmtpd, or a
raw socket server that breaks the connection after DATA), exactly once whatever runs twice,
retries with backoff through RQ's scheduler, "uncertain" left to a coordinator, no header
injection through any user field; and through the funder's portal with the receipt uploaded."""

from __future__ import annotations

import email
import email.policy
import io
import re
import socket
import threading
from datetime import timedelta
from functools import lru_cache

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from grants.applications.models import Application
from grants.audit import AuditEvent
from grants.calls.models import DEFAULT_SUBJECT_FORMAT, Call, Funder
from grants.db import db, utcnow
from grants.delivery import labels
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.delivery.operations import start_delivery
from grants.delivery.sending import (
    RETRY_FUNCTION,
    attempt_delivery,
    delivery_rq_id,
    retry_delay,
    run_delivery,
)
from grants.delivery.subject import format_problems, render_subject
from grants.documents.models import Attachment, Document
from grants.documents.pdf import html_to_pdf
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import all_queues, get_queue, redis_connection, schedule_at
from grants.jobs.runner import run_job
from grants.jobs.sweeper import sweep
from grants.notifications.models import Notification
from grants.partners.models import ApplicationPartner
from grants.processes import get_form
from grants.submissions.models import Submission
from tests.factories import FULL_ANSWERS, make_user
from tests.files import HTML_DISGUISED_AS_PDF, pdf_bytes

FUNDER_ADDRESS = "registrator@kulturradet.example"


# --- helpers ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def final_pdf() -> bytes:
    return html_to_pdf("<html lang='sv'><body><h1>Ansökan</h1><p>Läsfrämjande i sydost"
                       "</p></body></html>")


def make_submission(world, *, title: str = "Läsfrämjande i sydost", application=None,
                    number: int = 1) -> Submission:
    """A submission as the submit transition and the render job leave it: the frozen snapshot
    with its SHA-256, and the final PDF stored (without depending on the render job)."""
    from grants.applications.queries import load_answers
    from grants.applications.snapshot import fingerprint
    from grants.submissions.operations import submission_snapshot
    if application is None:
        application = world.new_application(state="submitted", answers=FULL_ANSWERS,
                                            title=title)
    lead = world.user("lead")
    now = utcnow()
    snapshot = submission_snapshot(application, get_form(application.form_name),
                                   load_answers(application.id), [], number=number,
                                   submitted_at=now, actor=lead)
    submission = Submission(application_id=application.id, number=number, submitted_at=now,
                            submitted_by_id=lead.id, snapshot=snapshot,
                            sha256=fingerprint(snapshot))
    db.session.add(submission)
    db.session.flush()
    content = final_pdf()
    import hashlib
    reference = snapshot["submission"]["reference"]
    document = Document(application_id=application.id, kind="final",
                        fingerprint=hashlib.sha256(f"{submission.sha256}:final".encode())
                        .hexdigest(), filename=f"ansokan-{reference}.pdf", size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(), content=content)
    db.session.add(document)
    db.session.flush()
    reading = Document(application_id=application.id, kind="reading_copy",
                       fingerprint=hashlib.sha256(f"{submission.sha256}:reading".encode())
                       .hexdigest(), filename=f"ansokan-{reference}-lasexemplar.pdf",
                       size=len(content), sha256=document.sha256, content=content)
    db.session.add(reading)
    db.session.flush()
    submission.final_document_id, submission.reading_document_id = document.id, reading.id
    db.session.commit()
    return submission


def start(submission: Submission) -> Delivery:
    """What the render job does at its end: start the delivery in its transaction, commit."""
    delivery = start_delivery(submission)
    db.session.commit()
    return delivery


def delivery_of(submission_id: int) -> Delivery:
    db.session.expire_all()
    return db.session.scalar(select(Delivery).where(Delivery.submission_id == submission_id))


def to_funder(inbox, address: str = FUNDER_ADDRESS) -> list:
    """The messages the funder got (notification emails go to people, not to the funder)."""
    return [m for m in inbox.messages if address in m.rcpt_tos]


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def attempts_of(delivery_id: int) -> list[DeliveryAttempt]:
    return list(db.session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.number)))


def notifications(kind: str) -> set[str]:
    from grants.accounts.models import User
    rows = db.session.execute(select(User.email).join(
        Notification, Notification.user_id == User.id).where(Notification.kind == kind))
    return {row[0] for row in rows}


def run_scheduler_worker(app) -> None:
    """A real RQ burst worker with its scheduler: due scheduled jobs are moved onto their
    queue first, then every queued job runs."""
    worker = SimpleWorker(all_queues(app), connection=redis_connection(app))
    worker.work(burst=True, with_scheduler=True)
    db.session.expire_all()


def scheduled_in_rq(app) -> dict:
    registry = ScheduledJobRegistry(queue=get_queue("default", app))
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_with(app):
    """Start an aiosmtpd server with the given handler; the app sends to it."""
    from aiosmtpd.controller import Controller
    controllers = []

    def _start(handler):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                          MAIL_FROM="bidrag@example.org")
        return handler
    yield _start
    for controller in controllers:
        controller.stop()


class Recording:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued as ABC123"


class Greylisting(Recording):
    """Answers 451 to the first RCPT (before DATA: nothing handed over), then accepts."""

    def __init__(self):
        super().__init__()
        self.rcpt_calls = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls += 1
        if self.rcpt_calls == 1:
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class AlwaysBusy(Recording):
    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        if FUNDER_ADDRESS in envelope.rcpt_tos:
            return "452 4.3.1 Insufficient system storage"
        return "250 OK"


class Refusing(Recording):
    """Refuses the funder's email for good (notifications to people get through)."""

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        if FUNDER_ADDRESS in envelope.rcpt_tos:
            return "550 5.7.1 Message rejected by policy"
        return "250 OK"


class Slow(Recording):
    async def handle_DATA(self, server, session, envelope):
        import asyncio
        await asyncio.sleep(0.5)
        self.messages.append(envelope)
        return "250 OK"


class BreakingServer(threading.Thread):
    """A raw SMTP server that reads the whole message after DATA and then, instead of
    answering, closes the connection ("close") or says nothing until the client gives up
    ("silent"): the client cannot know whether the message was accepted."""

    def __init__(self, mode: str):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.funder_connections = 0  # others are notification emails to people
        self.messages: list[bytes] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _address = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            try:
                self._talk(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")
        conn.sendall(b"220 breaking.example ESMTP\r\n")
        to_funder = False
        while True:
            line = reader.readline()
            if not line:
                return
            command = line[:4].upper()
            if command == b"RCPT" and FUNDER_ADDRESS.encode() in line:
                to_funder = True
                self.funder_connections += 1
            if command == b"DATA" and not to_funder:  # a notification to a person: accept it
                conn.sendall(b"354 go ahead\r\n")
                while reader.readline() not in (b".\r\n", b""):
                    pass
                conn.sendall(b"250 OK\r\n")
                continue
            if command == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = reader.readline()
                    if not chunk:
                        return
                    data += chunk
                self.messages.append(data)
                if self.mode == "silent":  # say nothing until the client gives up
                    while reader.read(1):
                        pass
                conn.shutdown(socket.SHUT_RDWR)
                return
            if command == b"QUIT":
                conn.sendall(b"221 Bye\r\n")
                return
            conn.sendall(b"250 OK\r\n")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        self.sock.close()


@pytest.fixture
def breaking_server(app):
    servers = []

    def _start(mode: str) -> BreakingServer:
        server = BreakingServer(mode)
        server.start()
        servers.append(server)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port,
                          MAIL_FROM="bidrag@example.org", MAIL_TIMEOUT=1)
        return server
    yield _start
    for server in servers:
        server.stop()


def set_subject_format(world, fmt: str) -> None:
    funder = db.session.get(Funder, world.call.funder_id)
    funder.email_subject_format = fmt
    db.session.commit()


def page(browser, application_id: int) -> str:
    response = browser.get(f"/applications/{application_id}/decision")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def log_section(html: str) -> str:
    assert 'id="delivery"' in html
    return html.split('id="delivery"', 1)[1].split("</section>", 1)[0]


# --- email: delivered once ----------------------------------------------------------------------
def test_email_is_delivered_once_with_the_pdf_and_the_funders_subject(
        app, world, smtp_with, run_worker, login_as):
    smtp_server = smtp_with(Recording())
    set_subject_format(world, "Ansökan {reference}: {title} – {organisation} ({call}, nr {number})")
    submission = make_submission(world)
    delivery = start(submission)
    assert (delivery.channel, delivery.status, delivery.recipient) == (
        "email", "pending", FUNDER_ADDRESS)
    job = db.session.get(Job, delivery.job_id)
    assert job.kind == "deliver_submission" and job.payload["delivery_id"] == delivery.id

    run_worker()

    messages = to_funder(smtp_server)
    assert len(messages) == 1
    envelope = messages[0]
    assert envelope.rcpt_tos == [FUNDER_ADDRESS]
    assert envelope.mail_from == "bidrag@example.org"
    message = parse(envelope)
    reference = submission.snapshot["submission"]["reference"]
    assert message["Subject"] == (f"Ansökan {reference}: Läsfrämjande i sydost – Kalmar "
                                  f"stadsbibliotek (Utvecklingsbidrag för bibliotek 2027, nr 1)")
    assert message["To"] == FUNDER_ADDRESS
    assert message["From"].addresses[0].addr_spec == "bidrag@example.org"
    assert message["Reply-To"] == "lead@demo.test"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert reference in body and submission.sha256 in body
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename() == f"ansokan-{reference}.pdf"
    assert attachments[0].get_content() == final_pdf()

    delivery = delivery_of(submission.id)
    assert delivery.status == "sent" and delivery.sent_at is not None
    assert delivery.smtp_code == 250 and "queued as" in delivery.smtp_response
    assert delivery.message_id == message["Message-ID"]
    assert delivery.attempts == 1
    [attempt] = attempts_of(delivery.id)
    assert (attempt.outcome, attempt.smtp_code, attempt.stage) == ("sent", 250, "message")
    assert attempt.finished_at >= attempt.started_at
    assert notifications("delivery_sent") == {"lead@demo.test"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "delivery.sent"))
    assert (event.object_type, event.object_id) == ("delivery", delivery.id)
    assert event.after["status"] == "sent"

    # Lead and coordinator see the log with the attempt and the server's answer.
    for who in ("lead@demo.test", "coordinator@demo.test"):
        section = log_section(page(login_as(who), submission.application_id))
        assert 'data-status="sent"' in section
        assert "queued as ABC123" in section and FUNDER_ADDRESS in section
        assert section.count('class="attempt attempt-sent"') == 1


def test_the_send_job_run_twice_sends_one_email(app, world, smtp_server, run_worker):
    submission = make_submission(world)
    delivery = start(submission)
    job_id = delivery.job_id
    run_worker()
    assert len(to_funder(smtp_server)) == 1

    # The same job again: through RQ, directly, as a retry, and whatever the sweeper does.
    get_queue("default", app).enqueue("grants.jobs.runner.run_job", job_id)
    run_worker()
    assert run_job(job_id) == "skipped"  # the job row is done
    assert attempt_delivery(delivery.id) == "skipped"
    run_delivery(job_id)  # reopens the job row; the delivery has nothing to claim
    sweep(app, older_than=timedelta(0))
    run_worker()
    run_scheduler_worker(app)
    # Starting the delivery again (the render job run twice) adds nothing.
    assert start(db.session.get(Submission, submission.id)).id == delivery.id

    assert len(to_funder(smtp_server)) == 1
    assert db.session.scalar(select(func.count(Delivery.id))) == 1
    assert db.session.scalar(select(func.count(Job.id)).where(
        Job.kind == "deliver_submission")) == 1
    delivery = delivery_of(submission.id)
    assert delivery.status == "sent" and delivery.attempts == 1
    assert len(attempts_of(delivery.id)) == 1


def test_two_workers_running_the_job_at_once_send_one_email(app, world, smtp_with):
    inbox = smtp_with(Slow())  # the first worker is still talking when the second starts
    submission = make_submission(world)
    delivery = start(submission)
    job_id, delivery_id = delivery.job_id, delivery.id
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                results.append(run_job(job_id))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == 2
    assert len(to_funder(inbox)) == 1
    delivery = db.session.get(Delivery, delivery_id)
    db.session.refresh(delivery)
    assert delivery.status == "sent" and delivery.attempts == 1
    assert len(attempts_of(delivery_id)) == 1


# --- temporary failures: retry with backoff -------------------------------------------------------
def test_a_temporary_failure_is_retried_with_backoff_then_sent(app, world, smtp_with,
                                                               run_worker, login_as):
    inbox = smtp_with(Greylisting())
    submission = make_submission(world)
    delivery = start(submission)
    job_id = delivery.job_id
    before = utcnow()
    run_worker()

    delivery = delivery_of(submission.id)
    assert delivery.status == "retry" and delivery.attempts == 1
    wait = delivery.next_attempt_at - before
    assert timedelta(seconds=55) < wait < timedelta(seconds=70)  # first backoff: 1 minute
    [attempt] = attempts_of(delivery.id)
    assert (attempt.outcome, attempt.stage, attempt.smtp_code) == ("temporary_failure", "rcpt",
                                                                   451)
    assert "Greylisted" in attempt.smtp_response
    assert to_funder(inbox) == []
    # The same job row waits in RQ's scheduler for the next attempt.
    rq_id = delivery_rq_id(app, delivery.id, 1)
    scheduled = scheduled_in_rq(app)
    assert rq_id in scheduled
    assert abs(scheduled[rq_id] - delivery.next_attempt_at) < timedelta(seconds=1)

    # Not due yet: workers (with the scheduler), the job and the sweeper leave it alone.
    run_scheduler_worker(app)
    assert attempt_delivery(delivery.id) == "skipped"
    sweep(app, older_than=timedelta(0))
    run_worker()
    assert delivery_of(submission.id).attempts == 1 and inbox.rcpt_calls == 1

    # A minute later (the clock moved on): RQ's scheduler runs the same job row again.
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    schedule_at(utcnow() - timedelta(seconds=1), RETRY_FUNCTION, job_id, rq_id=rq_id)
    run_scheduler_worker(app)

    assert len(to_funder(inbox)) == 1
    delivery = delivery_of(submission.id)
    assert delivery.status == "sent" and delivery.attempts == 2
    assert [(a.number, a.outcome, a.smtp_code) for a in attempts_of(delivery.id)] == [
        (1, "temporary_failure", 451), (2, "sent", 250)]
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.done  # the same row ran again
    assert db.session.scalar(select(func.count(Job.id)).where(
        Job.kind == "deliver_submission")) == 1
    section = log_section(page(login_as("lead@demo.test"), submission.application_id))
    assert "Greylisted, please try again later" in section and "451" in section
    assert section.count('class="attempt attempt-') == 2


def test_backoff_schedule_and_giving_up_after_six_attempts(app, world, smtp_with):
    assert [retry_delay(n) for n in range(1, 7)] == [
        timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
        timedelta(hours=4), timedelta(hours=4)]
    inbox = smtp_with(AlwaysBusy())
    submission = make_submission(world)
    delivery = start(submission)
    waits = []
    for attempt in range(1, 7):
        started = utcnow()
        outcome = attempt_delivery(delivery.id)
        assert outcome == "temporary_failure"
        delivery = delivery_of(submission.id)
        if attempt < 6:
            assert delivery.status == "retry"
            waits.append(round((delivery.next_attempt_at - started).total_seconds() / 60))
            delivery.next_attempt_at = utcnow() - timedelta(seconds=1)  # time passes
            db.session.commit()
    assert waits == [1, 5, 15, 60, 240]
    assert delivery.status == "failed" and delivery.attempts == 6
    assert delivery.error == labels.TOO_MANY
    assert len(to_funder(inbox)) == 6  # every attempt reached the server, none was accepted
    assert attempt_delivery(delivery.id) == "skipped"
    assert notifications("delivery_failed") == {"lead@demo.test", "coordinator@demo.test"}


def test_connection_refused_before_data_is_retried(app, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_FROM="b@example.org")
    submission = make_submission(world)
    delivery = start(submission)
    assert attempt_delivery(delivery.id) == "temporary_failure"
    delivery = delivery_of(submission.id)
    assert delivery.status == "retry"
    [attempt] = attempts_of(delivery.id)
    assert attempt.stage == "connect" and "ConnectionRefused" in attempt.error


# --- uncertain: the connection broke after the message was sent -----------------------------------
@pytest.mark.parametrize("mode", ["close", "silent"])
def test_connection_lost_after_data_is_uncertain_and_never_sent_again(
        app, world, breaking_server, run_worker, login_as, mode):
    server = breaking_server(mode)
    submission = make_submission(world)
    delivery = start(submission)
    run_worker()

    assert server.funder_connections == 1 and len(server.messages) == 1
    assert b"Subject:" in server.messages[0]
    delivery = delivery_of(submission.id)
    assert delivery.status == "uncertain" and delivery.next_attempt_at is None
    [attempt] = attempts_of(delivery.id)
    assert (attempt.outcome, attempt.stage) == ("uncertain", "message")
    assert attempt.error
    assert notifications("delivery_uncertain") == {"lead@demo.test", "coordinator@demo.test"}
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "delivery.uncertain")) is not None

    # Nothing sends it again by itself: the job, RQ's scheduler, the sweeper.
    assert attempt_delivery(delivery.id) == "skipped"
    run_delivery(delivery.job_id)
    assert sweep(app, older_than=timedelta(0)) == []
    run_worker()
    run_scheduler_worker(app)
    assert server.funder_connections == 1 and len(server.messages) == 1
    delivery = delivery_of(submission.id)
    assert delivery.status == "uncertain" and delivery.attempts == 1
    section = log_section(page(login_as("coordinator@demo.test"), submission.application_id))
    assert 'data-status="uncertain"' in section and 'class="resolve-form"' in section


def test_coordinator_settles_an_uncertain_delivery_as_received(app, world, breaking_server,
                                                               run_worker, login_as):
    breaking_server("close")
    submission = make_submission(world)
    delivery = start(submission)
    run_worker()
    delivery = delivery_of(submission.id)
    assert delivery.status == "uncertain"
    url = f"/applications/{submission.application_id}/delivery/resolve"
    prefix = f"resolve-{delivery.id}"

    # The lead sees the log but may not decide.
    lead = login_as("lead@demo.test")
    assert 'class="resolve-form"' not in log_section(page(lead, submission.application_id))
    response = lead.post(url, {"delivery_id": delivery.id, f"{prefix}-decision": "sent",
                               f"{prefix}-note": "Jag tror det kom fram."})
    assert response.status_code == 303
    assert delivery_of(submission.id).status == "uncertain"

    coordinator = login_as("coordinator@demo.test")
    response = coordinator.post(url, {"delivery_id": delivery.id, f"{prefix}-decision": "sent",
                                      f"{prefix}-note": ""})
    assert response.status_code == 422
    assert f'id="{prefix}-note-error"' in response.get_data(as_text=True)
    assert delivery_of(submission.id).status == "uncertain"

    response = coordinator.post(url, {
        "delivery_id": delivery.id, f"{prefix}-decision": "sent",
        f"{prefix}-note": "Registrator Eva Ek bekräftade per telefon, dnr KUR 2027/123."})
    assert response.status_code == 303
    delivery = delivery_of(submission.id)
    assert (delivery.status, delivery.resolution) == ("sent", "sent")
    assert delivery.resolved_by_id == world.users["coordinator"].id
    assert "KUR 2027/123" in delivery.resolution_note
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "delivery.resolve"))
    assert event.before["status"] == "uncertain" and event.after["status"] == "sent"
    run_worker()
    assert delivery_of(submission.id).attempts == 1  # nothing was sent again
    section = log_section(page(coordinator, submission.application_id))
    assert "KUR 2027/123" in section and 'class="resolve-form"' not in section


def test_coordinator_decides_to_send_again(app, world, breaking_server, smtp_with, run_worker,
                                           login_as):
    breaking_server("close")
    submission = make_submission(world)
    delivery = start(submission)
    run_worker()
    assert delivery_of(submission.id).status == "uncertain"
    inbox = smtp_with(Recording())  # the mail server works again
    prefix = f"resolve-{delivery.id}"
    response = login_as("coordinator@demo.test").post(
        f"/applications/{submission.application_id}/delivery/resolve",
        {"delivery_id": delivery.id, f"{prefix}-decision": "resend",
         f"{prefix}-note": "Registratorn har inte fått den."})
    assert response.status_code == 303
    delivery = delivery_of(submission.id)
    assert (delivery.status, delivery.resolution) == ("pending", "resend")
    run_worker()
    assert len(to_funder(inbox)) == 1
    delivery = delivery_of(submission.id)
    assert delivery.status == "sent" and delivery.attempts == 2
    assert [a.outcome for a in attempts_of(delivery.id)] == ["uncertain", "sent"]
    assert db.session.scalar(select(func.count(Job.id)).where(
        Job.kind == "deliver_submission")) == 2  # the decision recorded its own job


def test_permanent_refusal_fails_without_retry(app, world, smtp_with, run_worker, login_as):
    inbox = smtp_with(Refusing())
    submission = make_submission(world)
    delivery = start(submission)
    run_worker()
    delivery = delivery_of(submission.id)
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.smtp_code == 550 and "rejected by policy" in delivery.smtp_response
    [attempt] = attempts_of(delivery.id)
    assert attempt.outcome == "permanent_failure"
    assert scheduled_in_rq(app) == {}
    assert attempt_delivery(delivery.id) == "skipped"
    sweep(app, older_than=timedelta(0))
    run_scheduler_worker(app)
    assert len(to_funder(inbox)) == 1
    assert notifications("delivery_failed") == {"lead@demo.test", "coordinator@demo.test"}
    section = log_section(page(login_as("coordinator@demo.test"), submission.application_id))
    assert 'data-status="failed"' in section and "550" in section


def test_withdrawn_before_sending_is_cancelled(app, world, smtp_server):
    submission = make_submission(world)
    delivery = start(submission)
    submission.status = "withdrawn"
    db.session.commit()
    assert attempt_delivery(delivery.id) == "cancelled"
    assert delivery_of(submission.id).status == "cancelled"
    assert to_funder(smtp_server) == []


def test_without_a_mail_server_or_address_nothing_is_sent(app, world):
    app.config.update(MAIL_SERVER="")
    submission = make_submission(world)
    delivery = start(submission)
    assert attempt_delivery(delivery.id) == "permanent_failure"
    assert delivery_of(submission.id).error == labels.NO_MAIL_SERVER

    funder = db.session.get(Funder, world.call.funder_id)
    funder.submission_email = None
    db.session.commit()
    other = make_submission(world, title="Utan adress")
    delivery = start(other)
    assert delivery.status == "failed" and delivery.error == labels.NO_ADDRESS
    assert delivery.job_id is None


# --- header injection -----------------------------------------------------------------------------
def test_header_injection_through_title_and_organisation_is_refused(app, world, smtp_server,
                                                                    run_worker):
    kalmar = world.orgs["kalmar"]
    kalmar.name = "Kalmar stadsbibliotek\nCc: evil2@example.org"
    db.session.commit()
    submission = make_submission(world, title="Läslyft\r\nBcc: evil@example.org")
    start(submission)
    run_worker()

    [envelope] = [m for m in smtp_server.messages if "lead@demo.test" not in m.rcpt_tos]
    assert envelope.rcpt_tos == [FUNDER_ADDRESS]
    headers, _sep, body = envelope.content.partition(b"\r\n\r\n")
    assert not re.search(rb"(?mi)^(bcc|cc):", headers)
    assert not re.search(rb"(?mi)^(bcc|cc):", body)  # the body says it on one line too
    message = parse(envelope)
    assert message.get_all("To") == [FUNDER_ADDRESS]
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None
    subject = message["Subject"]
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("Ansökan: Läslyft Bcc: evil@example.org – Kalmar stadsbibliotek "
                              "Cc: evil2@example.org (")
    assert "\n" not in str(message["From"])
    assert len(message.get_all("From")) == 1


def test_header_injection_through_the_subject_format_is_refused(app, world, smtp_server,
                                                                run_worker, login_as):
    funder_id = world.call.funder_id
    coordinator = login_as("coordinator@demo.test")
    base = {"name": "Statens kulturråd", "short_name": "Kulturrådet", "slug": "kulturradet",
            "submission_email": FUNDER_ADDRESS, "pdf_template": "", "delivery_method": "email",
            "portal_url": ""}
    for fmt, message in [
            ("Ansökan {title}\r\nBcc: evil@example.org", "en enda rad"),
            ("Ansökan {title.__class__}", "Okänd platshållare ”{title.__class__}”"),
            ("Ansökan {diarienummer}", "Okänd platshållare ”{diarienummer}”"),
            ("Ansökan {title", "klammerparentes"),
            ("Ansökan {title!r}", "utan format")]:
        response = coordinator.post(f"/admin/funders/{funder_id}",
                                    {**base, "email_subject_format": fmt})
        assert response.status_code == 422, fmt
        assert message in response.get_data(as_text=True), fmt
    db.session.expire_all()
    assert db.session.get(Funder, funder_id).email_subject_format == DEFAULT_SUBJECT_FORMAT

    # A format that bypassed the form (written straight into the database) sends nothing.
    set_subject_format(world, "Ansökan {title}\r\nBcc: evil@example.org")
    submission = make_submission(world)
    delivery = start(submission)
    assert delivery.status == "failed" and delivery.error == labels.BAD_FORMAT
    run_worker()
    assert to_funder(smtp_server) == [] and not any(
        "evil@example.org" in m.rcpt_tos for m in smtp_server.messages)

    # A list of addresses in the call's submission address is refused too.
    set_subject_format(world, DEFAULT_SUBJECT_FORMAT)
    call = db.session.get(Call, world.call.id)
    call.submission_email = "registrator@kulturradet.example, evil@example.org"
    db.session.commit()
    other = make_submission(world, title="Annan")
    delivery = start(other)
    assert delivery.status == "failed" and delivery.error == labels.BAD_ADDRESS
    run_worker()
    assert not any("evil@example.org" in m.rcpt_tos for m in smtp_server.messages)


def test_subject_format_is_parsed_not_evaluated(app):
    assert format_problems(DEFAULT_SUBJECT_FORMAT) == []
    assert format_problems("{{literal}} {number}") == []
    values = {"title": "Rad ett\u2028Bcc: x@example.org\x85", "organisation": "Org\r\n",
              "call": "Utlysning", "reference": "7-1", "number": 1}
    subject = render_subject("{title} / {organisation} / {call} ({reference}, {number}) {{x}}",
                             values)
    assert subject == "Rad ett Bcc: x@example.org / Org / Utlysning (7-1, 1) {x}"
    with pytest.raises(ValueError):
        render_subject("{title.__class__.__init__.__globals__}", values)


# --- the funder's configuration -------------------------------------------------------------------
def test_admin_saves_the_delivery_settings_and_the_calls_address_wins(app, world, login_as,
                                                                      smtp_server, run_worker):
    coordinator = login_as("coordinator@demo.test")
    funder_id = world.call.funder_id
    response = coordinator.post(f"/admin/funders/{funder_id}", {
        "name": "Statens kulturråd", "short_name": "Kulturrådet", "slug": "kulturradet",
        "submission_email": FUNDER_ADDRESS, "pdf_template": "", "delivery_method": "email",
        "email_subject_format": "Bidragsansökan {reference} – {title}", "portal_url": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = coordinator.post(f"/admin/funders/{funder_id}", {
        "name": "Statens kulturråd", "short_name": "Kulturrådet", "slug": "kulturradet",
        "submission_email": FUNDER_ADDRESS, "pdf_template": "", "delivery_method": "portal",
        "email_subject_format": "", "portal_url": "javascript:alert(1)"})
    assert response.status_code == 422
    assert "https://" in response.get_data(as_text=True)
    db.session.expire_all()
    funder = db.session.get(Funder, funder_id)
    assert funder.email_subject_format == "Bidragsansökan {reference} – {title}"
    assert funder.delivery_method == "email"
    assert "delivery_method" in coordinator.get(f"/admin/funders/{funder_id}").get_data(
        as_text=True)

    call = db.session.get(Call, world.call.id)
    form = {"funder_id": funder_id, "title": call.title, "description": "",
            "opens_at": "2026-01-01T08:00", "deadline_at": "2030-03-31T23:59",
            "workflow_name": "joint_application", "form_name": "standard",
            "steering_group_id": world.group.id, "submission_email": "ansokan@kulturradet.example"}
    response = coordinator.post(f"/admin/calls/{call.id}", form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = coordinator.post(f"/admin/calls/{call.id}", {**form,
                                                            "submission_email": "inte en adress"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Call, call.id).submission_email == "ansokan@kulturradet.example"

    submission = make_submission(world)
    delivery = start(submission)
    run_worker()
    [envelope] = to_funder(smtp_server, "ansokan@kulturradet.example")
    reference = submission.snapshot["submission"]["reference"]
    assert parse(envelope)["Subject"] == f"Bidragsansökan {reference} – Läsfrämjande i sydost"
    assert delivery_of(submission.id).recipient == "ansokan@kulturradet.example"
    assert delivery.id


# --- the funder's portal -------------------------------------------------------------------------
@pytest.fixture
def portal_funder(world):
    funder = db.session.get(Funder, world.call.funder_id)
    funder.delivery_method = "portal"
    funder.portal_url = "https://e-tjanst.kulturradet.example/ansok"
    db.session.commit()
    return funder


def test_portal_delivery_is_confirmed_by_the_leads_receipt_and_reference(
        app, world, portal_funder, login_as, run_worker, smtp_server):
    submission = make_submission(world)
    delivery = start(submission)
    assert (delivery.channel, delivery.status, delivery.job_id) == ("portal", "awaiting_receipt",
                                                                   None)
    assert delivery.recipient == "https://e-tjanst.kulturradet.example/ansok"
    assert notifications("delivery_portal") == {"lead@demo.test"}
    run_worker()
    assert to_funder(smtp_server) == []

    lead = login_as("lead@demo.test")
    section = log_section(page(lead, submission.application_id))
    prefix = f"receipt-{delivery.id}"
    assert f'name="{prefix}-funder_reference"' in section
    assert 'href="https://e-tjanst.kulturradet.example/ansok"' in section
    url = f"/applications/{submission.application_id}/delivery/receipt"

    # A receipt that is not a PDF (whatever its name), and no reference: nothing is saved.
    response = lead.post(url, {"delivery_id": delivery.id, f"{prefix}-funder_reference": " ",
                               f"{prefix}-receipt": (io.BytesIO(HTML_DISGUISED_AS_PDF),
                                                     "kvitto.pdf")},
                         content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{prefix}-funder_reference-error"' in html
    assert f'id="{prefix}-receipt-error"' in html
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert delivery_of(submission.id).status == "awaiting_receipt"

    receipt = pdf_bytes("Kvittens: ansökan mottagen, dnr KUR 2027/4711")
    response = lead.post(url, {"delivery_id": delivery.id,
                               f"{prefix}-funder_reference": "KUR 2027/4711",
                               f"{prefix}-receipt": (io.BytesIO(receipt), "Kvittens.pdf")},
                         content_type="multipart/form-data")
    assert response.status_code == 303
    delivery = delivery_of(submission.id)
    assert (delivery.status, delivery.funder_reference) == ("confirmed", "KUR 2027/4711")
    assert delivery.confirmed_by_id == world.users["lead"].id and delivery.confirmed_at
    stored = db.session.get(Attachment, delivery.receipt_attachment_id)
    assert stored.content == receipt and stored.kind == "pdf"
    assert stored.field_id == "delivery_receipt" and stored.application_id == \
        submission.application_id
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "delivery.receipt")).actor_id == world.users["lead"].id

    for who in ("lead@demo.test", "coordinator@demo.test"):
        section = log_section(page(login_as(who), submission.application_id))
        assert 'data-status="confirmed"' in section and "KUR 2027/4711" in section
        assert "receipt-form" not in section
    download = lead.get(f"/applications/{submission.application_id}/attachments/{stored.id}")
    assert download.status_code == 200 and download.data == receipt

    # Recorded once.
    response = lead.post(url, {"delivery_id": delivery.id,
                               f"{prefix}-funder_reference": "KUR 2027/9999",
                               f"{prefix}-receipt": (io.BytesIO(receipt), "Kvittens.pdf")},
                         content_type="multipart/form-data")
    assert delivery_of(submission.id).funder_reference == "KUR 2027/4711"
    assert db.session.scalar(select(func.count(Attachment.id))) == 1


# --- who sees and who may post --------------------------------------------------------------------
def test_partners_and_steering_do_not_see_the_log_and_outsiders_get_404(
        app, world, portal_funder, login_as):
    submission = make_submission(world)
    delivery = start(submission)
    application_id = submission.application_id
    db.session.add(ApplicationPartner(
        application_id=application_id, organisation_id=world.orgs["vaxjo"].id,
        contact_name="Olle", contact_email="other@demo.test",
        contact_user_id=world.users["other_lead"].id, status="active"))
    make_user("outsider@demo.test", "Ulla Utomstående", world.orgs["lnu"])
    db.session.commit()
    # Another application's delivery, to aim at from this one.
    elsewhere = start(make_submission(world, title="Annan ansökan"))

    for who in ("lead@demo.test", "coordinator@demo.test"):
        assert 'id="delivery"' in page(login_as(who), application_id)
    for who in ("other@demo.test", "steering1@demo.test"):  # partner, steering group member
        browser = login_as(who)
        html = page(browser, application_id)
        assert 'id="delivery"' not in html and "receipt-form" not in html
    receipt = pdf_bytes("Kvitto")
    for who in ("other@demo.test", "steering1@demo.test", "outsider@demo.test"):
        browser = login_as(who)
        for route in ("receipt", "resolve"):
            response = browser.post(f"/applications/{application_id}/delivery/{route}", {
                "delivery_id": delivery.id, f"receipt-{delivery.id}-funder_reference": "X",
                f"receipt-{delivery.id}-receipt": (io.BytesIO(receipt), "kvitto.pdf"),
                f"resolve-{delivery.id}-decision": "sent",
                f"resolve-{delivery.id}-note": "Intrång"}, content_type="multipart/form-data")
            assert response.status_code == 404, (who, route)
    lead = login_as("lead@demo.test")
    for delivery_id in (elsewhere.id, 99999, "x"):
        response = lead.post(f"/applications/{application_id}/delivery/receipt",
                             {"delivery_id": delivery_id})
        assert response.status_code == 404, delivery_id
    assert delivery_of(submission.id).status == "awaiting_receipt"
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_delivery_posts_need_a_csrf_token(app, world, portal_funder, login_as):
    submission = make_submission(world)
    delivery = start(submission)
    prefix = f"receipt-{delivery.id}"
    lead = login_as("lead@demo.test")
    response = lead.post(f"/applications/{submission.application_id}/delivery/receipt", {
        "delivery_id": delivery.id, f"{prefix}-funder_reference": "KUR 1",
        f"{prefix}-receipt": (io.BytesIO(pdf_bytes("Kvitto")), "kvitto.pdf")}, csrf=False,
        content_type="multipart/form-data")
    assert response.status_code == 303  # the CSRF handler sends them back with a message
    assert delivery_of(submission.id).status == "awaiting_receipt"
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    # An email delivery left uncertain: settling it needs the token too.
    emailed = make_submission(world, title="Skickad med e-post")
    uncertain = Delivery(submission_id=emailed.id, application_id=emailed.application_id,
                         channel="email", status="uncertain", attempts=1,
                         recipient="registrator@kulturradet.example")
    db.session.add(uncertain)
    db.session.commit()
    coordinator = login_as("coordinator@demo.test")
    url = f"/applications/{emailed.application_id}/delivery/resolve"
    data = {"delivery_id": uncertain.id, f"resolve-{uncertain.id}-decision": "sent",
            f"resolve-{uncertain.id}-note": "Registrator bekräftade per telefon."}
    response = coordinator.post(url, data, csrf=False)
    assert response.status_code == 303
    assert (delivery_of(emailed.id).status, delivery_of(emailed.id).resolution) == \
        ("uncertain", "")
    assert coordinator.post(url, data).status_code == 303   # the same post with its token
    assert (delivery_of(emailed.id).status, delivery_of(emailed.id).resolution) == \
        ("sent", "sent")


# --- the sweeper ----------------------------------------------------------------------------------
def test_sweeper_pushes_a_retry_whose_rq_job_was_lost(app, world, smtp_with, run_worker):
    from rq.job import Job as RQJob
    inbox = smtp_with(Greylisting())
    submission = make_submission(world)
    delivery = start(submission)
    run_worker()
    delivery = delivery_of(submission.id)
    assert delivery.status == "retry"
    rq_id = delivery_rq_id(app, delivery.id, 1)
    # Redis lost the scheduled retry.
    RQJob.fetch(rq_id, connection=redis_connection(app)).delete()
    assert rq_id not in scheduled_in_rq(app)

    # Not due yet: scheduled again for its time.
    assert sweep(app, older_than=timedelta(0)) == [delivery.job_id]
    assert abs(scheduled_in_rq(app)[rq_id] - delivery.next_attempt_at) < timedelta(seconds=1)
    RQJob.fetch(rq_id, connection=redis_connection(app)).delete()
    # Due: pushed onto the queue at once; any worker (no scheduler needed) sends it.
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert sweep(app, older_than=timedelta(0)) == [delivery.job_id]
    run_worker()
    assert len(to_funder(inbox)) == 1
    assert delivery_of(submission.id).status == "sent"
    assert sweep(app, older_than=timedelta(0)) == []


def test_sweeper_takes_a_delivery_stuck_in_sending_for_uncertain(app, world, smtp_server):
    submission = make_submission(world)
    delivery = start(submission)
    # A worker claimed it and died mid-conversation an hour ago.
    delivery.status, delivery.attempts = "sending", 1
    delivery.last_attempt_at = utcnow() - timedelta(hours=1)
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, number=1,
                                   started_at=delivery.last_attempt_at))
    db.session.commit()
    sweep(app, older_than=timedelta(0))
    delivery = delivery_of(submission.id)
    assert delivery.status == "uncertain" and delivery.error == labels.WORKER_STOPPED
    assert [a.outcome for a in attempts_of(delivery.id)] == ["uncertain"]
    assert notifications("delivery_uncertain") == {"lead@demo.test", "coordinator@demo.test"}
    assert attempt_delivery(delivery.id) == "skipped"
    assert to_funder(smtp_server) == []


def test_application_state_is_not_touched_by_delivery(app, world, smtp_server, run_worker):
    submission = make_submission(world)
    start(submission)
    run_worker()
    assert db.session.get(Application, submission.application_id).state == "submitted"
