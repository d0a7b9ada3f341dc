"""WCAG checks axe does not make, in the real browser, over every page kind found by crawling
from the overview (or the login page) as each role and logged out, in Swedish and English, and
over the pages a form with errors leads to (not a hand-kept list): the focus ring's contrast
(1.4.11), references that exist and ids that are unique (1.3.1, 4.1.1), form controls with a
unique accessible name that says row and column in tables (2.4.6, 3.3.2), required fields marked
visibly (3.3.2), no sideways scrolling of the page at 320 and at 1280 CSS px (1.4.10: a table
may scroll inside its own box, which is then a named region one can reach by keyboard), and a
phone header that leaves the content on the first screen."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.operations import add_invited_user, request_password_reset
from grants.applications.models import SectionAnswer
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db, utcnow
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.notifications.models import OutboxEmail
from grants.partners.models import ApplicationPartner
from grants.partners.operations import add_partner
from grants.processes import workflow_for
from grants.submissions.models import Submission
from tests.factories import FULL_ANSWERS, make_user, name_signatory

# Links a crawl does not follow: leaving, downloads and files (not pages).
SKIP = re.compile(r"/logout|/download|/export|/attachments/|/documents/|\.(pdf|zip|csv|json|svg)"
                  r"|/jobs/|/dossier|/certificate")

PAGE_CHECKS = """() => {
  const problems = [];
  const ids = new Map();
  for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" is used ${n} times`);
  for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls']) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const ref of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) problems.push(`${attr}="${ref}" names no element`);
      }
    }
  }
  const text = el => (el ? el.textContent.replace(/\\s+/g, ' ').trim() : '');
  const nameOf = el => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    if (el.getAttribute('aria-labelledby'))
      return el.getAttribute('aria-labelledby').split(/\\s+/).map(
        id => text(document.getElementById(id))).join(' ');
    const label = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    return label ? text(label) : text(el.closest('label'));
  };
  for (const form of document.querySelectorAll('form')) {
    const seen = new Map();
    for (const el of form.querySelectorAll('input, select, textarea')) {
      if (['hidden', 'submit', 'button'].includes(el.type) || el.getAttribute('aria-hidden')) continue;
      const group = el.closest('fieldset');
      const legend = group ? text(group.querySelector('legend')) : '';
      const name = (legend + ' ' + nameOf(el)).trim();
      if (!nameOf(el)) problems.push(`a ${el.tagName.toLowerCase()} named "${el.name}" has no accessible name`);
      else if (seen.has(name) && seen.get(name) !== el.name)
        problems.push(`two controls of one form are both called "${name}"`);
      seen.set(name, el.name);
      if (el.required && !['radio', 'checkbox'].includes(el.type)) {
        const label = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
        if (label && !label.querySelector('.required-mark'))
          problems.push(`required "${nameOf(el)}" is not marked as required in its label`);
      }
    }
  }
  return problems;
}"""

# The luminance contrast of the focus ring (the outline, or the box-shadow around it, whichever
# contrasts more) against the nearest opaque background around the element.
FOCUS_CONTRAST = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255).map(
      v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((acc, v, i) => acc + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                            return (x + 0.05) / (y + 0.05); };
  const el = document.activeElement;
  let bg = null;
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c.slice(0, 3); break; }
  }
  bg = bg || [255, 255, 255];
  const style = getComputedStyle(el);
  const rings = [];
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
    rings.push(rgb(style.outlineColor).slice(0, 3));
  const shadow = style.boxShadow.match(/rgba?\\([^)]*\\)/);
  if (shadow) rings.push(rgb(shadow[0]).slice(0, 3));
  return {what: el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : ''),
          best: Math.max(0, ...rings.map(c => ratio(c, bg)))};
}"""


def crawl(visitor, start="/", limit=60):
    """Same-origin pages reachable from `start`: every application page, and below them one
    page per kind (ids in a path count as one)."""
    seen_kinds, queue, pages = set(), [start], []
    while queue and len(pages) < limit:
        path = queue.pop(0)
        bare = path.split("#")[0].split("?")[0]
        # Each application page is visited (each is in another state, on another form); below
        # it, one page per kind.
        kind = bare if re.fullmatch(r"/applications/\d+", bare) else re.sub(r"\d+", "N", bare)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        page = visitor.page
        response = page.goto(visitor.base + path.split("#")[0])
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        pages.append(path.split("#")[0])
        for href in page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"):
            if not SKIP.search(href):
                queue.append(href)
    return pages


