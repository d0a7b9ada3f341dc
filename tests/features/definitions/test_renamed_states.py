"""No state name lives in Python: a copy of the joint workflow with every state renamed runs
the whole way – create, partner input, confirmation in the right state only, the steering
vote and its milestone, submission, the funder's decision, portfolio, next steps and the
deadline reminders – because the states say what they mean in the file."""

import re
import shutil

import pytest
import yaml
from sqlalchemy import select

from grants.applications.models import Application
from grants.approvals.rounds import open_round
from grants.budget.models import Cofinancing
from grants.config import PROJECT_ROOT
from grants.db import db
from grants.deadlines.models import Reminder, ReminderStatus
from grants.deadlines.operations import application_milestones, is_finished, who_owes
from grants.deadlines.reminders import send_reminder
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from grants.processes import get_workflow
from tests.factories import FULL_ANSWERS, lead_signs, name_signatory, vote

PREFIX = "fas_"
SHIPPED = yaml.safe_load((PROJECT_ROOT / "workflows" / "joint_application.yaml")
                         .read_text(encoding="utf-8"))
OLD_NAMES = set(SHIPPED["states"])


def renamed(name: str) -> str:
    return PREFIX + name


def rename_every_state(data: dict) -> dict:
    data = dict(data)
    data["initial"] = renamed(data["initial"])
    data["states"] = {renamed(name): state for name, state in data["states"].items()}
    transitions = []
    for transition in data["transitions"]:
        transition = dict(transition)
        transition["from"] = [renamed(s) for s in transition["from"]]
        transition["to"] = renamed(transition["to"])
        transitions.append(transition)
    data["transitions"] = transitions
    return data


@pytest.fixture
def workflows_path(tmp_path):
    """workflows/ with the joint application's states all renamed (the forms unchanged)."""
    directory = tmp_path / "renamed-workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    path = directory / "joint_application.yaml"
    path.write_text(yaml.safe_dump(rename_every_state(SHIPPED), allow_unicode=True,
                                   sort_keys=False), encoding="utf-8")
    return directory


def fire(browser, application, name, comment=""):
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    return browser.post(f"/applications/{application.id}/transitions/{name}",
                        {"comment": comment, "state_version": str(application.state_version)},
                        follow_redirects=True)


def state_of(application) -> str:
    db.session.expire_all()
    return db.session.get(Application, application.id).state


def next_steps_of(browser) -> list[str]:
    html = browser.get("/").get_data(as_text=True)
    section = html.split('id="next-steps-title"')[1].split("</section>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", section, re.S)]


def confirm_form(browser, application, partner) -> dict[str, str]:
    page = browser.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    form = re.search(rf'<form[^>]*id="confirm-form-{partner.id}"[\s\S]*?</form>', page)
    if form is None:
        return {}
    return dict(re.findall(r'<input type="hidden" name="(fingerprint|parts)" value="([^"]*)"',
                           form.group(0)))


def confirm(browser, application, partner, shown):
    return browser.post(f"/applications/{application.id}/partners/{partner.id}/confirm",
                        {"signatory_name": "Olle Öberg", "signatory_title": "Bibliotekschef",
                         "authorised": "y", **shown}, follow_redirects=True)


