"""The search box and the results page in a real browser with axe-core, in Swedish and in
English (results, no results, a search without words), and on a 320 px wide phone."""

import pytest

from grants.db import db
from grants.search.indexing import rebuild_index
from tests.factories import FULL_ANSWERS
from tests.system.test_accessibility import check, set_language


@pytest.mark.parametrize("language", ["sv", "en"])
def test_search_pages_have_no_serious_accessibility_violations(world, visitor, language):
    set_language(world, language)
    for number in range(23):
        world.new_application(answers=FULL_ANSWERS, title=f"Sagostund <b>{number}</b>")
    rebuild_index()
    db.session.commit()
    found: dict[str, list[str]] = {}
    lead = visitor(locale="sv-SE" if language == "sv" else "en-GB").login("lead@demo.test")
    page = lead.goto("/")
    page.fill("#site-search-q", "sagostund biblioteken")
    with page.expect_navigation():
        page.click(".site-search button[type=submit]")
    assert "/search?q=" in page.url
    assert page.locator(".search-hit").count() == 20
    assert page.locator(".search-hit mark").count() >= 20
    check(page, "results", found)
    lead.shot(f"search-results-{language}")
    check(lead.goto("/search?q=sagostund&page=2"), "second page", found)
    check(lead.goto("/search?q=zzzingenting"), "no results", found)
    check(lead.goto("/search?q=%22*%22"), "no words", found)
    check(lead.goto("/search"), "empty", found)
    assert not found, found


def test_search_fits_a_320_px_phone(world, visitor):
    world.new_application(answers=FULL_ANSWERS,
                          title="Läsfrämjande för unga i Blekinge och Kronoberg " * 3)
    rebuild_index()
    db.session.commit()
    phone = visitor(width=320, height=640).login("lead@demo.test")
    wide = {}
    for path in ["/", "/search?q=biblioteken", "/search?q=zzz"]:
        page = phone.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            wide[path] = overflow
    # On a phone the header links to the search page, whose box finds the application.
    page = phone.goto("/")
    phone.shot("phone-header-search")
    with page.expect_navigation():
        page.click("header .search-link")
    page.fill("#search-page-q", "biblioteken")
    with page.expect_navigation():
        page.click("main .search-form button[type=submit]")
    assert page.locator(".search-hit").count() == 1
    phone.shot("phone-search-results")
    assert not wide, wide
