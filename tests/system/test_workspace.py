"""The application's workspace in the real browser (issue 17, point 3): tabs that work without
JavaScript and keep the URL (bookmarkable, the back button works), a menu button on a phone with
the content in the first screen, links from before the tabs still arriving where they pointed,
and screenshots at 1280 and 320 px for people to look at."""

import pytest

from tests.browser_support import serious_violations
from tests.factories import FULL_ANSWERS, add_partner

TAB_PATHS = ["", "/sections", "/partners", "/budget", "/decision", "/documents", "/history"]


@pytest.fixture
def application(world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    add_partner(world, application, signatory=True)
    return application


def test_tabs_work_without_javascript_and_keep_the_url(chromium, live_server, application):
    context = chromium.new_context(java_script_enabled=False, locale="sv-SE",
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#email", "lead@demo.test")
    page.fill("#password", "demo-password")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    base = f"{live_server.url}/applications/{application.id}"
    page.goto(base)
    nav = page.get_by_role("navigation", name="Ansökans delar")
    for label, path in [("Avsnitt", "/sections"), ("Budget", "/budget"),
                        ("Historik", "/history")]:
        nav.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(base + path)
        current = nav.locator("[aria-current=page]")
        assert current.inner_text().strip() == label
    page.go_back()
    page.wait_for_url(base + "/budget")
    assert nav.locator("[aria-current=page]").inner_text().strip() == "Budget"
    context.close()


def test_on_a_phone_the_tabs_are_a_menu_button_and_content_comes_first(visitor,
                                                                       application):
    phone = visitor(width=320, height=568).login("other@demo.test")
    page = phone.goto(f"/applications/{application.id}")
    assert not page.locator(".workspace-tabs").is_visible()
    menu = page.get_by_role("navigation", name="Ansökans delar")
    button = menu.locator("summary")
    assert button.is_visible() and not menu.get_by_role("link", name="Budget").is_visible()
    # what is yours to do now is on the first screen
    mine = page.locator(".turn-mine").first
    assert mine.bounding_box()["y"] + mine.bounding_box()["height"] <= 568
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # the menu opens with the keyboard and leads to a tab
    button.focus()
    page.keyboard.press("Enter")
    link = menu.get_by_role("link", name="Budget")
    assert link.is_visible()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/applications/{application.id}/budget")
    phone.shot("phone-budget")


def test_links_from_before_the_tabs_arrive_where_they_pointed(visitor, application):
    browser = visitor().login("lead@demo.test")
    for anchor, path in [("decision", "/decision"), ("documents", "/documents"),
                         ("history", "/history"), ("confirm-lead", "/partners")]:
        page = browser.goto(f"/applications/{application.id}#{anchor}")
        page.wait_for_url(f"**/applications/{application.id}{path}#{anchor}")
    # an anchor that is still on the overview stays there
    page = browser.goto(f"/applications/{application.id}#checklist")
    page.wait_for_timeout(200)
    assert page.url.endswith(f"/applications/{application.id}#checklist")


@pytest.mark.parametrize("email", ["lead@demo.test", "other@demo.test"])
def test_screenshots_of_every_tab_at_1280_and_320(visitor, application, email):
    """Pictures for people to look at (test-artifacts/), and no serious axe finding or
    sideways scrolling on any tab at either width."""
    found = {}
    for width, height in [(1280, 900), (320, 568)]:
        person = visitor(width=width, height=height).login(email)
        for path in TAB_PATHS:
            page = person.goto(f"/applications/{application.id}{path}")
            name = (path.strip("/") or "overview")
            person.shot(f"{email.split('@')[0]}-{name}-{width}")
            problems = serious_violations(page)
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append("scrolls sideways")
            if problems:
                found[f"{name} at {width}"] = problems
    assert not found, found
