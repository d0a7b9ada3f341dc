"""Forms are pinned like workflows: an application keeps the form version it started on when
the file changes; a coordinator moves it to the current version after seeing what changes."""

import re
import shutil
import textwrap
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from grants import DefinitionError, create_app
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.applications.queries import current_partners, load_answers
from grants.audit import AuditEvent
from grants.config import PROJECT_ROOT, _normalise_database_url
from grants.db import db, utcnow
from grants.definitions.models import DefinitionVersion
from grants.partners.confirmation import confirm, partner_fingerprint
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from grants.processes import form_for, get_form, pin_form, sha256_text, workflow_for
from tests.conftest import TEST_DATABASE_URL, Browser, make_settings
from tests.factories import FULL_ANSWERS, build_world, make_user, name_signatory

RISKS = textwrap.indent(textwrap.dedent("""\
    - key: risks
      title: {sv: Risker, en: Risks}
      fields:
        - id: risks
          type: longtext
          required: true
          label: {sv: Risker och hur de hanteras, en: Risks and how they are handled}
    """), "  ")


def release_2(text: str) -> str:
    """Release 2 of the standard form: "time_plan" is gone, a required "risks" section is new."""
    start = text.index("  - key: time_plan")
    end = text.index("  - key: expected_results")
    return (text[:start] + text[end:]).replace("version: 1", "version: 2") + RISKS


@pytest.fixture
def next_release(app, tmp_path, redis_url):
    """build(edit) → a second app on the same database whose standard form differs."""
    directory = tmp_path / "next-workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    built = []

    def build(edit=release_2):
        path = directory / "forms" / "standard.yaml"
        path.write_text(edit(path.read_text()))
        built.append(create_app(settings=make_settings(
            tmp_path / f"next{len(built)}", app.config["SQLALCHEMY_DATABASE_URI"], redis_url,
            workflows_path=directory)))
        return built[-1]
    yield build
    for next_app in built:
        with next_app.app_context():
            db.session.remove()
            db.engine.dispose()


def english(world, *keys) -> None:
    for key in keys:
        world.user(key).locale = "en"
    db.session.commit()


def browser(app, email: str) -> Browser:
    client = Browser(app)
    client.login(email)
    return client


def test_each_text_of_a_form_is_one_version(world):
    form = get_form("standard")
    assert pin_form(form) == pin_form(form) == form.version == 1
    application = world.new_application()
    assert application.form_version == 1
    assert db.session.scalar(select(func.count(DefinitionVersion.id)).where(
        DefinitionVersion.kind == "form", DefinitionVersion.name == "standard")) == 1
    stored = db.session.scalar(select(DefinitionVersion).where(DefinitionVersion.kind == "form"))
    assert (stored.source, stored.sha256) == (form.source_text, sha256_text(form.source_text))
    # A changed text without a version bump is a version of its own, with the next number.
    changed = type(form)(form.name, form.title, form.version, form.sections,
                         source_text=form.source_text + "# changed\n")
    assert pin_form(changed) == 2
    assert pin_form(form) == 1


def test_application_keeps_its_form_version_after_the_file_changes(next_release, world):
    english(world, "lead")
    application_id = world.new_application(answers=FULL_ANSWERS).id
    next_app = next_release()
    with next_app.app_context():
        lead = browser(next_app, "lead@demo.test")
        page = lead.get(f"/applications/{application_id}/sections").get_data(as_text=True)
        assert "Hösten 2027 – våren 2029." in page   # the time plan is part of its form
        assert "no longer part of the form" not in page and "Risks" not in page
        page = lead.get(f"/applications/{application_id}").get_data(as_text=True)
        assert "Nothing is missing" in page
        assert ("This application uses version 1 of its form, the version it started on; the "
                "current version is 2.") in page
        assert "/form-version" not in page           # only a coordinator may move it
        # It validates against its own version: time_plan saves, risks is no section of it.
        assert lead.post(f"/applications/{application_id}/sections/time_plan",
                         {"time_plan": "Våren 2028.", "version": "1"}).status_code == 303
        assert lead.post(f"/applications/{application_id}/sections/risks",
                         {"risks": "Inga", "version": "0"}).status_code == 404
        export = lead.get(f"/applications/{application_id}/export.json").get_json(force=True)
        assert export["snapshot"]["removed_fields"] == []
        assert db.session.get(Application, application_id).form_version == 1
        assert form_for(db.session.get(Application, application_id)).section("risks") is None
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert result.exit_code == 0, result.output
        assert (f"1 application(s) use form 'standard' v1 (current v2): {application_id} "
                f"“Läslyftet i sydost – åäö”") in result.output
        db.session.remove()


