"""Delivery of a submission to the funder: one row per submission and channel, and one row per
attempt, so the log shows every try with its time and the SMTP server's answer.

Statuses of a delivery:

email:  pending → sending → sent
                          → retry (temporary failure, next_attempt_at set) → sending → …
                          → failed (permanent: 5xx, no address, too many attempts)
                          → uncertain (the connection broke after the message data was sent:
                                       the funder may have it; a coordinator decides)
        pending/retry → cancelled (the submission was withdrawn before it could be sent)
portal: awaiting_receipt → confirmed (the lead uploaded the funder's receipt and reference)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow

# Channels: email, portal. Statuses: pending, sending, sent, retry, failed, uncertain, cancelled
# (email); awaiting_receipt, confirmed (portal).
# Attempts of one round (from the start, or from a coordinator's "send again").
MAX_ATTEMPTS = 6


class Delivery(db.Model):
    """How one submission reaches the funder. Unique per (submission, channel): a submission is
    delivered once per channel; every attempt is a DeliveryAttempt row."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("submission_id", "channel"),
                      Index("ix_delivery_status_next_attempt", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email / portal
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # email: the funder's submission address; portal: the portal's address (may be "").
    recipient: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    # The job row that sends it (email): retries run the same row again.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("background_job.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # every attempt, ever
    attempt_limit: Mapped[int] = mapped_column(Integer, default=MAX_ATTEMPTS)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_response: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # Portal: the funder's reference (diarienummer) and its receipt, checked by content.
    funder_reference: Mapped[str] = mapped_column(String(100), default="")
    receipt_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A coordinator's decision on an uncertain (or failed) delivery: "sent" or "resend".
    resolution: Mapped[str] = mapped_column(String(20), default="")
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id], lazy="joined")
    resolved_by = relationship("User", foreign_keys=[resolved_by_id], lazy="joined")
    attempt_log = relationship("DeliveryAttempt", order_by="DeliveryAttempt.number",
                               lazy="selectin", cascade="all, delete-orphan",
                               back_populates="delivery")

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - (self.attempt_limit - MAX_ATTEMPTS)

    def __repr__(self) -> str:
        return f"<Delivery {self.id} submission={self.submission_id} {self.channel} {self.status}>"


class DeliveryAttempt(db.Model):
    """One try at sending: written when the row is claimed (outcome "sending") and completed
    with what the SMTP server answered."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # sending (in progress) / sent / retry / failed / uncertain / cancelled
    outcome: Mapped[str] = mapped_column(String(20), default="sending")
    # How far the conversation got: connect, mail, rcpt, data, message (after DATA's 354).
    stage: Mapped[str] = mapped_column(String(20), default="")
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_response: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")

    delivery = relationship("Delivery", back_populates="attempt_log", lazy="raise")

    def __repr__(self) -> str:
        return f"<DeliveryAttempt {self.delivery_id}#{self.number} {self.outcome}>"
