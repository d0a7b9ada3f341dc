from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from grants.db import UTCDateTime, db, utcnow


class Document(db.Model):
    """A generated file (PDF) stored in the database, so every web and worker machine sees it.

    (application_id, kind, fingerprint) is unique: rendering the same content twice stores one
    document. A document of no application (application_id NULL) is a coordinator's PDF
    preview of a form (kind "form_preview")."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("application_id", "kind", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # The seal's status as validated when the job signed the file (`documents/signatures.py`,
    # `SignatureStatus.as_dict`); NULL: not signed. `flask documents verify` checks it again.
    signature: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.kind} {self.sha256[:12]}>"


class Attachment(db.Model):
    """An uploaded file (letter of intent, CV, budget …), stored in the database."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    field_id: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_value(self) -> dict:
        """What a file field stores in the section's JSON."""
        return {"attachment_id": self.id, "filename": self.filename, "kind": self.kind,
                "size": self.size, "sha256": self.sha256}

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.filename!r}>"
