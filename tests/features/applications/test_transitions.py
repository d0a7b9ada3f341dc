"""Moving applications through the workflow: permissions, guards, comments, history, races."""

from sqlalchemy import select

from grants.applications.models import Application, TransitionRecord
from grants.db import db
from tests.factories import FULL_ANSWERS, lead_must_sign, lead_signs, vote


def fire(browser, application, name, comment="", state_version=None):
    db.session.refresh(application)
    if lead_must_sign(application, name):
        lead_signs(application)  # the lead organisation's signatory signs first
        db.session.refresh(application)
    version = application.state_version if state_version is None else state_version
    return browser.post(f"/applications/{application.id}/transitions/{name}",
                        {"comment": comment, "state_version": str(version)},
                        follow_redirects=True)


def history(application):
    return [(r.transition, r.from_state, r.to_state) for r in db.session.scalars(
        select(TransitionRecord).where(TransitionRecord.application_id == application.id)
        .order_by(TransitionRecord.id))]


def test_full_path_draft_to_granted(login_as, world, run_worker):
    application = world.new_application(answers=FULL_ANSWERS)
    lead, steering = login_as("lead@demo.test"), login_as("steering1@demo.test")
    coordinator = login_as("coordinator@demo.test")
    assert "Klart: ”Skicka till samverkansparterna för bekräftelse”" in fire(
        lead, application, "send_to_partners").get_data(as_text=True)
    fire(lead, application, "send_to_review")
    fire(coordinator, application, "send_to_steering")
    vote(steering, application, "approve", "Bra ansökan, åäö!")
    html = vote(login_as("steering2@demo.test"), application, "approve").get_data(as_text=True)
    assert "Godkänd av styrgruppen" in html
    fire(lead, application, "submit")
    db.session.refresh(application)
    coordinator.post(f"/applications/{application.id}/decision",
                     {"outcome": "granted", "granted_amount": "400 000",
                      "project_start": "2027-01-01", "project_end": "2028-12-31",
                      "decision_date": "2026-11-20", "funder_reference": "KUR 2026/123",
                      "state_version": str(application.state_version)})
    db.session.refresh(application)
    assert application.state == "granted"
    assert history(application) == [
        ("create", "", "draft"), ("send_to_partners", "draft", "partner_confirmation"),
        ("send_to_review", "partner_confirmation", "internal_review"),
        ("send_to_steering", "internal_review", "steering_approval"),
        ("approve", "steering_approval", "approved"), ("submit", "approved", "submitted"),
        ("record_grant", "submitted", "granted")]
    # The recorded history replays, through the engine, to the state the database holds.
    from grants.processes import get_workflow
    from grants.workflow.engine import replay
    steps = [(frm, name) for name, frm, _to in history(application)[1:]]
    assert replay(get_workflow("joint_application"), steps) == application.state
    page = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert "Bra ansökan, åäö!" in page and "Sara Ek" in page
    documents = lead.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "Slutlig PDF" in documents  # the submit effect recorded a final render job


def test_request_changes_needs_a_comment_and_returns_to_draft(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    steering = login_as("coordinator@demo.test")
    html = fire(steering, application, "request_changes", "  ").get_data(as_text=True)
    assert "”Begär ändringar” kräver en kommentar" in html
    db.session.refresh(application)
    assert application.state == "steering_approval"
    fire(steering, application, "request_changes", "Förtydliga budgeten.")
    db.session.refresh(application)
    assert application.state == "changes_requested"
    assert history(application)[-1] == ("request_changes", "steering_approval",
                                        "changes_requested")
    # The lead may edit again, and send it round once more.
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/sections/aims",
                     {"aims": "Tydligare mål", "version": "1"}).status_code == 303
    fire(lead, application, "send_to_partners")
    db.session.refresh(application)
    assert application.state == "partner_confirmation"


def test_guard_lists_what_is_missing(login_as, world):
    answers = {k: v for k, v in FULL_ANSWERS.items() if k not in ("aims", "funding")}
    application = world.new_application(answers=answers)
    lead = login_as("lead@demo.test")
    html = fire(lead, application, "send_to_partners").get_data(as_text=True)
    assert "”Skicka till samverkansparterna för bekräftelse” går inte ännu:" in html
    assert "Syfte och mål: ”Syfte och mål” är inte ifyllt." in html
    assert "Sökt belopp: ”Sökt belopp (kronor)” är inte ifyllt. (villkor: alla obligatoriska " \
        "fält ifyllda)" in html
    db.session.refresh(application)
    assert application.state == "draft" and len(history(application)) == 1


def test_role_without_the_transition_is_refused(login_as, world):
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    html = fire(lead, application, "send_to_steering").get_data(as_text=True)
    assert "Du har ingen roll som får göra ”Skicka till styrgruppen”" in html
    db.session.refresh(application)
    assert application.state == "internal_review"


