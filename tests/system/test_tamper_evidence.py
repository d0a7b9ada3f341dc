"""Tamper-evident at the database: triggers refuse UPDATE and DELETE of audit rows, of frozen
submissions and of the documents that belong to a submission, whoever sends the SQL; the audit
log is a hash chain that `flask --app wsgi audit verify` walks, naming the first row that was
changed behind the app's back. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from grants.applications.models import Application
from grants.audit import GENESIS, AuditEvent, audit, chain_sha256, content_sha256
from grants.canonical import fingerprint
from grants.db import db, utcnow
from grants.documents.models import Document
from grants.jobs.models import Job, JobStatus
from grants.submissions.models import Submission, SubmissionDocument
from tests.factories import FULL_ANSWERS, lead_signs


def raw(sql: str, **params):
    """One statement on a connection of its own: another client, not the app's session."""
    with db.engine.begin() as connection:
        return connection.execute(text(sql), params)


def refused(sql: str, word: str, **params) -> None:
    with pytest.raises(sa.exc.IntegrityError, match=word):
        raw(sql, **params)


def as_attacker(table: str, sql: str, **params) -> None:
    """What an attacker with owner rights can do: switch the table's triggers off, change a
    row, switch them on again."""
    db.session.rollback()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            connection.execute(text(sql), params)
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            triggers = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": table}).all()
            assert triggers
            for name, _sql in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
            connection.execute(text(sql), params)
            for _name, statement in triggers:
                connection.execute(text(statement))


def edits(browser, application, count: int) -> list[AuditEvent]:
    for version in range(1, count + 1):
        assert browser.post(f"/applications/{application.id}/sections/aims", {
            "aims": f"Mål {version}", "version": str(version)}).status_code == 303
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


@pytest.fixture
def submitted(world, login_as, run_worker):
    """An application submitted through the app, its archival PDF and reading copy made, with
    minutes made before the freeze."""
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    minutes = pdf_document(application, "minutes", "protokollsutdrag.pdf", b"%PDF-minutes")
    db.session.add(job_for(application, "render_minutes", "minutes", minutes, round_id=1))
    db.session.commit()
    lead_signs(application)  # the lead organisation's signature, which `submit` requires
    lead = login_as("lead@demo.test")
    db.session.refresh(application)
    lead.post(f"/applications/{application.id}/transitions/submit",
              {"state_version": str(application.state_version), "comment": ""})
    run_worker()
    submission = db.session.scalar(select(Submission))
    assert submission.final_document_id and submission.reading_document_id
    return submission


def pdf_document(application, kind: str, filename: str, content: bytes) -> Document:
    document = Document(application_id=application.id, kind=kind,
                        fingerprint=hashlib.sha256(content).hexdigest(), filename=filename,
                        size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                        content=content)
    db.session.add(document)
    db.session.flush()
    return document


def job_for(application, job_kind: str, kind: str, document: Document, **payload):
    return Job(kind=job_kind, application_id=application.id, status=JobStatus.done,
               payload={"kind": kind, **payload}, fingerprint=document.fingerprint,
               document_id=document.id, started_at=utcnow(), finished_at=utcnow())


# --- triggers ----------------------------------------------------------------------------------
def test_the_database_refuses_to_change_or_remove_audit_rows(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    [event] = edits(login_as("lead@demo.test"), application, 1)
    refused("UPDATE audit_event SET after = NULL WHERE id = :id", "append-only", id=event.id)
    refused("UPDATE audit_event SET action = 'x'", "append-only")
    refused("DELETE FROM audit_event WHERE id = :id", "append-only", id=event.id)
    refused("DELETE FROM audit_event", "append-only")
    # Adding goes on.
    raw("INSERT INTO audit_event (action, object_type, created_at, content_sha256, "
        "chain_sha256) VALUES ('x', 'y', :now, :h, :h)", now=utcnow(), h="0" * 64)
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).after == {"section": "aims", "aims": "Mål 1"}
    assert db.session.scalar(select(sa.func.count(AuditEvent.id))) == 2


def test_the_database_refuses_to_change_a_frozen_submission(app, submitted):
    for column, value in (("snapshot", '{"application": {}}'), ("sha256", "f" * 64),
                          ("number", 7), ("requested_amount", 1), ("application_id", 999),
                          ("submitted_at", utcnow()), ("submitted_by_id", None)):
        refused(f"UPDATE submission SET {column} = :v WHERE id = :id", "frozen",
                v=value, id=submitted.id)
    # Its documents are named once, never replaced.
    refused("UPDATE submission SET final_document_id = reading_document_id WHERE id = :id",
            "frozen", id=submitted.id)
    refused("UPDATE submission SET reading_document_id = NULL WHERE id = :id", "frozen",
            id=submitted.id)
    refused("DELETE FROM submission WHERE id = :id", "frozen", id=submitted.id)
    # What legitimately changes after the freeze still can: withdrawing it.
    raw("UPDATE submission SET status = 'withdrawn', withdrawn_reason = 'Fel bilaga', "
        "withdrawn_at = :now WHERE id = :id", now=utcnow(), id=submitted.id)
    db.session.expire_all()
    row = db.session.get(Submission, submitted.id)
    assert (row.status, row.withdrawn_reason) == ("withdrawn", "Fel bilaga")
    assert row.sha256 == fingerprint(row.snapshot)


