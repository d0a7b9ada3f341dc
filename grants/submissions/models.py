"""The copy of record: what was submitted to the funder, frozen, and what the funder decided."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import UTCDateTime, db, utcnow


class Submission(db.Model):
    """One submission of an application to the funder. The snapshot (canonical JSON of every
    field, partner, budget line, co-financing, attachment hash and approval) and its SHA-256
    are written once and never change; the final PDF is rendered from the snapshot only.
    A resubmission is a new row; the latest one not withdrawn is the one that counts."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("application_id", "number"),
                      Index("ix_submission_application_status", "application_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="current")  # current/withdrawn
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    requested_amount: Mapped[int | None] = mapped_column(BigInteger)
    # The final PDF/A and the reading copy, once the background job has rendered them.
    final_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    reading_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    submitted_by = relationship("User", lazy="joined")
    final_document = relationship("Document", foreign_keys=[final_document_id], lazy="raise")
    reading_document = relationship("Document", foreign_keys=[reading_document_id],
                                    lazy="raise")

    @property
    def counts(self) -> bool:
        return self.status == "current"

    def __repr__(self) -> str:
        return f"<Submission {self.id} app={self.application_id} #{self.number} {self.status}>"


FROZEN = ("snapshot", "sha256", "application_id", "number", "submitted_at", "requested_amount")


@event.listens_for(Submission, "before_update")
def _frozen(_mapper, _connection, target: Submission) -> None:
    """The copy of record cannot be rewritten through the ORM."""
    state = inspect(target)
    for name in FROZEN:
        if state.attrs[name].history.has_changes():
            raise ValueError(f"submission {target.id}: '{name}' is frozen once submitted")


class SubmissionDocument(db.Model):
    """A document of record that belongs to one submission, fixed when it is frozen: the
    steering group's minutes and the partners' co-financing certificates made before the
    freeze (the archival PDF and the reading copy are named on the submission itself). Named
    by kind and fingerprint, which identify one document of the application even when its
    render finishes after the freeze. The dossier holds exactly these."""

    __tablename__ = "submission_document"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)      # minutes/certificate
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)

    def __repr__(self) -> str:
        return f"<SubmissionDocument {self.submission_id} {self.kind} {self.fingerprint[:12]}>"


# --- frozen in the database --------------------------------------------------------------------
# Triggers refuse what the ORM guard above refuses, for any client: changing a submission's
# frozen columns (its documents may be set once, from none), deleting a submission, changing
# or deleting a row of `submission_document`, and changing or deleting a document that belongs
# to a submission. Status and withdrawal stay writable. Messages say "frozen"; both databases
# report an integrity error.
_FROZEN_SQLITE = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in (
    "id", "application_id", "number", "submitted_at", "submitted_by_id", "snapshot", "sha256",
    "requested_amount"))
_FROZEN_PG = " OR ".join(f"NEW.{c}{cast} IS DISTINCT FROM OLD.{c}{cast}" for c, cast in (
    ("id", ""), ("application_id", ""), ("number", ""), ("submitted_at", ""),
    ("submitted_by_id", ""), ("snapshot", "::text"), ("sha256", ""), ("requested_amount", "")))
_SET_ONCE = ("(OLD.final_document_id IS NOT NULL AND NEW.final_document_id IS {ne} "
             "OLD.final_document_id) OR (OLD.reading_document_id IS NOT NULL AND "
             "NEW.reading_document_id IS {ne} OLD.reading_document_id)")
_OF_RECORD = ("EXISTS (SELECT 1 FROM submission s WHERE s.final_document_id = OLD.id OR "
              "s.reading_document_id = OLD.id) OR EXISTS (SELECT 1 FROM submission_document d "
              "WHERE d.application_id = OLD.application_id AND d.kind = OLD.kind AND "
              "d.fingerprint = OLD.fingerprint)")

