from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow

TEAM, STEERING = "team", "steering"
AUDIENCES = (TEAM, STEERING)
OPEN, RESOLVED = "open", "resolved"
BUDGET = "budget"


class CommentThread(db.Model):
    """A conversation about one part of an application: a common section (`summary`), a
    partner's own part (`partner_role@12`, the section's instance key) or the budget
    (`budget`). Its audience says who sees it: the team (the lead, the partners, the
    signatories, the coordinators) or the team and the call's steering group. Comments are
    never part of the snapshot, the PDF or the copy of record."""

    __tablename__ = "comment_thread"
    __table_args__ = (Index("ix_comment_thread_application_target", "application_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(20), default=TEAM)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who resolved it and when (None while open; cleared when reopened).
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    resolved_by = relationship("User", foreign_keys=[resolved_by_id], lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def __repr__(self) -> str:
        return f"<CommentThread {self.id} app={self.application_id} {self.target} {self.status}>"


class Comment(db.Model):
    """One comment of a thread: the first one opens it, the others are replies. Plain text."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("comment_thread.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the author last changed the text (None: as written).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<Comment {self.id} thread={self.thread_id}>"


class CommentMention(db.Model):
    """A person a comment mentions with @ (and who was told of it)."""

    __tablename__ = "comment_mention"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True,
                                         index=True)
