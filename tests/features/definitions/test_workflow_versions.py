"""Changing a workflow file never strands an application."""

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from grants import create_app
from grants.applications.models import Application, TransitionRecord
from grants.config import PROJECT_ROOT
from grants.db import db
from tests.conftest import Browser, make_settings
from tests.factories import FULL_ANSWERS


@pytest.fixture
def changed_app(app, tmp_path, redis_url):
    """A second app on the same database whose workflows/ differs: the next release."""
    directory = tmp_path / "next-workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    built = []

    def build(edit):
        path = directory / "joint_application.yaml"
        path.write_text(edit(path.read_text()))
        settings = make_settings(tmp_path / "next", app.config["SQLALCHEMY_DATABASE_URI"],
                                 redis_url, workflows_path=directory)
        built.append(create_app(settings=settings))
        return built[-1]
    yield build
    # Objects of the first app's session must not be touched inside the second app's context
    # (they would borrow its connections): tests take plain ids first.
    for next_app in built:  # close its connections before the database is truncated
        with next_app.app_context():
            db.session.remove()
            db.engine.dispose()


# The shipped file's version, and the one the edited copy gets.
OLD = int(re.search(r"^version: (\d+)$", (Path(__file__).parents[3] / "workflows" /
                                          "joint_application.yaml").read_text(), re.M).group(1))
NEW = OLD + 1


def rename_draft(text: str) -> str:
    return (text.replace(f"version: {OLD}", f"version: {NEW}").replace("initial: draft", "initial: drafting")
            .replace("  draft:\n", "  drafting:\n").replace("from: [draft,", "from: [drafting,")
            .replace("from: [draft]", "from: [drafting]").replace("to: draft\n", "to: drafting\n"))


def test_application_keeps_the_version_it_started_on(changed_app, world):
    application_id = world.new_application(answers=FULL_ANSWERS).id
    next_app = changed_app(rename_draft)
    with next_app.app_context():
        lead = Browser(next_app)
        lead.login("lead@demo.test")
        page = lead.get(f"/applications/{application_id}").get_data(as_text=True)
        assert f"följer version {OLD} av sitt arbetsflöde" in page and f"nuvarande versionen är {NEW}" in page
        # v4 rules still apply: the lead can still edit and send it on.
        assert lead.post(f"/applications/{application_id}/sections/aims",
                         {"aims": "Nytt", "version": "1"}).status_code == 303
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert result.exit_code == 0, result.output
        assert f"the current v{NEW} no longer has that state, so they stay on v{OLD}" in result.output
        db.session.remove()


def test_unloadable_version_shows_a_notice_and_a_coordinator_moves_it(changed_app, world):
    application = world.new_application(answers=FULL_ANSWERS)
    application.workflow_version = 1  # a version that was never stored
    db.session.commit()
    application_id = application.id
    next_app = changed_app(rename_draft)
    with next_app.app_context():
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert result.exit_code == 1
        assert f"stranded (version 1 of 'joint_application' can no longer be loaded): " \
               f"{application_id}" in result.output
        lead = Browser(next_app)
        lead.login("lead@demo.test")
        page = lead.get(f"/applications/{application_id}")
        assert page.status_code == 200
        assert "kan inte längre läsas in" in page.get_data(as_text=True)
        refused = lead.post(f"/applications/{application_id}/sections/aims",
                            {"aims": "x", "version": "1"}, follow_redirects=True)
        assert "Du kan inte ändra" in refused.get_data(as_text=True)
        # Only a coordinator may move it, with a reason.
        assert lead.post(f"/applications/{application_id}/workflow-version",
                         {"to_state": "drafting", "comment": "x", "state_version": "1"},
                         follow_redirects=True).status_code == 200
        coordinator = Browser(next_app)
        coordinator.login("coordinator@demo.test")
        page = coordinator.get(f"/applications/{application_id}").get_data(as_text=True)
        assert f"Flytta till den nuvarande arbetsflödesversionen ({NEW})" in page
        moved = coordinator.post(f"/applications/{application_id}/workflow-version",
                                 {"to_state": "drafting", "comment": "Ny flödesversion",
                                  "state_version": "1"}, follow_redirects=True)
        assert f"följer nu version {NEW} av arbetsflödet" in moved.get_data(as_text=True)
        db.session.remove()
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert (application.state, application.workflow_version) == ("drafting", NEW)
    record = db.session.scalars(select(TransitionRecord).order_by(TransitionRecord.id.desc())).first()
    assert (record.transition, record.from_state, record.to_state, record.comment) == (
        "workflow_update", "draft", "drafting", "Ny flödesversion")


def test_file_changed_without_version_bump_is_reported(changed_app, world):
    world.new_application()
    next_app = changed_app(lambda text: text.replace("Begär ändringar", "Begär ändring"))
    with next_app.app_context():
        result = next_app.test_cli_runner().invoke(args=["workflow", "check", "--against-db"])
        assert result.exit_code == 1
        assert f"its version was not bumped: set 'version: {NEW}'" in result.output
        db.session.remove()
