"""Backup and restore: `flask export` from a SQLite database, `flask import` into an empty one –
PostgreSQL when TEST_DATABASE_URL is set, else another SQLite file – moves every row of every
table, and every stored file with an identical SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from grants import create_app
from grants.applications.models import TransitionRecord
from grants.audit import AuditEvent
from grants.budget.models import BudgetLine
from grants.canonical import fingerprint
from grants.db import db, utcnow
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job, JobStatus
from grants.notifications.models import Notification
from grants.search.indexing import rebuild_index
from grants.submissions.models import FunderDecision, Submission, SubmissionDocument
from grants.webhooks.models import WebhookAttempt
from grants.webhooks.operations import create_endpoint, record_event
from tests.conftest import TEST_DATABASE_URL, make_settings
from tests.factories import FULL_ANSWERS, build_world

EVERY_BYTE = bytes(range(256)) * 64 + os.urandom(4096)


def _fill(app) -> None:
    """Data of every kind a column can hold: text with å ä ö and odd characters, JSON (nested,
    JSON null, SQL NULL), bytes, aware datetimes, dates, enums, booleans, big integers."""
    world = build_world()
    application = world.new_application(answers=dict(FULL_ANSWERS, summary={
        "summary": "Åsa & Örjan: \"citat\" <b>inte html</b> \u2028 emoji 📚 \\ slut"}))
    lead = world.user("lead")
    db.session.add_all([
        TransitionRecord(application_id=application.id, transition="send_to_partners",
                         from_state="draft", to_state="partner_confirmation", actor_id=lead.id,
                         comment="Skickas vidare."),
        Document(application_id=application.id, kind="final", fingerprint="a" * 64,
                 filename="ansökan.pdf", size=len(EVERY_BYTE),
                 sha256=hashlib.sha256(EVERY_BYTE).hexdigest(), content=EVERY_BYTE),
        Document(application_id=application.id, kind="empty", fingerprint="b" * 64,
                 filename="tom.pdf", size=0, sha256=hashlib.sha256(b"").hexdigest(),
                 content=b""),
        Attachment(application_id=application.id, field_id="letter", filename="brev.pdf",
                   kind="pdf", mime_type="application/pdf", size=7, content=b"%PDF-1\x00",
                   sha256=hashlib.sha256(b"%PDF-1\x00").hexdigest(), uploaded_by_id=lead.id),
        BudgetLine(application_id=application.id, organisation_id=world.orgs["kalmar"].id,
                   category="personnel", year=2027, description="Projektledare 50 %",
                   amount=999_999_999_999),
        Job(kind="render_application", application_id=application.id, status=JobStatus.done,
            payload={"kind": "preview", "nested": {"list": [1, None, "två"]}},
            started_at=utcnow(), finished_at=utcnow()),
        AuditEvent(actor_id=lead.id, action="section.update", object_type="application",
                   object_id=application.id, before=None, after={"summary": "ny"}),
        Notification(user_id=lead.id, application_id=application.id, kind="x", subject="Hej",
                     body="", link="/"),
    ])
    db.session.flush()
    final = db.session.scalar(sa.select(Document).where(Document.kind == "final"))
    snapshot = {"application": {"id": application.id, "title": "Läsfrämjande"},
                "list": [1, None, "två"]}
    submission = Submission(application_id=application.id, number=1, submitted_by_id=lead.id,
                            snapshot=snapshot, sha256=fingerprint(snapshot),
                            requested_amount=250_000, final_document_id=final.id)
    db.session.add(submission)
    db.session.flush()
    db.session.add(SubmissionDocument(submission_id=submission.id, kind="empty",
                                      fingerprint="b" * 64, application_id=application.id))
    db.session.add(FunderDecision(application_id=application.id, outcome="granted",
                                  granted_amount=450_000, decision_date=date(2027, 6, 1),
                                  funder_reference="KUR 2027/123", recorded_by_id=lead.id))
    # Webhooks: an endpoint (its secret encrypted), a delivery of an event and its attempt.
    endpoint, _secret = create_endpoint(url="https://diariet.example/hook", description="Diariet",
                                        events=["decision.recorded"], active=True, actor=lead)
    delivery = record_event("decision.recorded", application.id, {"outcome": "granted"})[0]
    db.session.add(WebhookAttempt(delivery_id=delivery.id, number=1, outcome="retry",
                                  http_status=503, response_excerpt="<b>upptagen</b> å",
                                  error="HTTP 503", next_retry_at=utcnow()))
    rebuild_index()   # the search index: rows of its own, and the database's FTS structures
    db.session.commit()


def _dump(engine: sa.Engine) -> dict[str, list[dict]]:
    """Every row of every table, as comparable plain values."""
    out = {}
    with engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            key = list(table.primary_key.columns)
            rows = connection.execute(sa.select(table).order_by(*key)).mappings().all()
            out[table.name] = [{k: (bytes(v) if isinstance(v, memoryview) else v)
                                for k, v in row.items()} for row in rows]
    return out


@pytest.fixture
def source(tmp_path, redis_url):
    """A SQLite database full of data, with its app."""
    app = create_app(settings=make_settings(tmp_path / "source",
                                            f"sqlite:///{tmp_path / 'source.sqlite3'}",
                                            redis_url))
    with app.app_context():
        db.create_all()
        _fill(app)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def new_database(tmp_path, redis_url):
    """Makes empty databases with the schema (and its triggers), each with its app:
    `new_database("postgresql")` a new database on the TEST_DATABASE_URL server, dropped
    afterwards; `new_database("sqlite")` a new SQLite file."""
    made: list = []

    def make(kind: str):
        name = f"grants_restore_{uuid.uuid4().hex[:10]}"
        if kind == "postgresql":
            from grants.config import _normalise_database_url
            admin_url = sa.make_url(_normalise_database_url(TEST_DATABASE_URL))
            admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = admin_url.set(database=name).render_as_string(hide_password=False)
        else:
            admin, url = None, f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        app = create_app(settings=make_settings(tmp_path / name, url, redis_url))
        with app.app_context():
            db.create_all()
            db.session.remove()
        made.append((app, admin, name))
        return app

    yield make
    for app, admin, name in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def empty_target(new_database):
    """An empty database with the schema: PostgreSQL when TEST_DATABASE_URL is set, else a new
    SQLite file."""
    return new_database("postgresql" if TEST_DATABASE_URL else "sqlite")


def test_export_and_import_move_every_row_and_file_unchanged(source, empty_target, tmp_path):
    backup = tmp_path / "backup.zip"
    result = source.test_cli_runner().invoke(args=["export", "--out", str(backup)])
    assert result.exit_code == 0, result.output
    assert "stored files (SHA-256 checked)" in result.output

    with zipfile.ZipFile(backup) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [t["name"] for t in manifest["tables"]] == [t.name for t in
                                                           db.metadata.sorted_tables]
    with source.app_context():
        before = _dump(db.engine)
        for entry in manifest["tables"]:
            assert entry["rows"] == len(before[entry["name"]])
        source_files = {(f["table"], f["id"]): f["sha256"] for f in manifest["files"]}
        assert source_files[("document", 1)] == hashlib.sha256(EVERY_BYTE).hexdigest()

    result = empty_target.test_cli_runner().invoke(args=["import", str(backup)])
    assert result.exit_code == 0, result.output
    assert f"data SHA-256 {manifest['data_sha256']}" in result.output
    assert f"Audit chain: OK, {len(before['audit_event'])} rows" in result.output
    with empty_target.app_context():
        after = _dump(db.engine)
        for name, rows in before.items():
            assert after[name] == rows, name
        assert sum(len(rows) for rows in after.values()) > 30
        # Every stored file, byte for byte.
        for document in db.session.scalars(sa.select(Document)):
            assert hashlib.sha256(document.content).hexdigest() == document.sha256 == \
                source_files[("document", document.id)]
        # JSON null and SQL NULL stay what they were.
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.before.is_(None))) == _sql_nulls(source, AuditEvent.before)
        # New rows continue after the imported ids (the PostgreSQL sequences moved on).
        db.session.add(AuditEvent(actor_id=None, action="after.import", object_type="x",
                                  object_id=None, before=None, after=None))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) == \
            len(before["audit_event"]) + 1

    # A database that is not empty is refused, and nothing changes in it.
    result = empty_target.test_cli_runner().invoke(args=["import", str(backup)])
    assert result.exit_code != 0 and "not empty" in result.output


def _sql_nulls(app, column) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(column.is_(None)))


def test_damaged_backup_is_refused_and_imports_nothing(source, empty_target, tmp_path):
    backup, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    assert source.test_cli_runner().invoke(args=["export", "--out", str(backup)]).exit_code == 0
    with zipfile.ZipFile(backup) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "tables/document.jsonl":
                # One byte of one stored file changed (the row's sha256 left as it was).
                rows = [json.loads(line) for line in data.splitlines()]
                import base64
                content = bytearray(base64.b64decode(rows[0]["content"]))
                content[10] ^= 0xFF
                rows[0]["content"] = base64.b64encode(bytes(content)).decode()
                data = b"".join(json.dumps(r, ensure_ascii=False, sort_keys=True,
                                           separators=(",", ":")).encode() + b"\n"
                                for r in rows)
            copy.writestr(item, data)
    result = empty_target.test_cli_runner().invoke(args=["import", str(damaged)])
    assert result.exit_code != 0
    assert "does not match its SHA-256" in result.output or "damaged" in result.output
    with empty_target.app_context():
        assert all(not rows for rows in _dump(db.engine).values())  # all or nothing

    not_a_backup = tmp_path / "x.zip"
    not_a_backup.write_bytes(b"PK\x03\x04 nope")
    result = empty_target.test_cli_runner().invoke(args=["import", str(not_a_backup)])
    assert result.exit_code != 0 and "not a grants backup" in result.output


def test_timestamps_survive_with_their_moment(source, empty_target, tmp_path):
    backup = tmp_path / "backup.zip"
    with source.app_context():
        moment = db.session.scalar(sa.select(Job.started_at))
    assert source.test_cli_runner().invoke(args=["export", "--out", str(backup)]).exit_code == 0
    assert empty_target.test_cli_runner().invoke(args=["import", str(backup)]).exit_code == 0
    with empty_target.app_context():
        restored = db.session.scalar(sa.select(Job.started_at))
    assert restored == moment and restored.utcoffset() == timedelta(0)


def export(app, path) -> tuple[str, dict[str, str]]:
    """Export `app`'s database to `path`: the data SHA-256 it prints, and each table's."""
    result = app.test_cli_runner().invoke(args=["export", "--out", str(path)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert f"data SHA-256 {manifest['data_sha256']}" in result.output
    return manifest["data_sha256"], {t["name"]: t["sha256"] for t in manifest["tables"]}


def load(app, path) -> None:
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Audit chain: OK" in result.output


def assert_guarded(app) -> None:
    """The triggers are in place after an import: the audit log and the frozen submission with
    its document refuse changes, whoever asks."""
    with app.app_context():
        for statement, word in (("UPDATE audit_event SET action = 'x'", "append-only"),
                                ("DELETE FROM audit_event", "append-only"),
                                ("UPDATE submission SET sha256 = 'x'", "frozen"),
                                ("DELETE FROM submission", "frozen"),
                                ("UPDATE document SET content = NULL WHERE kind = 'final'",
                                 "frozen"),
                                ("DELETE FROM submission_document", "append-only")):
            with pytest.raises(sa.exc.IntegrityError, match=word), \
                    db.engine.begin() as connection:
                connection.execute(sa.text(statement))
        assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_the_export_of_the_same_data_is_the_same_on_every_database(source, new_database,
                                                                   tmp_path):
    """SQLite → SQLite → SQLite: the exported data has one SHA-256, table by table."""
    first_sha, first_tables = export(source, tmp_path / "1.zip")
    again_sha, _again = export(source, tmp_path / "again.zip")
    assert again_sha == first_sha  # deterministic
    copy = new_database("sqlite")
    load(copy, tmp_path / "1.zip")
    assert export(copy, tmp_path / "2.zip") == (first_sha, first_tables)
    assert_guarded(copy)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_sqlite_to_postgresql_and_back_keeps_every_byte(source, new_database, tmp_path):
    """SQLite → PostgreSQL → SQLite: each export has the same data SHA-256, every table the
    same SHA-256; the audit chain verifies and the triggers guard each copy."""
    sqlite_sha, sqlite_tables = export(source, tmp_path / "from-sqlite.zip")
    postgres = new_database("postgresql")
    load(postgres, tmp_path / "from-sqlite.zip")
    assert_guarded(postgres)
    postgres_sha, postgres_tables = export(postgres, tmp_path / "from-postgresql.zip")
    assert postgres_tables == sqlite_tables
    assert postgres_sha == sqlite_sha
    back = new_database("sqlite")
    load(back, tmp_path / "from-postgresql.zip")
    assert_guarded(back)
    assert export(back, tmp_path / "back.zip") == (sqlite_sha, sqlite_tables)
    with source.app_context():
        before = _dump(db.engine)
    with back.app_context():
        assert _dump(db.engine) == before
