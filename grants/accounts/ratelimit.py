"""Login attempts (and password-reset requests, and checks of the current password when it is
changed) are limited per account and per address, counted in Redis so the limit holds across
every web worker and machine.

We use the `limits` library directly – the library Flask-Limiter is built on – rather than
Flask-Limiter's decorators: the per-account key is the email typed into the form, which a
decorator keyed on the request cannot see before the form is read, and an over-limit attempt
must get the same page as a wrong password (no enumeration), not a generic 429 handler. The
counting (moving window in Redis) is the same."""

from __future__ import annotations

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from grants.jobs.queue import redis_url

PER_ACCOUNT = parse("10 per 15 minutes")
PER_ADDRESS = parse("50 per 15 minutes")
RESETS_PER_ACCOUNT = parse("5 per hour")
RESETS_PER_ADDRESS = parse("20 per hour")


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


def reset_allowed(email: str, address: str) -> bool:
    """Count a password-reset request; False when this account or address asked too often
    (the caller answers the same either way, and sends nothing)."""
    app = current_app._get_current_object()
    limiter = _limiter(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    account_ok = limiter.hit(RESETS_PER_ACCOUNT, prefix, "reset-account", email.strip().lower())
    address_ok = limiter.hit(RESETS_PER_ADDRESS, prefix, "reset-address", address or "-")
    return account_ok and address_ok