def test_every_state_renamed_and_everything_still_works(world, login_as, app):
    workflow = get_workflow("joint_application")
    assert set(workflow.states) == {renamed(n) for n in OLD_NAMES}
    assert not set(workflow.states) & OLD_NAMES

    # Create, through the page, and write every section.
    lead, partner_browser = login_as("lead@demo.test"), login_as("other@demo.test")
    response = lead.post("/applications/new", {
        "call_id": world.call.id, "organisation_id": world.orgs["kalmar"].id,
        "title": "Omdöpta tillstånd", "language": "sv"})
    assert response.status_code == 303
    application = db.session.scalar(select(Application))
    assert application.state == renamed("draft")
    for key, values in FULL_ANSWERS.items():
        assert lead.post(f"/applications/{application.id}/sections/{key}",
                         {**{k: str(v) for k, v in values.items()}, "version": "0"}
                         ).status_code == 303
    partner = ApplicationPartner(application_id=application.id,
                                 organisation_id=world.orgs["vaxjo"].id,
                                 contact_name="Olle Öberg", contact_email="other@demo.test",
                                 contact_user_id=world.users["other_lead"].id, status="active")
    db.session.add(partner)
    # The partner's contact is its organisation's authorised signatory.
    name_signatory(application, world.orgs["vaxjo"].id, world.user("other_lead"))
    db.session.commit()

    # Every milestone applies and has its reminder; the partner owes its input.
    milestones = [m.key for m in application_milestones(application)]
    assert milestones == ["partner_input", "steering_meeting", "signatures", "deadline"]
    reminders = {r.milestone for r in db.session.scalars(select(Reminder).where(
        Reminder.application_id == application.id, Reminder.status == ReminderStatus.scheduled))}
    assert reminders == set(milestones)
    assert [d.user.id for d in who_owes(application, "partner_input")] == [
        world.users["other_lead"].id]
    assert [d.user.id for d in who_owes(application, "steering_meeting")] == [
        world.users["lead"].id]

    # Partner input: the partner adds its co-financing in the draft state.
    assert partner_browser.post(f"/applications/{application.id}/budget/cofinancing", {
        "cofin-organisation_id": world.orgs["vaxjo"].id, "cofin-kind": "in_kind",
        "cofin-source": "public", "cofin-year": str(world.call.deadline_at.year),
        "cofin-description": "Lokaler", "cofin-amount": "80 000"}).status_code == 303
    assert db.session.scalar(select(Cofinancing)) is not None

    # No confirmation in draft: no form, a note naming the state where it opens, a POST
    # confirms nothing.
    assert confirm_form(partner_browser, application, partner) == {}
    page = partner_browser.get(f"/applications/{application.id}/partners").get_data(
        as_text=True)
    assert "Samverkansparternas bekräftelse" in page
    confirm(partner_browser, application, partner, {"fingerprint": "x", "parts": ""})
    assert db.session.scalar(select(PartnerConfirmation)) is None

    # Sent to the partners: the confirmation is offered, the partner is asked, and confirms.
    fire(lead, application, "send_to_partners")
    assert state_of(application) == renamed("partner_confirmation")
    assert next_steps_of(partner_browser)[0].startswith(
        "Bekräfta deltagande och medfinansiering för Växjö stadsbibliotek.")
    shown = confirm_form(partner_browser, application, partner)
    assert len(shown["fingerprint"]) == 64
    assert "har bekräftat den här versionen" in confirm(
        partner_browser, application, partner, shown).get_data(as_text=True)
    assert who_owes(db.session.get(Application, application.id), "partner_input") == []

    # Review, then the steering group: its round opens, the lead owes the meeting no more.
    fire(lead, application, "send_to_review")
    assert state_of(application) == renamed("internal_review")
    coordinator = login_as("coordinator@demo.test")
    assert any("Skicka till styrgruppen" in step for step in next_steps_of(coordinator))
    fire(coordinator, application, "send_to_steering")
    assert state_of(application) == renamed("steering_approval")
    assert open_round(application.id) is not None
    application = db.session.get(Application, application.id)
    assert who_owes(application, "steering_meeting") == []
    assert [d.user.id for d in who_owes(application, "signatures")] == [world.users["lead"].id]
    vote(login_as("steering1@demo.test"), application, "approve")
    vote(login_as("steering2@demo.test"), application, "approve")
    assert state_of(application) == renamed("approved")

    # Submit: finished, no reminders left; the lead's next step is gone.
    assert any("Skicka in till bidragsgivaren" in s for s in next_steps_of(lead))
    lead_signs(application)  # the lead organisation's signatory signs where `lead_signed` asks
    fire(lead, application, "submit")
    application = db.session.get(Application, application.id)
    assert application.state == renamed("submitted")
    assert is_finished(application, get_workflow("joint_application"))
    assert who_owes(application, "deadline") == []
    # The deadline's reminder, when it is due, is cancelled instead of sent.
    row = db.session.scalar(select(Reminder).where(Reminder.application_id == application.id,
                                                   Reminder.milestone == "deadline"))
    assert send_reminder(row.id, now=row.send_at) == "cancelled"
    assert next_steps_of(lead) == []

    # The funder's decision, through its form.
    assert lead.post(f"/applications/{application.id}/decision", {
        "outcome": "granted", "granted_amount": "150 000", "decision_date": "2026-11-20",
        "project_start": "2027-01-01", "project_end": "2028-12-31",
        "state_version": str(application.state_version)}).status_code == 303
    assert state_of(application) == renamed("granted")

    # The portfolio counts it under its state's label.
    html = coordinator.get("/portfolio").get_data(as_text=True)
    assert "Beviljad" in html and "150" in html
    csv = coordinator.get("/portfolio.csv").get_data(as_text=True)
    assert renamed("granted") in csv or "Beviljad" in csv


def test_the_renamed_copy_declares_what_each_state_means(app):
    workflow = get_workflow("joint_application")
    assert workflow.states_where("confirmation") == {renamed("partner_confirmation")}
    assert workflow.milestone_states("steering_meeting") == {renamed("steering_approval")}
    assert renamed("submitted") in workflow.states_where("finished")
    assert workflow.states_where("partner_input") == {
        renamed(n) for n in ("draft", "partner_confirmation", "changes_requested")}
