from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class Application(db.Model):
    """A document of a joint project moving through a workflow defined in workflows/*.yaml,
    with the sections of its form file: the application (ansökan) itself, and after the grant
    the project's revised budget and reports (docs/reporting.md). Every kind is the same kind
    of thing: sections, partners' own parts, budget, confirmations, votes, submissions."""

    __tablename__ = "application"
    __table_args__ = (Index("ix_application_state_call", "state", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("funding_call.id"), index=True)
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    lead_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    # The workflow is pinned when the application starts: a changed file never strands it.
    workflow_name: Mapped[str] = mapped_column(String(100))
    workflow_version: Mapped[int] = mapped_column(Integer)
    form_name: Mapped[str] = mapped_column(String(100))
    # The form version (definition_version of kind "form") it started on or was moved to;
    # None only for applications made before form versions were stored: they use the file.
    form_version: Mapped[int | None] = mapped_column(Integer, default=None)
    state: Mapped[str] = mapped_column(String(100))
    # Bumped by every state change; transitions compare-and-set on (state, state_version).
    state_version: Mapped[int] = mapped_column(Integer, default=1)
    # A coordinator's extension of this application's deadline (None: the call's deadline).
    deadline_extended_to: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # What kind of document this is, as the reporting plan names it ("application" for an
    # application; e.g. "progress_report"), and its label in Swedish and English (None: an
    # application). Shown and counted; no code path branches on it.
    kind: Mapped[str] = mapped_column(String(40), default="application",
                                      server_default="application", index=True)
    kind_label: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    # The application whose project this document reports on (None: a document of its own).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), default=None, index=True)
    # The document whose budget this one's figures are compared with (budget vs actual).
    baseline_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), default=None)
    # The n-th of its kind in the project (progress report 2), and the period it covers.
    sequence: Mapped[int | None] = mapped_column(Integer, default=None)
    period_start: Mapped[date | None] = mapped_column(Date, default=None)
    period_end: Mapped[date | None] = mapped_column(Date, default=None)
    # The document's own deadline (a report's due date); None: the call's deadline.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the overview lists the most recently changed applications first.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 index=True)

    call = relationship("Call", lazy="joined")
    lead_organisation = relationship("Organisation", lazy="joined")
    lead_user = relationship("User", lazy="joined")
    answers = relationship("SectionAnswer", back_populates="application", lazy="raise",
                           cascade="all, delete-orphan")
    history = relationship("TransitionRecord", back_populates="application", lazy="raise",
                           order_by="TransitionRecord.id", cascade="all, delete-orphan")
    parent = relationship("Application", remote_side=[id], foreign_keys=[parent_id],
                          lazy="select")

    @property
    def own_deadline(self) -> datetime:
        """The deadline before any extension: the document's due date, else the call's."""
        return self.due_at or self.call.deadline_at

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.kind} state={self.state}>"


class SectionAnswer(db.Model):
    """The saved values of one form section. One row per section, so two people editing
    different sections never collide; `version` catches two people on the same section."""

    __tablename__ = "section_answer"
    __table_args__ = (UniqueConstraint("application_id", "section_key", "owner_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    section_key: Mapped[str] = mapped_column(String(100))
    # "" for common sections; the partner's id for a section each partner fills in.
    owner_key: Mapped[str] = mapped_column(String(20), default="", server_default="")
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("application_partner.id",
                                                              ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    application = relationship("Application", back_populates="answers", lazy="raise")

    @property
    def instance_key(self) -> str:
        return instance_key(self.section_key, self.partner_id)

    def __repr__(self) -> str:
        return f"<SectionAnswer {self.id} {self.section_key} v{self.version}>"


def instance_key(section_key: str, partner_id: int | None) -> str:
    """How answers are keyed: 'summary' for a common section, 'partner_role@12' for the part
    partner 12 fills in."""
    return section_key if partner_id is None else f"{section_key}@{partner_id}"


class TransitionRecord(db.Model):
    """One fired transition: who, when, from, to, why. Append-only."""

    __tablename__ = "transition_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    transition: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str] = mapped_column(String(100))
    to_state: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application = relationship("Application", back_populates="history", lazy="raise")
    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<TransitionRecord {self.id} {self.from_state}->{self.to_state}>"
