"""The `deliver_webhook` job: one signed POST of a delivery to its endpoint.

Modelled on grants/delivery/sending.py. The job first claims the delivery row with a
conditional UPDATE (pending or a due retry → sending, attempts + 1) and commits before it
connects, so a second run of the job finds nothing to claim. A 2xx answer acknowledges the
event: the delivery is delivered and never sent again. Anything else (another status, a
timeout, a refused address) is tried again with backoff (1 min, 5 min, 30 min, 2 h, 12 h;
`WEBHOOK_RETRY_DELAYS` in seconds), six attempts in all, then failed; "send again" starts a new
round. The attempt and the delivery's new status are recorded in one commit.

Signature: `Grants-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
with `Grants-Webhook-Timestamp` (unix seconds) and `Grants-Webhook-Id` (the delivery's stable
id, the same on every attempt)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update

from grants import outbound
from grants.db import db, utcnow
from grants.jobs.models import Job, JobStatus
from grants.jobs.queue import (
    ALIVE,
    push_now,
    rq_job_status,
    schedule_after_commit,
    schedule_at,
)
from grants.jobs.runner import app_context, handler, run_job
from grants.jobs.sweeper import register_sweeper
from grants.webhooks import secret_store
from grants.webhooks.models import WebhookAttempt, WebhookDelivery
from grants.webhooks.operations import JOB_KIND, attempts_per_round

logger = logging.getLogger(__name__)

RETRY_FUNCTION = "grants.webhooks.sending.run_again"
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200, 43200)
DUE_TOLERANCE = timedelta(seconds=5)
USER_AGENT = "Grants-Webhooks/1"


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("WEBHOOK_RETRY_DELAYS") or DEFAULT_RETRY_DELAYS)


def retry_delay(attempt_in_round: int) -> timedelta:
    delays = retry_delays()
    return timedelta(seconds=delays[min(max(attempt_in_round, 1), len(delays)) - 1])


def timeout() -> float:
    return float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS") or 10)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def webhook_rq_id(app: Flask, delivery_id: int, attempts: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}-webhook-{delivery_id}-{attempts}"


@handler(JOB_KIND)
def deliver_webhook_job(job: Job) -> None:
    attempt_webhook(job.payload["webhook_delivery_id"])


def run_again(job_id: int) -> str:
    """What RQ's scheduler (and the sweeper) runs for a retry: the same job row again."""
    with app_context():
        db.session.execute(
            update(Job).where(Job.id == job_id, Job.kind == JOB_KIND,
                              Job.status.in_([JobStatus.done, JobStatus.failed]))
            .values(status=JobStatus.queued, attempts=0, error=None, finished_at=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        return run_job(job_id)


def attempt_webhook(delivery_id: int) -> str:
    """Claim, send, record. "skipped" when there is nothing to claim (delivered, being sent,
    failed, not due yet)."""
    now = utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.status.in_(["pending", "retry"]),
               WebhookDelivery.attempts < WebhookDelivery.attempt_limit,
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now + DUE_TOLERANCE))
        .values(status="sending", attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        logger.info("webhook delivery %s: nothing to claim", delivery_id)
        return "skipped"
    delivery = db.session.get(WebhookDelivery, delivery_id)
    db.session.refresh(delivery)
    number = (db.session.scalar(select(func.max(WebhookAttempt.number)).where(
        WebhookAttempt.delivery_id == delivery_id)) or 0) + 1
    attempt = WebhookAttempt(delivery_id=delivery_id, number=number, started_at=now)
    db.session.add(attempt)
    endpoint = delivery.endpoint
    url, body, uid = endpoint.url, delivery.body.encode(), delivery.uid
    secret = secret_store.decrypt(endpoint.secret_encrypted)
    claimed_attempts = delivery.attempts
    db.session.commit()  # claimed before a byte leaves; no transaction open while sending

    status, excerpt, error, permanent = None, "", "", False
    if not endpoint.active:
        error, permanent = "The endpoint is inactive.", True
    else:
        timestamp = int(utcnow().timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "Grants-Webhook-Id": uid, "Grants-Webhook-Timestamp": str(timestamp),
                   "Grants-Webhook-Signature": sign(secret, timestamp, body)}
        try:
            answer = outbound.post(current_app._get_current_object(), url, body, headers,
                                   timeout=timeout())
            status, excerpt = answer.status, answer.excerpt
        except outbound.OutboundRefused as refused:
            error = str(refused)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    db.session.refresh(delivery)
    if delivery.status != "sending" or delivery.attempts != claimed_attempts:
        _finish(attempt, "superseded", status, excerpt, error)
        db.session.commit()
        return "superseded"
    outcome = record_outcome(delivery, attempt, status, excerpt, error, permanent=permanent)
    db.session.commit()
    logger.info("webhook delivery %s attempt %s: %s %s %s", delivery_id, number, outcome,
                status or "", error)
    return outcome


def _finish(attempt: WebhookAttempt, outcome: str, status, excerpt: str, error: str) -> None:
    attempt.finished_at = utcnow()
    attempt.outcome, attempt.http_status = outcome, status
    attempt.response_excerpt, attempt.error = (excerpt or "")[:2000], (error or "")[:2000]


def record_outcome(delivery: WebhookDelivery, attempt: WebhookAttempt, status, excerpt: str,
                   error: str, *, permanent: bool = False) -> str:
    """The attempt's result and the delivery's new status, in the caller's transaction."""
    if status is not None and 200 <= status < 300:
        _finish(attempt, "delivered", status, excerpt, error)
        delivery.status, delivery.delivered_at, delivery.error = "delivered", utcnow(), ""
        return "delivered"
    problem = error or f"HTTP {status}"  # the attempt's row shows the status itself
    in_round = delivery.attempts - (delivery.attempt_limit - attempts_per_round())
    if delivery.attempts < delivery.attempt_limit and not permanent:
        _finish(attempt, "retry", status, excerpt, error)
        delivery.status, delivery.error = "retry", problem[:2000]
        delivery.next_attempt_at = attempt.finished_at + retry_delay(in_round)
        attempt.next_retry_at = delivery.next_attempt_at
        schedule_after_commit(db.session(), delivery.next_attempt_at, RETRY_FUNCTION,
                              delivery.job_id,
                              rq_id=webhook_rq_id(current_app, delivery.id, delivery.attempts))
        return "retry"
    _finish(attempt, "failed", status, excerpt, error)
    delivery.status, delivery.error = "failed", problem[:2000]
    return "failed"


# --- the sweeper's part -----------------------------------------------------------------------
@register_sweeper("webhooks", counts_jobs=True)
def sweep_webhooks(app: Flask, older_than: timedelta | None = None) -> list[int]:
    """Push again every retry whose scheduled RQ job is gone, and put a delivery stuck in
    "sending" (its worker died) back to retry: receivers de-duplicate by Grants-Webhook-Id."""
    now = utcnow()
    limit = timedelta(seconds=app.config["JOB_TIMEOUT_SECONDS"]) + 2 * timedelta(
        seconds=timeout())
    db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.status == "sending",
                                      WebhookDelivery.last_attempt_at < now - limit)
        .values(status="retry", next_attempt_at=now, error="The worker stopped while sending.")
        .execution_options(synchronize_session=False))
    db.session.commit()
    pushed: list[int] = []
    for row in db.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.status == "retry", WebhookDelivery.job_id.is_not(None))
            .order_by(WebhookDelivery.id)):
        rq_id = webhook_rq_id(app, row.id, row.attempts)
        if rq_job_status(rq_id, app) in ALIVE:
            continue
        when = row.next_attempt_at or now
        if when <= now + DUE_TOLERANCE:
            ok = push_now(RETRY_FUNCTION, row.job_id, rq_id=rq_id, app=app)
        else:
            ok = schedule_at(when, RETRY_FUNCTION, row.job_id, rq_id=rq_id, app=app)
        if ok:
            pushed.append(row.job_id)
    return pushed

