from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import db


class SteeringGroup(db.Model):
    """A joint steering group (styrgrupp) that approves stages of applications."""

    __tablename__ = "steering_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    memberships = relationship("SteeringMember", back_populates="group", lazy="raise",
                               cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<SteeringGroup {self.id} {self.name!r}>"


class SteeringMember(db.Model):
    __tablename__ = "steering_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("steering_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)

    group = relationship("SteeringGroup", back_populates="memberships", lazy="raise")
    user = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<SteeringMember group={self.group_id} user={self.user_id}>"
