"""Flat as data grows: the number of SQL statements a page runs is the same with 1 and with 25
partners, applications, history rows, members, notifications … (no query per row: N+1).

Each test opens the page once (first-request work such as pinning a workflow is not what is
measured), counts the statements of a second request with a `before_cursor_execute` listener
on the engine, adds 24 more of the rows the page lists, and counts again."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event

from grants.applications.models import SectionAnswer, TransitionRecord
from grants.audit import AuditEvent
from grants.budget.models import (
    BudgetLine,
    Cofinancing,
    CofinancingKind,
    CofinancingSource,
)
from grants.calls.models import Call, Funder
from grants.db import db, utcnow
from grants.documents.models import Document
from grants.jobs.models import Job, JobStatus
from grants.notifications.models import Notification
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from grants.steering.models import SteeringMember
from tests.factories import FULL_ANSWERS, make_user

GROWN = 25
_serial = itertools.count(1)


def count_statements(browser, url: str) -> tuple[int, list[str]]:
    statements: list[str] = []

    def listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = browser.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements), statements


def assert_flat(browser, url: str, grow: Callable[[int], None]) -> int:
    """Statements for `url` with the data as it is (1 of each) and after grow(24)."""
    browser.get(url)
    few, few_statements = count_statements(browser, url)
    grow(GROWN - 1)
    db.session.commit()
    many, many_statements = count_statements(browser, url)
    assert few == many, f"{url}: {few} statements with 1, {many} with {GROWN}:\n" + \
        difference(few_statements, many_statements)
    return many


def difference(few: list[str], many: list[str]) -> str:
    """The statements (IN lists folded) that run more often with more rows, and how often."""
    def folded(statements):
        counts: dict[str, int] = {}
        for statement in statements:
            key = re.sub(r"IN \((?:\?|%\(\w+\)s|\$\d+)(?:, (?:\?|%\(\w+\)s|\$\d+))*\)",
                         "IN (…)", statement)
            counts[key] = counts.get(key, 0) + 1
        return counts
    before, after = folded(few), folded(many)
    return "\n".join(f"{before.get(k, 0)} → {n}: {k[:600]}" for k, n in after.items()
                     if n != before.get(k, 0))[:6000]


# --- helpers that add rows -----------------------------------------------------------------
def new_organisation(name: str | None = None) -> Organisation:
    n = next(_serial)
    org = Organisation(name=name or f"Bibliotek nr {n} i Småland", county="Kalmar län",
                       kind=OrganisationKind.public_library,
                       org_number=make_fictional(7000 + n), is_fictional=True)
    db.session.add(org)
    db.session.flush()
    return org


def add_partners(application, count: int, *, answers: bool = True) -> None:
    for _ in range(count):
        n = next(_serial)
        org = new_organisation()
        contact = make_user(f"partner{n}@demo.test", f"Partner {n} Ödman", org)
        db.session.flush()
        partner = ApplicationPartner(application_id=application.id, organisation_id=org.id,
                                     contact_name=contact.name, contact_email=contact.email,
                                     contact_user_id=contact.id, status="active")
        db.session.add(partner)
        db.session.flush()
        if answers:
            db.session.add(SectionAnswer(
                application_id=application.id, section_key="partner_part",
                owner_key=str(partner.id), partner_id=partner.id,
                data={"partner_role": f"Roll {n}", "partner_activities": [],
                      "partner_cofinancing": 1000 * n}))
        db.session.add(PartnerConfirmation(partner_id=partner.id, fingerprint="0" * 64,
                                           confirmed_by_id=contact.id, signatory_name="Signe",
                                           signatory_title="Chef"))
        db.session.add(BudgetLine(application_id=application.id, organisation_id=org.id,
                                  category="personnel", year=2027,
                                  description=f"Personal {n}", amount=10_000 + n))
        db.session.add(Cofinancing(application_id=application.id, organisation_id=org.id,
                                   kind=CofinancingKind.cash, source=CofinancingSource.public,
                                   year=2027, description=f"Kontant {n}", amount=5_000 + n))


def add_history(application, actors, count: int) -> None:
    for i in range(count):
        actor = actors[i % len(actors)]
        db.session.add(TransitionRecord(application_id=application.id, transition="reopen",
                                        from_state="draft", to_state="draft",
                                        actor_id=actor.id, comment=f"Ändring {i}"))
        db.session.add(AuditEvent(actor_id=actor.id, action="section.update",
                                  object_type="application", object_id=application.id,
                                  before=None, after={"section": "summary"}))
        db.session.add(Job(kind="render_application", application_id=application.id,
                           requested_by_id=actor.id, status=JobStatus.done,
                           payload={"kind": "preview"}, fingerprint=f"{i:064d}"))


@pytest.fixture
def kr_app(world):
    """An application on a form with a part each partner fills in, with one partner."""
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling",
                                        answers={"summary": {"summary": "Läsfrämjande"}})
    add_partners(application, 1)
    db.session.commit()
    return application


# --- the overview (dashboard) ----------------------------------------------------------------
def test_dashboard_as_coordinator_with_more_applications(login_as, world):
    world.new_application(answers=FULL_ANSWERS)
    coordinator = login_as("coordinator@demo.test")

    def grow(n):
        for i in range(n):
            application = world.new_application(title=f"Ansökan {i}", answers=FULL_ANSWERS)
            add_partners(application, 1, answers=False)
    assert_flat(coordinator, "/", grow)


def test_dashboard_as_lead_with_more_applications_and_partners(login_as, world):
    add_partners(world.new_application(answers=FULL_ANSWERS), 1, answers=False)
    db.session.commit()
    lead = login_as("lead@demo.test")

    def grow(n):
        for i in range(n):
            add_partners(world.new_application(title=f"Ansökan {i}"), 2, answers=False)
    assert_flat(lead, "/", grow)


def test_dashboard_awaiting_decisions_does_not_grow_with_open_rounds(login_as, world):
    add_partners(world.new_application(state="steering_approval", answers=FULL_ANSWERS), 1,
                 answers=False)
    db.session.commit()
    member = login_as("steering1@demo.test")

    def grow(n):
        for i in range(n):
            application = world.new_application(state="steering_approval",
                                                answers=FULL_ANSWERS, title=f"Beslut {i}")
            add_partners(application, 1, answers=False)
    assert_flat(member, "/", grow)


def test_dashboard_next_steps_do_not_grow_with_applications_waiting_for_people(login_as, world):
    """Next steps of a lead (drafts and applications in partner confirmation, with partners)
    and of a coordinator (applications in review, deliveries to check)."""
    def add(state, title):
        application = world.new_application(state=state, answers=FULL_ANSWERS, title=title)
        add_partners(application, 2)
        return application
    add("draft", "Utkast")
    add("partner_confirmation", "Bekräftas")
    add("internal_review", "Granskas")
    db.session.commit()
    lead, coordinator = login_as("lead@demo.test"), login_as("coordinator@demo.test")

    def grow(n):
        for i in range(n):
            add(("draft", "partner_confirmation", "internal_review")[i % 3], f"Ansökan {i}")
    html = lead.get("/").get_data(as_text=True)
    assert "Nästa steg: Skicka till samverkansparterna för bekräftelse." in html
    assert "Nästa steg: Skicka till styrgruppen." in coordinator.get("/").get_data(as_text=True)
    browser_counts = {}
    for name, browser in (("lead", lead), ("coordinator", coordinator)):
        browser_counts[name] = count_statements(browser, "/")[0]
    grow(GROWN - 3)
    db.session.commit()
    for name, browser in (("lead", lead), ("coordinator", coordinator)):
        assert count_statements(browser, "/")[0] == browser_counts[name], name


# --- the application's workspace: every tab ------------------------------------------------------
TABS = ["", "/sections", "/decision", "/documents", "/history"]  # partners, budget: below


@pytest.mark.parametrize("tab", TABS)
def test_application_page_with_more_partners(login_as, world, kr_app, tab):
    lead = login_as("lead@demo.test")
    assert_flat(lead, f"/applications/{kr_app.id}{tab}", lambda n: add_partners(kr_app, n))


@pytest.mark.parametrize("tab", TABS)
def test_application_page_as_partner_with_more_partners(login_as, world, kr_app, tab):
    partner = db.session.scalars(db.select(ApplicationPartner).where(
        ApplicationPartner.application_id == kr_app.id)).first()
    browser = login_as(partner.contact_email)
    assert_flat(browser, f"/applications/{kr_app.id}{tab}", lambda n: add_partners(kr_app, n))


@pytest.mark.parametrize("tab", TABS + ["/partners", "/budget"])
def test_every_tab_while_partners_confirm_with_more_partners(login_as, world, tab):
    """The header every tab shares works out whose confirmation is due: flat too."""
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling",
                                        state="partner_confirmation",
                                        answers={"summary": {"summary": "Läsfrämjande"}})
    add_partners(application, 1)
    db.session.commit()
    assert_flat(login_as("lead@demo.test"), f"/applications/{application.id}{tab}",
                lambda n: add_partners(application, n))


def test_application_page_with_more_history(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    actors = [world.user("lead"), world.user("coordinator")]
    add_history(application, actors, 1)
    db.session.commit()
    lead = login_as("lead@demo.test")

    def grow(n):
        extra = [make_user(f"actor{next(_serial)}@demo.test", "Aktör", new_organisation())
                 for _ in range(n)]
        db.session.flush()
        add_history(application, extra, n)
    assert_flat(lead, f"/applications/{application.id}", grow)
    assert_flat(lead, f"/applications/{application.id}/history", grow)


def test_application_page_in_a_vote_with_more_members(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    member = login_as("steering1@demo.test")

    def grow(n):
        for _ in range(n):
            user = make_user(f"member{next(_serial)}@demo.test", "Ledamot", new_organisation())
            db.session.flush()
            db.session.add(SteeringMember(group_id=world.group.id, user_id=user.id))
    assert_flat(member, f"/applications/{application.id}", grow)
    assert_flat(member, f"/applications/{application.id}/decision", grow)


def test_partners_and_budget_pages_with_more_partners(login_as, world, kr_app):
    lead = login_as("lead@demo.test")
    assert_flat(lead, f"/applications/{kr_app.id}/partners", lambda n: add_partners(kr_app, n))
    assert_flat(lead, f"/applications/{kr_app.id}/budget", lambda n: add_partners(kr_app, n))


# --- the portfolio -------------------------------------------------------------------------------
def test_portfolio_with_more_applications(login_as, world):
    world.new_application(answers=FULL_ANSWERS)
    coordinator = login_as("coordinator@demo.test")

    def grow(n):
        for i in range(n):
            world.new_application(title=f"Portfölj {i}", state="approved")
    assert_flat(coordinator, "/portfolio", grow)
    member = login_as("steering1@demo.test")
    assert_flat(member, "/portfolio", grow)


# --- lists ----------------------------------------------------------------------------------
def test_notifications_list_with_more_notifications(login_as, world):
    application = world.new_application()
    lead_id = world.users["lead"].id

    def add(n):
        for i in range(n):
            db.session.add(Notification(user_id=lead_id, application_id=application.id,
                                        kind="info", subject=f"Meddelande {i}", body="Hej",
                                        link=f"/applications/{application.id}"))
    add(1)
    db.session.commit()
    assert_flat(login_as("lead@demo.test"), "/notifications", add)


def test_admin_lists_with_more_rows(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    world.new_application()

    def organisations(n):
        for _ in range(n):
            new_organisation()

    def users(n):
        for _ in range(n):
            make_user(f"user{next(_serial)}@demo.test", "Användare", new_organisation())

    def funders_and_calls(n):
        for i in range(n):
            funder = Funder(name=f"Stiftelse {next(_serial)}", short_name=f"S{i}",
                            slug=f"stiftelse-{next(_serial)}")
            db.session.add(funder)
            db.session.flush()
            db.session.add(Call(funder_id=funder.id, title=f"Utlysning {i}",
                                opens_at=utcnow() - timedelta(days=1),
                                deadline_at=utcnow() + timedelta(days=30 + i),
                                workflow_name="joint_application", form_name="standard",
                                steering_group_id=world.group.id))

    def members(n):
        users(0)
        for _ in range(n):
            user = make_user(f"member{next(_serial)}@demo.test", "Ledamot", new_organisation())
            db.session.flush()
            db.session.add(SteeringMember(group_id=world.group.id, user_id=user.id))

    def audit(n):
        for i in range(n):
            actor = make_user(f"audit{next(_serial)}@demo.test", "Aktör", new_organisation())
            db.session.flush()
            db.session.add(AuditEvent(actor_id=actor.id, action="organisation.create",
                                      object_type="organisation", object_id=i, before=None,
                                      after={"name": f"Org {i}"}))

    audit(1)
    db.session.commit()
    for url, grow in (("/admin/organisations", organisations), ("/admin/users", users),
                      ("/admin/funders", funders_and_calls), ("/admin/calls", funders_and_calls),
                      ("/admin/steering-groups", members), ("/admin/audit", audit),
                      ("/admin/", audit)):
        assert_flat(coordinator, url, grow)


def test_workflow_pages_and_open_calls(login_as, world):
    lead = login_as("lead@demo.test")

    def calls(n):
        for i in range(n):
            db.session.add(Call(funder_id=world.call.funder_id, title=f"Öppen utlysning {i}",
                                opens_at=utcnow() - timedelta(days=1),
                                deadline_at=utcnow() + timedelta(days=10 + i),
                                workflow_name="joint_application", form_name="standard"))
    assert_flat(lead, "/applications/new", calls)
    assert_flat(lead, "/", calls)
    assert_flat(lead, "/workflows/", calls)


def test_documents_do_not_load_their_content_in_lists(login_as, world):
    """Job rows join their document; the PDF bytes (deferred) are never read for a list."""
    application = world.new_application()
    for i in range(3):
        document = Document(application_id=application.id, kind="preview",
                            fingerprint=f"{i:064d}", filename="a.pdf", size=4, sha256="0" * 64,
                            content=b"%PDF")
        db.session.add(document)
        db.session.flush()
        db.session.add(Job(kind="render_application", application_id=application.id,
                           status=JobStatus.done, payload={"kind": "preview"},
                           document_id=document.id))
    db.session.commit()
    _count, statements = count_statements(login_as("lead@demo.test"),
                                          f"/applications/{application.id}")
    assert not any("document.content" in s for s in statements)


def test_dashboard_pages_by_keyset(login_as, world, monkeypatch):
    """The overview lists the most recently changed applications a page at a time; every page
    costs the same statements, and the pages together list each application once."""
    from grants.dashboard import views as dashboard
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 3)
    ids = [world.new_application(title=f"Sida {i}").id for i in range(7)]
    coordinator = login_as("coordinator@demo.test")
    seen, url, counts = [], "/", []
    while url:
        count, _statements = count_statements(coordinator, url)
        counts.append(count)
        html = coordinator.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'href="/applications/(\d+)"', html)]
        following = re.search(r'rel="next" href="([^"]+)"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert len(counts) == 3 and len(set(counts)) == 1, counts
    assert coordinator.get("/?after=nonsense").status_code == 200