FROZEN_DDL = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS submission_frozen_update BEFORE UPDATE ON submission "
        f"WHEN {_FROZEN_SQLITE} OR {_SET_ONCE.format(ne='NOT')} "
        f"BEGIN SELECT RAISE(ABORT, 'submission is frozen once submitted: UPDATE refused'); END",
        "CREATE TRIGGER IF NOT EXISTS submission_frozen_delete BEFORE DELETE ON submission "
        "BEGIN SELECT RAISE(ABORT, 'submission is frozen once submitted: DELETE refused'); END",
        "CREATE TRIGGER IF NOT EXISTS submission_document_no_update BEFORE UPDATE ON "
        "submission_document BEGIN SELECT RAISE(ABORT, 'submission_document is append-only: "
        "UPDATE refused'); END",
        "CREATE TRIGGER IF NOT EXISTS submission_document_no_delete BEFORE DELETE ON "
        "submission_document BEGIN SELECT RAISE(ABORT, 'submission_document is append-only: "
        "DELETE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS document_frozen_update BEFORE UPDATE ON document "
        f"WHEN {_OF_RECORD} BEGIN SELECT RAISE(ABORT, 'document of a submission is frozen: "
        f"UPDATE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS document_frozen_delete BEFORE DELETE ON document "
        f"WHEN {_OF_RECORD} BEGIN SELECT RAISE(ABORT, 'document of a submission is frozen: "
        f"DELETE refused'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION grants_submission_frozen() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'submission % is frozen once "
        "submitted: DELETE refused', OLD.id USING ERRCODE = 'restrict_violation'; END IF; "
        f"IF {_FROZEN_PG} OR {_SET_ONCE.format(ne='DISTINCT FROM')} THEN RAISE EXCEPTION "
        "'submission % is frozen once submitted: UPDATE refused', OLD.id USING ERRCODE = "
        "'restrict_violation'; END IF; RETURN NEW; END $$",
        "CREATE OR REPLACE FUNCTION grants_document_frozen() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN IF {_OF_RECORD} THEN RAISE EXCEPTION 'document % of a submission is "
        "frozen: % refused', OLD.id, TG_OP USING ERRCODE = 'restrict_violation'; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
        "CREATE OR REPLACE FUNCTION grants_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'restrict_violation'; END $$",
        "DROP TRIGGER IF EXISTS submission_frozen ON submission",
        "CREATE TRIGGER submission_frozen BEFORE UPDATE OR DELETE ON submission FOR EACH ROW "
        "EXECUTE FUNCTION grants_submission_frozen()",
        "DROP TRIGGER IF EXISTS submission_document_frozen ON submission_document",
        "CREATE TRIGGER submission_document_frozen BEFORE UPDATE OR DELETE ON "
        "submission_document FOR EACH ROW EXECUTE FUNCTION grants_append_only()",
        "DROP TRIGGER IF EXISTS document_frozen ON document",
        "CREATE TRIGGER document_frozen BEFORE UPDATE OR DELETE ON document FOR EACH ROW "
        "EXECUTE FUNCTION grants_document_frozen()",
    ],
}

# Every table exists when the last of them is created (submission_document refers to both).
for _dialect, _statements in FROZEN_DDL.items():
    for _statement in _statements:
        event.listen(SubmissionDocument.__table__, "after_create",
                     DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


class FunderDecision(db.Model):
    """The funder's answer to a submission, recorded by the lead or a coordinator from its
    letter: granted or rejected (an application), accepted or returned for completion (a
    report). One per submission; a returned report sent again gets an answer of its own.
    A grant starts the project: its period, the amount and the decision's conditions."""

    __tablename__ = "funder_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    outcome: Mapped[str] = mapped_column(String(20))   # granted/rejected/accepted/returned
    granted_amount: Mapped[int | None] = mapped_column(BigInteger)
    # What the funder paid out with its answer (an accepted payment claim).
    paid_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    project_start: Mapped[date | None] = mapped_column(Date, default=None)
    project_end: Mapped[date | None] = mapped_column(Date, default=None)
    conditions: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The funder's comment (what to complete, for a returned report).
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    decision_date: Mapped[date] = mapped_column(Date)
    funder_reference: Mapped[str] = mapped_column(String(100), default="")
    letter_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FunderDecision app={self.application_id} {self.outcome}>"
