"""The copy of record: what was submitted to the funder, frozen, and what the funder decided."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class Submission(db.Model):
    """One submission of an application to the funder. The snapshot (canonical JSON of every
    field, partner, budget line, co-financing, attachment hash and approval) and its SHA-256
    are written once and never change; the final PDF is rendered from the snapshot only.
    A resubmission is a new row; the latest one not withdrawn is the one that counts."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("application_id", "number"),
                      Index("ix_submission_application_status", "application_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="current")  # current/withdrawn
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    requested_amount: Mapped[int | None] = mapped_column(BigInteger)
    # The final PDF/A and the reading copy, once the background job has rendered them.
    final_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    reading_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    submitted_by = relationship("User", lazy="joined")
    final_document = relationship("Document", foreign_keys=[final_document_id], lazy="raise")
    reading_document = relationship("Document", foreign_keys=[reading_document_id],
                                    lazy="raise")

    @property
    def counts(self) -> bool:
        return self.status == "current"

    def __repr__(self) -> str:
        return f"<Submission {self.id} app={self.application_id} #{self.number} {self.status}>"


FROZEN = ("snapshot", "sha256", "application_id", "number", "submitted_at", "requested_amount")


@event.listens_for(Submission, "before_update")
def _frozen(_mapper, _connection, target: Submission) -> None:
    """The copy of record cannot be rewritten through the ORM."""
    state = inspect(target)
    for name in FROZEN:
        if state.attrs[name].history.has_changes():
            raise ValueError(f"submission {target.id}: '{name}' is frozen once submitted")


class FunderDecision(db.Model):
    """The funder's decision on an application, recorded by the lead or a coordinator."""

    __tablename__ = "funder_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    outcome: Mapped[str] = mapped_column(String(20))          # granted / rejected
    granted_amount: Mapped[int | None] = mapped_column(BigInteger)
    decision_date: Mapped[date] = mapped_column(Date)
    funder_reference: Mapped[str] = mapped_column(String(100), default="")
    letter_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FunderDecision app={self.application_id} {self.outcome}>"
