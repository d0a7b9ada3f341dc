"""Versions, "what changed since" and "who is editing now" in a real browser with axe-core, in
Swedish and English, at 1280 px and on a 320 px phone."""

import pytest

from grants.applications.queries import load_answers
from grants.applications.snapshot import fingerprint
from grants.db import db, utcnow
from grants.processes import get_form
from grants.submissions.models import Submission
from grants.submissions.operations import submission_snapshot
from tests.factories import add_partner
from tests.system.test_accessibility import check, set_language


@pytest.mark.parametrize("language", ["sv", "en"])
def test_versions_changes_and_presence_pages(world, visitor, language):
    set_language(world, language)
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling", title="Versionerna")
    partner = add_partner(world, application)
    snapshot = submission_snapshot(application, get_form(application.form_name),
                                   load_answers(application.id), [], number=1,
                                   submitted_at=utcnow(), actor=world.user("lead"))
    db.session.add(Submission(application_id=application.id, number=1, submitted_at=utcnow(),
                              submitted_by_id=world.users["lead"].id, snapshot=snapshot,
                              sha256=fingerprint(snapshot), status="withdrawn"))
    db.session.commit()
    found: dict[str, list[str]] = {}
    lead = visitor(locale="sv-SE" if language == "sv" else "en-GB").login("lead@demo.test")
    # The lead writes the summary twice, as a user would, in the browser.
    for text in ("Vi når äldre på Öland.", "Vi når unga och äldre i hela Kalmar län."):
        page = lead.goto(f"/applications/{application.id}/sections/summary")
        page.fill("#short_name", "Läslust")
        page.fill("#summary", text)
        page.fill("#start_date", "2027-08-15")
        page.fill("#end_date", "2029-06-30")
        with page.expect_navigation():
            page.click("form.card button.button[type=submit]")
    page = lead.goto(f"/applications/{application.id}/sections")
    with page.expect_navigation():
        page.click("#section-summary .versions-link")
    assert page.locator("ins").filter(has_text="unga och").count() == 1
    check(page, "versions of a section", found)
    lead.shot(f"versions-{language}")
    check(lead.goto(f"/applications/{application.id}/changes?since=submission-1"),
          "changes since a submission", found)
    lead.shot(f"changes-{language}")
    check(lead.goto(f"/applications/{application.id}/versions/budget"), "budget versions",
          found)

    # Two people on the same partner part: the second is told who else is editing.
    path = f"/applications/{application.id}/partners/{partner.id}/sections/partner_part"
    lead.goto(path)
    partner_visitor = visitor(locale="sv-SE" if language == "sv" else "en-GB").login(
        "other@demo.test")
    page = partner_visitor.goto(path)
    assert "Lena Lindqvist" in page.locator("#presence").inner_text()
    check(page, "section form with someone else editing", found)
    assert not found, found

    phone = visitor(width=320, height=700).login("lead@demo.test")
    for where in (f"/applications/{application.id}/versions/summary",
                  f"/applications/{application.id}/changes?since=submission-1"):
        page = phone.goto(where)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (where, overflow)
    phone.shot(f"versions-phone-{language}")
