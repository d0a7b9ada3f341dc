"""Deadlines, internal milestones and reminders: Swedish wall-clock time across daylight-saving
changes, the deadline guard and a coordinator's extension, reminders scheduled in RQ after
commit and sent once through a real SMTP server by a real RQ worker with its scheduler."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time, timedelta

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application, TransitionRecord
from grants.calls.models import Call
from grants.db import db, utcnow
from grants.deadlines.milestones import (
    STOCKHOLM,
    NonexistentLocalTime,
    compute_milestones,
    from_local,
    reminder_time,
)
from grants.deadlines.models import Reminder, ReminderStatus
from grants.deadlines.operations import (
    deadline_problems,
    extend_deadline,
    schedule_reminders,
    who_owes,
)
from grants.deadlines.reminders import send_reminder
from grants.demo import DEMO_APPLICATION_TITLE
from grants.errors import OperationRefused
from grants.i18n import format_datetime_local
from grants.jobs.queue import all_queues, get_queue, redis_connection, reminder_rq_job_id
from grants.notifications.models import Notification, OutboxEmail
from grants.partners.models import ApplicationPartner
from tests.factories import FULL_ANSWERS, lead_must_sign, lead_signs, make_user, name_signatory

UTC = UTC
DEFAULT_DAYS = {"partner_input": 21, "steering_meeting": 14, "signatures": 7}


# --- helpers ----------------------------------------------------------------------------------
def stockholm(y, m, d, hh=23, mm=59) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=STOCKHOLM)


def local_today() -> date:
    return utcnow().astimezone(STOCKHOLM).date()


def deadline_in(days: int) -> datetime:
    """23:59 Swedish time, `days` days from today."""
    return from_local(local_today() + timedelta(days=days), time(23, 59))


def set_call(world, *, deadline: datetime, partner=8, steering=4, signatures=2,
             reminder=3) -> Call:
    """With a deadline 10 days ahead and these numbers, the partner-input reminder (due
    yesterday, milestone in two days) goes out at once; the other three lie days ahead."""
    call = db.session.get(Call, world.call.id)
    call.deadline_at = deadline
    call.partner_input_days_before, call.steering_meeting_days_before = partner, steering
    call.signatures_days_before, call.reminder_days_before = signatures, reminder
    db.session.commit()
    return call


def reminders(application: Application | int) -> dict[str, Reminder]:
    """The application's reminders that are not cancelled, by milestone."""
    application_id = application if isinstance(application, int) else application.id
    rows = db.session.scalars(select(Reminder).where(
        Reminder.application_id == application_id,
        Reminder.status != ReminderStatus.cancelled).order_by(Reminder.id)).all()
    return {row.milestone: row for row in rows}


def scheduled_in_rq(app) -> dict[str, datetime]:
    registry = ScheduledJobRegistry(queue=get_queue("default", app))
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def run_scheduler_worker(app) -> None:
    """A real RQ burst worker with its scheduler: due scheduled jobs are moved onto their queue
    first (RQScheduler.enqueue_scheduled_jobs), then every queued job runs."""
    worker = SimpleWorker(all_queues(app), connection=redis_connection(app))
    worker.work(burst=True, with_scheduler=True)
    db.session.expire_all()


def add_partner(application, org, user: User, *, status="active") -> ApplicationPartner:
    partner = ApplicationPartner(application_id=application.id, organisation_id=org.id,
                                 contact_name=user.name, contact_email=user.email,
                                 contact_user_id=user.id if status == "active" else None,
                                 status=status)
    db.session.add(partner)
    db.session.commit()
    return partner


def confirm_partner(application, partner, user) -> None:
    from grants.applications.queries import load_answers
    from grants.partners.confirmation import confirm, partner_fingerprint
    from grants.processes import get_form, workflow_for
    # Partners confirm where the workflow offers it: the joint application's confirmation
    # state (still partner input, still before the steering group).
    application.state = "partner_confirmation"
    name_signatory(application, partner.organisation_id, user)
    db.session.commit()
    form, answers = get_form(application.form_name), load_answers(application.id)
    confirm(actor=user, application=application, roles={"partner"},
            workflow=workflow_for(application), form=form, answers=answers, partner=partner,
            shown_fingerprint=partner_fingerprint(application, form, answers, partner))


