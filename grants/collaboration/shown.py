"""The content people were shown when they vouched for it or voted on it, kept by the
fingerprint they vouched for (a steering round's, a partner's confirmation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from grants.collaboration.models import ShownContent
from grants.db import db


def keep_shown(application_id: int, fingerprint: str, snapshot: dict[str, Any]) -> None:
    """Keep `snapshot` as what `fingerprint` stood for (once: the same fingerprint is the
    same content). Called inside the operation that records the vote or confirmation."""
    if shown_content(application_id, fingerprint) is None:
        db.session.add(ShownContent(application_id=application_id, fingerprint=fingerprint,
                                    snapshot=snapshot))
        db.session.flush()


def shown_content(application_id: int, fingerprint: str) -> ShownContent | None:
    return db.session.scalar(select(ShownContent).where(
        ShownContent.application_id == application_id, ShownContent.fingerprint == fingerprint))
