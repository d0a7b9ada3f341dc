from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Internal milestones of a call's applications, in days before the deadline, and how many days
# before each milestone its reminder goes out (docs/workflows.md, "Deadlines, milestones and
# reminders").
MILESTONE_DAY_DEFAULTS = {
    "partner_input_days_before": 21,
    "steering_meeting_days_before": 14,
    "signatures_days_before": 7,
    "reminder_days_before": 3,
}


# The subject of the email to the funder; placeholders: {document} (what is sent: "Ansökan",
# "Lägesrapport 2") {title} {organisation} {call} {reference} {number}
# (grants/delivery/subject.py).
DEFAULT_SUBJECT_FORMAT = "{document}: {title} – {organisation} ({reference})"
# The default before documents other than applications were sent (migrated to the above).
OLD_DEFAULT_SUBJECT_FORMAT = "Ansökan: {title} – {organisation} ({reference})"


class Funder(db.Model):
    __tablename__ = "funder"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(60))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    submission_email: Mapped[str | None] = mapped_column(String(254), default=None)
    # Folder under templates/pdf/ with this funder's application template ("" = default).
    pdf_template: Mapped[str] = mapped_column(String(60), default="")
    # How a submission reaches the funder (docs/delivery.md): "email" to the submission
    # address with the subject in the funder's format, or "portal" (the lead submits in the
    # funder's own portal and uploads its receipt).
    delivery_method: Mapped[str] = mapped_column(String(10), default="email",
                                                 server_default="email")
    email_subject_format: Mapped[str] = mapped_column(
        String(300), default=DEFAULT_SUBJECT_FORMAT, server_default=DEFAULT_SUBJECT_FORMAT)
    portal_url: Mapped[str | None] = mapped_column(String(500), default=None)

    def __repr__(self) -> str:
        return f"<Funder {self.id} {self.short_name!r}>"


class Call(db.Model):
    """A funder's call for applications (utlysning)."""

    __tablename__ = "funding_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funder.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    workflow_name: Mapped[str] = mapped_column(String(100))
    form_name: Mapped[str] = mapped_column(String(100))
    # The version of the form file when the call opened (applications show the current file;
    # values of fields removed since are kept and shown as no longer part of the form).
    form_version: Mapped[int | None] = mapped_column(Integer, default=None)
    # The reporting plan (workflows/reporting/<name>.yaml) a granted project of this call
    # follows: its revised budget and reports, with their forms, workflows and due dates.
    # (No Python default: an INSERT that does not name it leaves it NULL.)
    reporting_plan: Mapped[str | None] = mapped_column(String(100))
    max_chars_per_field: Mapped[int | None] = mapped_column(Integer, default=None)
    max_requested_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    min_cofinancing_percent: Mapped[int | None] = mapped_column(Integer, default=None)
    max_indirect_percent: Mapped[int | None] = mapped_column(Integer, default=None)
    allow_resubmission: Mapped[bool] = mapped_column(Boolean, default=False)
    # Overrides the funder's submission address for this call's applications.
    submission_email: Mapped[str | None] = mapped_column(String(254), default=None)
    steering_group_id: Mapped[int | None] = mapped_column(ForeignKey("steering_group.id"),
                                                          default=None, index=True)
    partner_input_days_before: Mapped[int] = mapped_column(Integer, default=21,
                                                           server_default="21")
    steering_meeting_days_before: Mapped[int] = mapped_column(Integer, default=14,
                                                              server_default="14")
    signatures_days_before: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    reminder_days_before: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    funder = relationship("Funder", lazy="joined")
    steering_group = relationship("SteeringGroup", lazy="raise")

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.deadline_at

    @property
    def deadline_local(self) -> datetime:
        return self.deadline_at.astimezone(STOCKHOLM)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.title!r}>"