# Sideways scrolling (1.4.10): how far the page is wider than the window, and the element that
# reaches farthest out (the innermost of those, which is the cause) – elements inside a box that
# scrolls or clips on its own do not widen the page. A box that does scroll sideways must be a
# named region one can reach by keyboard (2.1.1), or its overflow could not be read.
REFLOW = """async () => {
  // Boxes that scroll are made regions by app.js once the new width is laid out.
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const doc = document.documentElement;
  const problems = [];
  const clips = el => { for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
      const o = getComputedStyle(n).overflowX; if (o !== 'visible') return true; } return false; };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + el.textContent.replace(/\\s+/g, ' ').trim().slice(0, 50) + '"';
  const over = doc.scrollWidth - doc.clientWidth;
  if (over > 0) {
    let worst = null, right = doc.clientWidth + 0.5;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right + window.scrollX >= right && !clips(el)) { worst = el; right = r.right + window.scrollX; }
    }
    problems.push(`the page is ${over} px wider than the window at ${doc.clientWidth} px` +
                  (worst ? `; widest: ${describe(worst)} (${Math.round(worst.getBoundingClientRect().width)} px wide)` : ''));
  }
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    if (el.getAttribute('role') !== 'region' || el.tabIndex < 0 || !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
      problems.push(`${describe(el)} scrolls sideways but is no named region one can reach by keyboard`);
  }
  return problems;
}"""

# Where the content starts at 320 × 568 (an iPhone SE): the header may take at most a quarter
# of the screen, and the page's heading is on the first screen.
PHONE = {"width": 320, "height": 568}
HEADER_AT_MOST = PHONE["height"] // 4
CONTENT_TOP = """() => {
  const top = el => el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null;
  const h1 = document.querySelector('main h1');
  return {main: top(document.querySelector('main')), h1: h1 ? top(h1) + h1.offsetHeight : null};
}"""

WIDE = {"width": 1280, "height": 900}


def page_problems(browser) -> list[str]:
    """Every check on the page the browser shows, at 1280 px and at 320 × 568."""
    page = browser.page
    page.set_viewport_size(WIDE)
    found = page.evaluate(PAGE_CHECKS) + page.evaluate(REFLOW)
    # The focus ring of the first controls of every kind on the page.
    kinds = set()
    for _step in range(25):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_CONTRAST)
        if focus["what"] in kinds or focus["what"] == "body":
            continue
        kinds.add(focus["what"])
        if focus["best"] < 3:
            found.append(f"the focus ring of a {focus['what']} has contrast "
                         f"{focus['best']:.2f}:1 (at least 3:1 is needed)")
    page.set_viewport_size(PHONE)
    found += [f"at 320 px: {problem}" for problem in page.evaluate(REFLOW)]
    where = page.evaluate(CONTENT_TOP)
    if where["main"] > HEADER_AT_MOST:
        found.append(f"at 320 × 568 the content starts {where['main']} px down "
                     f"(the header may take {HEADER_AT_MOST} px)")
    if where["h1"] is not None and where["h1"] > PHONE["height"]:
        found.append(f"at 320 × 568 the page's heading ends {where['h1']} px down, "
                     "below the first screen")
    page.set_viewport_size(WIDE)
    return found


LONG_WORD = "Biblioteksutvecklingssamverkansprojektledningsgruppsmötesprotokoll"  # 66 letters
LONG_ANSWERS = {**FULL_ANSWERS,
                "summary": {"summary": f"Sammanfattning: {LONG_WORD} i Växjö och Älmhult."},
                "aims": {"aims": f"Mål: {LONG_WORD}, 25 kommuner, 3 län."}}
MESSAGE_ID = ("<20270315094512.1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"
              "@mail-relay-01.kalmar-stadsbibliotek.example>")


def link_in_outbox(pattern: str) -> str:
    bodies = db.session.scalars(select(OutboxEmail.body).order_by(OutboxEmail.id.desc()))
    return next(m.group(0) for body in bodies if (m := re.search(pattern, body)))


