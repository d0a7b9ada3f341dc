"""Everyone whose turn it is hears of it: notices derived from the workflow after each
transition, preferences per category (email at once, daily summary, app only), the daily
digest (once per person and day, in the person's language) and confirm-again."""

import email
import email.policy
import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.config import PROJECT_ROOT
from grants.db import db, utcnow
from grants.deadlines.operations import schedule_reminders
from grants.deadlines.reminders import send_reminder
from grants.i18n import STOCKHOLM
from grants.jobs.queue import get_queue, rq_job_status
from grants.notifications.digest import (
    DIGEST_FUNCTION,
    digest_rq_id,
    last_digest_day,
    sweep_digest,
)
from grants.notifications.models import (
    Notification,
    NotificationDigest,
    NotificationPreference,
    OutboxEmail,
)
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from tests.conftest import _delete_queue_keys
from tests.factories import FULL_ANSWERS, build_world, vote

# A copy of the joint workflow in which the steering group, not the coordinator, moves an
# application on from internal review: the notices must follow the file.
VARIANT = "joint_variant"


@pytest.fixture
def workflows_path(tmp_path):
    """The app (tests/conftest.py) runs on the shipped files plus the variant."""
    directory = tmp_path / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    text = (directory / "joint_application.yaml").read_text(encoding="utf-8")
    for name in ("send_to_steering", "request_changes"):
        start = text.index(f"  - name: {name}\n")
        end = text.index("    by: [coordinator]\n", start)
        text = text[:end] + "    by: [steering]\n" + text[end + len("    by: [coordinator]\n"):]
    (directory / f"{VARIANT}.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def world(app):
    """The usual people, writing in English (the assertions read English text; Swedish is
    the digest test's second language)."""
    built = build_world()
    for user in built.users.values():
        user.locale = "en"
    db.session.commit()
    return built


def fire(browser, application, name, comment=""):
    db.session.expire_all()
    version = db.session.get(Application, application.id).state_version
    response = browser.post(f"/applications/{application.id}/transitions/{name}",
                            {"comment": comment, "state_version": str(version)})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()


def notes_of(email_address: str, application=None) -> list[Notification]:
    query = select(Notification).join(User, User.id == Notification.user_id).where(
        User.email == email_address)
    if application is not None:
        query = query.where(Notification.application_id == application.id)
    return list(db.session.scalars(query.order_by(Notification.id)))


def told(application) -> dict[str, list[str]]:
    """Who was told what about the application: email → kinds."""
    rows = db.session.execute(select(User.email, Notification.kind).join(
        User, User.id == Notification.user_id).where(
        Notification.application_id == application.id).order_by(Notification.id)).all()
    result: dict[str, list[str]] = {}
    for address, kind in rows:
        result.setdefault(address, []).append(kind)
    return result


def emails_to(address: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == address)
                                   .order_by(OutboxEmail.id)))


def add_partner(world, application, org="vaxjo", user_key="other_lead"):
    user = world.user(user_key)
    partner = ApplicationPartner(application_id=application.id,
                                 organisation_id=world.orgs[org].id, contact_name=user.name,
                                 contact_email=user.email, contact_user_id=user.id,
                                 status="active")
    db.session.add(partner)
    db.session.commit()
    return partner


def choose(user_key_or_user, **choices):
    user = user_key_or_user
    for category, delivery in choices.items():
        db.session.merge(NotificationPreference(user_id=user.id, category=category,
                                                delivery=delivery))
    db.session.commit()


