"""The steering group decides by vote: quorum, jäv, rounds, minutes, notifications."""

import email
import email.policy
import io
import threading
import time

from pypdf import PdfReader
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from grants.accounts.models import User
from grants.applications.models import Application, TransitionRecord
from grants.approvals import operations
from grants.approvals.models import Vote, VoteRound
from grants.approvals.rounds import load_steering_vote, open_round
from grants.db import db
from grants.documents.models import Document
from grants.errors import OperationRefused, StaleState
from grants.notifications.models import Notification, NotificationPreference, OutboxEmail
from grants.notifications.preferences import CATEGORIES, choice_for
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, workflow_for
from grants.steering.models import SteeringMember
from tests.factories import FULL_ANSWERS, lead_signs, make_user, vote


def add_members(world, *specs):
    """Add (key, email, name, org_key, chair) members to the world's steering group."""
    for key, address, name, org, chair in specs:
        if key not in world.users:
            world.users[key] = make_user(address, name, world.orgs[org])
            db.session.flush()
        db.session.add(SteeringMember(group_id=world.group.id, user_id=world.users[key].id,
                                      is_chair=chair))
    db.session.commit()


def state_of(application):
    db.session.expire_all()
    return db.session.get(Application, application.id).state


def records(application, name):
    return db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application.id,
        TransitionRecord.transition == name)).all()


def test_majority_approves_once_and_the_lead_is_told(login_as, world):
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s1, s2 = login_as("steering1@demo.test"), login_as("steering2@demo.test")
    page = s1.get(f"/applications/{application.id}/decision").get_data(as_text=True)
    assert "Styrgruppens beslut" in page and "0 av 2 godkännanden" in page
    html = vote(s1, application, "approve", "Tydlig och väl förankrad.").get_data(as_text=True)
    assert "Din röst ”godkänn” är registrerad." in html and "1 av 2 godkännanden" in html
    assert state_of(application) == "steering_approval"
    vote(s2, application, "approve")
    assert state_of(application) == "approved"
    [decided] = records(application, "approve")
    assert "2 godkände, 0 begärde ändringar, 0 avstod, 0 jäviga" in decided.comment
    assert "Sara Ek (godkände): Tydlig och väl förankrad." in decided.comment
    lead_notes = db.session.scalars(select(Notification).where(
        Notification.user_id == world.users["lead"].id)).all()
    assert [n.kind for n in lead_notes] == ["decision_approved"]
    # The third member comes too late, from a page opened before the decision: refused.
    decided = db.session.scalar(select(VoteRound).where(
        VoteRound.application_id == application.id))
    html = login_as("steering3@demo.test").post(
        f"/applications/{application.id}/vote",
        {"round_id": str(decided.id), "choice": "changes", "comment": "Nej",
         "fingerprint": decided.fingerprint}, follow_redirects=True).get_data(as_text=True)
    assert "Styrgruppen har redan beslutat" in html
    assert db.session.scalar(select(func.count(Vote.id))) == 2
    assert len(records(application, "approve")) == 1


def test_request_for_changes_needs_a_comment_and_votes_can_change(login_as, world):
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s1 = login_as("steering1@demo.test")
    response = vote(s1, application, "changes", "  ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in html and 'id="comment-error"' in html
    assert "En begäran om ändringar behöver en kommentar" in html
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    vote(s1, application, "changes", "Budgeten saknar lokalkostnader.")
    vote(s1, application, "approve", "Nu ser det bra ut.")
    [only] = db.session.scalars(select(Vote)).all()
    assert (only.choice, only.changed_count) == ("approve", 1)
    assert state_of(application) == "steering_approval"


def test_when_approval_is_impossible_it_returns_to_the_lead_with_the_comments(login_as, world,
                                                                               smtp_server,
                                                                               run_worker):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    vote(login_as("steering1@demo.test"), application, "changes", "Förtydliga målgruppen.")
    assert state_of(application) == "changes_requested"  # 1 of 2 can no longer make a majority
    [back] = records(application, "request_changes")
    assert "Förtydliga målgruppen." in back.comment and "Sara Ek" in back.comment
    run_worker()
    sent = [email.message_from_bytes(m.content, policy=email.policy.default)
            for m in smtp_server.messages]
    to_lead = [m for m in sent if m["To"] == "lead@demo.test"]
    assert len(to_lead) == 1 and "Ändringar begärda" in to_lead[0]["Subject"]
    assert "Förtydliga målgruppen." in to_lead[0].get_content()


def test_a_tie_is_decided_by_the_chair(login_as, world):
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False),
                ("chair", "chair@demo.test", "Carl Ordförande", "lnu", True))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    vote(login_as("steering1@demo.test"), application, "changes", "Nej")
    vote(login_as("steering2@demo.test"), application, "changes", "Nej")
    vote(login_as("steering3@demo.test"), application, "approve")
    assert state_of(application) == "steering_approval"   # 1–2, the chair can still tie it
    vote(login_as("chair@demo.test"), application, "approve")
    assert state_of(application) == "approved"            # 2–2, the chair approved


