"""CLI commands: demo seed, render, worker, workflow check; embedded Redis; migrations."""

import io
import subprocess
import sys

import pypdf
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.calls.models import Call
from grants.config import PROJECT_ROOT
from grants.db import db
from grants.embedded_redis import EmbeddedRedis
from grants.jobs.models import Job, JobStatus
from grants.organisations.models import Organisation
from tests.factories import FULL_ANSWERS, JOINT_VERSION


def test_demo_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Created" in first.output
    counts = [db.session.scalar(select(func.count(m.id))) for m in (Organisation, User, Call,
                                                                    Application)]
    # Four applications (the ESF project's also at the region, linked with it: reuse), and
    # the nine documents the granted ESF project owes.
    assert counts[0] == 32 and counts[1] == 7 and counts[2] == 3 and counts[3] == 13
    assert db.session.scalar(select(func.count(Application.id)).where(
        Application.parent_id.is_(None))) == 4
    from grants.demo import ESF_PROJECT, REGION_PROJECT  # noqa: PLC0415
    from grants.reuse.models import ApplicationLink  # noqa: PLC0415
    linked = {a.title: db.session.get(ApplicationLink, a.id).group_id for a in db.session.scalars(
        select(Application).where(Application.title.in_([ESF_PROJECT, REGION_PROJECT]),
                                  Application.parent_id.is_(None)))}
    assert len(linked) == 2 and len(set(linked.values())) == 1
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "nothing changed" in second.output
    assert [db.session.scalar(select(func.count(m.id))) for m in (Organisation, User, Call,
                                                                   Application)] == counts
    lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    assert lead.check_password("demo-password")
    assert all(c.is_open() for c in db.session.scalars(select(Call)))
    # The second demo application awaits the steering group: one vote cast, the member from
    # Linnéuniversitetet (a partner) recused.
    from grants.approvals.rounds import load_steering_vote  # noqa: PLC0415
    from grants.processes import workflow_for  # noqa: PLC0415
    voting = db.session.scalar(select(Application).where(
        Application.state == "steering_approval"))
    decision = load_steering_vote(voting, workflow_for(voting))
    assert decision.tally.approve == 1 and [m.user.name for m in decision.recused] == \
        ["Karin Nyberg"]
    # … and it is complete, as it must be to have reached the steering group: every required
    # field, the call's budget rules, the partner's confirmation of this very version.
    from grants.applications.guards import missing_fields  # noqa: PLC0415
    from grants.applications.queries import current_partners, load_answers  # noqa: PLC0415
    from grants.budget.operations import budget_summary, load_budget  # noqa: PLC0415
    from grants.budget.totals import rule_problems  # noqa: PLC0415
    from grants.partners.confirmation import (  # noqa: PLC0415
        unconfirmed_problems,
        unsigned_lead_problems,
    )
    from grants.processes import form_for  # noqa: PLC0415
    form, answers, partners = form_for(voting), load_answers(voting.id), current_partners(voting.id)
    with app.test_request_context():
        assert missing_fields(form, answers, [p.id for p in partners]) == []
        assert unconfirmed_problems(voting, form, answers, partners) == []
        # The lead organisation has signed this version: once approved, it can be submitted.
        assert unsigned_lead_problems(voting, form, answers) == []
        assert rule_problems(budget_summary(*load_budget(voting.id)),
                             max_requested=voting.call.max_requested_amount,
                             min_cofinancing_percent=voting.call.min_cofinancing_percent,
                             max_indirect_percent=voting.call.max_indirect_percent,
                             money=str, gettext=lambda text, **values: text % values) == []


def test_demo_seed_refused_outside_demo_mode(app):
    app.config["DEMO_MODE"] = False
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "GRANTS_DEMO=1" in result.output