# --- after each transition -----------------------------------------------------------------------
def test_send_to_partners_tells_the_partners_their_confirmation_is_due(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    add_partner(world, application)
    fire(login_as("lead@demo.test"), application, "send_to_partners")
    # The partner must confirm (send_to_review requires it); nobody else may act but the lead,
    # who made the transition and is not told about their own act.
    assert told(application) == {"other@demo.test": ["confirmation_due"]}
    note = notes_of("other@demo.test")[0]
    assert note.subject == "Confirm your part: Läslyftet i sydost – åäö"
    assert "Partner confirmation" in note.body and "Lena Lindqvist" in note.body
    assert note.link == f"/applications/{application.id}" and note.delivery == "email"
    [mail] = emails_to("other@demo.test")
    assert mail.subject == note.subject
    assert f"https://bidrag.test/applications/{application.id}" in mail.body


def test_send_to_review_tells_whoever_may_act_next_and_not_others(login_as, world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    fire(login_as("lead@demo.test"), application, "send_to_review")
    # From internal review the coordinator sends on or requests changes: the coordinator is
    # told; the steering group has nothing to do yet.
    assert told(application) == {"coordinator@demo.test": ["turn"]}
    note = notes_of("coordinator@demo.test")[0]
    assert note.subject == "Your turn: Läslyftet i sydost – åäö is “Internal review”"
    assert "“Send to the steering group”" in note.body and "“Request changes”" in note.body
    assert len(emails_to("coordinator@demo.test")) == 1


def test_request_changes_tells_the_lead_with_the_comment(login_as, world):
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    add_partner(world, application)
    fire(login_as("coordinator@demo.test"), application, "request_changes",
         "Budgeten saknar lokalhyra.")
    assert told(application) == {"lead@demo.test": ["turn"]}
    note = notes_of("lead@demo.test")[0]
    assert "Changes requested" in note.subject
    assert "Comment: Budgeten saknar lokalhyra." in note.body
    assert "“Send to the partners for confirmation”" in note.body
    assert "Cecilia Holm: “Request changes”." in note.body


def test_the_roles_come_from_the_workflow_file(login_as, world):
    """In the variant, the steering group moves an application on from internal review: its
    members are told, the coordinator is not; the lead always hears of the new state."""
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                        workflow=VARIANT)
    coordinator = world.user("coordinator")
    application.lead_user_id = coordinator.id  # the coordinator leads it and moves it on
    db.session.commit()
    fire(login_as("coordinator@demo.test"), application, "send_to_review")
    assert told(application) == {"steering1@demo.test": ["turn"],
                                 "steering2@demo.test": ["turn"]}
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                        workflow=VARIANT)
    application.lead_user_id = world.user("other_lead").id
    db.session.commit()
    fire(login_as("other@demo.test"), application, "send_to_review")
    assert told(application) == {"steering1@demo.test": ["turn"],
                                 "steering2@demo.test": ["turn"]}
    # The shipped workflow, same move: the coordinator.
    shipped = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    fire(login_as("lead@demo.test"), shipped, "send_to_review")
    assert told(shipped) == {"coordinator@demo.test": ["turn"]}


def test_the_lead_hears_of_every_new_state_and_voters_are_told_once(login_as, world):
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    fire(login_as("coordinator@demo.test"), application, "send_to_steering")
    kinds = told(application)
    # The members hear of the vote from the round only; the lead of the new state.
    assert kinds["steering1@demo.test"] == ["vote_awaited"]
    assert kinds["steering2@demo.test"] == ["vote_awaited"]
    assert kinds["lead@demo.test"] == ["state_changed"]
    lead_note = notes_of("lead@demo.test")[0]
    assert lead_note.delivery == "digest" and not lead_note.emailed  # default: daily summary
    assert emails_to("lead@demo.test") == []


