from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class VoteRound(db.Model):
    """One round of voting on an application's decision transition. A round opens when the
    application enters a state decided by vote; it ends decided, or voided when the content
    changed under the votes (a new round then opens)."""

    __tablename__ = "decision_round"
    # The overview asks for the open rounds of the user's groups (awaiting_my_vote).
    __table_args__ = (UniqueConstraint("application_id", "number"),
                      Index("ix_decision_round_group_status", "group_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    number: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("steering_group.id"))
    transition: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100))
    # The application's state_version when the round opened: votes belong to this visit.
    state_version: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the content the members vote on (the snapshot's fingerprint).
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open/decided/voided/closed
    outcome: Mapped[str | None] = mapped_column(String(20))           # approved/rejected
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    too_few_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_record_id: Mapped[int | None] = mapped_column(ForeignKey("transition_record.id"))
    # What the minutes show, frozen at the decision (members, recusals, votes, rule, result).
    minutes: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    votes = relationship("Vote", back_populates="round", lazy="raise",
                         cascade="all, delete-orphan", order_by="Vote.id")

    def __repr__(self) -> str:
        return f"<VoteRound {self.id} app={self.application_id} #{self.number} {self.status}>"


class Vote(db.Model):
    """A member's vote in a round, on the exact version shown (fingerprint). Changeable until
    the decision is made."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("decision_round.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    choice: Mapped[str] = mapped_column(String(20))      # approve / changes / abstain
    comment: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)

    round = relationship("VoteRound", back_populates="votes", lazy="raise")
    user = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<Vote {self.id} round={self.round_id} user={self.user_id} {self.choice}>"


class Recusal(db.Model):
    """A member's declared conflict of interest (jäv) for one application. Members of the lead
    or a partner organisation are recused automatically (computed, not stored)."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<Recusal app={self.application_id} user={self.user_id}>"
