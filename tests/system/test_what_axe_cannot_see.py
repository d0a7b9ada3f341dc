"""WCAG checks axe does not make, in the real browser, over every page kind found by crawling
from the overview as each role (not a hand-kept list): the focus ring's contrast (1.4.11),
references that exist and ids that are unique (1.3.1, 4.1.1), form controls with a unique
accessible name that says row and column in tables (2.4.6, 3.3.2), required fields marked
visibly (3.3.2)."""

import re

import pytest

from grants.applications.models import SectionAnswer
from grants.db import db
from tests.factories import FULL_ANSWERS

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


@pytest.fixture
def busy_world(world):
    """An application in each kind of state a person meets, with tables to fill in."""
    world.new_application(answers=FULL_ANSWERS, title="Utkast")
    world.new_application(state="steering_approval", answers=FULL_ANSWERS, title="Omröstning")
    kr = world.new_application(form="kulturradet_utveckling", title="Tabeller")
    # Two rows of a table in a section only this form has (the crawl visits each page kind
    # once): each cell must be named by its own row.
    db.session.add(SectionAnswer(application_id=kr.id, section_key="financing",
                                 data={"has_other_financing": True, "other_financing": [
                                     {"financier": "Region Kalmar län", "amount": 10_000},
                                     {"financier": "Sparbanksstiftelsen", "amount": 5_000}]},
                                 updated_by_id=world.users["lead"].id))
    db.session.commit()
    return world


@pytest.mark.parametrize("email", ["lead@demo.test", "steering1@demo.test",
                                   "coordinator@demo.test"])
def test_every_page_kind_passes_the_checks_axe_cannot_make(busy_world, visitor, email):
    browser = visitor().login(email)
    problems = {}
    pages = crawl(browser)
    assert len(pages) >= 5, pages           # the crawl did reach the product
    for path in pages:
        browser.goto(path)
        found = browser.page.evaluate(PAGE_CHECKS)
        # The focus ring of the first controls of every kind on the page.
        kinds = set()
        for _step in range(25):
            browser.page.keyboard.press("Tab")
            focus = browser.page.evaluate(FOCUS_CONTRAST)
            if focus["what"] in kinds or focus["what"] == "body":
                continue
            kinds.add(focus["what"])
            if focus["best"] < 3:
                found.append(f"the focus ring of a {focus['what']} has contrast "
                             f"{focus['best']:.2f}:1 (at least 3:1 is needed)")
        if found:
            problems[path] = sorted(set(found))
    assert not problems, problems


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