def english(world, *keys) -> None:
    for key in keys:
        world.user(key).locale = "en"
    db.session.commit()


def extend(browser, application, day: str, clock: str, reason: str):
    return browser.post(f"/applications/{application.id}/deadline", {
        "extension-new_date": day, "extension-new_time": clock, "extension-reason": reason})


def fire(browser, application, name):
    db.session.refresh(application)
    if lead_must_sign(application, name):
        lead_signs(application)  # the lead organisation's signatory signs first
        db.session.refresh(application)
    return browser.post(f"/applications/{application.id}/transitions/{name}",
                        {"comment": "", "state_version": str(application.state_version)},
                        follow_redirects=True)


# --- milestones: pure computation across daylight-saving changes -----------------------------
def test_milestones_keep_swedish_wall_clock_time_across_the_spring_change():
    # Summer time starts on 29 March 2026: the deadline is in summer time (UTC+2), the
    # partner-input and steering milestones in winter time (UTC+1).
    deadline = stockholm(2026, 4, 10).astimezone(UTC)
    assert deadline == datetime(2026, 4, 10, 21, 59, tzinfo=UTC)
    got = {m.key: m for m in compute_milestones(deadline, DEFAULT_DAYS)}
    assert [m.key for m in compute_milestones(deadline, DEFAULT_DAYS)] == [
        "partner_input", "steering_meeting", "signatures", "deadline"]
    assert got["partner_input"].at == datetime(2026, 3, 20, 22, 59, tzinfo=UTC)
    assert got["steering_meeting"].at == datetime(2026, 3, 27, 22, 59, tzinfo=UTC)
    assert got["signatures"].at == datetime(2026, 4, 3, 21, 59, tzinfo=UTC)
    assert got["deadline"].at == deadline
    for milestone in got.values():
        assert (milestone.local.hour, milestone.local.minute) == (23, 59)
    assert got["partner_input"].local.utcoffset() == timedelta(hours=1)
    assert got["signatures"].local.utcoffset() == timedelta(hours=2)
    # 21 calendar days, but one hour less in absolute time.
    assert deadline - got["partner_input"].at == timedelta(days=21) - timedelta(hours=1)
    # Reminders go out at 08:00 Swedish time, winter or summer.
    assert reminder_time(got["partner_input"].at, 3) == datetime(2026, 3, 17, 7, 0, tzinfo=UTC)
    assert reminder_time(got["signatures"].at, 3) == datetime(2026, 3, 31, 6, 0, tzinfo=UTC)
    assert reminder_time(got["steering_meeting"].at, 3) == datetime(2026, 3, 24, 7, 0,
                                                                    tzinfo=UTC)


def test_milestones_keep_swedish_wall_clock_time_across_the_autumn_change():
    # Winter time starts on 25 October 2026.
    deadline = stockholm(2026, 11, 6).astimezone(UTC)
    assert deadline == datetime(2026, 11, 6, 22, 59, tzinfo=UTC)
    got = {m.key: m for m in compute_milestones(deadline, DEFAULT_DAYS)}
    assert got["partner_input"].at == datetime(2026, 10, 16, 21, 59, tzinfo=UTC)
    assert got["steering_meeting"].at == datetime(2026, 10, 23, 21, 59, tzinfo=UTC)
    assert got["signatures"].at == datetime(2026, 10, 30, 22, 59, tzinfo=UTC)
    assert all((m.local.hour, m.local.minute) == (23, 59) for m in got.values())
    assert got["partner_input"].local.utcoffset() == timedelta(hours=2)
    assert got["signatures"].local.utcoffset() == timedelta(hours=1)
    assert deadline - got["partner_input"].at == timedelta(days=21) + timedelta(hours=1)
    # A reminder 0 days before a milestone earlier than 08:00 goes out the day before.
    early = stockholm(2026, 10, 26, 6, 0).astimezone(UTC)
    assert reminder_time(early, 0) == stockholm(2026, 10, 25, 8, 0).astimezone(UTC)