def test_new_applications_start_on_the_current_form_version(next_release, world):
    # Plain ids: the first app's objects must not be loaded inside the second app's context.
    call_id, organisation_id = world.call.id, world.orgs["kalmar"].id
    next_app = next_release()
    with next_app.app_context():
        lead = browser(next_app, "lead@demo.test")
        created = lead.post("/applications/new", {
            "call_id": str(call_id), "organisation_id": str(organisation_id),
            "title": "Ny ansökan", "language": "sv"})
        assert created.status_code in (302, 303), created.get_data(as_text=True)
        application = db.session.scalar(select(Application).where(
            Application.title == "Ny ansökan"))
        assert application.form_version == 2
        assert form_for(application).section("risks") is not None
        stored = db.session.scalar(select(DefinitionVersion).where(
            DefinitionVersion.kind == "form", DefinitionVersion.version == 2))
        assert "key: risks" in stored.source
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert "use form 'standard'" not in result.output
        db.session.remove()


def test_coordinator_sees_what_the_move_changes_and_moves_it(next_release, world):
    english(world, "lead", "coordinator")
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    partner_user = world.user("other_lead")
    partner = ApplicationPartner(application_id=application.id,
                                 organisation_id=world.orgs["vaxjo"].id,
                                 contact_name=partner_user.name, contact_email=partner_user.email,
                                 contact_user_id=partner_user.id, status="active")
    db.session.add(partner)
    # The partner's contact is its organisation's authorised signatory.
    name_signatory(application, world.orgs["vaxjo"].id, partner_user)
    db.session.commit()
    form, answers = form_for(application), load_answers(application.id)
    confirm(actor=partner_user, application=application, roles={"partner"},
            workflow=workflow_for(application), form=form, answers=answers, partner=partner,
            shown_fingerprint=partner_fingerprint(application, form, answers, partner))
    make_user("outsider@demo.test", "Ulla Utsikt", world.orgs["lnu"])
    db.session.commit()
    application_id, partner_id = application.id, partner.id
    url = f"/applications/{application_id}/form-version"

    next_app = next_release()
    with next_app.app_context():
        # Only a coordinator: to the lead as to an outsider, there is no such page.
        lead = browser(next_app, "lead@demo.test")
        assert lead.get(url).status_code == 404
        assert lead.post(url, {"from_version": "1", "to_sha256": "0" * 64,
                               "comment": "x"}).status_code == 404
        assert browser(next_app, "outsider@demo.test").get(url).status_code == 404
        coordinator = browser(next_app, "coordinator@demo.test")
        shown = coordinator.get(f"/applications/{application_id}").get_data(as_text=True)
        assert url in shown
        preview = coordinator.get(url)
        assert preview.status_code == 200
        page = preview.get_data(as_text=True)
        added = page[page.index('id="added-title"'):page.index('id="removed-title"')]
        removed = page[page.index('id="removed-title"'):page.index('id="dropped-title"')]
        dropped = page[page.index('id="dropped-title"'):]
        assert "Section “Risks”" in added and "Risks and how they are handled" in added
        assert "Section “Time plan”" in removed and "Time plan" not in added
        assert "Hösten 2027 – våren 2029." in dropped
        assert "version 1 of the form “standard”; the current version is 2" in page
        token = re.search(r'name="to_sha256" type="hidden" value="([0-9a-f]{64})"', page).group(1)

        # No reason: refused beside the field, nothing moved.
        refused = coordinator.post(url, {"from_version": "1", "to_sha256": token, "comment": ""})
        assert refused.status_code == 400
        assert "Say why the application is moved." in refused.get_data(as_text=True)
        # A preview of other versions than those now in force: refused as stale.
        stale = coordinator.post(url, {"from_version": "1", "to_sha256": "0" * 64,
                                       "comment": "Ny version"}, follow_redirects=True)
        assert "changed since you looked at the changes" in stale.get_data(as_text=True)
        assert db.session.get(Application, application_id).form_version == 1

        moved = coordinator.post(url, {"from_version": "1", "to_sha256": token,
                                       "comment": "Formulärets version 2"})
        assert moved.status_code == 303
        page = coordinator.get(f"/applications/{application_id}/history").get_data(
            as_text=True)
        assert "The application now uses version 2 of its form." in page
        assert "Moved to the current form version" in page
        # Now the new form applies: the old answer is kept apart, the new field is asked for.
        page = coordinator.get(f"/applications/{application_id}/sections").get_data(
            as_text=True)
        assert "Hösten 2027 – våren 2029." in page and "no longer part of the form" in page
        assert "Risks" in page and "1 required field is not filled in yet." in page
        overview = coordinator.get(f"/applications/{application_id}").get_data(as_text=True)
        assert "uses version 1 of its form" not in overview
        export = coordinator.get(f"/applications/{application_id}/export.json").get_json(
            force=True)
        assert {"section": "time_plan", "id": "time_plan",
                "value": "Hösten 2027 – våren 2029."} in export["snapshot"]["removed_fields"]
        # Moving again is not offered: it is on the current version.
        again = coordinator.get(url).get_data(as_text=True)
        assert "already uses the current version of its form (2)" in again
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert "use form 'standard'" not in result.output
        db.session.remove()

    db.session.expire_all()
    assert db.session.get(Application, application_id).form_version == 2
    kept = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == application_id, SectionAnswer.section_key == "time_plan"))
    assert kept.data == FULL_ANSWERS["time_plan"]
    record = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application_id)
        .order_by(TransitionRecord.id.desc())).first()
    assert (record.transition, record.from_state, record.to_state, record.comment) == (
        "form_update", "partner_confirmation", "partner_confirmation", "Formulärets version 2")
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.form_update"))
    assert event.before == {"form": "standard", "version": 1, "answers_no_longer_in_form": {
        "time_plan.time_plan": "Hösten 2027 – våren 2029."}}
    assert event.after["version"] == 2 and event.after["comment"] == "Formulärets version 2"
    assert event.after["changes"]["sections_added"] == ["risks"]
    assert event.after["changes"]["fields_removed"] == ["time_plan"]
    # Like any change of content: the partner's confirmation of the old version is void.
    confirmation = db.session.scalar(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id == partner_id))
    assert confirmation.voided_at is not None
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "partner.confirmation_void")) is not None
    assert current_partners(application_id)


