from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from grants.db import UTCDateTime, db, utcnow
from grants.organisations.models import organisation_member
from grants.tokens import SingleUseToken


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(5), default=None)
    # How notifications reach the user: per category, grants/notifications/preferences.py.
    # Bumped on logout-everywhere, password change and deactivation: old sessions stop working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisations = relationship("Organisation", secondary=organisation_member,
                                 back_populates="members", lazy="selectin")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def organisation_ids(self) -> set[int]:
        return {org.id for org in self.organisations}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class PasswordReset(SingleUseToken, db.Model):
    """A password-reset link sent by email: only the SHA-256 of its token is stored; it works
    once and for one hour, and is void once the password changes."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)

    def __repr__(self) -> str:
        return f"<PasswordReset {self.id} user={self.user_id}>"
