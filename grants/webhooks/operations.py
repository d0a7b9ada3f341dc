"""What changes webhooks: endpoints (add, edit, deactivate, delete, rotate the secret), the
deliveries an event makes, "send again" and a test event. Each operation commits once, except
`record_event`, which runs inside the sender's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.audit import audit
from grants.db import db, utcnow
from grants.errors import OperationRefused
from grants.jobs.models import Job
from grants.jobs.runner import enqueue_job
from grants.webhooks import payloads, secret_store
from grants.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

JOB_KIND = "deliver_webhook"
DEFAULT_ATTEMPTS = 6


def attempts_per_round() -> int:
    """Attempts of a round before a delivery fails (WEBHOOK_MAX_ATTEMPTS, default 6)."""
    return int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS") or DEFAULT_ATTEMPTS)


def _audit(endpoint: WebhookEndpoint, action: str, actor: User | None,
           before: dict | None = None) -> None:
    audit(actor_id=actor.id if actor else None, action=action, object_type="webhook_endpoint",
          object_id=endpoint.id, before=before, after=_state(endpoint))


def _state(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "description": endpoint.description,
            "events": list(endpoint.events or []), "active": endpoint.active}


def _check_events(chosen: list[str]) -> list[str]:
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise OperationRefused(_("Unknown event: %(events)s", events=", ".join(unknown)))
    return [e for e in EVENT_TYPES if e in chosen]


def create_endpoint(*, url: str, description: str, events: list[str], active: bool,
                    actor: User) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret (shown to the coordinator this once)."""
    secret = secret_store.new_secret()
    endpoint = WebhookEndpoint(url=url.strip(), description=description.strip(),
                               events=_check_events(events), active=active,
                               secret_encrypted=secret_store.encrypt(secret),
                               created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    _audit(endpoint, "webhook.created", actor)
    db.session.commit()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, description: str,
                    events: list[str], active: bool, actor: User) -> None:
    before = _state(endpoint)
    endpoint.url, endpoint.description = url.strip(), description.strip()
    endpoint.events, endpoint.active = _check_events(events), active
    _audit(endpoint, "webhook.changed", actor, before)
    db.session.commit()


def set_active(endpoint: WebhookEndpoint, active: bool, *, actor: User) -> None:
    before = _state(endpoint)
    endpoint.active = active
    _audit(endpoint, "webhook.activated" if active else "webhook.deactivated", actor, before)
    db.session.commit()


def delete_endpoint(endpoint: WebhookEndpoint, *, actor: User) -> None:
    """Deletes the endpoint with its deliveries and attempts (the audit log keeps the fact)."""
    _audit(endpoint, "webhook.deleted", actor, _state(endpoint))
    for delivery in db.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id)):
        db.session.delete(delivery)
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint, *, actor: User) -> str:
    """A new secret, returned to be shown once; the old one stops signing at once."""
    secret = secret_store.new_secret()
    endpoint.secret_encrypted = secret_store.encrypt(secret)
    endpoint.secret_rotated_at = utcnow()
    _audit(endpoint, "webhook.secret_rotated", actor)
    db.session.commit()
    return secret


# --- deliveries -------------------------------------------------------------------------------
def _new_delivery(endpoint: WebhookEndpoint, event_type: str, event_id: str,
                  application_id: int | None, data: dict[str, Any],
                  requested_by: User | None = None) -> WebhookDelivery:
    body = payloads.event_body(event_type, event_id, data)
    delivery = WebhookDelivery(uid=str(uuid.uuid4()), endpoint_id=endpoint.id,
                               event_id=event_id, event_type=event_type,
                               application_id=application_id, payload=body,
                               body=payloads.encode(body), status="pending",
                               attempt_limit=attempts_per_round())
    db.session.add(delivery)
    db.session.flush()
    job = Job(kind=JOB_KIND, application_id=application_id,
              requested_by_id=requested_by.id if requested_by else None,
              payload={"webhook_delivery_id": delivery.id})
    db.session.add(job)
    db.session.flush()
    delivery.job_id = job.id
    enqueue_job(job)  # after the sender's commit
    return delivery


def record_event(event_type: str, application_id: int | None,
                 data: dict[str, Any]) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to `event_type`, in the caller's
    transaction (no commit)."""
    event_id = payloads.new_event_id()
    endpoints = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)).all()
    return [_new_delivery(endpoint, event_type, event_id, application_id, data)
            for endpoint in endpoints if event_type in (endpoint.events or [])]


def send_test_event(endpoint: WebhookEndpoint, *, actor: User) -> WebhookDelivery:
    delivery = _new_delivery(endpoint, "webhook.test", payloads.new_event_id(), None,
                             {"endpoint_id": endpoint.id, "test": True}, requested_by=actor)
    _audit(endpoint, "webhook.test_sent", actor)
    db.session.commit()
    return delivery


def send_again(delivery: WebhookDelivery, *, actor: User) -> None:
    """A failed delivery gets a new round of attempts (same id, same body)."""
    if delivery.status != "failed":
        raise OperationRefused(_("Only a failed delivery can be sent again."))
    delivery.status, delivery.error, delivery.next_attempt_at = "pending", "", None
    delivery.attempt_limit = delivery.attempts + attempts_per_round()
    job = db.session.get(Job, delivery.job_id) if delivery.job_id else None
    if job is None or job.is_finished:
        job = Job(kind=JOB_KIND, application_id=delivery.application_id,
                  requested_by_id=actor.id, payload={"webhook_delivery_id": delivery.id})
        db.session.add(job)
        db.session.flush()
        delivery.job_id = job.id
    enqueue_job(job)
    _audit(delivery.endpoint, "webhook.sent_again", actor)
    db.session.commit()
