"""The overview answers "what do I need to do next": each person sees the step that is theirs on
each application they work on, with a link to where it is done, and whom the step waits for."""

import re

from grants.applications.models import Application, SectionAnswer
from grants.budget.models import BudgetLine
from grants.dashboard.next_steps import forward_transitions
from grants.db import db
from grants.delivery.models import Delivery
from grants.processes import get_workflow
from grants.submissions.models import Submission
from tests.features.partners.test_confirmations import confirm, setup_partners

KULTURRADET_COMMON = {
    "summary": {"summary": "Unga läser mer.", "start_date": "2027-09-01",
                "end_date": "2029-06-30"},
    "background": {"background": "Läsningen minskar."},
    "cultural_aims": {"cultural_aims": "Läslust.", "priorities": ["literacy"]},
    "target_groups": {"target_groups": [{"group": "Unga", "count": 100}]},
    "activities": {"activities": [{"activity": "Bokcirklar"}]},
    "financing": {"requested_amount": 100000, "has_other_financing": False},
    "results": {"expected_results": "Fler läser."},
}


def next_steps_of(browser) -> list[str]:
    """The overview's next steps as text, one line per step (link, application, waiting)."""
    html = browser.get("/").get_data(as_text=True)
    section = html.split('id="next-steps-title"')[1].split("</section>")[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in items]


