"""The pages with comments stay flat as threads and comments grow (no query per thread), and
the demo application's threads are seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.comments.models import Comment, CommentMention, CommentThread
from grants.db import db
from grants.demo import DEMO_APPLICATION_TITLE
from tests.factories import add_partner
from tests.system.test_sql_counts import assert_flat

FORM = "kulturradet_utveckling"


def _grow(application, world, partner):
    def grow(n: int) -> None:
        lead = world.users["lead"].id
        for i in range(n):
            target = ["summary", "background", "budget", f"partner_part@{partner.id}"][i % 4]
            thread = CommentThread(application_id=application.id, target=target,
                                   audience=["team", "steering"][i % 2], created_by_id=lead,
                                   status=["open", "resolved"][i % 3 == 0])
            db.session.add(thread)
            db.session.flush()
            for j in range(3):
                db.session.add(Comment(thread_id=thread.id, author_id=lead,
                                       body=f"Kommentar {i}.{j} till @Olle Öberg"))
    return grow


def test_sections_tab_and_comment_pages_do_not_grow_with_threads(login_as, world):
    world.call.form_name = FORM
    db.session.commit()
    application = world.new_application(form=FORM, answers={"summary": {"summary": "Mål"}})
    partner = add_partner(world, application, "vaxjo", "other_lead")
    _grow(application, world, partner)(1)
    db.session.commit()
    lead = login_as("lead@demo.test")
    grow = _grow(application, world, partner)
    assert_flat(lead, f"/applications/{application.id}/sections", grow)
    assert_flat(lead, f"/applications/{application.id}/comments?target=summary", grow)
    assert_flat(lead, f"/applications/{application.id}/comments", grow)
    assert_flat(lead, f"/applications/{application.id}/budget", grow)
    assert_flat(lead, f"/applications/{application.id}/history", grow)
    member = login_as("steering1@demo.test")
    assert_flat(member, f"/applications/{application.id}/sections", grow)


def test_the_demo_application_has_a_resolved_and_an_open_thread_seeded_once(app, login_as):
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    application = db.session.scalar(select(Application).where(
        Application.title == DEMO_APPLICATION_TITLE))
    threads = db.session.scalars(select(CommentThread).where(
        CommentThread.application_id == application.id).order_by(CommentThread.id)).all()
    assert [(t.target, t.audience, t.status) for t in threads] == [
        ("summary", "team", "resolved"), ("budget", "steering", "open")]
    assert db.session.scalar(select(func.count()).select_from(CommentMention)) == 1
    chair = login_as("steering1@demo.test")
    html = chair.get(f"/applications/{application.id}/comments").get_data(as_text=True)
    assert "personalkostnaderna" in html and "Uppvidinge" not in html
    lead = login_as("lead@demo.test")
    html = lead.get(f"/applications/{application.id}/comments").get_data(as_text=True)
    assert "personalkostnaderna" in html and "Uppvidinge" in html
    history = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert "Kommentarstråd löst" in history