@pytest.fixture
def busy_world(world, app):
    """Every kind of page with content: an application in each kind of state a person meets,
    titles and answers with a word of 66 letters, tables to fill in and tables of answers, a
    partner with its contact and its signatory, costs, an open steering vote, a submitted
    application with the log of its delivery (attempts, a long Message-ID) and one that waits
    for a person, and the links of a password reset and of two invitations."""
    lead = world.users["lead"]
    draft = world.new_application(answers=LONG_ANSWERS, title=f"Utkast: {LONG_WORD}")
    world.new_application(state="steering_approval", answers=LONG_ANSWERS,
                          title=f"Omröstning om {LONG_WORD}")
    kr = world.new_application(form="kulturradet_utveckling", title=f"Tabeller {LONG_WORD}")
    # Two rows of a table in a section only this form has (the crawl visits each page kind
    # once): each cell must be named by its own row.
    db.session.add_all([
        SectionAnswer(application_id=kr.id, section_key="financing",
                      data={"has_other_financing": True, "other_financing": [
                          {"financier": f"Region Kalmar län {LONG_WORD}", "amount": 10_000},
                          {"financier": "Sparbanksstiftelsen", "amount": 5_000}]},
                      updated_by_id=lead.id),
        SectionAnswer(application_id=kr.id, section_key="activities",
                      data={"activities": [
                          {"activity": f"Workshoppar om {LONG_WORD}", "start": "2027-09-01",
                           "end": "2028-06-30", "responsible": f"Projektledaren {LONG_WORD}"},
                          {"activity": "Utbildning för personal", "start": "2027-10-01",
                           "end": "2027-12-31", "responsible": "Länsbibliotek Sydost"}]},
                      updated_by_id=lead.id)])
    # A partner on the draft and on the Kulturrådet application: its contact, and a signatory
    # of its own.
    signatory = make_user("signatory@demo.test", "Sigrid Signatär", world.orgs["vaxjo"])
    contact = world.users["other_lead"]
    for application in (draft, kr):
        db.session.add(ApplicationPartner(
            application_id=application.id, organisation_id=world.orgs["vaxjo"].id,
            contact_name=contact.name, contact_email=contact.email,
            contact_user_id=contact.id, status="active"))
        db.session.flush()
        name_signatory(application, world.orgs["vaxjo"].id, signatory)
    for application in (draft, kr):
        for org in ("kalmar", "vaxjo"):
            db.session.add_all([
                BudgetLine(application_id=application.id, organisation_id=world.orgs[org].id,
                           category="personnel", year=2027,
                           description=f"Projektledare 50 % – {LONG_WORD}", amount=300_000),
                Cofinancing(application_id=application.id, organisation_id=world.orgs[org].id,
                            kind="in_kind", source="public", year=2027,
                            description=f"Lokaler – {LONG_WORD}", amount=120_000)])
    # Submitted: sent by email after a greylisting, with the whole log; and one in the portal
    # whose receipt is missing; another whose delivery is uncertain.
    submitted = world.new_application(state="submitted", answers=LONG_ANSWERS,
                                      title=f"Inskickad: {LONG_WORD}")
    submission = Submission(application_id=submitted.id, number=1,
                            snapshot={"application": {"id": submitted.id}}, sha256="f" * 64,
                            submitted_by_id=lead.id)
    db.session.add(submission)
    db.session.flush()
    started = utcnow() - timedelta(hours=2)
    sent = Delivery(submission_id=submission.id, application_id=submitted.id, channel="email",
                    status="sent", attempts=2, recipient="registrator@kulturradet.example",
                    subject=f"Ansökan: Inskickad: {LONG_WORD}", sent_at=started,
                    message_id=MESSAGE_ID, smtp_code=250,
                    smtp_response=f"2.0.0 Ok: queued as {LONG_WORD}")
    portal = Delivery(submission_id=submission.id, application_id=submitted.id,
                      channel="portal", status="awaiting_receipt",
                      recipient="https://e-tjanster.kulturradet.example/ansokan/"
                                "utvecklingsbidrag-for-bibliotek-2027/steg-4-bilagor")
    db.session.add_all([sent, portal])
    unsure = world.new_application(state="submitted", answers=LONG_ANSWERS, title="Osäker")
    unsure_submission = Submission(application_id=unsure.id, number=1,
                                   snapshot={"application": {"id": unsure.id}},
                                   sha256="e" * 64, submitted_by_id=lead.id)
    db.session.add(unsure_submission)
    db.session.flush()
    uncertain = Delivery(submission_id=unsure_submission.id, application_id=unsure.id,
                         channel="email", status="uncertain", attempts=1,
                         recipient="registrator@kulturradet.example")
    db.session.add(uncertain)
    db.session.flush()
    db.session.add_all([
        DeliveryAttempt(delivery_id=sent.id, number=1, started_at=started, finished_at=started,
                        outcome="retry", stage="rcpt", smtp_code=451,
                        smtp_response="4.7.1 <registrator@kulturradet.example>: Recipient "
                                      "address rejected: Greylisted, see "
                                      "https://postgrey.schweikert.ch/help/kulturradet.example"),
        DeliveryAttempt(delivery_id=sent.id, number=2, started_at=started, finished_at=started,
                        outcome="sent", stage="data", smtp_code=250,
                        smtp_response=f"2.0.0 Ok: queued as {LONG_WORD}"),
        DeliveryAttempt(delivery_id=uncertain.id, number=1, started_at=started,
                        outcome="uncertain", stage="data")])
    db.session.commit()
    # The pages one reaches by a link in an email.
    with app.test_request_context():
        request_password_reset("lead@demo.test")
        _user, world.invitation_link = add_invited_user(
            email="ny@demo.test", name=f"Ny {LONG_WORD}", organisations=[world.orgs["vaxjo"]])
        db.session.commit()
    world.reset_link = link_in_outbox(r"/password/reset/[\w-]+")
    world.invitation_link = re.search(r"/invitations/\S+", world.invitation_link).group(0)
    with app.test_request_context():
        add_partner(actor=lead, application=kr, roles={"lead"}, workflow=workflow_for(kr),
                    organisation_id=world.orgs["lnu"].id, new_organisation=None,
                    contact_name="Ingen Konto", contact_email="ny-partner@demo.test")
    world.partner_invitation_link = link_in_outbox(r"/partner-invitations/[\w-]+")
    world.apps = {"draft": draft, "kr": kr, "submitted": submitted, "unsure": unsure}
    return world