def test_swedish_times_that_do_not_exist_or_occur_twice():
    with pytest.raises(NonexistentLocalTime):
        from_local(date(2026, 3, 29), time(2, 30))  # clocks go from 02:00 to 03:00
    assert from_local(date(2026, 3, 29), time(3, 30)) == datetime(2026, 3, 29, 1, 30,
                                                                  tzinfo=UTC)
    # 02:30 happens twice on 25 October; the first one (summer time) is meant.
    assert from_local(date(2026, 10, 25), time(2, 30)) == datetime(2026, 10, 25, 0, 30,
                                                                   tzinfo=UTC)


# --- the deadline guard and extensions ---------------------------------------------------------
def test_deadline_check_at_the_daylight_saving_changes(app, world):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    call = db.session.get(Call, world.call.id)
    # The deadline is 23:59 on the day summer time starts: 21:59 UTC, not 22:59.
    call.deadline_at = from_local(date(2026, 3, 29), time(23, 59))
    db.session.commit()
    assert deadline_problems(application, now=datetime(2026, 3, 29, 21, 58, 59, tzinfo=UTC)) == []
    refused = deadline_problems(application, now=datetime(2026, 3, 29, 21, 59, tzinfo=UTC))
    assert len(refused) == 1 and "29 mars 2026 kl. 23.59" in refused[0]
    # On the day winter time starts, 23:59 is 22:59 UTC: at 22:30 UTC the call is still open.
    call.deadline_at = from_local(date(2026, 10, 25), time(23, 59))
    db.session.commit()
    assert deadline_problems(application, now=datetime(2026, 10, 25, 22, 30, tzinfo=UTC)) == []
    refused = deadline_problems(application, now=datetime(2026, 10, 25, 22, 59, tzinfo=UTC))
    assert "25 oktober 2026 kl. 23.59" in refused[0]


def test_submit_is_refused_after_the_deadline_and_allowed_after_an_extension(
        login_as, world, past_deadline):
    english(world, "lead", "coordinator")
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    call = db.session.get(Call, world.call.id)
    call.deadline_at = past_deadline
    db.session.commit()
    lead = login_as("lead@demo.test")
    html = fire(lead, application, "submit").get_data(as_text=True)
    closed = format_datetime_local(past_deadline, "en")
    assert f"The call closed on {closed}." in html
    db.session.refresh(application)
    assert application.state == "approved"

    coordinator = login_as("coordinator@demo.test")
    new_day = local_today() + timedelta(days=5)
    response = extend(coordinator, application, new_day.isoformat(), "23:59",
                      "The municipality's board meets late – åäö")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    expected = from_local(new_day, time(23, 59))
    assert application.deadline_extended_to == expected
    record = db.session.scalar(select(TransitionRecord).where(
        TransitionRecord.application_id == application.id,
        TransitionRecord.transition == "extend_deadline"))
    assert (record.from_state, record.to_state) == ("approved", "approved")
    assert record.actor_id == world.users["coordinator"].id
    assert "The municipality's board meets late – åäö" in record.comment
    assert format_datetime_local(expected, "sv") in record.comment  # the application's language
    page = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert "Deadline extended" in page and "The municipality&#39;s board meets late" in page
    assert format_datetime_local(expected, "en") in page and "Extended" in page

    html = fire(lead, application, "submit").get_data(as_text=True)
    db.session.refresh(application)
    assert application.state == "submitted", html[:3000]

    # Once the extension has passed too, the message names it and the call's deadline.
    late = deadline_problems(application, now=expected)
    assert format_datetime_local(expected, "sv") in late[0]
    assert format_datetime_local(past_deadline, "sv") in late[0]


