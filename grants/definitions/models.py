from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import UTCDateTime, db, utcnow


class DefinitionVersion(db.Model):
    """The text of a workflow (or form) file as it was when an application started on it.

    Applications keep running on the version they started on, even after the file changes."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("kind", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "workflow" or "form"
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<DefinitionVersion {self.kind} {self.name} v{self.version}>"
