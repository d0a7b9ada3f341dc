"""The audit log: an append-only record of every change, written through one helper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class AuditEvent(db.Model):
    """An append-only record of a change: who changed what, before and after. Rows are only
    ever inserted: the ORM refuses to update or delete one (below), in a session and in bulk."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id}>"


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove a row of the audit log."""


@event.listens_for(AuditEvent, "before_update")
def _no_update(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_change(state) -> None:
    """`update(AuditEvent)…` / `delete(AuditEvent)…` through a session are refused too."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogIsAppendOnly("the audit log cannot be changed in bulk")


def audit(action: str, *, actor=None, actor_id: int | None = None, object_type: str,
          object_id: int | None, before: dict[str, Any] | None = None,
          after: dict[str, Any] | None = None) -> AuditEvent:
    """Add one audit row to the caller's transaction (the caller's operation commits it).
    `actor` is a user (or None for the system); `actor_id` may be given instead."""
    row = AuditEvent(actor_id=actor.id if actor is not None else actor_id, action=action,
                     object_type=object_type, object_id=object_id, before=before, after=after)
    db.session.add(row)
    return row