def test_extension_is_refused_for_non_coordinators_and_bad_dates(app, login_as, world):
    english(world, "lead", "coordinator")
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    call_deadline_day = world.call.deadline_at.astimezone(STOCKHOLM).date()
    later = (call_deadline_day + timedelta(days=7)).isoformat()

    lead = login_as("lead@demo.test")
    response = extend(lead, application, later, "23:59", "Please")
    assert response.status_code == 303
    assert "Only a coordinator can extend" in lead.get(
        f"/applications/{application.id}").get_data(as_text=True)
    with pytest.raises(OperationRefused):
        extend_deadline(application=application, actor=world.user("lead"),
                        new_deadline=from_local(date.fromisoformat(later), time(23, 59)),
                        reason="Please")

    coordinator = login_as("coordinator@demo.test")
    earlier = (call_deadline_day - timedelta(days=1)).isoformat()
    response = extend(coordinator, application, earlier, "23:59", "Too early")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    call_deadline = format_datetime_local(world.call.deadline_at, "en")
    message = f"The new deadline must be later than the call&#39;s deadline, {call_deadline}."
    assert 'id="extension-new_date-error"' in html and message in html
    assert "The deadline was not extended" in html  # and as a flash

    response = extend(coordinator, application, later, "23:59", "   ")
    assert response.status_code == 422
    assert 'id="extension-reason-error"' in response.get_data(as_text=True)

    # 02:30 on the night summer time starts does not exist in Sweden.
    spring = date(call_deadline_day.year + 1, 3, 31)
    spring -= timedelta(days=(spring.weekday() + 1) % 7)  # the last Sunday of March
    response = extend(coordinator, application, spring.isoformat(), "02:30", "Spring")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="extension-new_time-error"' in html and "does not exist in Sweden" in html

    response = extend(coordinator, application, "31/12", "25:00", "Garbage")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give the date as YYYY-MM-DD" in html and "Give the time as HH:MM" in html

    db.session.expire_all()
    assert db.session.get(Application, application.id).deadline_extended_to is None
    assert db.session.scalar(select(func.count(TransitionRecord.id)).where(
        TransitionRecord.transition == "extend_deadline")) == 0


def test_extension_of_a_foreign_application_is_not_found(login_as, world):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    other = login_as("other@demo.test")
    response = extend(other, application, "2030-01-01", "23:59", "Not mine")
    assert response.status_code == 404


