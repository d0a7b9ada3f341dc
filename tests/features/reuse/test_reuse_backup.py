"""Project groups and links survive an export and an import (grants/backup.py copies every
table): a copy's report (JSON), its source and its group."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from grants import create_app
from grants.db import db
from grants.reuse.models import ApplicationLink, ProjectGroup
from tests.conftest import make_settings
from tests.factories import build_world
from tests.features.backup.test_backup import _dump, empty_target, new_database  # noqa: F401

REPORT = {"source_id": 1, "not_carried": [{"label": {"sv": "Målgrupper", "en": "Target"},
                                           "reason": "kind", "params": {}}], "cofinancing": 0}


@pytest.fixture
def source(tmp_path, redis_url):
    app = create_app(settings=make_settings(tmp_path / "source",
                                            f"sqlite:///{tmp_path / 'source.sqlite3'}",
                                            redis_url))
    with app.app_context():
        db.create_all()
        world = build_world()
        first = world.new_application(title="Första")
        second = world.new_application(title="Andra")
        group = ProjectGroup()
        db.session.add(group)
        db.session.flush()
        db.session.add_all([
            ApplicationLink(application_id=first.id, group_id=group.id,
                            linked_by_id=first.lead_user_id),
            ApplicationLink(application_id=second.id, group_id=group.id,
                            copied_from_id=first.id, copy_report=REPORT,
                            linked_by_id=first.lead_user_id)])
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_links_survive_export_and_import(source, empty_target, tmp_path):  # noqa: F811
    backup = tmp_path / "backup.zip"
    result = source.test_cli_runner().invoke(args=["export", "--out", str(backup)])
    assert result.exit_code == 0, result.output
    with source.app_context():
        before = _dump(db.engine)
    result = empty_target.test_cli_runner().invoke(args=["import", str(backup)])
    assert result.exit_code == 0, result.output
    with empty_target.app_context():
        after = _dump(db.engine)
        for name in ("project_group", "application_link"):
            assert after[name] == before[name] and after[name], name
        assert db.session.get(ApplicationLink, 2).copy_report == REPORT
        # New groups continue after the imported ids (the sequences moved on).
        db.session.add(ProjectGroup())
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.max(ProjectGroup.id))) == 2
