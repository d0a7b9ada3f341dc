"""Kept versions of what an application says, and the content people were shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow

# What a revision keeps: one section instance ("summary", "partner_role@12"), the budget with
# its co-financing, or the partner list.
BUDGET, PARTNERS = "budget", "partners"


class ContentRevision(db.Model):
    """One kept version of a section, of the budget or of the partner list: what it said after
    a save, who saved it and when. Append-only; numbered 1, 2, 3 … per target, so the previous
    version of anything is always at hand."""

    __tablename__ = "content_revision"
    __table_args__ = (UniqueConstraint("application_id", "target", "number"),
                      Index("ix_content_revision_target", "application_id", "target", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(120))
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The revision this one restored (None: an ordinary save).
    restored_from: Mapped[int | None] = mapped_column(Integer, default=None)

    saved_by = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<ContentRevision {self.application_id} {self.target} #{self.number}>"


class ShownContent(db.Model):
    """The whole content (a snapshot) as it was when someone vouched for or voted on it, by the
    fingerprint they vouched for: a steering round's, a partner's confirmation. "What changed
    since you last saw it" compares with this, never with a reconstruction."""

    __tablename__ = "shown_content"
    __table_args__ = (UniqueConstraint("application_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