def test_a_decision_by_vote_cannot_be_fired_by_one_person(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    for who in ("lead", "steering1", "coordinator"):
        html = fire(login_as(f"{who}@demo.test"), application, "approve").get_data(as_text=True)
        assert "”Godkänn” avgörs genom styrgruppens röster, inte av en enskild person." in html
    db.session.refresh(application)
    assert application.state == "steering_approval"


def test_transition_from_wrong_state_is_refused(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    html = fire(lead, application, "submit").get_data(as_text=True)
    assert "”Skicka in till bidragsgivaren” går inte medan ansökan har status ”Utkast”" in html
    db.session.refresh(application)
    assert application.state == "draft"


def test_submit_after_deadline_is_refused_with_the_deadline(login_as, world, past_deadline):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    world.call.deadline_at = past_deadline
    db.session.commit()
    html = fire(login_as("lead@demo.test"), application, "submit").get_data(as_text=True)
    assert "Utlysningen stängde" in html
    db.session.refresh(application)
    assert application.state == "approved"


def test_stale_page_cannot_fire_a_second_transition(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    lead, coordinator = login_as("lead@demo.test"), login_as("coordinator@demo.test")
    seen_version = application.state_version
    fire(lead, application, "withdraw", "Vi drar tillbaka.", state_version=seen_version)
    html = fire(coordinator, application, "request_changes", "Nej", state_version=seen_version)
    text = html.get_data(as_text=True)
    assert "”Begär ändringar” går inte medan ansökan har status ”Återtagen”" in text
    db.session.refresh(application)
    assert application.state == "withdrawn"
    assert [h[0] for h in history(application)] == ["create", "withdraw"]


def test_same_state_but_outdated_page_is_refused(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    coordinator = login_as("coordinator@demo.test")
    html = fire(coordinator, application, "request_changes", "Ändra",
                state_version=application.state_version - 1)
    assert "Ansökan ändrades medan du tittade på den." in html.get_data(as_text=True)
    db.session.refresh(application)
    assert application.state == "steering_approval"


def test_get_never_changes_anything(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    assert lead.get(f"/applications/{application.id}/transitions/send_to_partners").status_code == 405
    assert lead.get(f"/applications/{application.id}/preview").status_code == 405
    db.session.refresh(application)
    assert application.state == "draft"


def test_foreign_user_cannot_fire(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    other = login_as("other@demo.test")
    response = other.post(f"/applications/{application.id}/transitions/send_to_partners",
                          {"state_version": "1"})
    assert response.status_code == 404
    db.session.refresh(application)
    assert application.state == "draft"


def test_forged_state_field_changes_nothing(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/sections/summary",
              {"summary": "Ny", "version": "1", "state": "submitted", "lead_user_id": "3"})
    db.session.refresh(application)
    assert application.state == "draft" and application.lead_user_id == world.users["lead"].id


def test_available_actions_shown_per_role(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    steering_page = login_as("steering1@demo.test").get(
        f"/applications/{application.id}/decision")
    lead_page = login_as("lead@demo.test").get(f"/applications/{application.id}/decision")
    assert "/vote" in steering_page.get_data(as_text=True)
    assert "/transitions/approve" not in steering_page.get_data(as_text=True)
    assert "/transitions/approve" not in lead_page.get_data(as_text=True)
    assert "/vote" not in lead_page.get_data(as_text=True)
    assert db.session.get(Application, application.id).state == "steering_approval"


def test_withdraw_needs_a_comment_and_is_final(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    fire(lead, application, "withdraw", "Vi söker hos Region Kalmar län i stället.")
    db.session.refresh(application)
    assert application.state == "withdrawn"
    html = lead.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Inget för dig att göra i den här statusen." in html
    assert "går inte medan ansökan har status ”Återtagen”" in fire(
        lead, application, "send_to_partners").get_data(as_text=True)


def test_single_stage_workflow(login_as, world, run_worker):
    world.call.workflow_name = "single_stage"
    db.session.commit()
    application = world.new_application(answers=FULL_ANSWERS, workflow="single_stage")
    lead = login_as("lead@demo.test")
    fire(lead, application, "submit")
    db.session.refresh(application)
    lead.post(f"/applications/{application.id}/decision",
              {"outcome": "rejected", "decision_date": "2026-11-20",
               "state_version": str(application.state_version)})
    db.session.refresh(application)
    assert [h[0] for h in history(application)] == ["create", "submit", "record_rejection"]
    assert application.state == "rejected"


def test_two_stage_workflow(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS, workflow="two_stage")
    assert application.state == "concept_note"
    lead, steering = login_as("lead@demo.test"), login_as("steering2@demo.test")
    other = login_as("steering1@demo.test")
    fire(lead, application, "send_concept")
    vote(steering, application, "approve")
    db.session.refresh(application)
    assert application.state == "concept_review"  # at least two must approve
    html = vote(other, application, "approve").get_data(as_text=True)
    assert "Fullständig ansökan" in html
    fire(lead, application, "send_to_steering")
    vote(steering, application, "approve")
    vote(other, application, "approve")
    fire(lead, application, "submit")
    db.session.refresh(application)
    assert application.state == "submitted"
