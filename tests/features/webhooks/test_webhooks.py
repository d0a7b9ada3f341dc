"""Webhooks for registry systems, end to end with a real HTTP receiver on localhost and a real
RQ worker: an event makes one delivery per active endpoint subscribed to it, written in the
sender's transaction and sent after its commit, signed as docs/integration.md says; a 2xx
answer acknowledges it once and for all; other answers are tried again with backoff; every
attempt is kept; production refuses a receiver on a private address."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from grants.applications.context import TransitionContext
from grants.applications.models import Application
from grants.applications.queries import current_partners, load_answers
from grants.db import db, utcnow
from grants.jobs.queue import all_queues, redis_connection
from grants.jobs.sweeper import sweep
from grants.processes import form_for, workflow_for
from grants.submissions.operations import freeze_submission
from grants.webhooks import operations
from grants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from grants.webhooks.sending import attempt_webhook, run_again
from tests.factories import FULL_ANSWERS
from tests.features.reporting.test_portfolio_money import granted_project


# --- helpers ----------------------------------------------------------------------------------
def add_endpoint(world, url: str, events: list[str], *, active: bool = True):
    endpoint, secret = operations.create_endpoint(url=url, description="Diariet", events=events,
                                                  active=active,
                                                  actor=world.user("coordinator"))
    return endpoint.id, secret


def submit(world, application: Application | None = None) -> Application:
    """The submit transition's effect, committed as the transition commits it."""
    application = application or world.new_application(state="submitted",
                                                       answers=FULL_ANSWERS)
    application = db.session.get(Application, application.id)
    ctx = TransitionContext(application=application, actor=world.user("lead"),
                            workflow=workflow_for(application), form=form_for(application),
                            answers=load_answers(application.id),
                            partners=current_partners(application.id))
    freeze_submission(ctx)
    db.session.commit()
    return application


def run_scheduler_worker(app) -> None:
    """A real RQ burst worker with its scheduler: due retries are moved onto their queue."""
    SimpleWorker(all_queues(app), connection=redis_connection(app)).work(
        burst=True, with_scheduler=True)
    db.session.expire_all()


def deliveries(endpoint_id: int | None = None) -> list[WebhookDelivery]:
    db.session.expire_all()
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(db.session.scalars(query))


def verify(request, secret: str) -> dict:
    """What the documented receiver does (docs/integration.md)."""
    timestamp = request.headers["Grants-Webhook-Timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request.body,
                                hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request.headers["Grants-Webhook-Signature"])
    return json.loads(request.body)


@pytest.fixture
def coordinator(world):
    return world.user("coordinator")


# --- tests ------------------------------------------------------------------------------------
def test_a_submission_is_posted_signed_once_to_each_subscribed_endpoint(
        app, world, receiver, run_worker, coordinator):
    a_id, a_secret = add_endpoint(world, receiver.at("/a"), ["application.submitted"])
    b_id, b_secret = add_endpoint(world, receiver.at("/b"),
                                  ["application.submitted", "decision.recorded"])
    decisions_only, _s = add_endpoint(world, receiver.at("/decisions"), ["decision.recorded"])
    inactive, _s = add_endpoint(world, receiver.at("/inactive"), ["application.submitted"],
                                active=False)

    application = submit(world)
    assert receiver.requests == []  # written with the submission, sent by the worker
    rows = deliveries()
    assert sorted(r.endpoint_id for r in rows) == [a_id, b_id]
    assert rows[0].event_id == rows[1].event_id and rows[0].uid != rows[1].uid

    run_worker()
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b"]
    assert receiver.to("/decisions") == [] and receiver.to("/inactive") == []
    for path, secret, endpoint_id in (("/a", a_secret, a_id), ("/b", b_secret, b_id)):
        (request,) = receiver.to(path)
        assert request.headers["Content-Type"] == "application/json"
        (row,) = deliveries(endpoint_id)
        assert request.headers["Grants-Webhook-Id"] == row.uid
        body = verify(request, secret)
        assert body["type"] == "application.submitted"
        assert body["id"] == row.event_id
        assert body["data"]["application"]["id"] == application.id
        assert body["data"]["application"]["title"] == application.title
        assert body["data"]["application"]["reference"]
        assert body["data"]["application"]["links"]["page"] == (
            f"https://bidrag.test/applications/{application.id}")
        assert "email" not in request.body.decode() and secret not in request.body.decode()
        assert row.status == "delivered" and row.attempts == 1
        assert [(a.number, a.http_status, a.outcome) for a in row.attempt_log] == [
            (1, 200, "delivered")]
    # The other endpoint's secret does not verify.
    with pytest.raises(AssertionError):
        verify(receiver.to("/a")[0], b_secret)

    # Acknowledged: running the job again (or the attempt itself) sends nothing.
    row = deliveries(a_id)[0]
    assert run_again(row.job_id) == "done"
    assert attempt_webhook(row.id) == "skipped"
    run_worker()
    assert len(receiver.requests) == 2
    assert len(deliveries(a_id)[0].attempt_log) == 1


