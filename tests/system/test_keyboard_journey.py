"""A keyboard-only journey (issue 17, point 4), in the real browser and without a single mouse
event: log in, open the application, fill in a section, invite a partner, and – as a steering
member – vote. At every focus stop the focus is visible (an outline or ring of at least 2 px)
and moves forward through the page; no element has a positive tabindex. And the names a screen
reader announces for the page's regions (landmarks and named sections) are checked."""

import re

from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import SectionAnswer
from grants.approvals.models import Vote
from grants.db import db
from grants.partners.models import ApplicationPartner
from tests.factories import FULL_ANSWERS

# Where the focus is, what it is called, whether its ring shows, and whether it came after the
# previous stop in the page (a page load starts again at the top).
FOCUS = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const text = t => (t || '').replace(/\\s+/g, ' ').trim();
  const name = text(el.getAttribute('aria-label')) || text(el.labels && el.labels[0]
      && el.labels[0].textContent) || text(el.textContent) || text(el.value);
  const prev = window.__focusPrev;
  window.__focusPrev = el;
  const forward = !prev || !document.contains(prev) || prev === el ||
      !!(prev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
      || /\\d+px/.test(s.boxShadow || '') && s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name, id: el.id,
          value: el.value || '', ring, forward, visible: r.width > 0 && r.height > 0,
          positive: [...document.querySelectorAll('[tabindex]')].filter(
              e => parseInt(e.getAttribute('tabindex'), 10) > 0).length};
}"""


class Keyboard:
    """One person using only the keyboard; `stops` records every focus stop."""

    def __init__(self, page):
        self.page = page
        self.stops: list[dict] = []

    def tab_to(self, wanted, limit: int = 120) -> dict:
        """Press Tab until the focused element is `wanted` (a predicate on the stop)."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            stop = self.page.evaluate(FOCUS)
            if stop["tag"] == "body":      # past the end of the page
                continue
            self.stops.append(stop)
            assert stop["ring"], f"the focus is not visible on {stop}"
            assert stop["visible"], f"the focus went to something not shown: {stop}"
            assert stop["forward"], f"the focus jumped back up the page to {stop}"
            assert stop["positive"] == 0, "an element has a positive tabindex"
            if wanted(stop):
                return stop
        raise AssertionError(f"never reached it; last stops: {self.stops[-8:]}")

    def press(self, key: str, *, navigates: bool = False) -> None:
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press(key)
        else:
            self.page.keyboard.press(key)


def log_in(person, email: str) -> Keyboard:
    """Open the login page and log in with the keyboard alone."""
    keys = Keyboard(person.goto("/login"))
    keys.tab_to(lambda s: s["id"] == "email")
    keys.page.keyboard.type(email)
    keys.tab_to(lambda s: s["id"] == "password")
    keys.page.keyboard.type("demo-password")
    keys.press("Enter", navigates=True)
    return keys


def named(text: str, tag: str | None = None):
    return lambda stop: (tag is None or stop["tag"] == tag) and stop["name"] == text


def starting(text: str, tag: str | None = None):
    return lambda stop: (tag is None or stop["tag"] == tag) and stop["name"].startswith(text)


def english(world) -> None:
    for user in db.session.scalars(select(User)):
        user.locale = "en"
    db.session.commit()


def regions(page) -> list[str]:
    """The landmarks and named regions as the browser's accessibility tree has them."""
    tree = page.locator("body").aria_snapshot()
    return [line.strip()[2:].rstrip(":") for line in tree.splitlines()
            if re.match(r"\s*- (banner|navigation|main|contentinfo|region|complementary|form"
                        r"|search)\b", line)]


