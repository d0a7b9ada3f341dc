"""Every link in the checklist and in the overview's next steps leads where the person who
follows it can do the thing: the section's form, the budget form, the confirmation form of the
organisation they sign for, the partners page. What is someone else's to do is listed for
everyone, names whose turn it is, and has no link that would only bounce back with "cannot be
edited by you" (issue 17)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from grants.accounts.models import User
from grants.budget.models import BudgetLine
from grants.db import db
from grants.partners.models import ApplicationPartner
from tests.factories import make_user, name_signatory

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def iter(self, tag: str | None = None):
        for child in self.children:
            if tag is None or child.tag == tag:
                yield child
            yield from child.iter(tag)

    def by_id(self, element_id: str) -> Element | None:
        return next((e for e in self.iter() if e.attrs.get("id") == element_id), None)

    def all_text(self) -> str:
        return " ".join(" ".join(self.text + [c.all_text() for c in self.children]).split())


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].text.append(data)


def parse(html: str) -> Element:
    tree = _Tree()
    tree.feed(html)
    return tree.root


def checklist_of(browser, application) -> list[tuple[str, str, list[str]]]:
    """The checklist as this person reads it: per row its text, whose turn it is, and the
    links in the row."""
    response = browser.get(f"/applications/{application.id}")
    assert response.status_code == 200
    section = parse(response.get_data(as_text=True)).by_id("checklist")
    assert section is not None
    rows = []
    for item in section.iter("li"):
        who = next(e for e in item.iter("span") if "checklist-who" in e.attrs.get("class", ""))
        text = " ".join(" ".join(item.text + [c.all_text() for c in item.children
                                              if c is not who]).split())
        rows.append((text, re.sub(r"^(Vems tur|Whose turn): ", "", who.all_text()),
                     [a.attrs["href"] for a in item.iter("a")]))
    return rows


def next_step_links(browser, application) -> list[str]:
    """The links of the overview's next steps about this application."""
    html = browser.get("/").get_data(as_text=True)
    steps = parse(html).by_id("next-steps-title")
    assert steps is not None
    section = next(e for e in parse(html).iter("section")
                   if e.attrs.get("aria-labelledby") == "next-steps-title")
    return [a.attrs["href"] for item in section.iter("li") for a in item.iter("a")
            if a.attrs["href"].startswith(f"/applications/{application.id}")]


def post_forms(scope: Element) -> list[Element]:
    return [f for f in scope.iter("form") if f.attrs.get("method", "").lower() == "post"]


def can_act(browser, url: str) -> str | None:
    """None when following `url` gives a page (200, not a redirect) where this person can do
    what the link says; else what is wrong."""
    parts = urlsplit(url)
    path, anchor = parts.path, parts.fragment
    response = browser.get(path)
    if response.status_code != 200:
        return f"{url}: {response.status_code} {response.headers.get('Location', '')}"
    page = parse(response.get_data(as_text=True))
    scope = page.by_id(anchor) if anchor else page.by_id("main")
    if scope is None:
        return f"{url}: no element with the id {anchor!r}"
    forms = post_forms(scope)
    if "/sections/" in path:
        # The section's own form, posting back to the section, with fields to fill in.
        ok = any(f.attrs.get("action", path) == path and any(
            i.attrs.get("type") != "hidden" for i in f.iter("input"))
            or any(f.iter("textarea")) for f in forms)
    elif path.endswith("/budget"):
        ok = any(f.attrs.get("action", "").endswith("/budget/lines") and any(
            s.attrs.get("name") == "line-organisation_id" and list(s.iter("option"))
            for s in f.iter("select")) for f in forms)
    elif anchor.startswith("confirm-"):
        key = anchor.removeprefix("confirm-")
        target = "/lead/confirm" if key == "lead" else f"/partners/{key}/confirm"
        ok = any(f.attrs.get("action", "").endswith(target) and any(
            i.attrs.get("name") == "authorised" for i in f.iter("input")) for f in forms)
    elif anchor == "signatories":
        ok = any("/signatories/" in f.attrs.get("action", "") for f in forms)
    elif path.endswith("/partners"):
        ok = any(f.attrs.get("action", "").endswith("/contact") for f in forms)
    elif anchor == "actions":
        ok = any("/transitions/" in f.attrs.get("action", "") for f in forms)
    else:
        return f"{url}: a link of a kind this test does not know"
    return None if ok else f"{url}: the page offers no form to do it"


@pytest.fixture
def application(world):
    """A Kulturrådet application with empty required fields in common sections and in the
    partners' parts, budget problems (a figure taken from a budget without cost lines, costs
    above the call's maximum), a pending invitation, a partner that has not named who signs,
    and confirmations not given: Växjö's (its head of library signs, not its contact) and the
    lead organisation's (its head of library signs, not the project lead)."""
    world.call.form_name = "kulturradet_utveckling"
    world.call.max_requested_amount = 100_000
    world.call.min_cofinancing_percent = 20
    db.session.commit()
    app = world.new_application(form="kulturradet_utveckling", title="Länkar som leder rätt",
                                answers={"background": {"background": "Läsningen minskar."}})
    kalmar_head = make_user("chef@demo.test", "Karin Chef", world.orgs["kalmar"])
    vaxjo_head = make_user("vaxjochef@demo.test", "Vera Chef", world.orgs["vaxjo"])
    sydost_contact = make_user("sydost@demo.test", "Sune Sydost", world.orgs["sydost"])
    db.session.flush()
    db.session.add_all([
        ApplicationPartner(application_id=app.id, organisation_id=world.orgs["vaxjo"].id,
                           contact_name="Olle Öberg", contact_email="other@demo.test",
                           contact_user_id=world.users["other_lead"].id, status="active"),
        ApplicationPartner(application_id=app.id, organisation_id=world.orgs["sydost"].id,
                           contact_name="Sune Sydost", contact_email="sydost@demo.test",
                           contact_user_id=sydost_contact.id, status="active"),
        ApplicationPartner(application_id=app.id, organisation_id=world.orgs["lnu"].id,
                           contact_name="Lars Lnu", contact_email="lnu@demo.test",
                           status="invited"),
    ])
    name_signatory(app, world.orgs["kalmar"].id, kalmar_head)
    name_signatory(app, world.orgs["vaxjo"].id, vaxjo_head)
    db.session.commit()
    return app


