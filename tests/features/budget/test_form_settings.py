"""Cost categories and milestones come from the application's form (`cost_categories:`,
`milestones:`), not from code: the budget page, its rules, the copy of record and the PDF use
the form's categories; the deadlines, who is reminded and the reminders use its milestones."""

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.applications.models import Application
from grants.budget.models import BudgetLine
from grants.config import PROJECT_ROOT
from grants.db import db, utcnow
from grants.deadlines.milestones import wall_clock_days_before
from grants.deadlines.models import Reminder
from grants.deadlines.operations import application_milestones, schedule_reminders, who_owes
from grants.deadlines.reminders import send_reminder
from grants.documents.rendering import application_html
from grants.notifications.models import OutboxEmail
from grants.partners.models import ApplicationPartner
from tests.factories import FULL_ANSWERS

SETTINGS = """
cost_categories:
  - {key: salaries, label: {sv: Löner, en: Salaries}}
  - {key: travel, label: {sv: Resor och logi, en: Travel and lodging}}
  - {key: overhead, label: {sv: Omkostnader, en: Overhead}, indirect: true}
milestones:
  - key: kickoff
    days_before: 30
    remind: partners
    label: {sv: Uppstartsmöte, en: Kick-off meeting}
  - {key: partner_input, days_before: 28}
  - key: board_meeting
    days_before: 10
    needs_state: true
    label: {sv: Styrelsemöte, en: Board meeting}
  - {key: signatures, days_before: 7}
"""


@pytest.fixture
def workflows_path(tmp_path):
    """The shipped files, the standard form with categories and milestones of its own, and
    the joint workflow's internal review named as the board's meeting."""
    directory = tmp_path / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    form = directory / "forms" / "standard.yaml"
    form.write_text(form.read_text(encoding="utf-8") + SETTINGS, encoding="utf-8")
    joint = directory / "joint_application.yaml"
    text = joint.read_text(encoding="utf-8")
    marker = "    label: {sv: Intern granskning, en: Internal review}\n"
    assert marker in text
    joint.write_text(text.replace(marker, marker + "    milestone: board_meeting\n"),
                     encoding="utf-8")
    return directory


@pytest.fixture
def application(world):
    world.call.max_indirect_percent = 10
    world.call.deadline_at = utcnow() + timedelta(days=60)
    db.session.commit()
    application = world.new_application(answers=FULL_ANSWERS)
    db.session.add(ApplicationPartner(application_id=application.id,
                                      organisation_id=world.orgs["vaxjo"].id,
                                      contact_name="Olle", contact_email="other@demo.test",
                                      contact_user_id=world.users["other_lead"].id,
                                      status="active"))
    db.session.commit()
    return application


def add_line(browser, application, org_id, category, amount, description="Rad"):
    return browser.post(f"/applications/{application.id}/budget/lines", {
        "line-organisation_id": org_id, "line-category": category,
        "line-year": str(application.call.deadline_at.year), "line-description": description,
        "line-amount": amount})


def test_the_budget_uses_the_forms_cost_categories(login_as, world, application):
    lead = login_as("lead@demo.test")
    page = lead.get(f"/applications/{application.id}/budget").get_data(as_text=True)
    assert '<option value="salaries">Löner</option>' in page
    assert '<option value="overhead">Omkostnader</option>' in page
    assert 'value="personnel"' not in page and "Indirekta kostnader" not in page
    kalmar = world.orgs["kalmar"].id
    # A category of the default list that this form does not have: refused, nothing saved.
    assert add_line(lead, application, kalmar, "personnel", "1000").status_code == 422
    assert db.session.scalar(select(BudgetLine)) is None
    assert add_line(lead, application, kalmar, "salaries", "100 000",
                    description="Projektledare").status_code == 303
    assert add_line(lead, application, kalmar, "overhead", "20 000").status_code == 303
    page = lead.get(f"/applications/{application.id}/budget").get_data(as_text=True)
    assert "<td>Löner</td>" in page and "<td>Omkostnader</td>" in page
    # The form's indirect category is what the call's maximum indirect share counts.
    assert "20,0 % av de direkta kostnaderna 100\u00a0000 kr" in page

    # The copy of record carries the labels; the PDF shows them.
    snapshot = lead.get(f"/applications/{application.id}/export.json").get_json(
        force=True)["snapshot"]
    assert snapshot["cost_categories"]["overhead"] == {"sv": "Omkostnader", "en": "Overhead"}
    assert snapshot["budget"]["indirect_cost"] == 20_000
    html = application_html(snapshot, "preview")
    assert "<td>Löner</td>" in html and "<td>Omkostnader</td>" in html


def test_the_deadlines_use_the_forms_milestones(world, application):
    deadline = application.call.deadline_at
    got = application_milestones(application)
    # The form's own, in the order they fall due; its steering meeting is not listed, so
    # there is none although the workflow names one; the deadline comes last.
    assert [m.key for m in got] == ["kickoff", "partner_input", "board_meeting", "signatures",
                                    "deadline"]
    by_key = {m.key: m for m in got}
    assert by_key["kickoff"].at == wall_clock_days_before(deadline, 30)
    assert by_key["kickoff"].label == "Uppstartsmöte"
    assert by_key["board_meeting"].at == wall_clock_days_before(deadline, 10)
    # The call's own days win for the milestones a call sets (21 unless it says otherwise).
    assert by_key["partner_input"].days_before == 21
    assert by_key["partner_input"].label == "Samverkansparternas underlag ska vara inne"

    olle, lead = world.users["other_lead"].id, world.users["lead"].id
    assert [d.user.id for d in who_owes(application, "kickoff")] == [olle]
    assert [d.user.id for d in who_owes(application, "board_meeting")] == [lead]
    rows = {r.milestone: r for r in schedule_reminders(application, push=False)}
    db.session.commit()
    assert set(rows) == {"kickoff", "partner_input", "board_meeting", "signatures", "deadline"}

    # The partner's reminder names the form's milestone.
    assert send_reminder(rows["kickoff"].id, now=rows["kickoff"].send_at) == "sent"
    email = db.session.scalar(select(OutboxEmail))
    assert email.recipient == "other@demo.test" and "Uppstartsmöte" in email.subject
    assert "Växjö stadsbibliotek" in email.body

    # At the state that names the board's meeting, the lead owes it no more.
    application = db.session.get(Application, application.id)
    application.state = "internal_review"
    db.session.commit()
    assert who_owes(application, "board_meeting") == []
    assert [d.user.id for d in who_owes(application, "signatures")] == [lead]
    assert db.session.scalar(select(Reminder).where(Reminder.milestone == "board_meeting"))


def test_the_application_page_lists_the_forms_milestones(login_as, application):
    page = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    section = page.split('id="deadlines"')[1].split("</section>")[0]
    assert "Uppstartsmöte" in section and "Styrelsemöte" in section
    assert "Styrgruppsmöte" not in section