def test_an_error_answer_is_tried_again_and_delivered_once(app, world, receiver, run_worker):
    app.config["WEBHOOK_RETRY_DELAYS"] = (0,)
    endpoint_id, secret = add_endpoint(world, receiver.at("/hook"), ["application.submitted"])
    receiver.statuses = [500]
    submit(world)
    run_worker()
    (row,) = deliveries()
    assert row.status == "retry" and row.attempts == 1 and row.next_attempt_at is not None
    assert row.attempt_log[0].http_status == 500
    assert row.attempt_log[0].next_retry_at == row.next_attempt_at

    run_scheduler_worker(app)  # moves the due retry onto its queue
    run_scheduler_worker(app)
    (row,) = deliveries()
    assert row.status == "delivered"
    assert [(a.http_status, a.outcome) for a in row.attempt_log] == [
        (500, "retry"), (200, "delivered")]
    first, second = receiver.requests
    assert first.headers["Grants-Webhook-Id"] == second.headers["Grants-Webhook-Id"] == row.uid
    assert first.body == second.body
    verify(second, secret)
    run_scheduler_worker(app)
    assert len(receiver.requests) == 2


def test_a_decision_and_a_report_reach_the_endpoints_subscribed_to_them(
        app, world, receiver, run_worker, login_as):
    add_endpoint(world, receiver.at("/registry"), ["decision.recorded", "report.submitted"])
    add_endpoint(world, receiver.at("/submissions"), ["application.submitted"])
    application, documents = granted_project(world, login_as("lead@demo.test"),
                                             title="Läslyftet", granted=300_000)
    run_worker()
    (request,) = receiver.requests
    assert request.path == "/registry"
    body = json.loads(request.body)
    assert body["type"] == "decision.recorded"
    assert body["data"]["application"]["id"] == application.id
    assert body["data"]["decision"]["outcome"] == "granted"
    assert body["data"]["decision"]["granted_amount"] == 300_000
    assert body["data"]["decision"]["funder_reference"] == "2026-00042"

    report = documents[("progress_report", 1)]
    submit(world, report)
    run_worker()
    assert [r.path for r in receiver.requests] == ["/registry", "/registry"]
    body = json.loads(receiver.requests[1].body)
    assert body["type"] == "report.submitted"
    assert body["data"]["application"]["id"] == report.id
    assert body["data"]["application"]["kind"] == "progress_report"
    assert body["data"]["application"]["parent_id"] == application.id


def test_production_refuses_a_receiver_on_localhost(app, world, receiver, run_worker):
    app.config["ENV_NAME"] = "production"
    endpoint_id, _secret = add_endpoint(world, f"https://localhost:{receiver.port}/hook",
                                        ["application.submitted"])
    operations.send_test_event(db.session.get(WebhookEndpoint, endpoint_id),
                               actor=world.user("coordinator"))
    run_worker()
    assert receiver.requests == []
    (row,) = deliveries()
    assert row.status == "retry"
    (attempt,) = row.attempt_log
    assert attempt.http_status is None
    assert "localhost resolves to 127.0.0.1" in attempt.error
    assert "non-public" in row.error


def test_an_unreachable_receiver_is_an_attempt_with_its_error(app, world, receiver,
                                                              run_worker):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    port = receiver.port
    endpoint_id, _secret = add_endpoint(world, f"http://127.0.0.1:{port}/hook",
                                        ["application.submitted"])
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    endpoint.url = "http://127.0.0.1:1/closed"
    db.session.commit()
    operations.send_test_event(endpoint, actor=world.user("coordinator"))
    run_worker()
    (row,) = deliveries()
    assert row.status == "failed"
    assert "ConnectionRefusedError" in row.attempt_log[0].error
    assert db.session.scalar(select(WebhookAttempt.outcome)) == "failed"


def test_the_sweeper_sends_what_redis_lost_and_a_stuck_delivery_again(app, world, receiver,
                                                                      run_worker):
    """A retry whose scheduled RQ job is gone (Redis flushed) is pushed again once due; a
    delivery left "sending" by a dead worker goes back to retry, under the same id."""
    endpoint_id, _secret = add_endpoint(world, receiver.at("/hook"), ["application.submitted"])
    receiver.statuses = [500]
    submit(world)
    run_worker()
    (row,) = deliveries()
    assert row.status == "retry"
    redis_connection(app).delete(*redis_connection(app).keys(
        f"*{app.config['RQ_QUEUE_PREFIX']}-webhook-*"))
    row.next_attempt_at = row.next_attempt_at - timedelta(hours=1)  # due now
    db.session.commit()
    assert row.job_id in sweep(app, older_than=timedelta(0))
    run_worker()
    (row,) = deliveries()
    assert row.status == "delivered" and row.attempts == 2

    # A worker died while sending: nothing answers for the attempt.
    operations.send_test_event(db.session.get(WebhookEndpoint, endpoint_id),
                               actor=world.user("coordinator"))
    test_row = deliveries()[-1]
    test_row.status, test_row.attempts = "sending", 1
    test_row.last_attempt_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert attempt_webhook(test_row.id) == "skipped"  # being sent: not claimed twice
    sweep(app, older_than=timedelta(0))
    run_worker()
    test_row = deliveries()[-1]
    assert test_row.status == "delivered" and test_row.attempts == 2
    assert receiver.requests[-1].headers["Grants-Webhook-Id"] == test_row.uid
