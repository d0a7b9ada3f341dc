"""Every main page in a real browser (Debian's Chromium) with axe-core: no serious or critical
WCAG violations, in Swedish and in English, with and without form errors."""

import pytest
from sqlalchemy import select

from grants.accounts.models import User
from grants.db import db
from grants.partners.models import ApplicationPartner
from tests.browser_support import serious_violations
from tests.factories import FULL_ANSWERS


def set_language(world, language: str) -> None:
    for user in db.session.scalars(select(User)):
        user.locale = language
    db.session.commit()


def check(page, where: str, found: dict) -> None:
    problems = serious_violations(page)
    if problems:
        found[where] = problems


@pytest.mark.parametrize("language", ["sv", "en"])
def test_main_pages_have_no_serious_accessibility_violations(world, visitor, language):
    set_language(world, language)
    found: dict[str, list[str]] = {}
    anonymous = visitor(locale="sv-SE" if language == "sv" else "en-GB")
    check(anonymous.goto("/login"), "login", found)
    with anonymous.page.expect_navigation():                   # empty login: errors shown
        anonymous.page.click("main button[type=submit]")
    check(anonymous.page, "login with errors", found)
    check(anonymous.goto("/accessibility"), "accessibility statement", found)

    draft = world.new_application(answers=FULL_ANSWERS, title="Tillgänglig ansökan")
    db.session.add(ApplicationPartner(application_id=draft.id,
                                      organisation_id=world.orgs["vaxjo"].id, contact_name="x",
                                      contact_email="other@demo.test",
                                      contact_user_id=world.users["other_lead"].id,
                                      status="active"))
    db.session.commit()
    voting = world.new_application(state="steering_approval", answers=FULL_ANSWERS,
                                   title="Ansökan under beslut")
    states = {state: world.new_application(state=state, answers=FULL_ANSWERS,
                                           title=f"Ansökan {state}")
              for state in ("partner_confirmation", "internal_review", "approved", "submitted",
                            "granted")}

    lead = visitor().login("lead@demo.test")
    check(lead.goto("/"), "dashboard", found)
    check(lead.goto(f"/applications/{draft.id}"), "application draft", found)
    for state, application in states.items():
        check(lead.goto(f"/applications/{application.id}"), f"application {state}", found)
    for application in (draft, states["submitted"]):          # every tab of the workspace
        for tab in ("sections", "decision", "documents", "history"):
            check(lead.goto(f"/applications/{application.id}/{tab}"),
                  f"{tab} of {application.state}", found)
    check(lead.goto(f"/applications/{draft.id}/sections/summary"), "section form", found)
    lead.page.fill("#summary", "x" * 400)                      # over the call's limit
    with lead.page.expect_navigation():
        lead.page.click("main form button[type=submit]:not([aria-hidden])")
    check(lead.page, "section form with errors", found)
    check(lead.goto(f"/applications/{draft.id}/sections/funding"), "money section", found)
    lead.page.fill("#requested_amount", "tio kronor")
    with lead.page.expect_navigation():
        lead.page.click("main form button[type=submit]:not([aria-hidden])")
    check(lead.page, "money section with errors", found)
    check(lead.goto(f"/applications/{draft.id}/partners"), "partners page", found)
    check(lead.goto(f"/applications/{draft.id}/budget"), "budget page", found)
    check(lead.goto("/applications/new"), "new application", found)
    check(lead.goto("/notifications"), "notifications", found)
    check(lead.goto("/settings"), "settings", found)
    check(lead.goto("/workflows/joint_application"), "workflow picture", found)

    member = visitor().login("steering1@demo.test")
    check(member.goto(f"/applications/{voting.id}/decision"), "voting page", found)
    member.page.check("input[name=choice][value=changes]")  # changes without a comment
    with member.page.expect_navigation():
        member.page.click("form.vote-form button[type=submit]")
    check(member.page, "voting page with errors", found)

    coordinator = visitor().login("coordinator@demo.test")
    check(coordinator.goto("/portfolio"), "portfolio", found)
    check(coordinator.goto("/admin/"), "administration", found)
    check(coordinator.goto(f"/applications/{states['submitted'].id}"),
          "submitted, decision form", found)

    assert not found, "\n".join(f"{where}: {problem}" for where, problems in found.items()
                                for problem in problems)


def test_the_check_finds_a_real_violation(visitor):
    """The checker is not a no-op: an unlabelled field and an image without text fail."""
    page = visitor().page
    page.set_content("<html lang='sv'><head><title>x</title></head><body><main>"
                     "<input type='text'><img src='data:,'></main></body></html>")
    problems = serious_violations(page)
    assert any(p.startswith("label ") for p in problems), problems
    assert any(p.startswith("image-alt ") for p in problems), problems


def test_pages_fit_a_phone_screen(world, visitor):
    """Nothing scrolls sideways on a 375 px wide phone (WCAG 1.4.10 reflow)."""
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    phone = visitor(width=375, height=740).login("steering1@demo.test")
    wide = {}
    for path in ["/", f"/applications/{application.id}",
                 f"/applications/{application.id}/sections/summary",
                 f"/applications/{application.id}/budget", "/workflows/joint_application",
                 f"/applications/{application.id}/partners",
                 f"/applications/{application.id}/decision"]:
        page = phone.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            wide[path] = overflow
    phone.goto(f"/applications/{application.id}/decision")
    phone.shot("phone-voting")
    assert not wide, wide


def test_focus_moves_to_the_error_summary_which_links_to_the_field(world, visitor):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = visitor().login("lead@demo.test")
    page = lead.goto(f"/applications/{application.id}/sections/funding")
    page.fill("#requested_amount", "tio kronor")
    with page.expect_navigation():
        page.click("main form button[type=submit]:not([aria-hidden])")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")                       # the first link in the summary
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#requested_amount"
    described = page.get_attribute("#requested_amount", "aria-describedby")
    assert "requested_amount-error" in described
    assert page.get_attribute("#requested_amount", "aria-invalid") == "true"