def save(browser, application, section, data, partner=None):
    base = f"/applications/{application.id}"
    url = (f"{base}/partners/{partner.id}/sections/{section}" if partner
           else f"{base}/sections/{section}")
    response = browser.post(url, {**data, "version": "0"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def fire(browser, application, transition):
    db.session.refresh(application)
    version = application.state_version
    db.session.rollback()
    browser.post(f"/applications/{application.id}/transitions/{transition}",
                 {"state_version": str(version)})
    db.session.expire_all()
    assert db.session.get(Application, application.id).state == \
        get_workflow("joint_application").transitions[transition].target
    db.session.rollback()


def test_each_person_sees_their_own_next_step_through_a_joint_application(login_as, world):
    application, partners = setup_partners(world, sent_to_partners=False)
    lead, vaxjo, lnu = (login_as("lead@demo.test"), login_as("other@demo.test"),
                        login_as("lnu@demo.test"))
    coordinator = login_as("coordinator@demo.test")

    # A fresh draft: the lead fills in the common sections, each partner its own part.
    steps = next_steps_of(lead)
    assert len(steps) == 1 and steps[0].startswith("Fyll i 10 obligatoriska fält.")
    assert "Gemensam läsning" in steps[0]
    # It links to the first section with an empty required field, where the lead fills it in.
    assert f'href="/applications/{application.id}/sections/summary"' in lead.get(
        "/").get_data(as_text=True)
    steps = next_steps_of(vaxjo)
    assert len(steps) == 1 and steps[0].startswith(
        "Fyll i 1 obligatoriskt fält i delen för Växjö stadsbibliotek.")
    steps = next_steps_of(lnu)
    assert len(steps) == 1 and steps[0].startswith(
        "Fyll i 1 obligatoriskt fält i delen för Linnéuniversitetet.")
    assert next_steps_of(coordinator) == []   # nothing of the coordinator's in a draft

    # The lead's part done (tables and all, as the section forms would save them): the step
    # forward, waiting for the partners' parts.
    for section, data in KULTURRADET_COMMON.items():
        db.session.add(SectionAnswer(application_id=application.id, section_key=section,
                                     data=data, updated_by_id=world.users["lead"].id))
    # The requested amount is filled in from the budget, which needs its first cost line.
    db.session.add(BudgetLine(application_id=application.id,
                              organisation_id=application.lead_organisation_id,
                              category="personnel", year=2028, description="Projektledning",
                              amount=100_000))
    db.session.commit()
    steps = next_steps_of(lead)
    assert len(steps) == 1, steps
    assert steps[0].startswith("Nästa steg: Skicka till samverkansparterna för bekräftelse.")
    assert ("Väntar på: Växjö stadsbibliotek: sin del, Linnéuniversitetet: sin del"
            in steps[0])
    save(vaxjo, application, "partner_part", {"partner_role": "Bokcirklar i Växjö",
                                              "partner_cofinancing": "20000"},
         partner=partners["vaxjo"])
    assert next_steps_of(vaxjo) == []
    assert "Väntar på: Linnéuniversitetet: sin del" in next_steps_of(lead)[0]
    save(lnu, application, "partner_part", {"partner_role": "Följeforskning",
                                            "partner_cofinancing": "10000"},
         partner=partners["lnu"])
    steps = next_steps_of(lead)
    assert len(steps) == 1 and steps[0].startswith("Nästa steg: Skicka till samverkansparterna")
    assert "Väntar på" not in steps[0]

    # Sent to the partners: each partner is asked to confirm; the lead waits for them.
    fire(lead, application, "send_to_partners")
    assert next_steps_of(vaxjo)[0].startswith(
        "Bekräfta deltagande och medfinansiering för Växjö stadsbibliotek.")
    # It links to the confirmation form of the organisation its contact signs for, on the
    # partners tab.
    assert (f'href="/applications/{application.id}/partners#confirm-{partners["vaxjo"].id}"'
            in vaxjo.get("/").get_data(as_text=True))
    # The link's target is there: the organisation's block, with the form in it.
    tab = vaxjo.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert f'id="confirm-{partners["vaxjo"].id}"' in tab
    assert f'id="confirm-form-{partners["vaxjo"].id}"' in tab
    lead_step = next_steps_of(lead)[0]
    assert lead_step.startswith("Nästa steg: Skicka till intern granskning.")
    assert ("Väntar på: Växjö stadsbibliotek: bekräftelse, Linnéuniversitetet: bekräftelse"
            in lead_step)
    confirm(vaxjo, application, partners["vaxjo"])
    assert next_steps_of(vaxjo) == []
    assert "Väntar på: Linnéuniversitetet: bekräftelse" in next_steps_of(lead)[0]
    confirm(lnu, application, partners["lnu"])
    assert "Väntar på" not in next_steps_of(lead)[0]

    # In review the next step is the coordinator's, not the lead's.
    fire(lead, application, "send_to_review")
    assert next_steps_of(lead) == []
    steps = next_steps_of(coordinator)
    assert len(steps) == 1 and steps[0].startswith("Nästa steg: Skicka till styrgruppen.")
    assert f'href="/applications/{application.id}#actions"' in coordinator.get("/").get_data(
        as_text=True)
    # Someone with no part in it sees none of it.
    assert next_steps_of(login_as("steering1@demo.test")) == []


def test_english_and_the_empty_state(login_as, world):
    lead = login_as("lead@demo.test")
    html = lead.get("/").get_data(as_text=True)
    assert "Att göra" in html and "Inget väntar på dig just nu." in html
    lead.post("/language", {"lang": "en", "next": "/"})
    world.new_application()
    html = lead.get("/").get_data(as_text=True)
    assert "Your next steps" in html
    assert re.search(r"Fill in \d+ required fields\.", html)


def submitted_with_deliveries(world, title, *deliveries):
    application = world.new_application(state="submitted", title=title)
    submission = Submission(application_id=application.id, number=1,
                            snapshot={"application": {"id": application.id}},
                            sha256="f" * 64, submitted_by_id=world.users["lead"].id)
    db.session.add(submission)
    db.session.flush()
    db.session.add_all([Delivery(submission_id=submission.id, application_id=application.id,
                                 channel=channel, status=status,
                                 recipient="registrator@kulturradet.example")
                        for channel, status in deliveries])
    db.session.commit()


def test_deliveries_that_need_a_person(login_as, world):
    submitted_with_deliveries(world, "Via portal och e-post", ("portal", "awaiting_receipt"),
                              ("email", "uncertain"))
    submitted_with_deliveries(world, "Misslyckad", ("email", "failed"))
    lead_steps = next_steps_of(login_as("lead@demo.test"))
    assert [s.split(".")[0] for s in lead_steps] == [
        "Ladda upp bidragsgivarens kvitto och ange dess diarienummer"]
    coordinator_steps = next_steps_of(login_as("coordinator@demo.test"))
    assert sorted(s.split(".")[0] for s in coordinator_steps) == [
        "Det gick inte att skicka till bidragsgivaren: se varför och skicka den igen",
        "Kontrollera med bidragsgivaren om ansökan kom fram, och registrera svaret",
        "Ladda upp bidragsgivarens kvitto och ange dess diarienummer"]
    db.session.execute(db.update(Delivery).values(status="sent"))
    db.session.commit()
    assert next_steps_of(login_as("lead@demo.test")) == []
    assert next_steps_of(login_as("coordinator@demo.test")) == []


def test_forward_transitions_come_from_the_workflow_file(app):
    workflow = get_workflow("joint_application")
    assert [t.name for t in forward_transitions(workflow, "draft", "lead")] == [
        "send_to_partners"]
    # Taking it back (to an earlier state) and withdrawing (comment required) are not steps on.
    assert [t.name for t in forward_transitions(workflow, "partner_confirmation", "lead")] == [
        "send_to_review"]
    assert forward_transitions(workflow, "internal_review", "lead") == []
    assert [t.name for t in forward_transitions(workflow, "internal_review", "coordinator")] \
        == ["send_to_steering"]
    # Decided by votes: never one person's step.
    assert forward_transitions(workflow, "steering_approval", "steering") == []
    # Recording the funder's answer waits for the funder's letter: not a step, even where it
    # leads to a later state that is not terminal (a report returned for completion).
    report = get_workflow("report")
    assert forward_transitions(report, "submitted", "lead") == []
    assert forward_transitions(report, "submitted", "coordinator") == []
    assert [t.name for t in forward_transitions(report, "draft", "lead")] == ["send_to_partners"]
    assert [t.name for t in forward_transitions(workflow, "approved", "lead")] == ["submit"]