ROLES = {"lead": "lead@demo.test", "partner": "other@demo.test",
         "signatory": "signatory@demo.test", "steering": "steering1@demo.test",
         "coordinator": "coordinator@demo.test", "logged out": None}


def submit(browser, path: str, button: str, fill: dict | None = None) -> None:
    """Open `path`, fill in `fill` (selector → text) and press `button`: the page with errors."""
    page = browser.goto(path)
    for selector, text in (fill or {}).items():
        page.fill(selector, text)
    with page.expect_navigation():
        page.click(button)


SAVE = "main form .button-row button[type=submit]"


def error_states(world, role: str) -> dict[str, tuple]:
    """The forms each role submits empty or wrong: where, the button, what to fill in."""
    draft, kr, submitted = (world.apps[k].id for k in ("draft", "kr", "submitted"))
    return {
        "lead": {
            "section form, not a number": (f"/applications/{draft}/sections/funding", SAVE,
                                           {"#requested_amount": LONG_WORD}),
            "table section, not a number": (f"/applications/{kr}/sections/target_groups", SAVE,
                                            {"input[name='target_groups-0-group']": LONG_WORD,
                                             "input[name='target_groups-0-count']": "många"}),
            "partner invitation, empty": (f"/applications/{draft}/partners",
                                          "main form:not([action]) button[type=submit]", {}),
            "budget line, empty": (f"/applications/{draft}/budget",
                                   "form[action$='/budget/lines'] button[type=submit]", {}),
            "co-financing, empty": (f"/applications/{draft}/budget",
                                    "form[action$='/budget/cofinancing'] button[type=submit]",
                                    {}),
            "portal receipt, empty": (f"/applications/{submitted}/decision",
                                      "form.receipt-form button[type=submit]", {}),
        },
        "partner": {
            "budget line, empty": (f"/applications/{draft}/budget",
                                   "form[action$='/budget/lines'] button[type=submit]", {}),
        },
        "signatory": {},
        "steering": {},
        "coordinator": {
            "delivery decision, empty": (f"/applications/{world.apps['unsure'].id}/decision",
                                         "form.resolve-form button[type=submit]", {}),
        },
        "logged out": {
            "login, empty": ("/login", "main button[type=submit]", {}),
            "login, wrong password": ("/login", "main button[type=submit]",
                                      {"#email": "lead@demo.test", "#password": "fel"}),
            "forgotten password, empty": ("/password/forgot", "main button[type=submit]", {}),
            "new password, too short": (world.reset_link, "main button[type=submit]",
                                        {"input[type=password]": "kort"}),
            "invitation, empty": (world.invitation_link, "main button[type=submit]", {}),
            "partner invitation, empty": (world.partner_invitation_link,
                                          "main form[novalidate] button[type=submit]", {}),
        },
    }[role]


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_kind_passes_the_checks_axe_cannot_make(busy_world, visitor, role,
                                                            language):
    browser = visitor()
    if ROLES[role]:
        browser.login(ROLES[role])
        start = "/"
    else:
        start = "/login"
    browser.goto(start)
    if language == "en":                                   # the switch in the header
        with browser.page.expect_navigation():
            browser.page.click(".lang-switch button")
    assert browser.page.evaluate("document.documentElement.lang") == language
    pages = crawl(browser, start)
    if ROLES[role]:
        assert len(pages) >= 5, pages                       # the crawl did reach the product
    else:                                                   # and the pages of a link in a mail
        pages += [busy_world.reset_link, busy_world.invitation_link,
                  busy_world.partner_invitation_link, "/password/forgot"]
    pages += ["/no-such-page", "/admin/", "/applications/999999"]   # 404, 403 (or login)
    problems = {}
    for path in dict.fromkeys(pages):
        browser.goto(path)
        found = page_problems(browser)
        if found:
            problems[path] = sorted(set(found))
    for where, (path, button, fill) in error_states(busy_world, role).items():
        submit(browser, path, button, fill)
        assert browser.page.locator(".error-message, .error-summary, .flash-error").count(), where
        found = page_problems(browser)
        if found:
            problems[where] = sorted(set(found))
    assert not problems, "\n".join(f"{where}: {problem}" for where, found in problems.items()
                                    for problem in found)