def with_cost_above_the_maximum(application):
    db.session.add(BudgetLine(application_id=application.id,
                              organisation_id=application.lead_organisation_id,
                              category="personnel", year=2028, description="Projektledning",
                              amount=300_000))
    db.session.commit()


PEOPLE = {  # role: who logs in
    "project lead": "lead@demo.test",
    "partner contact": "other@demo.test",
    "partner contact who names the signatory": "sydost@demo.test",
    "partner signatory": "vaxjochef@demo.test",
    "lead signatory": "chef@demo.test",
    "steering member": "steering1@demo.test",
    "coordinator": "coordinator@demo.test",
}


def partner(application, organisation_key, world) -> ApplicationPartner:
    return db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == application.id,
        ApplicationPartner.organisation_id == world.orgs[organisation_key].id))


@pytest.mark.parametrize("state", ["draft", "partner_confirmation"])
def test_every_checklist_and_next_step_link_leads_where_the_reader_can_act(
        login_as, world, application, state):
    with_cost_above_the_maximum(application)
    application.state = state
    db.session.commit()
    vaxjo, sydost = partner(application, "vaxjo", world), partner(application, "sydost", world)
    seen, links, problems = {}, {}, {}
    for role, email in PEOPLE.items():
        browser = login_as(email)
        rows = checklist_of(browser, application)
        seen[role] = [(text, who) for text, who, _links in rows]
        links[role] = [link for _text, _who, row_links in rows for link in row_links] + \
            next_step_links(browser, application)
        problems[role] = [problem for link in dict.fromkeys(links[role])
                          if (problem := can_act(browser, link))]
    assert {role: found for role, found in problems.items() if found} == {}, state

    # Everyone reads the same items, whoever's turn they are.
    texts = {role: [text for text, _who in items] for role, items in seen.items()}
    assert all(items == texts["project lead"] for items in texts.values()), texts
    lead_items = " | ".join(f"{text} → {who}" for text, who in seen["project lead"])
    for expected in ("Tacka ja till inbjudan att delta. → Lars Lnu (Linnéuniversitetet)",
                     "Utse firmatecknare för Länsbibliotek Sydost. → Sune Sydost "
                     "(Länsbibliotek Sydost)",
                     "Bekräfta deltagande och medfinansiering. → Vera Chef "
                     "(Växjö stadsbibliotek)"):
        assert expected in lead_items, lead_items
    # The lead organisation's signature is asked for where the workflow asks for it.
    assert ("Underteckna ansökan för den sökande organisationen. → Karin Chef "
            "(Kalmar stadsbibliotek)" in lead_items) == (state == "partner_confirmation")
    assert "Lena Lindqvist (projektledare)" in lead_items and \
        "Olle Öberg (Växjö stadsbibliotek)" in lead_items

    # What each person may do now is linked for them, and only that.
    base = f"/applications/{application.id}"
    vaxjo_part = f"{base}/partners/{vaxjo.id}/sections/partner_part"
    sydost_part = f"{base}/partners/{sydost.id}/sections/partner_part"
    common = {link for link in links["project lead"]
              if link.startswith(f"{base}/sections/")}
    assert not common & set(links["partner contact"])  # the lead's sections are the lead's
    assert vaxjo_part in links["partner contact"] and sydost_part not in links["partner contact"]
    assert sydost_part in links["partner contact who names the signatory"]
    assert f"{base}/budget" in links["partner contact"]  # its own costs and co-financing
    assert f"{base}/partners#signatories" in links["partner contact who names the signatory"]
    assert links["steering member"] == []
    assert links["coordinator"] == []
    assert not any("#confirm-" in link for role in ("project lead", "partner contact")
                   for link in links[role])  # neither signs
    if state == "draft":
        assert common and f"{base}/budget" in links["project lead"]
        assert f"{base}/partners" in links["project lead"]  # a new invitation to LNU
        assert {vaxjo_part, sydost_part} <= set(links["project lead"])
        assert links["partner signatory"] == [] and links["lead signatory"] == []
    else:  # the lead edits nothing here; the signatories confirm
        assert common == set() and f"{base}/budget" not in links["project lead"]
        assert f"{base}/partners#confirm-{vaxjo.id}" in links["partner signatory"]
        assert f"{base}/partners#confirm-lead" in links["lead signatory"]
        assert f"{base}/partners#confirm-lead" not in links["partner signatory"]


def test_a_link_that_bounces_back_is_caught(login_as, world, application):
    """The check itself: a common section followed by a partner's contact is refused."""
    browser = login_as("other@demo.test")
    problem = can_act(browser, f"/applications/{application.id}/sections/summary")
    assert problem is not None and "303" in problem
    assert can_act(browser, f"/applications/{application.id}/partners#confirm-lead") is not None
    assert db.session.scalar(select(User).where(User.email == "chef@demo.test")) is not None
