"""The pages with comments stay flat as threads and comments grow (no query per thread), and
the demo application's threads are seeded once."""

from __future__ import annotations

from grants.comments.models import Comment, CommentThread
from grants.db import db
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
