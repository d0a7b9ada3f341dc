"""Failed logins (and failed checks of the current password when it is changed, and
password-reset requests) are limited per account and per address, counted in Redis so the
limit holds across every web worker and machine.

We use the `limits` library directly – the library Flask-Limiter is built on – rather than
Flask-Limiter's decorators: the per-account key is the email typed into the form, which a
decorator keyed on the request cannot see before the form is read, and an over-limit attempt
must get the same page as a wrong password (no enumeration), not a generic 429 handler. The
counting (moving window in Redis) is the same."""

from __future__ import annotations

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from grants.jobs.queue import redis_url

# Only failed attempts count (a success clears the account's failures): a municipality's staff
# behind one NAT address, or someone trying the demo's accounts in turn, never locks anyone out
# by logging in correctly.
FAILURES_PER_ACCOUNT = "10 per 15 minutes"
FAILURES_PER_ADDRESS = "50 per 15 minutes"
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


def _failure_limits(app: Flask) -> tuple[RateLimitItem, RateLimitItem]:
    """(per account, per address). The app config keys LOGIN_FAILURES_PER_ACCOUNT and
    LOGIN_FAILURES_PER_ADDRESS (passed to create_app, in the `limits` notation such as
    "10 per 15 minutes") override the defaults; the tests use a short window."""
    return (parse(app.config.get("LOGIN_FAILURES_PER_ACCOUNT") or FAILURES_PER_ACCOUNT),
            parse(app.config.get("LOGIN_FAILURES_PER_ADDRESS") or FAILURES_PER_ADDRESS))


def _account_key(email: str) -> str:
    return (email or "").strip().lower()


def login_locked(email: str, address: str) -> bool:
    """True when this account, or this address, has failed too often recently. Checking counts
    nothing. The answer is the same whether or not the account exists (no enumeration)."""
    app = current_app._get_current_object()
    limiter = _limiter(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    per_account, per_address = _failure_limits(app)
    return not (limiter.test(per_account, prefix, "login-account", _account_key(email))
                and limiter.test(per_address, prefix, "login-address", address or "-"))


def record_login_failure(email: str, address: str) -> None:
    """Count a wrong password (or an unknown account) against the account and the address."""
    app = current_app._get_current_object()
    limiter = _limiter(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    per_account, per_address = _failure_limits(app)
    limiter.hit(per_account, prefix, "login-account", _account_key(email))
    limiter.hit(per_address, prefix, "login-address", address or "-")


def record_login_success(email: str) -> None:
    """A correct password clears the account's failures. The address keeps its count: one
    good login must not open the address to another account's guessing."""
    app = current_app._get_current_object()
    per_account, _per_address = _failure_limits(app)
    _limiter(app).clear(per_account, app.config["RQ_QUEUE_PREFIX"], "login-account",
                        _account_key(email))


def reset_allowed(email: str, address: str) -> bool:
    """Count a password-reset request; False when this account or address asked too often
    (the caller answers the same either way, and sends nothing)."""
    app = current_app._get_current_object()
    limiter = _limiter(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    account_ok = limiter.hit(RESETS_PER_ACCOUNT, prefix, "reset-account", _account_key(email))
    address_ok = limiter.hit(RESETS_PER_ADDRESS, prefix, "reset-address", address or "-")
    return account_ok and address_ok
