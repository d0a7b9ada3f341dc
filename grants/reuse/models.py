"""Applications of one project to several funders (docs/reuse.md): a project group, and each
linked application's membership of it, with the application it was copied from and what the
copy could not carry over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import UTCDateTime, db, utcnow


class ProjectGroup(db.Model):
    """One project applied for at several funders: every application in it shows the others
    ("Also applied to")."""

    __tablename__ = "project_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ProjectGroup {self.id}>"


class ApplicationLink(db.Model):
    """An application's place in a project group (at most one group per application). A copy
    also names its source and keeps the report of what was and was not carried over."""

    __tablename__ = "application_link"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_group.id", ondelete="CASCADE"),
                                          index=True)
    # The application this one was copied from (None: linked by hand, or the source itself).
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), default=None)
    # What the copy carried over and what not (grants/reuse/matching.py `CopyPlan.report`).
    copy_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ApplicationLink app={self.application_id} group={self.group_id}>"