# --- reminders ---------------------------------------------------------------------------------
def test_reminders_reach_rq_only_after_commit(app, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    rows = schedule_reminders(application)
    assert {r.milestone for r in rows} == {"partner_input", "steering_meeting", "signatures",
                                           "deadline"}
    assert scheduled_in_rq(app) == {}  # not before the commit
    db.session.rollback()
    assert scheduled_in_rq(app) == {}  # nor after a rollback
    assert db.session.scalar(select(func.count(Reminder.id))) == 0

    rows = schedule_reminders(application)
    db.session.commit()
    expected = {reminder_rq_job_id(app, r.id): r.send_at for r in rows}
    assert scheduled_in_rq(app) == expected
    # Calling it again changes nothing: the rows are the reminders' identity.
    schedule_reminders(application)
    db.session.commit()
    assert db.session.scalar(select(func.count(Reminder.id))) == 4
    assert scheduled_in_rq(app) == expected


def test_reminders_are_sent_once_through_smtp_by_a_worker_with_scheduler(
        app, login_as, world, smtp_server):
    call = set_call(world, deadline=deadline_in(10))
    lead = login_as("lead@demo.test")
    response = lead.post("/applications/new", {"call_id": call.id,
                                               "organisation_id": world.orgs["kalmar"].id,
                                               "title": "Läsfrämjande i sydost",
                                               "language": "sv"})
    assert response.status_code == 303
    application = db.session.scalar(select(Application))
    rows = reminders(application)
    assert set(rows) == {"partner_input", "steering_meeting", "signatures", "deadline"}
    now = utcnow()
    assert rows["partner_input"].send_at < now < rows["partner_input"].milestone_at
    assert all(rows[k].send_at > now + timedelta(days=2)
               for k in ("steering_meeting", "signatures", "deadline"))
    # Creating the application committed the rows and put them into RQ's scheduler.
    assert scheduled_in_rq(app) == {reminder_rq_job_id(app, r.id): r.send_at
                                    for r in rows.values()}

    olle = world.user("other_lead")  # Växjö's contact: has not confirmed
    petra = make_user("petra@demo.test", "Petra Part", world.orgs["lnu"])
    db.session.commit()
    add_partner(application, world.orgs["vaxjo"], olle)
    confirmed = add_partner(application, world.orgs["lnu"], petra)
    confirm_partner(application, confirmed, petra)

    run_scheduler_worker(app)

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["other@demo.test"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Läsfrämjande i sydost" in message["Subject"]
    body = message.get_content()
    partner_due = format_datetime_local(rows["partner_input"].milestone_at, "sv")
    assert partner_due in body and "Växjö stadsbibliotek" in body
    assert f"/applications/{application.id}" in body
    rows = reminders(application)
    assert rows["partner_input"].status == ReminderStatus.sent
    assert rows["partner_input"].recipients == [olle.id]
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    note = db.session.scalar(select(Notification))
    assert (note.user_id, note.kind) == (olle.id, "reminder_partner_input")
    # The three reminders ahead are still waiting in RQ's scheduler.
    assert {k for k, r in rows.items() if r.status == ReminderStatus.scheduled} == {
        "steering_meeting", "signatures", "deadline"}
    assert set(scheduled_in_rq(app)) == {reminder_rq_job_id(app, rows[k].id) for k in
                                         ("steering_meeting", "signatures", "deadline")}

    # Never twice: the worker again, the job again (directly and through RQ), the sweeper.
    run_scheduler_worker(app)
    assert send_reminder(rows["partner_input"].id) == "skipped"
    get_queue("default", app).enqueue("grants.deadlines.reminders.run_reminder",
                                      rows["partner_input"].id)
    run_scheduler_worker(app)
    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--older-than", "0"])
    assert result.exit_code == 0 and "Scheduled 0 reminder(s) again." in result.output
    run_scheduler_worker(app)
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    english(world, "coordinator")
    page = login_as("coordinator@demo.test").get(f"/applications/{application.id}")
    section = page.get_data(as_text=True).split('id="deadlines"')[1].split("</section>")[0]
    assert section.count("A reminder has been sent.") == 1


def test_worker_command_needs_the_scheduler_for_reminders(app, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    partner = add_partner(application, world.orgs["vaxjo"], world.user("other_lead"))
    schedule_reminders(application)
    db.session.commit()
    application_id, contact_id = application.id, partner.contact_user_id
    runner = app.test_cli_runner()  # the real `flask worker` (forking RQ worker)
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert reminders(application_id)["partner_input"].status == ReminderStatus.scheduled
    result = runner.invoke(args=["worker", "--burst", "--with-scheduler"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    row = reminders(application_id)["partner_input"]
    assert row.status == ReminderStatus.sent and row.recipients == [contact_id]
    outbox = db.session.scalar(select(OutboxEmail))
    assert outbox.recipient == "other@demo.test" and outbox.status == "sent"


def test_each_milestone_reminds_whoever_still_owes_something(app, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    olle, petra = world.user("other_lead"), make_user("petra@demo.test", "Petra Part",
                                                      world.orgs["lnu"])
    db.session.commit()
    add_partner(application, world.orgs["vaxjo"], olle)
    confirmed = add_partner(application, world.orgs["lnu"], petra)
    invited = add_partner(application, world.orgs["sydost"], world.user("steering1"),
                          status="invited")
    confirm_partner(application, confirmed, petra)
    lead = world.user("lead")

    owing = who_owes(application, "partner_input")
    assert [d.user.id if d.user else None for d in owing] == [olle.id, None]
    assert owing[1].name == f"{invited.contact_name} (Länsbibliotek Sydost)"
    assert [d.user.id for d in who_owes(application, "steering_meeting")] == [lead.id]
    assert [d.user.id for d in who_owes(application, "deadline")] == [lead.id]

    rows = {r.milestone: r for r in schedule_reminders(application)}
    db.session.commit()
    assert send_reminder(rows["steering_meeting"].id, now=rows["steering_meeting"].send_at) \
        == "sent"
    assert db.session.get(Reminder, rows["steering_meeting"].id).recipients == [lead.id]

    # At the steering group's decision the lead owes nothing for the meeting any more, but
    # still the signatures; a partner whose part is past owes no partner input.
    application = db.session.get(Application, application.id)
    application.state = "steering_approval"
    db.session.commit()
    assert who_owes(application, "steering_meeting") == []
    assert who_owes(application, "partner_input") == []
    assert send_reminder(rows["signatures"].id, now=rows["signatures"].send_at) == "sent"
    assert db.session.get(Reminder, rows["signatures"].id).recipients == [lead.id]
    # A reminder nobody needs is marked sent without recipients: no email.
    assert send_reminder(rows["partner_input"].id) == "sent"
    assert db.session.get(Reminder, rows["partner_input"].id).recipients == []
    assert [n.user_id for n in db.session.scalars(select(Notification).order_by(
        Notification.id))] == [lead.id, lead.id]
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 2

    # Submitted: the last reminder is cancelled, not sent.
    application.state = "submitted"
    db.session.commit()
    assert send_reminder(rows["deadline"].id, now=rows["deadline"].send_at) == "cancelled"
    assert db.session.get(Reminder, rows["deadline"].id).status == ReminderStatus.cancelled
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 2


def test_reminder_is_not_sent_before_its_time(app, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    rows = {r.milestone: r for r in schedule_reminders(application)}
    db.session.commit()
    assert send_reminder(rows["deadline"].id) == "early"
    assert db.session.get(Reminder, rows["deadline"].id).status == ReminderStatus.scheduled


def test_extension_cancels_pending_reminders_and_schedules_new_ones(app, login_as, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    old = {r.milestone: r for r in schedule_reminders(application)}
    db.session.commit()
    old_ids = {r.id for r in old.values()}
    assert set(scheduled_in_rq(app)) == {reminder_rq_job_id(app, i) for i in old_ids}

    coordinator = login_as("coordinator@demo.test")
    new_day = local_today() + timedelta(days=40)
    assert extend(coordinator, application, new_day.isoformat(), "12:00",
                  "Waiting for the region's co-financing decision").status_code == 303
    db.session.expire_all()
    assert {db.session.get(Reminder, i).status for i in old_ids} == {ReminderStatus.cancelled}
    new = reminders(application)
    assert set(new) == {"partner_input", "steering_meeting", "signatures", "deadline"}
    assert not old_ids & {r.id for r in new.values()}
    deadline = from_local(new_day, time(12, 0))
    assert new["deadline"].milestone_at == deadline
    assert new["partner_input"].milestone_at == from_local(new_day - timedelta(days=8),
                                                           time(12, 0))
    # RQ holds exactly the new reminders; the cancelled ones were taken out after the commit.
    assert scheduled_in_rq(app) == {reminder_rq_job_id(app, r.id): r.send_at
                                    for r in new.values()}
    # A cancelled reminder's job does nothing even if it runs.
    assert send_reminder(old["partner_input"].id) == "skipped"
    assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_sweeper_schedules_lost_reminders_again(app, world):
    from grants.deadlines.reminders import sweep_reminders
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    rows = schedule_reminders(application)
    db.session.commit()
    sent = next(r for r in rows if r.milestone == "partner_input")
    assert send_reminder(sent.id) == "sent"
    connection = redis_connection(app)
    prefix = app.config["RQ_QUEUE_PREFIX"]
    for key in connection.scan_iter(match=f"*{prefix}*"):  # Redis lost everything of ours
        connection.delete(key)
    assert scheduled_in_rq(app) == {}
    waiting = {r.id: r.send_at for r in rows if r.id != sent.id}
    assert sorted(sweep_reminders(app, older_than=timedelta(0))) == sorted(waiting)
    assert scheduled_in_rq(app) == {reminder_rq_job_id(app, i): t for i, t in waiting.items()}
    assert sweep_reminders(app, older_than=timedelta(0)) == []  # alive again: left alone
    assert sweep_reminders(app) == []  # rows younger than 30 s are not swept by default


# --- the call form and the page ------------------------------------------------------------------
CALL_FORM = {"title": "Läsfrämjande 2027", "description": "", "opens_at": "2026-11-01T08:00",
             "deadline_at": "2027-03-31T23:59", "workflow_name": "joint_application",
             "form_name": "standard", "steering_group_id": "0"}


def test_call_form_milestone_days_are_checked_and_saved(app, login_as, world):
    english(world, "coordinator")
    coordinator = login_as("coordinator@demo.test")
    form = dict(CALL_FORM, funder_id=world.call.funder_id)
    page = coordinator.get("/admin/calls/new").get_data(as_text=True)
    assert 'name="partner_input_days_before"' in page and 'value="21"' in page

    response = coordinator.post("/admin/calls/new", dict(
        form, partner_input_days_before="10", steering_meeting_days_before="12",
        signatures_days_before="-1", reminder_days_before="2,5"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The steering group meets after partner input is due: give at most 10 (" in html
    assert 'id="steering_meeting_days_before-error"' in html
    assert 'id="signatures_days_before-error"' in html
    assert 'id="reminder_days_before-error"' in html and "without decimals" in html
    response = coordinator.post("/admin/calls/new", dict(
        form, partner_input_days_before="10", steering_meeting_days_before="5",
        signatures_days_before="6"))
    assert response.status_code == 422
    assert "Signatures come after the steering group meeting: give at most 5 (" in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Call.id))) == 1

    response = coordinator.post("/admin/calls/new", dict(
        form, partner_input_days_before="30", steering_meeting_days_before="",
        signatures_days_before="0", reminder_days_before="5"))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    call = db.session.scalar(select(Call).where(Call.title == "Läsfrämjande 2027"))
    assert (call.partner_input_days_before, call.steering_meeting_days_before,
            call.signatures_days_before, call.reminder_days_before) == (30, 14, 0, 5)


def test_changing_the_call_moves_its_applications_reminders(app, login_as, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()
    schedule_reminders(application)
    db.session.commit()
    before = reminders(application)
    coordinator = login_as("coordinator@demo.test")
    local = deadline_in(20).astimezone(STOCKHOLM)
    response = coordinator.post(f"/admin/calls/{world.call.id}", dict(
        CALL_FORM, funder_id=world.call.funder_id, title=world.call.title,
        opens_at=world.call.opens_at.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"),
        deadline_at=local.strftime("%Y-%m-%dT%H:%M"), partner_input_days_before="8",
        steering_meeting_days_before="4", signatures_days_before="2",
        reminder_days_before="3"))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    after = reminders(application)
    assert after["deadline"].milestone_at == local.astimezone(UTC)
    assert {r.id for r in before.values()}.isdisjoint({r.id for r in after.values()})
    assert scheduled_in_rq(app) == {reminder_rq_job_id(app, r.id): r.send_at
                                    for r in after.values()}


def test_application_page_shows_milestones_and_whose_turn_it_is(app, login_as, world):
    english(world, "lead", "coordinator")
    set_call(world, deadline=deadline_in(10), partner=12)  # partner input was due 2 days ago
    application = world.new_application()
    add_partner(application, world.orgs["vaxjo"], world.user("other_lead"))
    page = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    start = page.index('id="deadlines"')
    section = page[start:page.index("</section>", start)]
    call = db.session.get(Call, world.call.id)
    for days, label in [(12, "Partner input due"), (4, "Steering group meeting"),
                        (2, "Signatures"), (0, "Deadline for submission")]:
        local = deadline_in(10 - days)
        assert f"{label}</strong> – <time datetime=\"{local.isoformat()}\">" \
               f"{format_datetime_local(local, 'en')}</time>" in section
    assert section.count("Passed") == 1 and "milestone-partner_input is-passed" in section
    assert "milestone-steering_meeting is-next" in section
    assert "Still owed by: Lena Lindqvist" in section
    assert "Olle Öberg" not in section  # partner input has passed: nobody is chased for it
    assert "extension-new_date" not in section  # the lead cannot extend
    assert format_datetime_local(call.deadline_at, "en") in section

    coordinator_page = login_as("coordinator@demo.test").get(
        f"/applications/{application.id}").get_data(as_text=True)
    deadline_day = call.deadline_at.astimezone(STOCKHOLM).date().isoformat()
    assert 'name="extension-new_date"' in coordinator_page
    assert f'value="{deadline_day}"' in coordinator_page and 'value="23:59"' in coordinator_page


def test_demo_seed_schedules_reminders_for_the_demo_application(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    application = db.session.scalar(select(Application).where(
        Application.title == DEMO_APPLICATION_TITLE))
    assert set(reminders(application)) == {"partner_input", "steering_meeting", "signatures",
                                           "deadline"}


def test_reminders_command_schedules_applications_that_have_none(app, world):
    set_call(world, deadline=deadline_in(10))
    application = world.new_application()  # made without the operation: no reminders yet
    finished = world.new_application(state="submitted")
    assert reminders(application) == {}
    result = app.test_cli_runner().invoke(args=["jobs", "reminders"])
    assert result.exit_code == 0 and "4 reminder(s) waiting to be sent." in result.output
    db.session.expire_all()
    rows = reminders(application.id)
    assert len(rows) == 4 and reminders(finished.id) == {}
    assert set(scheduled_in_rq(app)) == {reminder_rq_job_id(app, r.id) for r in rows.values()}
    again = app.test_cli_runner().invoke(args=["jobs", "reminders"])
    assert "4 reminder(s) waiting to be sent." in again.output
    assert db.session.scalar(select(func.count(Reminder.id))) == 4


# --- what the workflow files say about their states ------------------------------------------
def test_each_shipped_workflow_names_its_steering_meeting_and_finished_states(app):
    from grants.deadlines.operations import before_steering_states, milestone_keys
    from grants.processes import get_workflow
    joint, two_stage, single = (get_workflow(n) for n in
                                ("joint_application", "two_stage", "single_stage"))
    assert joint.milestone_states("steering_meeting") == {"steering_approval"}
    assert before_steering_states(joint) == {"draft", "partner_confirmation", "internal_review",
                                             "changes_requested"}
    # Two votes: the concept's and the full application's. The concept vote is on the way,
    # so until the full application reaches the steering group the lead owes the meeting.
    assert two_stage.milestone_states("steering_meeting") == {"concept_review",
                                                               "steering_approval"}
    assert before_steering_states(two_stage) == {"concept_note", "full_application"}
    assert "steering_meeting" in milestone_keys(two_stage)
    assert "steering_meeting" not in milestone_keys(single)
    for workflow in (joint, two_stage, single):
        assert "submitted" in workflow.states_where("finished")
        assert len(workflow.states_where("confirmation")) == 1


def test_a_workflow_naming_its_vote_differently_still_gets_the_steering_milestone(app, world):
    """The milestone follows the state's `milestone:` key: a state called anything."""
    from dataclasses import replace

    from grants.deadlines.operations import application_milestones, milestone_keys
    from grants.processes import get_workflow
    joint = get_workflow("joint_application")
    states = {("board_vote" if n == "steering_approval" else n): replace(
        s, name="board_vote" if n == "steering_approval" else n)
        for n, s in joint.states.items()}
    renamed = replace(joint, states=states)
    assert "steering_meeting" in milestone_keys(renamed)
    without = replace(joint, states={n: replace(s, milestone=None)
                                     for n, s in joint.states.items()})
    assert "steering_meeting" not in milestone_keys(without)
    application = world.new_application()
    assert "steering_meeting" not in [m.key for m in application_milestones(application,
                                                                            without)]