def test_malformed_changed_form_is_refused_with_file_and_line(app, next_release, world):
    english(world, "lead")
    application_id = world.new_application(answers=FULL_ANSWERS).id
    with pytest.raises(DefinitionError) as refused:
        next_release(lambda text: text.replace("    fields:\n", "    fieldz:\n", 1))
    assert re.search(r"workflows/forms/standard\.yaml:\d+: .*fieldz", str(refused.value))
    # The application keeps its stored version, and nothing new was stored.
    assert db.session.scalar(select(func.count(DefinitionVersion.id)).where(
        DefinitionVersion.kind == "form")) == 1
    page = browser(app, "lead@demo.test").get(f"/applications/{application_id}/sections")
    assert page.status_code == 200 and "Hösten 2027 – våren 2029." in page.get_data(as_text=True)


@pytest.fixture
def empty_database(tmp_path):
    """A database without tables: a SQLite file, or a new PostgreSQL database in CI's run."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    admin_url = sa.make_url(_normalise_database_url(TEST_DATABASE_URL))
    name = f"grants_migrate_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_records_the_current_form_version_of_each_application(empty_database,
                                                                        tmp_path, redis_url):
    migration = next((PROJECT_ROOT / "migrations" / "versions").glob("*_form_versions.py"))
    before = re.search(r"^down_revision = '(\w+)'", migration.read_text(), re.M).group(1)
    migrated = create_app(settings=make_settings(tmp_path, empty_database, redis_url))
    with migrated.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision=before)
        # The models have columns added by later migrations: the world's rows are written
        # with them in place, then the schema is put back as it was at that revision.
        later = [("funding_call", "reporting_plan VARCHAR(100)")]
        with db.engine.begin() as conn:
            for table_name, column in later:
                conn.execute(sa.text(f"ALTER TABLE {table_name} ADD COLUMN {column}"))
        world = build_world()
        db.session.commit()
        _loaded = (world.call.id, world.orgs["kalmar"].id, world.users["lead"].id)
        db.session.remove()
        with db.engine.begin() as conn:
            for table_name, column in later:
                conn.execute(sa.text(f"ALTER TABLE {table_name} DROP COLUMN "
                                     f"{column.split()[0]}"))
        with db.engine.begin() as conn:
            table = sa.Table("application", sa.MetaData(), autoload_with=conn)
            assert "form_version" not in table.c
            now = utcnow()
            for title, form_name in [("Med formulär", "standard"), ("Utan fil", "gone")]:
                conn.execute(table.insert().values(
                    call_id=world.call.id, lead_organisation_id=world.orgs["kalmar"].id,
                    lead_user_id=world.users["lead"].id, title=title, language="sv",
                    workflow_name="joint_application", workflow_version=1, form_name=form_name,
                    state="draft", state_version=1, created_at=now, updated_at=now))
        db.session.remove()
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        rows = dict(db.session.execute(select(Application.title, Application.form_version)).all())
        assert rows == {"Med formulär": 1, "Utan fil": None}
        stored = db.session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.kind == "form")).all()
        text = (PROJECT_ROOT / "workflows" / "forms" / "standard.yaml").read_text()
        assert [(s.name, s.version, s.sha256) for s in stored] == [
            ("standard", 1, sha256_text(text))]
        application = db.session.scalar(select(Application).where(
            Application.title == "Med formulär"))
        assert form_for(application) is get_form("standard")
        db.session.remove()
        db.engine.dispose()


def test_a_closed_application_keeps_its_form_version(next_release, world):
    english(world, "coordinator")
    application_id = world.new_application(state="rejected", answers=FULL_ANSWERS).id
    next_app = next_release()
    with next_app.app_context():
        coordinator = browser(next_app, "coordinator@demo.test")
        url = f"/applications/{application_id}/form-version"
        page = coordinator.get(url).get_data(as_text=True)
        assert "keeps the form version it was decided on" in page and "to_sha256" not in page
        token = sha256_text(get_form("standard").source_text)
        refused = coordinator.post(url, {"from_version": "1", "to_sha256": token,
                                         "comment": "Ny version"}, follow_redirects=True)
        assert "keeps the form version it was decided on" in refused.get_data(as_text=True)
        assert db.session.get(Application, application_id).form_version == 1
        db.session.remove()


def test_a_stored_version_that_no_longer_loads_needs_a_coordinator(app, world):
    english(world, "lead")
    application = world.new_application(answers=FULL_ANSWERS)
    # A version stored by an earlier release whose rules the form engine no longer accepts.
    db.session.add(DefinitionVersion(kind="form", name="standard", version=7,
                                     source="title: {sv: Gammal, en: Old}\nversion: 7\n"
                                            "sections: []\n", sha256="f" * 64))
    application.form_version = 7
    db.session.commit()
    application_id = application.id
    result = app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
    assert result.exit_code == 1
    assert (f"ACTION: 1 application(s) use version 7 of form 'standard', which can no longer "
            f"be loaded (they are shown with the current file): {application_id}") in result.output
    lead = browser(app, "lead@demo.test")
    page = lead.get(f"/applications/{application_id}")
    assert page.status_code == 200
    assert "uses version 7 of its form" in page.get_data(as_text=True)
    sections = lead.get(f"/applications/{application_id}/sections").get_data(as_text=True)
    assert "Hösten 2027 – våren 2029." in sections
