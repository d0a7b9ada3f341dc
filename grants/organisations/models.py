from __future__ import annotations

import enum

from sqlalchemy import Boolean, Column, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from grants.db import db
from grants.organisations.orgnr import normalise


class OrganisationKind(enum.StrEnum):
    public_library = "folkbibliotek"
    regional_library = "regionbibliotek"
    university_library = "universitetsbibliotek"
    upper_secondary_library = "gymnasiebibliotek"
    school_library = "grundskolebibliotek"
    hospital_library = "sjukhusbibliotek"
    municipality = "kommun"
    region = "region"
    university = "universitet"
    other = "annan"


organisation_member = Table(
    "organisation_member",
    db.metadata,
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str] = mapped_column(String(11), unique=True)
    county: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=40, validate_strings=True)
    )
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)

    members = relationship("User", secondary=organisation_member, back_populates="organisations",
                           lazy="raise")

    @validates("org_number")
    def _normalise_org_number(self, _key: str, value: str) -> str:
        """Stored as NNNNNN-NNNN; an invalid number (shape or Luhn digit) is refused."""
        return normalise(value)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