def test_the_database_refuses_to_change_the_documents_of_a_submission(app, submitted):
    application_id = submitted.application_id
    frozen = [submitted.final_document_id, submitted.reading_document_id]
    frozen += [d.id for d in db.session.scalars(select(Document).where(
        Document.kind == "minutes"))]
    assert len(frozen) == 3
    for document_id in frozen:
        refused("UPDATE document SET content = :c WHERE id = :id", "frozen", c=b"%PDF-fake",
                id=document_id)
        refused("UPDATE document SET sha256 = :s WHERE id = :id", "frozen", s="0" * 64,
                id=document_id)
        refused("DELETE FROM document WHERE id = :id", "frozen", id=document_id)
    [link] = db.session.scalars(select(SubmissionDocument)).all()
    refused("UPDATE submission_document SET fingerprint = :f", "append-only", f="0" * 64)
    refused("DELETE FROM submission_document", "append-only")
    # A draft preview belongs to no submission: it may go.
    db.session.rollback()
    application = db.session.get(Application, application_id)
    preview = pdf_document(application, "preview", "utkast.pdf", b"%PDF-draft")
    db.session.commit()
    raw("DELETE FROM document WHERE id = :id", id=preview.id)
    assert db.session.scalar(select(sa.func.count(Document.id)).where(
        Document.kind == "preview")) == 0
    assert link.kind == "minutes"
    # Deleting the application cannot take its copy of record with it (a cascade on
    # PostgreSQL is refused by the triggers; SQLite cascades nothing).
    if db.engine.dialect.name == "postgresql":
        refused("DELETE FROM application WHERE id = :id", "frozen", id=application_id)
    else:
        raw("DELETE FROM application WHERE id = :id", id=application_id)
    db.session.expire_all()
    assert db.session.get(Submission, submitted.id) is not None
    assert all(db.session.get(Document, i) is not None for i in frozen)


def test_the_orm_guards_stay(app, submitted):
    submitted.sha256 = "f" * 64
    with pytest.raises(ValueError, match="frozen"):
        db.session.commit()
    db.session.rollback()


# --- the hash chain ----------------------------------------------------------------------------
def test_each_audit_row_is_hashed_onto_the_chain(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    rows = edits(login_as("lead@demo.test"), application, 3)
    assert len(rows) == 3
    head = GENESIS
    for row in rows:
        assert row.content_sha256 == content_sha256(row)
        head = chain_sha256(head, row.content_sha256)
        assert row.chain_sha256 == head
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: 3 audit rows, the chain is intact (head {head})" in result.output


def test_verify_names_the_row_changed_behind_the_apps_back(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    first, second, third = edits(login_as("lead@demo.test"), application, 3)
    as_attacker("audit_event", "UPDATE audit_event SET after = :a WHERE id = :id",
                a='{"section": "aims", "aims": "förfalskat"}', id=second.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit row {second.id} ({second.created_at.isoformat()}, " \
           f"section.update): its content does not match its hash" in result.output
    assert "The 1 rows before it match" in result.output
    # The trigger is back in place.
    refused("UPDATE audit_event SET action = 'x'", "append-only")


def test_verify_finds_a_row_removed_or_rehashed(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    first, second, third = edits(login_as("lead@demo.test"), application, 3)
    # Removed: the chain breaks at the row after it.
    as_attacker("audit_event", "DELETE FROM audit_event WHERE id = :id", id=second.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit row {third.id}" in result.output and "chain breaks" in result.output


def test_verify_finds_a_row_whose_content_hash_was_recomputed(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    first, second, third = edits(login_as("lead@demo.test"), application, 3)
    forged = AuditEvent(actor_id=first.actor_id, action="section.update",
                        object_type=first.object_type, object_id=first.object_id,
                        before=first.before, after={"aims": "förfalskat"},
                        created_at=first.created_at)
    as_attacker("audit_event", "UPDATE audit_event SET after = :a, content_sha256 = :h "
                "WHERE id = :id", a='{"aims": "förfalskat"}', h=content_sha256(forged),
                id=first.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit row {first.id}" in result.output and "chain breaks" in result.output


def test_parallel_writers_never_fork_the_chain(app, world):
    """Transactions appending at once each chain onto the head the one before committed."""
    writers, per_writer = 6, 3
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for n in range(per_writer):
                    for _attempt in range(50):
                        try:
                            audit(f"test.write{index}", actor_id=None, object_type="test",
                                  object_id=n)
                            db.session.commit()
                            break
                        except sa.exc.OperationalError:  # SQLite: the database was locked
                            db.session.rollback()
                    else:
                        raise AssertionError("never written")
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(sa.func.count(AuditEvent.id))) == writers * per_writer
    chains = db.session.scalars(select(AuditEvent.chain_sha256)).all()
    assert len(set(chains)) == len(chains)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: {writers * per_writer} audit rows" in result.output
