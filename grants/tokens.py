"""Single-use links sent by email (password resets, invitations of users and of partners):
only the SHA-256 of the token is stored; a link works once, until it expires.

`SingleUseToken` gives a model the columns; `find_valid` reads the row of a token that may
still be used; `claim` marks it used with a conditional UPDATE, so of two requests with the
same link exactly one gets it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import UTCDateTime, db, utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(the token for the link, the hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


class SingleUseToken:
    """Columns of a single-use link: the token's SHA-256, when it expires, when it was used."""

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def find_valid(model, token: str, *, now: datetime | None = None):
    """The row of `token` when it is neither used nor expired, else None."""
    row = db.session.scalar(select(model).where(model.token_hash == token_hash(token or "")))
    if row is None or row.used_at is not None or row.expires_at < (now or utcnow()):
        return None
    return row


def claim(model, row) -> bool:
    """Mark the link used, unless another request did so first (then False)."""
    return bool(db.session.execute(
        update(model).where(model.id == row.id, model.used_at.is_(None),
                            model.expires_at >= utcnow())
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount)