def test_members_of_the_lead_and_partner_organisations_are_recused(login_as, world):
    add_members(world, ("kalmar_member", "km@demo.test", "Kim Kalmar", "kalmar", False),
                ("vaxjo_member", "vm@demo.test", "Vera Växjö", "vaxjo", False))
    application = world.new_application(state="draft", answers=FULL_ANSWERS)
    db.session.add(ApplicationPartner(application_id=application.id,
                                      organisation_id=world.orgs["vaxjo"].id, contact_name="x",
                                      contact_email="other@demo.test",
                                      contact_user_id=world.users["other_lead"].id,
                                      status="active"))
    db.session.commit()
    application.state = "steering_approval"
    operations.on_state_entered(application, workflow_for(application), form_for(application),
                                world.user("coordinator"))
    db.session.commit()
    decision = load_steering_vote(application, workflow_for(application))
    reasons = {m.user.name: m.recusal_reason for m in decision.recused}
    assert reasons == {"Kim Kalmar": "Arbetar för den sökande organisationen, Kalmar "
                                     "stadsbibliotek.",
                       "Vera Växjö": "Arbetar för samverkansparten Växjö "
                                     "stadsbibliotek."}
    assert (decision.tally.members, decision.tally.eligible, decision.needed) == (4, 2, 2)
    recused = login_as("km@demo.test")
    page = recused.get(f"/applications/{application.id}/decision").get_data(as_text=True)
    assert "Du är jävig i den här ansökan" in page and "/vote" not in page
    assert "/sections/" not in page.split("Styrgruppens beslut")[1].split("</section>")[0]
    html = vote(recused, application, "approve").get_data(as_text=True)
    assert ("Du är jävig i den här ansökan och kan inte rösta. Skäl: Arbetar för den "
            "sökande organisationen") in html
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    # Recused members do not count: the two others decide.
    vote(login_as("steering1@demo.test"), application, "approve")
    vote(login_as("steering2@demo.test"), application, "approve")
    assert state_of(application) == "approved"


def test_declared_jav_needs_a_reason_and_removes_the_member_from_the_count(login_as, world):
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s3 = login_as("steering3@demo.test")
    vote(s3, application, "approve")
    response = s3.post(f"/applications/{application.id}/recusal", {"reason": " "})
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    s3.post(f"/applications/{application.id}/recusal",
            {"reason": "Jag sitter i styrelsen för en av partnerna."})
    decision = load_steering_vote(application, workflow_for(application))
    assert [m.user.name for m in decision.recused] == ["Tove Berg"]
    assert decision.tally.approve == 0           # the vote cast before no longer counts
    assert "kan inte rösta" in vote(s3, application, "approve").get_data(as_text=True)
    vote(login_as("steering1@demo.test"), application, "approve")
    vote(login_as("steering2@demo.test"), application, "approve")
    assert state_of(application) == "approved"
    minutes = db.session.scalar(select(VoteRound.minutes).where(
        VoteRound.application_id == application.id, VoteRound.status == "decided"))
    tove = next(m for m in minutes["members"] if m["name"] == "Tove Berg")
    assert tove["recused"] and tove["recusal_declared"]
    assert tove["recusal_reason"] == "Jag sitter i styrelsen för en av partnerna."


