"""The comment pages in a real browser with axe-core, in Swedish and in English: the sections
tab with threads, a part's threads (with a refused reply), the section's edit page and the
budget tab with their open threads; and nothing scrolls sideways on a narrow phone."""

import pytest
from sqlalchemy import select

from grants.comments.models import Comment, CommentMention, CommentThread
from grants.db import db
from tests.factories import add_partner
from tests.system.test_accessibility import check, set_language

FORM = "kulturradet_utveckling"


def with_threads(world):
    world.call.form_name = FORM
    db.session.commit()
    application = world.new_application(form=FORM, answers={"summary": {"summary": "Mål"}},
                                        title="Ansökan med kommentarer")
    partner = add_partner(world, application, "vaxjo", "other_lead")
    lead, other = world.users["lead"].id, world.users["other_lead"].id
    for target, audience, status, texts in [
            ("summary", "team", "open", ["Kan vi korta texten, @Olle Öberg?", "Ja, gärna."]),
            ("summary", "steering", "resolved", ["Styrgruppen vill se målen tydligare."]),
            ("budget", "team", "open", ["Stämmer personalkostnaderna för 2028?"]),
            (f"partner_part@{partner.id}", "team", "open", ["Växjös del saknar tidsplan."])]:
        thread = CommentThread(application_id=application.id, target=target,
                               audience=audience, status=status, created_by_id=lead,
                               resolved_by_id=lead if status == "resolved" else None)
        db.session.add(thread)
        db.session.flush()
        for index, text in enumerate(texts):
            comment = Comment(thread_id=thread.id, author_id=[lead, other][index % 2],
                              body=text)
            db.session.add(comment)
            db.session.flush()
            if "@Olle" in text:
                db.session.add(CommentMention(comment_id=comment.id, user_id=other))
    db.session.commit()
    return application, partner


@pytest.mark.parametrize("language", ["sv", "en"])
def test_comment_pages_have_no_serious_accessibility_violations(world, visitor, language):
    set_language(world, language)
    found: dict[str, list[str]] = {}
    application, partner = with_threads(world)
    base = f"/applications/{application.id}"
    lead = visitor(locale="sv-SE" if language == "sv" else "en-GB").login("lead@demo.test")
    check(lead.goto(f"{base}/sections"), "sections tab with threads", found)
    check(lead.goto(f"{base}/comments?target=summary"), "threads of a section", found)
    lead.shot(f"comments-{language}")
    # An empty reply: refused, the error beside the field and a summary on top.
    with lead.page.expect_navigation():
        lead.page.click(".reply-form button[type=submit]")
    check(lead.page, "threads with a refused reply", found)
    assert lead.page.locator("#error-summary").count() == 1
    check(lead.goto(f"{base}/comments"), "all threads", found)
    check(lead.goto(f"{base}/comments?target=budget"), "threads of the budget", found)
    check(lead.goto(f"{base}/sections/summary"), "section form with threads", found)
    lead.shot(f"section-form-{language}")
    check(lead.goto(f"{base}/budget"), "budget tab with threads", found)
    lead.shot(f"budget-{language}")
    partner_view = visitor(locale="sv-SE" if language == "sv" else "en-GB").login(
        "other@demo.test")
    check(partner_view.goto(f"{base}/partners/{partner.id}/sections/partner_part"),
          "partner's part with threads", found)
    member = visitor(locale="sv-SE" if language == "sv" else "en-GB").login(
        "steering1@demo.test")
    check(member.goto(f"{base}/comments?target=summary"), "steering member's threads", found)
    assert not found, "\n".join(f"{where}: {problem}" for where, problems in found.items()
                                for problem in problems)


def test_comment_pages_fit_a_phone_screen(world, visitor):
    application, _partner = with_threads(world)
    base = f"/applications/{application.id}"
    wide = {}
    phone = visitor(width=320, height=740).login("lead@demo.test")
    for path in (f"{base}/sections", f"{base}/comments?target=summary", f"{base}/comments",
                 f"{base}/sections/summary", f"{base}/budget"):
        page = phone.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            wide[path] = overflow
    phone.goto(f"{base}/comments?target=summary")
    phone.shot("phone-comments")
    phone.goto(f"{base}/sections")
    phone.shot("phone-sections-with-comments")
    assert not wide, wide


def test_a_name_writes_its_mention_into_the_comment(world, visitor):
    """With JavaScript, the names of those who may be mentioned are buttons that write the
    mention at the cursor; the mention posted is stored and its person told."""
    application, _partner = with_threads(world)
    lead = visitor(locale="en-GB").login("lead@demo.test")
    page = lead.goto(f"/applications/{application.id}/comments?target=budget")
    field = page.locator("#thread-body")
    field.fill("Kan du kolla detta?")
    page.locator("[data-mention-for='thread-body'] button", has_text="Olle Öberg").first.click()
    assert field.input_value() == "Kan du kolla detta? @Olle Öberg "
    with page.expect_navigation():
        page.click("text=Start the thread")
    db.session.expire_all()
    [mention] = db.session.scalars(select(CommentMention)
                                   .join(Comment, Comment.id == CommentMention.comment_id)
                                   .where(Comment.body.like("Kan du kolla%"))).all()
    assert mention.user_id == world.users["other_lead"].id
