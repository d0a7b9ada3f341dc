"""Who is editing a section now: a lease in Redis that the edit page renews while it is open.

Each section instance has a sorted set in Redis, its members the ids of the people editing it,
scored by when their lease runs out. Opening the edit page takes a lease; the page renews it
every third of the lease time while it is open and gives it back when it closes; a closed tab
that could not say so is gone when its lease runs out. Every web process reads the same Redis,
so people on different processes see each other. Redis unreachable: nobody is shown, nothing
else fails (the versioned save stays the safety net)."""

from __future__ import annotations

import logging
import time

import redis
from flask import current_app
from sqlalchemy import select

from grants.accounts.models import User
from grants.db import db
from grants.jobs.queue import redis_connection

logger = logging.getLogger(__name__)


def lease_seconds() -> int:
    return int(current_app.config.get("PRESENCE_SECONDS", 30))


def _key(application_id: int, target: str) -> str:
    return f"{current_app.config['RQ_QUEUE_PREFIX']}:presence:{application_id}:{target}"


def touch(application_id: int, target: str, user_id: int) -> list[User]:
    """Take or renew `user_id`'s lease on the section; the others editing it now."""
    now, seconds = time.time(), lease_seconds()
    key = _key(application_id, target)
    try:
        pipe = redis_connection().pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {str(user_id): now + seconds})
        pipe.expire(key, seconds * 2)
        pipe.zrangebyscore(key, now, "+inf")
        *_done, members = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("presence unavailable: %s", exc)
        return []
    return _people({int(m) for m in members} - {user_id})


def leave(application_id: int, target: str, user_id: int) -> None:
    """Give the lease back (the page closed)."""
    try:
        redis_connection().zrem(_key(application_id, target), str(user_id))
    except redis.RedisError as exc:
        logger.warning("presence unavailable: %s", exc)


def editing(application_id: int, target: str) -> set[int]:
    """The ids of the people whose lease on the section is running now."""
    try:
        return {int(m) for m in redis_connection().zrangebyscore(
            _key(application_id, target), time.time(), "+inf")}
    except redis.RedisError as exc:
        logger.warning("presence unavailable: %s", exc)
        return set()


def _people(ids: set[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
