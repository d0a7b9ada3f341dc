"""Two people firing transitions on one application at the same moment: exactly one wins.

Each thread has its own app context, so its own session and database connection, as two web
workers would. Runs on PostgreSQL in CI (TEST_DATABASE_URL) and on SQLite by default."""

import threading

from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications import operations
from grants.applications.access import roles_for
from grants.applications.models import Application, TransitionRecord
from grants.db import db
from grants.errors import OperationRefused, StaleState
from grants.processes import form_for, workflow_for
from tests.factories import FULL_ANSWERS


def race(app, application_id, attempts):
    """Run each (user_id, transition, comment) at the same moment; return outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = [""] * len(attempts)

    def worker(index, user_id, name, comment):
        with app.app_context():
            user = db.session.get(User, user_id)
            application = db.session.get(Application, application_id)
            roles = roles_for(user, application)
            workflow, form = workflow_for(application), form_for(application)
            seen = application.state_version
            barrier.wait()
            try:
                operations.fire_transition(application=application, roles=roles, actor=user,
                                           workflow=workflow, form=form, name=name,
                                           comment=comment, expected_state_version=seen)
                outcomes[index] = "ok"
            except StaleState:
                outcomes[index] = "stale"
            except OperationRefused as refused:
                outcomes[index] = "refused: " + refused.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, *a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_simultaneous_transitions_exactly_one_succeeds(app, world):
    for round_ in range(5):
        application = world.new_application(state="steering_approval", answers=FULL_ANSWERS,
                                            title=f"Kapplöpning {round_}")
        outcomes = race(app, application.id, [
            (world.users["lead"].id, "withdraw", "Vi drar tillbaka ansökan."),
            (world.users["coordinator"].id, "request_changes", "Nej, ändra budgeten."),
        ])
        assert sorted(outcomes) == ["ok", "stale"], outcomes
        db.session.expire_all()
        records = db.session.scalars(select(TransitionRecord).where(
            TransitionRecord.application_id == application.id,
            TransitionRecord.transition != "create")).all()
        assert len(records) == 1
        assert db.session.get(Application, application.id).state == records[0].to_state


def test_same_transition_twice_at_once_fires_once(app, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    # The same coordinator in two tabs.
    outcomes = race(app, application.id, [
        (world.users["coordinator"].id, "request_changes", "Ändra budgeten."),
        (world.users["coordinator"].id, "request_changes", "Ändra tidplanen.")])
    assert sorted(outcomes) == ["ok", "stale"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(TransitionRecord.id)).where(
        TransitionRecord.transition == "request_changes")) == 1


# --- twenty at once (issue 9): saves, votes and transitions on one application ------------------
PARALLEL = 20


def together(app, count: int, prepare, act) -> list[str]:
    """Run `act(state)` in `count` threads at the same moment, each in its own app context (its
    own session and connection, as separate web workers). `prepare(index)` runs first in the
    thread and returns what `act` needs; the connection is given back before the start line, so
    the pool is never exhausted while the threads wait for each other."""
    barrier = threading.Barrier(count, timeout=60)
    outcomes: list[str] = [""] * count

    def run(index):
        with app.app_context():
            try:
                state = prepare(index)
                db.session.rollback()
                barrier.wait()
                outcomes[index] = act(state) or "ok"
            except StaleState:
                outcomes[index] = "stale"
            except OperationRefused as refused:
                outcomes[index] = "refused: " + refused.message
            except Exception as exc:  # noqa: BLE001 - reported in the assertion
                outcomes[index] = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_parallel_saves_of_one_section_lose_no_update(app, world):
    from grants.applications.models import SectionAnswer
    from grants.audit import AuditEvent
    from grants.errors import StaleEdit
    application = world.new_application(answers=FULL_ANSWERS)
    lead_id = world.users["lead"].id

    def prepare(index):
        user = db.session.get(User, lead_id)
        app_row = db.session.get(Application, application.id)
        return index, user, app_row, roles_for(user, app_row), workflow_for(app_row), \
            form_for(app_row)

    def save(state, expected_version):
        index, user, app_row, roles, workflow, form = state
        operations.save_section(application=app_row, roles=roles, actor=user,
                                workflow=workflow, form=form, section_key="aims",
                                values={"aims": f"Mål från flik {index}"},
                                expected_version=expected_version)

    # Twenty tabs save the version they loaded (1) at once: exactly one wins, the others are
    # told someone saved first – nobody silently overwrites anybody.
    def once(state):
        try:
            save(state, 1)
        except StaleEdit:
            return "stale"
        return "ok"
    outcomes = together(app, PARALLEL, prepare, once)
    assert sorted(outcomes) == ["ok"] + ["stale"] * (PARALLEL - 1), outcomes
    db.session.expire_all()
    row = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == application.id, SectionAnswer.section_key == "aims"))
    assert row.version == 2

    # Twenty people each add their line, reloading and retrying on a conflict: every line
    # arrives, and the version counts every save.
    def append(state):
        index, user, app_row, roles, workflow, form = state
        for _attempt in range(200):
            db.session.expire_all()
            current = db.session.scalar(select(SectionAnswer).where(
                SectionAnswer.application_id == application.id,
                SectionAnswer.section_key == "aims"))
            text = current.data["aims"] + f"\nRad {index}"
            seen = current.version  # the version this text was read at
            db.session.rollback()
            try:
                operations.save_section(application=db.session.get(Application, application.id),
                                        roles=roles, actor=user, workflow=workflow, form=form,
                                        section_key="aims", values={"aims": text},
                                        expected_version=seen)
                return "ok"
            except StaleEdit:
                continue
        return "gave up"
    outcomes = together(app, PARALLEL, prepare, append)
    assert outcomes == ["ok"] * PARALLEL, outcomes
    db.session.expire_all()
    row = db.session.get(SectionAnswer, row.id)
    assert row.version == 2 + PARALLEL
    assert sorted(line for line in row.data["aims"].splitlines() if line.startswith("Rad ")) \
        == sorted(f"Rad {i}" for i in range(PARALLEL))
    # The audit log has one row per save that happened, each with its before and after.
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "section.update", AuditEvent.object_id == application.id)
        .order_by(AuditEvent.id)).all()
    assert len(events) == 1 + PARALLEL
    for earlier, later in zip(events, events[1:], strict=False):
        assert later.before["aims"] == earlier.after["aims"]  # a consistent chain, no gap


def test_twenty_parallel_votes_decide_exactly_once(app, world):
    from grants.approvals import operations as approvals
    from grants.approvals.models import Vote, VoteRound
    from grants.approvals.rounds import open_round
    from grants.organisations.models import Organisation, OrganisationKind
    from grants.organisations.orgnr import make_fictional
    from grants.steering.models import SteeringMember
    from tests.factories import make_user
    region = Organisation(name="Region Kalmar län", county="Kalmar län",
                          kind=OrganisationKind.region, org_number=make_fictional(900),
                          is_fictional=True)
    db.session.add(region)
    db.session.flush()
    members = [make_user(f"ledamot{i}@demo.test", f"Ledamot {i}", region)
               for i in range(PARALLEL - 2)]
    db.session.flush()
    for member in members:
        db.session.add(SteeringMember(group_id=world.group.id, user_id=member.id))
    db.session.commit()
    voter_ids = [m.id for m in members] + [world.users["steering1"].id,
                                           world.users["steering2"].id]
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    round_ = open_round(application.id)
    round_id, fingerprint_ = round_.id, round_.fingerprint

    def prepare(index):
        user = db.session.get(User, voter_ids[index])
        app_row = db.session.get(Application, application.id)
        return user, app_row, workflow_for(app_row), form_for(app_row)

    def cast(state):
        user, app_row, workflow, form = state
        approvals.cast_vote(application=app_row, actor=user, workflow=workflow, form=form,
                            round_id=round_id, choice="approve", comment="",
                            shown_fingerprint=fingerprint_)
    outcomes = together(app, PARALLEL, prepare, cast)
    # Votes after the decision are told the group has decided; none fails otherwise.
    assert all(o in ("ok", "stale") or o.startswith("refused") for o in outcomes), outcomes
    db.session.expire_all()
    assert db.session.get(Application, application.id).state == "approved"
    approvals_fired = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application.id,
        TransitionRecord.transition == "approve")).all()
    assert len(approvals_fired) == 1
    assert db.session.scalar(select(func.count(VoteRound.id)).where(
        VoteRound.application_id == application.id,
        VoteRound.status == "decided")) == 1
    votes = db.session.scalars(select(Vote).where(Vote.round_id == round_id)).all()
    assert len(votes) == outcomes.count("ok") and len({v.user_id for v in votes}) == len(votes)
    assert len(votes) >= PARALLEL // 2 + 1  # the majority that decided is on record
    _history_replays(application.id)


def test_twenty_parallel_transitions_fire_exactly_one(app, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    lead_id, coordinator_id = world.users["lead"].id, world.users["coordinator"].id
    seen = db.session.get(Application, application.id).state_version

    def prepare(index):
        user = db.session.get(User, lead_id if index % 2 else coordinator_id)
        app_row = db.session.get(Application, application.id)
        name = "withdraw" if index % 2 else "request_changes"
        return user, app_row, roles_for(user, app_row), workflow_for(app_row), \
            form_for(app_row), name

    def fire(state):
        user, app_row, roles, workflow, form, name = state
        operations.fire_transition(application=app_row, roles=roles, actor=user,
                                   workflow=workflow, form=form, name=name,
                                   comment="Samtidigt.", expected_state_version=seen)
    outcomes = together(app, PARALLEL, prepare, fire)
    # One fires; every other is told the application changed (or, having re-read it, that the
    # action no longer applies in its new state).
    assert outcomes.count("ok") == 1, outcomes
    assert all(o in ("ok", "stale") or o.startswith("refused") for o in outcomes), outcomes
    db.session.expire_all()
    records = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application.id,
        TransitionRecord.transition != "create")).all()
    assert len(records) == 1
    _history_replays(application.id)


def _history_replays(application_id: int) -> None:
    """The recorded history, replayed from the first state, ends in the current state, each
    record starting where the one before ended; state_version counts the transitions."""
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    records = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application_id,
        TransitionRecord.transition != "create",  # the factory creates straight into a state
        TransitionRecord.from_state != TransitionRecord.to_state)
        .order_by(TransitionRecord.id)).all()
    state = records[0].from_state
    for record in records:
        assert record.from_state == state, (record.transition, record.from_state, state)
        state = record.to_state
    assert state == application.state
