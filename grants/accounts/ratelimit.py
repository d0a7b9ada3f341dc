"""Login attempts are limited per account and per address, counted in Redis so the limit holds
across every web worker and machine (the `limits` library, the core of Flask-Limiter)."""

from __future__ import annotations

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from grants.jobs.queue import redis_url

PER_ACCOUNT = parse("10 per 15 minutes")
PER_ADDRESS = parse("50 per 15 minutes")


def _limiter(app: Flask) -> MovingWindowRateLimiter:
    state = app.extensions.setdefault("grants.ratelimit", {})
    if "limiter" not in state:
        url = redis_url(app)
        if url.startswith("unix://"):
            url = "redis+unix://" + url[len("unix://"):]
        state["limiter"] = MovingWindowRateLimiter(storage_from_string(url))
    return state["limiter"]


def login_allowed(email: str, address: str) -> bool:
    """Count this attempt; False when the account or the address has tried too often.
    The answer is the same whether or not the account exists (no enumeration)."""
    app = current_app._get_current_object()
    limiter = _limiter(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    account_ok = limiter.hit(PER_ACCOUNT, prefix, "login-account", email.strip().lower())
    address_ok = limiter.hit(PER_ADDRESS, prefix, "login-address", address or "-")
    return account_ok and address_ok