@pytest.mark.parametrize("javascript", [True, False])
def test_the_phone_menu_is_a_button_that_works_by_keyboard(world, chromium, live_server,
                                                            javascript):
    """At 320 px the main menu folds into a named button (a disclosure that needs no
    JavaScript): Tab reaches it after the name of the product, Enter opens it and the next Tab
    goes to its first link, Space closes it. On a wide screen the links stand in a row."""
    context = chromium.new_context(viewport=PHONE, locale="sv-SE", java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/login")
        page.fill("#email", "lead@demo.test")
        page.fill("#password", "demo-password")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        menu = page.locator("summary.menu-button")
        overview = page.locator(".main-nav a").first
        assert menu.is_visible() and not overview.is_visible()
        assert menu.inner_text().strip() == "Meny"               # its accessible name
        assert page.get_by_role("navigation", name="Huvudmeny").count() == 1
        page.keyboard.press("Tab")                           # the skip link
        page.keyboard.press("Tab")                           # the name of the product
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.matches('summary.menu-button')")
        page.keyboard.press("Enter")
        assert overview.is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Översikt"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Space")
        assert not overview.is_visible()
        page.set_viewport_size(WIDE)
        page.wait_for_timeout(100)
        assert not menu.is_visible() and overview.is_visible()
        assert page.locator(".main-nav").bounding_box()["height"] < 40   # one row
    finally:
        context.close()


def test_the_checks_find_what_they_look_for(visitor, live_server):
    """The checks themselves fail on a page with each fault."""
    browser = visitor()
    browser.goto("/login")
    browser.page.set_content("""
      <style>:focus-visible { outline: 3px solid #ffbf47; box-shadow: none; }</style>
      <form><label for="a">Name</label><input id="a" name="a" required aria-describedby="gone">
        <table><tr><td><input name="r1" aria-label="Group, row 1"></td></tr>
               <tr><td><input name="r2" aria-label="Group, row 1"></td></tr></table>
        <p id="a">twice</p></form>""")
    found = browser.page.evaluate(PAGE_CHECKS)
    assert any("names no element" in p for p in found), found
    assert any('id "a" is used 2 times' in p for p in found), found
    assert any("both called" in p for p in found), found
    assert any("not marked as required" in p for p in found), found
    browser.page.focus("#a")
    assert browser.page.evaluate(FOCUS_CONTRAST)["best"] < 3


def test_the_reflow_check_finds_a_page_too_wide(visitor, live_server):
    """The reflow check names the element that widens the page and a box that scrolls without
    being a region one can reach."""
    browser = visitor(width=320, height=568)
    browser.page.goto("about:blank")                     # no policy against inline styles
    browser.page.set_content("""<!doctype html><main><p id="wide" style="width: 500px">wide</p>
      <div style="overflow-x: auto"><p style="width: 900px">in a box</p></div></main>""")
    found = browser.page.evaluate(REFLOW)
    assert any("wider than the window at 320 px" in p and "p#wide" in p for p in found), found
    assert any("no named region" in p for p in found), found