def test_render_cli_writes_a_valid_pdf(app, world, tmp_path):
    application = world.new_application(answers=FULL_ANSWERS)
    out = tmp_path / "ansokan.pdf"
    result = app.test_cli_runner().invoke(
        args=["applications", "render", str(application.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Läslyftet i sydost – åäö" in text and "UTKAST" in text
    missing = app.test_cli_runner().invoke(args=["applications", "render", "999", "--out",
                                                 str(out)])
    assert missing.exit_code != 0 and "No application 999" in missing.output


def test_worker_command_processes_queue_in_burst_mode(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    login_as("lead@demo.test").post(f"/applications/{application.id}/preview")
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.done and job.document_id


def test_workflow_check_reports_file_and_line(app, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text((PROJECT_ROOT / "workflows" / "joint_application.yaml").read_text()
                   .replace("    from: [steering_approval]\n    to: approved",
                            "    form: [steering_approval]\n    to: approved"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["workflow", "check", str(bad)])
    assert result.exit_code == 1
    assert "broken.yaml:" in result.output and "unknown key 'form'" in result.output
    assert "Did you mean 'from'?" in result.output
    good = runner.invoke(args=["workflow", "check"])
    assert good.exit_code == 0 and f"joint_application v{JOINT_VERSION}" in good.output


def test_embedded_redis_starts_and_leaves_no_process(tmp_path):
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    pid = server.process.pid
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.close()
    server.stop()
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0


def test_embedded_redis_dies_with_its_parent(tmp_path):
    code = ("import sys, time; from pathlib import Path; from grants.embedded_redis import "
            "EmbeddedRedis; s = EmbeddedRedis(Path(sys.argv[1])); s.start(); "
            "print(s.process.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              cwd=PROJECT_ROOT, text=True)
    pid = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: no atexit, no cleanup
    parent.wait()
    parent.stdout.close()
    import time
    for _ in range(100):
        if subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("embedded redis-server outlived its parent")


def test_migrations_match_the_models(tmp_path):
    """`flask db upgrade` on an empty database gives exactly the schema the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from grants import create_app
    from grants.search.models import is_derived_schema_object
    from tests.conftest import make_settings
    database_url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app(settings=make_settings(tmp_path, database_url, "redis://unused"))
    with app.app_context():
        from flask_migrate import upgrade
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": lambda name, type_, parent:
                not is_derived_schema_object(name, type_, parent)}), db.metadata)
        assert diff == []
        assert "alembic_version" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_hashes_existing_audit_rows_and_guards_the_tables(tmp_path, redis_url,
                                                                       kind):
    """Upgrading a database that has audit rows hashes them onto the chain in id order and
    creates the triggers; downgrading removes them again."""
    import uuid

    from flask_migrate import downgrade, upgrade

    from grants import create_app
    from grants.audit import verify_chain
    from tests.conftest import TEST_DATABASE_URL, make_settings
    admin = None
    if kind == "postgresql":
        if not TEST_DATABASE_URL:
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
        from grants.config import _normalise_database_url
        admin_url = sa.make_url(_normalise_database_url(TEST_DATABASE_URL))
        name = f"grants_migrate_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app(settings=make_settings(tmp_path, url, redis_url))
    directory = str(PROJECT_ROOT / "migrations")
    try:
        with app.app_context():
            upgrade(directory=directory, revision="c4e1a9d2b7f3")
            with db.engine.begin() as conn:
                for i in range(3):
                    conn.execute(sa.text(
                        "INSERT INTO audit_event (action, object_type, object_id, before, after,"
                        " created_at) VALUES (:a, 'application', :i, NULL, :after, :t)"),
                        {"a": f"section.update{i}", "i": i, "after": f'{{"aims": "Mål {i} %"}}',
                         "t": f"2026-01-0{i + 1}T10:00:00.123456+00:00"})
            upgrade(directory=directory)
            report = verify_chain()
            assert report.ok and report.rows == 3
            db.session.remove()
            with pytest.raises(sa.exc.IntegrityError, match="append-only"), \
                    db.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM audit_event"))
            downgrade(directory=directory, revision="c4e1a9d2b7f3")
            with db.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM audit_event WHERE object_id = 0"))
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