def test_a_keyboard_only_journey(world, visitor):
    english(world)
    answers = {k: v for k, v in FULL_ANSWERS.items() if k != "summary"}
    draft = world.new_application(answers=answers, title="Keyboard project")
    to_vote = world.new_application(state="steering_approval", answers=FULL_ANSWERS,
                                    title="Vote project")
    keys = log_in(visitor(locale="en-GB"), "lead@demo.test")
    page = keys.page

    # Open the application from the overview, then its sections tab.
    keys.tab_to(named("Keyboard project", "a"))
    keys.press("Enter", navigates=True)
    assert page.url.endswith(f"/applications/{draft.id}")
    landmarks = regions(page)
    assert landmarks.count("banner") == 1 and landmarks.count("contentinfo") == 1
    assert "main" in landmarks
    navigations = [line for line in landmarks if line.startswith("navigation")]
    assert 'navigation "Main menu"' in navigations
    assert 'navigation "Parts of the application"' in navigations
    assert len(navigations) == len(set(navigations)), "two navigations share one name"
    named_regions = [line for line in landmarks if line.startswith("region")]
    assert 'region "What you can do"' in named_regions
    assert 'region "Checklist"' in named_regions and 'region "Deadlines"' in named_regions
    assert len(named_regions) == len(set(named_regions))
    keys.tab_to(named("Sections", "a"))
    keys.press("Enter", navigates=True)

    # Fill in the one section that is empty, and save.
    keys.tab_to(lambda s: s["tag"] == "a" and s["name"].startswith("Edit")
                and "Summary" in s["name"])
    keys.press("Enter", navigates=True)
    keys.tab_to(lambda s: s["tag"] in ("textarea", "input") and s["type"] not in (
        "hidden", "submit", "checkbox", "radio", "search"))   # past the header's search box
    page.keyboard.type("Typed with the keyboard alone.")
    keys.tab_to(named("Save", "button"))
    keys.press("Enter", navigates=True)
    assert "/sections" in page.url
    saved = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == draft.id, SectionAnswer.section_key == "summary"))
    assert saved is not None and "Typed with the keyboard alone." in str(saved.data)

    # Invite a partner from the partners tab.
    keys.tab_to(named("Partners", "a"))
    keys.press("Enter", navigates=True)
    keys.tab_to(lambda s: s["id"] == "organisation_id")
    page.keyboard.press("ArrowDown")               # the first organisation of the register
    keys.tab_to(lambda s: s["id"] == "contact_name")
    page.keyboard.type("Petra Partner")
    keys.tab_to(lambda s: s["id"] == "contact_email")
    page.keyboard.type("petra@vaxjo.example")
    keys.tab_to(named("Add and send invitation", "button"))
    keys.press("Enter", navigates=True)
    db.session.expire_all()
    invited = db.session.scalars(select(ApplicationPartner).where(
        ApplicationPartner.application_id == draft.id)).all()
    assert [p.contact_email for p in invited] == ["petra@vaxjo.example"]

    # A steering member votes, from the overview's "whose turn it is".
    member = visitor(locale="en-GB")
    keys = log_in(member, "steering1@demo.test")
    page = keys.page
    keys.tab_to(named("Vote project", "a"))
    keys.press("Enter", navigates=True)
    keys.tab_to(starting("Vote on", "a"))
    keys.press("Enter", navigates=True)
    assert page.url.endswith(f"/applications/{to_vote.id}/decision#decision")
    stop = keys.tab_to(lambda s: s["type"] == "radio")
    for _ in range(3):
        if stop["value"] == "approve":
            break
        page.keyboard.press("ArrowDown")
        stop = page.evaluate(FOCUS)
    assert stop["value"] == "approve"
    page.keyboard.press("Space")
    keys.tab_to(lambda s: s["tag"] == "textarea")
    page.keyboard.type("Approved from the keyboard.")
    keys.tab_to(named("Cast my vote", "button"))
    keys.press("Enter", navigates=True)
    db.session.expire_all()
    votes = db.session.scalars(select(Vote).where(Vote.user_id == world.users["steering1"].id))
    assert [(v.choice, v.comment) for v in votes] == [("approve", "Approved from the keyboard.")]
    member.shot("voted-with-the-keyboard")
