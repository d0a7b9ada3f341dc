"""The "Also applied to" panel: the project's applications at other funders, as far as the
viewer may see them, with the funder's decision; linking and unlinking by hand."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.audit import AuditEvent
from grants.db import db
from grants.i18n import format_money
from grants.reuse.models import ApplicationLink, ProjectGroup
from grants.submissions.models import FunderDecision
from tests.features.reuse.test_copy import create, the_copy


def panel(browser, application_id: int) -> str:
    html = browser.get(f"/applications/{application_id}").get_data(as_text=True)
    start = html.find('id="linked"')
    if start < 0:
        return ""
    end = min(i for i in (html.find("<form", start), html.find("</section>", start)) if i > 0)
    return html[start:end]  # the list, not the link form's choices


def test_linked_applications_show_each_other_with_the_funders_decision(login_as, setting):
    lead = login_as("lead@demo.test")
    create(lead, setting, setting.region, title="Till regionen", partners=[])
    copy = the_copy()
    shown = panel(lead, setting.source.id)
    assert "Har också sökt hos" in shown and "Till regionen" in shown
    assert "Region Kalmar län: Regionalt utvecklingsbidrag" in shown
    assert "Utkast" in shown                                   # its state
    db.session.add(FunderDecision(application_id=copy.id, outcome="granted",
                                  granted_amount=400_000, decision_date=date(2027, 5, 1)))
    db.session.commit()
    assert f"beviljad {format_money(400_000, 'sv')}" in panel(lead, setting.source.id)
    back = panel(lead, copy.id)
    assert "Digitala vägledare" in back and "Statens kulturråd" in back


def test_the_panel_never_shows_an_application_the_viewer_may_not_see(login_as, setting, world):
    lead = login_as("lead@demo.test")
    create(lead, setting, setting.region, title="Till regionen", partners=[])
    # The source's partner and its steering group's member see the source, not the copy
    # (another call, no partner there): the panel shows nothing of it.
    for email in ("other@demo.test", "steering1@demo.test"):
        viewer = login_as(email)
        page = viewer.get(f"/applications/{setting.source.id}")
        assert page.status_code == 200, email
        html = page.get_data(as_text=True)
        assert "Till regionen" not in html, email
        assert 'id="linked"' not in html, email               # nothing to show, no copying
    coordinator = login_as("coordinator@demo.test")
    assert "Till regionen" in panel(coordinator, setting.source.id)


def test_link_by_hand_joins_the_groups_and_unlink_leaves(login_as, setting, world):
    lead = login_as("lead@demo.test")
    create(lead, setting, setting.region, title="Till regionen", partners=[])
    copy = the_copy()
    other = world.new_application(title="ESF-ansökan", form="kulturradet_utveckling")
    response = lead.post(f"/applications/{other.id}/link", {"other": str(setting.source.id)})
    assert response.status_code == 303
    for application_id, expected in ((other.id, ("Digitala vägledare", "Till regionen")),
                                     (copy.id, ("Digitala vägledare", "ESF-ansökan"))):
        shown = panel(lead, application_id)
        assert all(title in shown for title in expected), (application_id, shown)
    assert db.session.scalar(select(func.count()).select_from(ProjectGroup)) == 1
    assert db.session.scalar(select(AuditEvent.after).where(
        AuditEvent.action == "application.link")) == {"linked_with": setting.source.id}
    # Linking again is refused with a message; so is linking with itself.
    response = lead.post(f"/applications/{other.id}/link", {"other": str(copy.id)},
                         follow_redirects=True)
    assert "är redan länkad" in response.get_data(as_text=True)
    response = lead.post(f"/applications/{other.id}/link", {"other": str(other.id)},
                         follow_redirects=True)
    assert "kan inte länkas med sig själv" in response.get_data(as_text=True)
    assert lead.post(f"/applications/{other.id}/unlink", {}).status_code == 303
    assert "Digitala vägledare" not in panel(lead, other.id)
    assert "ESF-ansökan" not in panel(lead, setting.source.id)
    assert "Till regionen" in panel(lead, setting.source.id)
    # The last two part: the group is gone.
    assert lead.post(f"/applications/{copy.id}/unlink", {}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(ApplicationLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(ProjectGroup)) == 0


def test_linking_with_an_application_one_may_not_see_is_refused(login_as, setting, world):
    foreign = world.new_application(lead="other_lead", title="Någon annans")
    foreign.lead_organisation_id = world.orgs["vaxjo"].id
    db.session.commit()
    lead = login_as("lead@demo.test")
    response = lead.post(f"/applications/{setting.source.id}/link", {"other": str(foreign.id)},
                         follow_redirects=True)
    assert "Välj en ansökan som är din egen" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApplicationLink)) == 0
    assert db.session.get(Application, foreign.id) is not None
