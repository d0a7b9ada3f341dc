from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow
from grants.tokens import SingleUseToken


class ApplicationPartner(db.Model):
    """A partner organisation (samverkanspart) on one application, with its contact person."""

    __tablename__ = "application_partner"
    __table_args__ = (UniqueConstraint("application_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"),
                                                        index=True)
    status: Mapped[str] = mapped_column(String(20), default="invited")  # invited/active/removed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation", lazy="joined")
    contact_user = relationship("User", lazy="joined")

    @property
    def is_current(self) -> bool:
        return self.status != "removed"

    def __repr__(self) -> str:
        return f"<ApplicationPartner {self.id} app={self.application_id} {self.status}>"


class PartnerInvitation(SingleUseToken, db.Model):
    """A single-use link, valid 7 days, that ties the accepting account to a partner role."""

    __tablename__ = "partner_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("application_partner.id",
                                                       ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))

    def __repr__(self) -> str:
        return f"<PartnerInvitation {self.id} partner={self.partner_id}>"


class Signatory(db.Model):
    """The authorised signatory (firmatecknare) an organisation names for one application: the
    lead organisation and each partner. Always a person with an account: a new person gets one
    and is invited by email to choose a password (the accounts' invitation link). Only this
    person confirms for the organisation. Naming another signatory changes this row (the
    history keeps who it was); confirmations already given stay valid: a confirmation is by
    the signatory at the time."""

    __tablename__ = "application_signatory"
    __table_args__ = (UniqueConstraint("application_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    title: Mapped[str] = mapped_column(String(200))
    named_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation", lazy="joined")
    user = relationship("User", foreign_keys=[user_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Signatory {self.id} app={self.application_id} org={self.organisation_id}>"


class PartnerConfirmation(db.Model):
    """An organisation's signatory (firmatecknare) confirms participation and co-financing for
    one exact version of the application, identified by its fingerprint. Any later change to
    what it vouches for (its own part, the budget or the common sections) voids it. A partner's
    confirmation has `partner_id`; the lead organisation's has none, only `application_id`."""

    __tablename__ = "partner_confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("application_partner.id",
                                                              ondelete="CASCADE"), index=True)
    # Set on the lead organisation's confirmations (partner_id is then NULL).
    lead_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<PartnerConfirmation {self.id} partner={self.partner_id}>"