def test_too_few_eligible_members_is_shown_and_the_coordinator_told_once(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s1, s2 = login_as("steering1@demo.test"), login_as("steering2@demo.test")
    s1.post(f"/applications/{application.id}/recusal", {"reason": "Jäv A"})
    s2.post(f"/applications/{application.id}/recusal", {"reason": "Jäv B"})
    page = login_as("coordinator@demo.test").get(f"/applications/{application.id}/decision")
    assert "För få ledamöter får rösta" in page.get_data(as_text=True)
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == world.users["coordinator"].id,
        Notification.kind == "too_few_eligible")).all()
    assert len(notes) == 1
    assert state_of(application) == "steering_approval"


def test_an_edit_after_voting_began_voids_the_votes(login_as, world):
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s1 = login_as("steering1@demo.test")
    first = open_round(application.id)
    old_fingerprint = first.fingerprint
    vote(s1, application, "approve")
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/sections/aims",
                     {"aims": "Mål: 600 deltagare.", "version": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(VoteRound, first.id).status == "voided"
    second = open_round(application.id)
    assert second.number == 2 and second.fingerprint != old_fingerprint
    assert load_steering_vote(application, workflow_for(application)).tally.approve == 0
    [voided] = records(application, "votes_voided")
    assert "1 röst(er) i omgång 1 gäller inte" in voided.comment
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == world.users["steering1"].id,
        Notification.kind == "vote_voided")) == 1
    # A vote on the old version (a page opened before the edit) is refused.
    html = vote(s1, application, "approve", fingerprint=old_fingerprint).get_data(as_text=True)
    assert "Ansökan ändrades efter att du öppnade den." in html
    assert load_steering_vote(application, workflow_for(application)).tally.approve == 0


def test_minutes_are_rendered_as_a_pdf_with_everything_in_them(login_as, world, run_worker):
    add_members(world, ("kalmar_member", "km@demo.test", "Kim Kalmar", "kalmar", False),
                ("steering3", "steering3@demo.test", "Tove Berg", "lnu", True))
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    fingerprint = open_round(application.id).fingerprint
    vote(login_as("steering1@demo.test"), application, "approve", "Väl förankrat i länen.")
    vote(login_as("steering2@demo.test"), application, "abstain")
    vote(login_as("steering3@demo.test"), application, "approve")
    assert state_of(application) == "approved"
    run_worker()
    document = db.session.scalar(select(Document).where(
        Document.application_id == application.id, Document.kind == "minutes"))
    assert document is not None
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(document.content)).pages)
    for expected in ["Protokollsutdrag", "BISS – Bibliotek i samverkan i sydost",
                     "Läslyftet i sydost – åäö", "Sara Ek", "Omar Haddad", "Tove Berg",
                     "ordförande", "Kim Kalmar", "Arbetar för den sökande organisationen",
                     "Väl förankrat i länen.", "Godkänd", "Avstod", "Beslut",
                     fingerprint[:16]]:
        assert expected in text, expected
    page = login_as("lead@demo.test").get(f"/applications/{application.id}/documents")
    assert f"/documents/{document.id}" in page.get_data(as_text=True)


