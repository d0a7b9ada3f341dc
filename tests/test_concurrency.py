"""Two people firing transitions on one application at the same moment: exactly one wins.

Each thread has its own app context, so its own session and database connection, as two web
workers would. Runs on PostgreSQL in CI (TEST_DATABASE_URL) and on SQLite by default."""

import threading

from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications import operations
from grants.applications.access import roles_for
from grants.applications.errors import OperationRefused, StaleState
from grants.applications.models import Application, TransitionRecord
from grants.db import db
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
            (world.users["steering1"].id, "approve", ""),
            (world.users["steering2"].id, "request_changes", "Nej, ändra budgeten."),
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
    outcomes = race(app, application.id, [(world.users["steering1"].id, "approve", ""),
                                          (world.users["steering2"].id, "approve", "")])
    assert sorted(outcomes) == ["ok", "stale"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(TransitionRecord.id)).where(
        TransitionRecord.transition == "approve")) == 1