def test_a_decision_by_votes_tells_the_lead_once(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    vote(login_as("steering1@demo.test"), application, "approve")
    vote(login_as("steering2@demo.test"), application, "approve")
    assert db.session.get(Application, application.id).state == "approved"
    assert [n.kind for n in notes_of("lead@demo.test", application)] == ["decision_approved"]


# --- preferences --------------------------------------------------------------------------------
def test_preferences_per_category_are_honoured(login_as, world):
    coordinator, lead = world.user("coordinator"), world.user("lead")
    choose(coordinator, action="app")
    choose(lead, state="email")
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    fire(login_as("lead@demo.test"), application, "send_to_review")
    [note] = notes_of("coordinator@demo.test")
    assert note.delivery == "app" and not note.emailed
    assert emails_to("coordinator@demo.test") == []
    fire(login_as("coordinator@demo.test"), application, "send_to_steering")
    [note] = notes_of("lead@demo.test")
    assert note.kind == "state_changed" and note.delivery == "email"
    [mail] = emails_to("lead@demo.test")
    assert "Steering group decision" in mail.subject


def checked(html: str, name: str) -> str:
    """The value of the radio button of group `name` that the page shows chosen."""
    found = [m for m in re.findall(r"<input[^>]*>", html)
             if f'name="{name}"' in m and " checked" in m]
    assert len(found) == 1, found
    return re.search(r'value="([^"]*)"', found[0]).group(1)


def test_settings_page_saves_a_choice_per_category(login_as, world):
    lead = login_as("lead@demo.test")
    html = lead.get("/settings").get_data(as_text=True)
    assert "It is your turn" in html and "Other changes of state" in html
    assert checked(html, "notify_action") == "email"
    assert checked(html, "notify_state") == "digest"
    # One group missing: a message beside it, nothing saved.
    data = {"notify_action": "app", "notify_confirmation": "email", "notify_vote": "digest",
            "notify_reminder": "email", "notify_decision": "email", "notify_comment": "email",
            "language": "sv"}
    refused = lead.post("/settings", data)
    assert refused.status_code == 422
    assert "Choose how you want to hear of this." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0
    assert world.user("lead").locale == "en"
    saved = lead.post("/settings", {**data, "notify_state": "app"}, follow_redirects=True)
    assert checked(saved.get_data(as_text=True), "notify_action") == "app"
    assert "Dina inställningar sparades." in saved.get_data(as_text=True)
    chosen = dict(db.session.execute(select(NotificationPreference.category,
                                            NotificationPreference.delivery).where(
        NotificationPreference.user_id == world.users["lead"].id)).all())
    assert chosen == {"action": "app", "confirmation": "email", "vote": "digest",
                      "reminder": "email", "decision": "email", "comment": "email",
                      "state": "app"}
    assert world.user("lead").locale == "sv"
    # Bad value: refused, not a 500.
    assert lead.post("/settings", {**data, "notify_state": "fax"}).status_code == 422


def test_confirm_again_respects_in_app_only_and_is_in_the_app(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    partner = add_partner(world, application)
    db.session.add(PartnerConfirmation(partner_id=partner.id, fingerprint="0" * 64,
                                       signatory_name="Eva", signatory_title="Chef",
                                       confirmed_by_id=partner.contact_user_id))
    db.session.commit()
    choose(world.user("other_lead"), confirmation="app")
    lead = login_as("lead@demo.test")
    response = lead.post(f"/applications/{application.id}/sections/summary",
                         {"summary": "Ny sammanfattning.", "version": "1"})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:1000]
    [note] = notes_of("other@demo.test")
    assert note.kind == "confirm_again" and note.delivery == "app"
    assert note.subject == "Confirm “Läslyftet i sydost – åäö” again"
    assert "Lena Lindqvist" in note.body
    assert emails_to("other@demo.test") == []


# --- the daily digest ---------------------------------------------------------------------------
def run_digest_job(app, run_worker, day) -> None:
    """The digest job as RQ's scheduler hands it to a worker: on the queue, run by a real RQ
    worker, its emails sent by the mail job to the real SMTP server."""
    get_queue("default", app).enqueue(DIGEST_FUNCTION, day.isoformat())
    run_worker()


def received(smtp_server) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.content, policy=email.policy.default)
            for m in smtp_server.messages]


