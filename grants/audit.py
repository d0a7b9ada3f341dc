"""The audit log: an append-only record of every change, written through one helper.

Append-only twice over: the ORM refuses to update or delete a row (below), and so does the
database itself (triggers, `APPEND_ONLY_DDL`, created with the table and by the migration).
Tamper-evident: each row carries the SHA-256 of its content and a hash chain over the rows
before it (`chain_sha256` = SHA-256 of the previous row's chain hash and this row's content
hash); `verify_chain` (`flask --app wsgi audit verify`) walks it and names the first row that
does not match."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, Integer, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from grants.canonical import canonical_json
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
    # SHA-256 of this row's content (`content_of`), and of the previous row's chain hash
    # followed by this content hash: change, remove or insert a row and the chain breaks there.
    content_sha256: Mapped[str] = mapped_column(String(64))
    chain_sha256: Mapped[str] = mapped_column(String(64))

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


# --- append-only in the database --------------------------------------------------------------
# The same refusal for any client: raw SQL, another program, a cascade. The message names the
# rule ("append-only"); both databases report it as an integrity error.
APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION grants_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'restrict_violation'; END $$",
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION grants_append_only()",
    ],
}
# The names of the database triggers that guard the audit log, per dialect.
TRIGGERS = {"sqlite": ("audit_event_no_update", "audit_event_no_delete"),
            "postgresql": ("audit_event_append_only",)}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(AuditEvent.__table__, "after_create",
                     DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


# --- the hash chain ----------------------------------------------------------------------------
GENESIS = "0" * 64
# The PostgreSQL advisory lock that serialises appending to the chain (held to the commit).
CHAIN_LOCK = 0x67726E74  # "grnt"


def content_of(row: AuditEvent) -> dict[str, Any]:
    """What the content hash covers: everything the row says (not its id, which the database
    gives; the chain fixes the order)."""
    return {"actor_id": row.actor_id, "action": row.action, "object_type": row.object_type,
            "object_id": row.object_id, "before": row.before, "after": row.after,
            "created_at": row.created_at.isoformat()}


def content_sha256(row: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(content_of(row)).encode("utf-8")).hexdigest()


def chain_sha256(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}{content}".encode("ascii")).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _context, _instances) -> None:
    """Hash new audit rows onto the chain, in the order they will get their ids. The head is
    read under a lock held to the commit, so two transactions never chain onto the same head:
    on PostgreSQL a transaction-wide advisory lock; on SQLite the database's write lock, taken
    by a write that changes nothing (SQLite would otherwise read before its transaction
    begins)."""
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.execute(text("UPDATE audit_event SET id = id WHERE 0"))
    head = connection.execute(select(AuditEvent.chain_sha256).order_by(
        AuditEvent.id.desc()).limit(1)).scalar() or GENESIS
    for row in sorted(new, key=lambda obj: obj._sa_instance_state.insert_order):
        if row.created_at is None:
            row.created_at = utcnow()
        row.content_sha256 = content_sha256(row)
        row.chain_sha256 = head = chain_sha256(head, row.content_sha256)


@dataclass
class ChainReport:
    rows: int
    head: str
    broken: Any = None  # the first row that does not match (id, created_at, action, …)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(batch: int = 500) -> ChainReport:
    """Walk the audit log in id order and recompute every hash; stop at the first row whose
    content or chain hash does not match."""
    columns = [c for c in AuditEvent.__table__.columns]
    head, count, last_id = GENESIS, 0, 0
    while True:
        rows = db.session.execute(select(*columns).where(AuditEvent.id > last_id)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return ChainReport(rows=count, head=head)
        for row in rows:
            if content_sha256(row) != row.content_sha256:
                return ChainReport(count, head, row, "its content does not match its hash")
            expected = chain_sha256(head, row.content_sha256)
            if row.chain_sha256 != expected:
                return ChainReport(count, head, row, "the chain breaks here (a row before it "
                                                     "was changed, removed or inserted)")
            head, count, last_id = expected, count + 1, row.id


def audit(action: str, *, actor=None, actor_id: int | None = None, object_type: str,
          object_id: int | None, before: dict[str, Any] | None = None,
          after: dict[str, Any] | None = None) -> AuditEvent:
    """Add one audit row to the caller's transaction (the caller's operation commits it; the row
    is written, hashed onto the chain, when the transaction commits).
    `actor` is a user (or None for the system); `actor_id` may be given instead."""
    row = AuditEvent(actor_id=actor.id if actor is not None else actor_id, action=action,
                     object_type=object_type, object_id=object_id, before=before, after=after,
                     created_at=utcnow())
    session = db.session()
    if session.get_transaction() is None:
        session.begin()  # the row belongs to this transaction: a rollback takes it along
    session.info.setdefault(PENDING, []).append(row)
    return row


# Rows of `audit()` join the session when it commits: the chain's lock is then the last lock
# the transaction takes, held only for the commit (never waited for while holding row locks).
PENDING = "grants.audit.pending"


@event.listens_for(Session, "before_commit")
def _add_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        session.add_all(pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    """The session's transaction ended without a commit (rolled back, closed): its rows go
    with it. A savepoint's end is not the transaction's."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
