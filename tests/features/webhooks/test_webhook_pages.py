"""The coordinator's pages of webhooks: add with errors beside the fields and a summary on
top, the secret shown once (on creation and rotation) and stored encrypted, the deliveries
with every attempt (the receiver's answer escaped), "send again" and a test event."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from sqlalchemy import select

from grants.audit import AuditEvent
from grants.db import db
from grants.webhooks import operations, secret_store
from grants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.system.test_sql_counts import assert_flat


def shown_secret(html: str) -> str:
    match = re.search(r'id="webhook-secret">(whsec_[A-Za-z0-9_-]+)<', html)
    assert match, html[:3000]
    return match.group(1)


def test_adding_an_endpoint_checks_the_form_and_shows_the_secret_once(app, world, login_as):
    coordinator = login_as("coordinator@demo.test")
    page = coordinator.get("/admin/webhooks/new")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)

    refused = coordinator.post("/admin/webhooks/new", {"url": "ftp://diariet.example",
                                                       "description": "Diariet"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert 'href="#url"' in html and 'href="#events"' in html
    assert 'id="url-error"' in html and 'aria-invalid="true"' in html
    assert db.session.scalar(select(WebhookEndpoint.id)) is None

    app.config["ENV_NAME"] = "production"
    refused = coordinator.post("/admin/webhooks/new", {"url": "http://diariet.example/hook",
                                                       "events": ["decision.recorded"]})
    assert refused.status_code == 422
    assert "https://" in refused.get_data(as_text=True)
    app.config["ENV_NAME"] = "testing"

    created = coordinator.post("/admin/webhooks/new", {
        "url": "http://127.0.0.1:9/hook", "description": "Diariet <b>W3D3</b>",
        "events": ["application.submitted", "report.submitted"], "active": "y"})
    assert created.status_code == 200
    secret = shown_secret(created.get_data(as_text=True))
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.events == ["application.submitted", "report.submitted"] and endpoint.active
    assert secret not in endpoint.secret_encrypted
    assert secret_store.decrypt(endpoint.secret_encrypted) == secret
    audited = json.dumps([e.after for e in db.session.scalars(select(AuditEvent))])
    assert secret not in audited and "webhook.created" in {
        e.action for e in db.session.scalars(select(AuditEvent))}

    # Never shown again.
    for url in ("/admin/webhooks/", f"/admin/webhooks/{endpoint.id}",
                f"/admin/webhooks/{endpoint.id}/edit"):
        page = coordinator.get(url)
        assert page.status_code == 200 and secret not in page.get_data(as_text=True)
    assert "Diariet &lt;b&gt;W3D3&lt;/b&gt;" in coordinator.get(
        f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)

    rotated = coordinator.post(f"/admin/webhooks/{endpoint.id}/rotate")
    assert rotated.status_code == 200
    new_secret = shown_secret(rotated.get_data(as_text=True))
    assert new_secret != secret
    db.session.expire_all()
    assert secret_store.decrypt(db.session.get(WebhookEndpoint, endpoint.id)
                                .secret_encrypted) == new_secret

    edited = coordinator.post(f"/admin/webhooks/{endpoint.id}/edit", {
        "url": "http://127.0.0.1:9/other", "description": "", "events": ["decision.recorded"]})
    assert edited.status_code == 303
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "http://127.0.0.1:9/other", ["decision.recorded"], False)

    assert coordinator.post(f"/admin/webhooks/{endpoint.id}/active").status_code == 303
    assert db.session.get(WebhookEndpoint, endpoint.id).active
    endpoint_id = endpoint.id
    assert coordinator.post(f"/admin/webhooks/{endpoint_id}/delete").status_code == 303
    assert db.session.get(WebhookEndpoint, endpoint_id) is None


def test_the_endpoint_page_lists_every_attempt_and_sends_a_failed_delivery_again(
        app, world, login_as, receiver, run_worker):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    coordinator = login_as("coordinator@demo.test")
    created = coordinator.post("/admin/webhooks/new", {
        "url": receiver.at("/hook"), "events": ["application.submitted"], "active": "y"})
    secret = shown_secret(created.get_data(as_text=True))
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()

    receiver.statuses, receiver.answer = [503], b"<b>busy</b> <script>x()</script>"
    assert coordinator.post(f"/admin/webhooks/{endpoint.id}/test").status_code == 303
    run_worker()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert delivery.status == "failed"
    html = coordinator.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "503" in html and "HTTP 503" in html
    assert "&lt;b&gt;busy&lt;/b&gt; &lt;script&gt;" in html and "<script>x()" not in html
    assert f"/admin/webhooks/deliveries/{delivery.id}/resend" in html

    receiver.answer = b"thanks"
    assert coordinator.post(f"/admin/webhooks/deliveries/{delivery.id}/resend"
                            ).status_code == 303
    run_worker()
    db.session.expire_all()
    delivery = db.session.get(WebhookDelivery, delivery.id)
    assert delivery.status == "delivered"
    assert [a.http_status for a in delivery.attempt_log] == [503, 200]
    first, second = receiver.requests
    assert first.headers["Grants-Webhook-Id"] == second.headers["Grants-Webhook-Id"]
    assert json.loads(second.body)["type"] == "webhook.test"
    timestamp = second.headers["Grants-Webhook-Timestamp"]
    assert second.headers["Grants-Webhook-Signature"] == "v1=" + hmac.new(
        secret.encode(), f"{timestamp}.".encode() + second.body, hashlib.sha256).hexdigest()
    html = coordinator.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "thanks" in html and f"/deliveries/{delivery.id}/resend" not in html

    # Only a failed delivery is sent again.
    coordinator.post(f"/admin/webhooks/deliveries/{delivery.id}/resend")
    run_worker()
    assert len(receiver.requests) == 2


def test_the_endpoint_pages_run_as_many_statements_for_one_delivery_as_for_many(
        app, world, login_as):
    endpoint, _secret = operations.create_endpoint(
        url="http://127.0.0.1:9/hook", description="", events=["application.submitted"],
        active=True, actor=world.user("coordinator"))
    endpoint_id = endpoint.id

    def deliver(n: int) -> None:
        for _ in range(n):
            delivery = operations.record_event("application.submitted", None, {"n": n})[0]
            for number in (1, 2):
                db.session.add(WebhookAttempt(delivery_id=delivery.id, number=number,
                                              outcome="retry", http_status=500))
            operations.create_endpoint(url="http://127.0.0.1:9/more", description="",
                                       events=["decision.recorded"], active=True,
                                       actor=world.user("coordinator"))

    deliver(1)
    db.session.commit()
    coordinator = login_as("coordinator@demo.test")
    assert_flat(coordinator, f"/admin/webhooks/{endpoint_id}", deliver)
    assert_flat(coordinator, "/admin/webhooks/", deliver)