def test_the_digest_goes_once_per_person_in_their_language(app, login_as, world, smtp_server,
                                                           run_worker):
    lead, coordinator = world.user("lead"), world.user("coordinator")
    lead.locale = "sv"
    db.session.commit()
    choose(coordinator, action="digest")
    first = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                  title="Första")
    second = world.new_application(state="internal_review", answers=FULL_ANSWERS,
                                   title="Andra")
    fire(login_as("lead@demo.test"), first, "send_to_review")          # coordinator: turn
    fire(login_as("coordinator@demo.test"), second, "send_to_steering")  # lead: state changed
    run_worker()
    # Only the members' vote requests went at once; the rest waits for the summary.
    assert sorted(m["To"] for m in received(smtp_server)) == ["steering1@demo.test",
                                                             "steering2@demo.test"]
    before = len(smtp_server.messages)
    day = last_digest_day(app)
    run_digest_job(app, run_worker, day)
    digests = {m["To"]: m for m in received(smtp_server)[before:]}
    assert sorted(digests) == ["coordinator@demo.test", "lead@demo.test"]
    lead_text = digests["lead@demo.test"].get_content()
    coordinator_text = digests["coordinator@demo.test"].get_content()
    # Each in the person's language: the notices were written in it.
    assert "Andra" in lead_text and "Styrgruppsbeslut" in lead_text
    assert "Första" in coordinator_text and "Internal review" in coordinator_text
    assert "Hello Cecilia Holm," in coordinator_text
    assert f"https://bidrag.test/applications/{first.id}" in coordinator_text
    assert "Första" not in lead_text and "Andra" not in coordinator_text
    assert db.session.scalar(select(func.count()).select_from(NotificationDigest)) == 2
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.delivery == "digest", Notification.digest_id.is_(None))) == 0

    # Run again the same day (twice, as two workers would): nothing is sent twice, and what
    # arrives meanwhile waits for the next day's summary.
    third = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                  title="Tredje")
    fire(login_as("lead@demo.test"), third, "send_to_review")          # coordinator: turn
    count = len(smtp_server.messages)
    run_digest_job(app, run_worker, day)
    run_digest_job(app, run_worker, day)
    assert len(smtp_server.messages) == count
    assert db.session.scalar(select(func.count()).select_from(NotificationDigest)) == 2
    run_digest_job(app, run_worker, day + timedelta(days=1))
    [later] = received(smtp_server)[count:]
    assert later["To"] == "coordinator@demo.test"
    assert "Tredje" in later.get_content() and "Första" not in later.get_content()


def test_the_digest_carries_only_what_was_chosen_for_it(app, login_as, world, smtp_server,
                                                        run_worker):
    choose(world.user("lead"), state="app")
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    fire(login_as("coordinator@demo.test"), application, "send_to_steering")
    [note] = notes_of("lead@demo.test")
    assert note.delivery == "app"
    run_worker()
    before = len(smtp_server.messages)
    run_digest_job(app, run_worker, last_digest_day(app))
    assert len(smtp_server.messages) == before
    assert db.session.scalar(select(func.count()).select_from(NotificationDigest)) == 0


def test_the_sweeper_schedules_the_digest_again_and_runs_a_missed_day(app, world):
    next_day = last_digest_day(app) + timedelta(days=1)
    _delete_queue_keys(app)  # Redis lost everything
    assert rq_job_status(digest_rq_id(app, next_day), app) is None
    sweep_digest(app)
    assert rq_job_status(digest_rq_id(app, next_day), app) is not None
    # A notification from before the last digest moment is still waiting: that day's digest
    # had not run (Redis lost it), so the sweeper runs it now.
    application = world.new_application()
    lead = world.user("lead")
    note = Notification(user_id=lead.id, application_id=application.id, kind="state_changed",
                        subject="x", delivery="digest",
                        created_at=utcnow() - timedelta(days=2))
    db.session.add(note)
    db.session.commit()
    missed = last_digest_day(app)
    assert rq_job_status(digest_rq_id(app, missed), app) is None
    sweep_digest(app)
    assert rq_job_status(digest_rq_id(app, missed), app) is not None
    assert missed == utcnow().astimezone(STOCKHOLM).date() or \
        missed == utcnow().astimezone(STOCKHOLM).date() - timedelta(days=1)


def test_reminders_follow_the_choice_for_reminders(world):
    choose(world.user("lead"), reminder="app", action="email")
    application = world.new_application(answers=FULL_ANSWERS)
    rows = {r.milestone: r for r in schedule_reminders(application)}
    db.session.commit()
    deadline = rows["deadline"]
    assert send_reminder(deadline.id, now=deadline.send_at) == "sent"
    [note] = notes_of("lead@demo.test")
    assert note.kind.startswith("reminder_") and note.delivery == "app"
    assert emails_to("lead@demo.test") == []
