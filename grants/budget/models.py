from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class CofinancingKind(enum.StrEnum):
    cash = "cash"
    in_kind = "in_kind"


class CofinancingSource(enum.StrEnum):
    public = "public"
    private = "private"


class BudgetRow:
    """What a cost line and a co-financing row have alike: whose, which year, what, how much
    (whole kronor), and who changed it last."""

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[int] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr
    def organisation(cls):  # noqa: N805 - SQLAlchemy's declared_attr takes the class
        return relationship("Organisation", lazy="joined")


class BudgetLine(BudgetRow, db.Model):
    """One cost: category × year × organisation, in whole kronor."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A key of the application's form's cost categories (`cost_categories:`, docs/forms.md;
    # today's seven by default). The same VARCHAR(30) as before: no database change.
    category: Mapped[str] = mapped_column(String(30))

    def __repr__(self) -> str:
        return f"<BudgetLine {self.id} {self.category} {self.year} {self.amount}>"


class Cofinancing(BudgetRow, db.Model):
    """An organisation's contribution (medfinansiering): cash or in kind, public or private."""

    __tablename__ = "cofinancing"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CofinancingKind] = mapped_column(
        Enum(CofinancingKind, native_enum=False, length=20, validate_strings=True))
    source: Mapped[CofinancingSource] = mapped_column(
        Enum(CofinancingSource, native_enum=False, length=20, validate_strings=True))
    # Work given in kind as hours × an hourly rate (whole kronor); the amount is their product.
    hours: Mapped[int | None] = mapped_column(Integer, default=None)
    hourly_rate: Mapped[int | None] = mapped_column(BigInteger, default=None)

    def __repr__(self) -> str:
        return f"<Cofinancing {self.id} {self.kind} {self.year} {self.amount}>"


class VarianceExplanation(db.Model):
    """Why an organisation's actual costs in one category differ from its budget (a report's
    rule may ask for one above a deviation, docs/reporting.md)."""

    __tablename__ = "variance_explanation"
    __table_args__ = (UniqueConstraint("application_id", "organisation_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    category: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<VarianceExplanation {self.application_id} {self.organisation_id} {self.category}>"