def test_members_are_notified_by_email_or_only_in_the_app(login_as, world, smtp_server,
                                                          run_worker):
    steering2 = world.user("steering2")
    db.session.add(NotificationPreference(user_id=steering2.id, category="vote",
                                          delivery="app"))
    db.session.commit()
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    db.session.refresh(application)
    login_as("coordinator@demo.test").post(
        f"/applications/{application.id}/transitions/send_to_steering",
        {"state_version": str(application.state_version), "comment": ""})
    assert state_of(application) == "steering_approval"
    run_worker()
    recipients = [m["To"] for m in (email.message_from_bytes(x.content)
                                    for x in smtp_server.messages)]
    assert recipients == ["steering1@demo.test"]
    for key in ("steering1", "steering2"):
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == world.users[key].id,
            Notification.kind == "vote_awaited")) == 1
    # Awaiting my decision on the dashboard, gone after voting; unread count in the header.
    s2 = login_as("steering2@demo.test")
    dashboard = s2.get("/").get_data(as_text=True)
    assert "Väntar på ditt beslut" in dashboard and application.title in dashboard
    assert 'class="count-badge">1' in dashboard
    vote(s2, application, "approve")
    dashboard = s2.get("/").get_data(as_text=True)
    assert "Väntar på ditt beslut" not in dashboard
    choices = {f"notify_{c.key}": "email" for c in CATEGORIES}
    settings = s2.post("/settings", {**choices, "language": "sv"}, follow_redirects=True)
    assert "Dina inställningar sparades." in settings.get_data(as_text=True)
    assert choice_for(steering2.id, "vote") == "email"


def test_submission_notifies_everyone_involved(login_as, world, run_worker):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    lead_signs(application)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/transitions/submit",
              {"state_version": str(application.state_version), "comment": ""})
    assert state_of(application) == "submitted"
    notified = set(db.session.scalars(select(User.email).join(
        Notification, Notification.user_id == User.id).where(
        Notification.kind == "state_submitted")))
    assert notified == {"lead@demo.test", "steering1@demo.test", "steering2@demo.test",
                        "coordinator@demo.test"}
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.recipient == "steering1@demo.test")) == 1


def _cast_together(app, application_id, round_id, fingerprint, user_ids):
    """Every user votes approve at the same moment, each in its own app context (its own
    connection), as parallel requests to several web workers would."""
    barrier = threading.Barrier(len(user_ids))
    outcomes = [""] * len(user_ids)

    def worker(index, user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            application = db.session.get(Application, application_id)
            workflow, form = workflow_for(application), form_for(application)
            barrier.wait()
            try:
                operations.cast_vote(application=application, actor=user, workflow=workflow,
                                     form=form, round_id=round_id, choice="approve",
                                     comment="", shown_fingerprint=fingerprint)
                outcomes[index] = "ok"
            except StaleState:
                outcomes[index] = "stale"
            except OperationRefused as refused:
                outcomes[index] = "refused: " + refused.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, uid)) for i, uid in enumerate(user_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_the_last_votes_arriving_together_fire_the_transition_exactly_once(app, world,
                                                                          login_as):
    """Four members, majority needs three. One has voted; the other three vote at the same
    moment. Without the lock each would count only its own vote plus the first and nobody
    would fire; with it, exactly one decides and the others are told it is decided."""
    add_members(world, ("steering3", "steering3@demo.test", "Tove Berg", "lnu", False),
                ("steering4", "steering4@demo.test", "Ulf Ström", "lnu", False))

    def widen_the_window(session, _context):
        # Between writing a vote and counting the votes, wait: without the lock every
        # request would count before any of the others commits.
        if any(isinstance(obj, Vote) for obj in session.new):
            time.sleep(0.3)
    event.listen(Session, "after_flush", widen_the_window)
    try:
        _race_the_last_votes(app, world, login_as)
    finally:
        event.remove(Session, "after_flush", widen_the_window)


def _race_the_last_votes(app, world, login_as):
    for attempt in range(3):
        application = world.new_application(state="steering_approval", answers=FULL_ANSWERS,
                                            title=f"Samtidiga röster {attempt}")
        vote(login_as("steering1@demo.test"), application, "approve")
        round_ = open_round(application.id)
        outcomes = _cast_together(app, application.id, round_.id, round_.fingerprint,
                                  [world.users[k].id for k in ("steering2", "steering3",
                                                               "steering4")])
        assert outcomes.count("ok") >= 2 and set(outcomes) <= {"ok", "stale"}, outcomes
        assert state_of(application) == "approved"
        assert len(records(application, "approve")) == 1
        decided = db.session.scalars(select(VoteRound).where(
            VoteRound.application_id == application.id,
            VoteRound.status == "decided")).all()
        assert len(decided) == 1
