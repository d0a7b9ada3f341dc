from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class ReminderStatus(enum.StrEnum):
    scheduled = "scheduled"
    sent = "sent"
    cancelled = "cancelled"


class Reminder(db.Model):
    """A reminder before one milestone of one application. The row is the truth; RQ's scheduler
    only carries its id until `send_at`. The job claims the row (scheduled → sent) in the same
    transaction as the notifications it writes, so a reminder is never sent twice.

    (application, milestone, send_at) is the reminder's identity: rescheduling to a moment that
    already has a row reuses that row, and a row already sent is never sent again."""

    __tablename__ = "deadline_reminder"
    __table_args__ = (
        UniqueConstraint("application_id", "milestone", "send_at"),
        Index("ix_deadline_reminder_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    milestone: Mapped[str] = mapped_column(String(30))
    # The moment the reminder is about (the milestone), and when it goes out (both UTC).
    milestone_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ReminderStatus] = mapped_column(
        Enum(ReminderStatus, native_enum=False, length=20, validate_strings=True),
        default=ReminderStatus.scheduled)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Ids of the users reminded ([] when nobody owed anything any more).
    recipients: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application = relationship("Application", lazy="raise")

    def __repr__(self) -> str:
        return f"<Reminder {self.id} app={self.application_id} {self.milestone} {self.status}>"
