"""Text in pictures (WCAG 1.4.3/1.4.4 with 1.1.1, issue 17): every picture on every page kind,
crawled from the overview as each role, either draws all its text at least the size of body
text, or has a text alternative (aria-describedby, aria-details, its figure's figcaption, or
the SVG's own <desc>) that holds every text of the picture. A picture named by an image role
has a name that is not empty; an <img> has an alt text (empty only when decorative)."""

import pytest

from grants.applications.models import SectionAnswer
from grants.db import db
from grants.partners.models import ApplicationPartner
from grants.processes import get_workflow
from tests.factories import FULL_ANSWERS
from tests.system.test_what_axe_cannot_see import crawl

PICTURE_CHECKS = """() => {
  const problems = [];
  const squash = (text) => (text || "").replace(/\\s+/g, " ").trim();
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  const byIds = (value) => (value || "").split(/\\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)).filter(Boolean);
  const visible = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"; };
  const describe = (el) => el.id ? `#${el.id}` : (el.getAttribute("class") || el.tagName);
  for (const svg of document.querySelectorAll("svg")) {
    if (svg.parentElement.closest("svg") || !visible(svg)) continue;
    // What a text draws: without its tooltip (<title>); an elided one ("…") by its start.
    const drawn = (t) => squash([...t.childNodes].filter((n) => n.nodeName !== "title")
      .map((n) => n.textContent).join("")).replace(/…$/, "");
    const texts = [...svg.querySelectorAll("text")].filter((t) => drawn(t));
    if (!texts.length) continue;
    const small = texts.filter((t) => {
      const matrix = t.getScreenCTM();
      const scale = matrix ? Math.sqrt(Math.abs(matrix.a * matrix.d - matrix.b * matrix.c)) : 1;
      return parseFloat(getComputedStyle(t).fontSize) * scale < body - 0.01;
    });
    const role = svg.getAttribute("role");
    if (role === "img") {
      const name = squash(svg.getAttribute("aria-label"))
        || byIds(svg.getAttribute("aria-labelledby")).map((e) => squash(e.textContent)).join(" ")
        || squash(svg.querySelector(":scope > title")?.textContent);
      if (!name) problems.push(`the picture ${describe(svg)} has no name`);
    }
    if (!small.length) continue;
    const alternatives = [...byIds(svg.getAttribute("aria-describedby")),
                          ...byIds(svg.getAttribute("aria-details"))];
    const caption = svg.closest("figure")?.querySelector(":scope > figcaption");
    if (caption) alternatives.push(caption);
    const desc = svg.querySelector(":scope > desc");
    if (desc) alternatives.push(desc);
    const words = squash(alternatives.map((e) => e.textContent).join(" "));
    const missing = [...new Set(texts.map(drawn))]
      .filter((text) => !words.includes(text));
    if (!alternatives.length) {
      problems.push(`the picture ${describe(svg)} has text smaller than body text `
                    + `(“${drawn(small[0])}”) and no text alternative`);
    } else if (missing.length) {
      problems.push(`the text alternative of ${describe(svg)} leaves out: ${missing.join(" | ")}`);
    }
  }
  for (const img of document.querySelectorAll("img")) {
    if (visible(img) && !img.hasAttribute("alt")) problems.push(`an image has no alt: ${img.src}`);
  }
  return problems;
}"""


@pytest.fixture
def pictured_world(world):
    """Applications in several states (the workflow picture highlights each differently), one
    with a partner, so that each role reaches the pages that show pictures."""
    world.new_application(answers=FULL_ANSWERS, title="Utkast")
    world.new_application(state="steering_approval", answers=FULL_ANSWERS, title="Omröstning")
    shared = world.new_application(form="kulturradet_utveckling", title="Med partner",
                                   state="partner_confirmation")
    db.session.add(ApplicationPartner(application_id=shared.id,
                                      organisation_id=world.orgs["vaxjo"].id,
                                      contact_name="Olle Öberg", contact_email="other@demo.test",
                                      contact_user_id=world.users["other_lead"].id,
                                      status="active"))
    db.session.add(SectionAnswer(application_id=shared.id, section_key="background",
                                 data={"background": "Läsningen minskar."},
                                 updated_by_id=world.users["lead"].id))
    db.session.commit()
    return world


@pytest.mark.parametrize("email", ["lead@demo.test", "other@demo.test", "steering1@demo.test",
                                   "coordinator@demo.test"])
def test_text_in_every_picture_is_large_enough_or_in_its_text_alternative(
        pictured_world, visitor, email):
    browser = visitor().login(email)
    pages = crawl(browser)
    assert len(pages) >= 5, pages
    problems, pictures = {}, 0
    for path in pages + ["/workflows/joint_application"]:
        browser.goto(path)
        pictures += browser.page.locator("svg text").count()
        found = browser.page.evaluate(PICTURE_CHECKS)
        if found:
            problems[path] = found
    assert pictures, "the crawl met no picture with text"
    assert not problems, problems


def test_the_workflow_picture_is_named_by_its_label_and_described_in_words(
        pictured_world, visitor):
    browser = visitor().login("lead@demo.test")
    browser.goto("/workflows/joint_application")
    svg = browser.page.locator("svg.workflow-svg")
    assert svg.get_attribute("role") == "img"
    name = browser.page.evaluate("() => document.getElementById(document.querySelector("
                                 "'svg.workflow-svg').getAttribute('aria-labelledby'))"
                                 ".textContent")
    assert name == "Gemensam ansökan"  # the label, not joint_application
    words = browser.page.locator("#" + svg.get_attribute("aria-describedby")).text_content()
    workflow = get_workflow("joint_application")
    for text in ("Utkast (start)", "Beviljad (slut)",
                 f"{workflow.transitions['send_to_partners'].label.sv}: Utkast, Ändringar "
                 f"begärda → {workflow.states['partner_confirmation'].label.sv}. Vem: "
                 "projektledaren.",
                 "Godkänn (röstning): Styrgruppsbeslut → Godkänd av styrgruppen."):
        assert text in " ".join(words.split()), words
    # The text itself is at least body size now, one unit of the picture a pixel.
    sizes = browser.page.evaluate("() => [...document.querySelectorAll('svg.workflow-svg text')]"
                                  ".map(t => parseFloat(getComputedStyle(t).fontSize)"
                                  " * t.getScreenCTM().a)")
    assert min(sizes) >= 16, sizes
    browser.page.click("summary:has-text('Flödet i ord')")
    browser.shot("workflow-picture-in-words")


def test_the_check_finds_small_text_without_an_alternative(visitor, live_server):
    browser = visitor()
    browser.goto("/login")
    browser.page.set_content("""
      <svg width="200" height="40" viewBox="0 0 400 80" role="img" aria-label="Chart">
        <text x="0" y="40" font-size="16">Tiny label</text></svg>
      <figure><svg width="200" height="40" viewBox="0 0 400 80">
        <text x="0" y="40" font-size="16">Drawn small</text><text y="70">Left out</text></svg>
        <figcaption>Drawn small, and described</figcaption></figure>
      <svg width="400" height="80" role="img"><text y="40" font-size="20">Big enough</text></svg>
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">""")
    found = browser.page.evaluate(PICTURE_CHECKS)
    assert any("“Tiny label”" in p and "no text alternative" in p for p in found), found
    assert any("leaves out: Left out" in p for p in found), found
    assert any("has no name" in p for p in found), found          # the third picture
    assert any("has no alt" in p for p in found), found
    assert not any("Big enough" in p for p in found), found
