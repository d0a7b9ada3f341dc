"""A new version of a form file: values of removed fields are kept, new fields are asked for."""

import shutil
import textwrap

import pytest
from sqlalchemy import select

from grants import create_app
from grants.applications.models import SectionAnswer
from grants.config import PROJECT_ROOT
from grants.db import db
from tests.conftest import Browser, make_settings
from tests.factories import FULL_ANSWERS


@pytest.fixture
def changed_form_app(app, tmp_path, redis_url):
    directory = tmp_path / "next-workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    path = directory / "forms" / "standard.yaml"
    text = path.read_text()
    # Release 2 of the form: "time_plan" is gone, a new required "risks" section appears.
    start = text.index("  - key: time_plan")
    end = text.index("  - key: expected_results")
    text = text[:start] + text[end:]
    text = text.replace("version: 1", "version: 2") + textwrap.indent(textwrap.dedent("""\
        - key: risks
          title: {sv: Risker, en: Risks}
          fields:
            - id: risks
              type: longtext
              required: true
              label: {sv: Risker och hur de hanteras, en: Risks and how they are handled}
        """), "  ")
    path.write_text(text)
    next_app = create_app(settings=make_settings(
        tmp_path / "next", app.config["SQLALCHEMY_DATABASE_URI"], redis_url,
        workflows_path=directory))
    yield next_app
    with next_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_changed_form_keeps_removed_values_and_asks_for_new_fields(changed_form_app, world):
    application_id = world.new_application(answers=FULL_ANSWERS).id
    with changed_form_app.app_context():
        lead = Browser(changed_form_app)
        lead.login("lead@demo.test")
        page = lead.get(f"/applications/{application_id}").get_data(as_text=True)
        assert "Hösten 2027 – våren 2029." in page  # the old time plan is still shown
        assert "ingår inte längre i formuläret" in page
        assert "Risker" in page and "1 obligatoriskt fält är inte ifyllt ännu." in page
        export = lead.get(f"/applications/{application_id}/export.json").get_json(force=True)
        assert {"section": "time_plan", "id": "time_plan",
                "value": "Hösten 2027 – våren 2029."} in export["snapshot"]["removed_fields"]
        db.session.remove()
    db.session.expire_all()
    kept = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == application_id, SectionAnswer.section_key == "time_plan"))
    assert kept.data == FULL_ANSWERS["time_plan"]
