"""Reporting after the grant in the real browser (Debian's Chromium): a granted project whose
final report the partner fills in on the budget tab – an actual cost and co-financing in kind
as hours × rate – seeing only its own organisation's figures against the budget; the lead's
project tab with the documents, their due dates and who has not entered figures; and the
report sent, its decision tab offering the funder's answers accepted and returned. axe finds
no serious or critical violation on those pages, in Swedish and in English, and nothing
scrolls sideways at 320 px."""

from __future__ import annotations

from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.partners.models import ApplicationPartner
from tests.browser_support import serious_violations
from tests.factories import FULL_ANSWERS, add_partner, lead_signs, vote
from tests.features.reporting.test_reporting_cycle import (
    add_cost,
    confirm_as,
    fill_final_report,
    fire,
    record,
    state_of,
)

NARROW = 320


def set_language(language: str) -> None:
    for user in db.session.scalars(select(User)):
        user.locale = language
    db.session.commit()


def check_page(person, path: str, where: str, found: dict) -> None:
    """axe on the page in Swedish and in English, and no sideways scroll at 320 px."""
    page = person.page
    for language in ("sv", "en"):
        set_language(language)
        person.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        problems = serious_violations(page)
        page.set_viewport_size({"width": NARROW, "height": 568})
        page.reload()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"scrolls sideways by {overflow} px at {NARROW} px")
        person.shot(f"{where}-{language}-{NARROW}")
        page.set_viewport_size({"width": 1280, "height": 900})
        if problems:
            found[f"{where} ({language})"] = problems
    set_language("sv")


def granted_report(world, login_as):
    """A project granted what it asked for (no revised budget): its final report, in draft."""
    world.call.reporting_plan = "kulturradet"
    db.session.commit()
    application = world.new_application(state="approved", answers={
        **FULL_ANSWERS, "funding": {"requested_amount": 300_000}})
    add_partner(world, application, signatory=True)   # Växjö, its contact signs
    kalmar, vaxjo = world.orgs["kalmar"], world.orgs["vaxjo"]
    db.session.add_all([
        BudgetLine(application_id=application.id, organisation_id=kalmar.id, year=2027,
                   category="personnel", description="Projektledare", amount=250_000),
        BudgetLine(application_id=application.id, organisation_id=vaxjo.id, year=2027,
                   category="personnel", description="Bibliotekarie", amount=150_000),
        Cofinancing(application_id=application.id, organisation_id=vaxjo.id, year=2027,
                    kind="in_kind", source="public", description="Personaltid",
                    amount=100_000)])
    db.session.commit()
    lead = login_as("lead@demo.test")
    lead_signs(application)
    fire(lead, application, "submit")
    assert state_of(application) == "submitted"
    assert record(lead, application, "granted", granted_amount="300 000",
                  project_start="2027-01-01", project_end="2027-12-31",
                  funder_reference="KUR 2026/101").status_code == 303
    report = db.session.scalar(select(Application).where(
        Application.parent_id == application.id))
    assert report.kind == "final_report"
    return application, report, lead


def test_a_report_from_the_partners_figures_to_the_funders_answer(world, login_as, visitor):
    application, report, lead = granted_report(world, login_as)
    kalmar, vaxjo = world.orgs["kalmar"], world.orgs["vaxjo"]
    found: dict[str, list[str]] = {}

    # The partner enters its actual figures on the report's budget tab.
    partner = visitor().login("other@demo.test")
    page = partner.goto(f"/applications/{report.id}/budget")
    assert page.locator("#line-organisation_id option").all_inner_texts() == \
        ["Växjö stadsbibliotek"]
    page.select_option("#line-category", "personnel")
    page.select_option("#line-year", "2027")
    page.fill("#line-amount", "180 000")
    page.fill("#line-description", "Bibliotekarie, utfall")
    with page.expect_navigation():
        page.get_by_role("button", name="Lägg till kostnaden").click()
    page.select_option("#cofin-kind", "in_kind")
    page.select_option("#cofin-source", "public")
    page.select_option("#cofin-year", "2027")
    page.fill("#cofin-hours", "200")
    page.fill("#cofin-hourly_rate", "500")
    page.fill("#cofin-description", "Personaltid för workshoppar")
    with page.expect_navigation():
        page.get_by_role("button", name="Lägg till medfinansieringen").click()
    item = db.session.scalar(select(Cofinancing).where(Cofinancing.application_id == report.id))
    assert (item.organisation_id, item.hours, item.hourly_rate, item.amount) == \
        (vaxjo.id, 200, 500, 100_000)
    cofinancing = page.locator("#cofinancing table")
    assert "200 timmar × 500 kr" in cofinancing.inner_text()
    # Only its own organisation's figures against the budget: +20 % asks for an explanation.
    assert page.locator(f"#actuals-org-{vaxjo.id}").count() == 1
    assert page.locator(f"#actuals-org-{kalmar.id}").count() == 0
    comparison = page.locator("#actuals table").first.inner_text()
    assert "150\u00a0000 kr" in comparison and "180\u00a0000 kr" in comparison
    assert "+20,0" in comparison
    explanation = page.locator(f"textarea[name='explain-{vaxjo.id}-personnel-text']")
    assert explanation.is_visible()
    partner.shot("partner-budget-with-explanation-form")
    check_page(partner, f"/applications/{report.id}/budget", "partner-budget", found)

    # The lead's project tab: the report, its due date, and who has not entered figures.
    lead_browser = visitor().login("lead@demo.test")
    page = lead_browser.goto(f"/applications/{application.id}/project")
    row = page.locator("#reports tbody tr").filter(has_text="Redovisning")
    assert row.count() == 1
    assert row.locator("time[datetime^='2028-02-29']").count() == 1
    missing = row.locator("td").nth(3).inner_text()
    assert "Kalmar stadsbibliotek" in missing and "Växjö stadsbibliotek" not in missing
    check_page(lead_browser, f"/applications/{application.id}/project", "project", found)

    # The partner explains its deviation; the lead's costs balance the grant and
    # co-financing; confirmed, approved by the steering group, signed and sent.
    page = partner.goto(f"/applications/{report.id}/budget")
    page.locator(f"textarea[name='explain-{vaxjo.id}-personnel-text']").fill(
        "Fler workshoppar än planerat.")
    with page.expect_navigation():
        page.locator("form[action$='/budget/explanations'] button[type=submit]").click()
    add_cost(lead, report, kalmar, 220_000, description="Projektledare, utfall")
    report_partner = db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == report.id))
    fill_final_report(report, report_partner)
    html = fire(lead, report, "send_to_partners")
    assert state_of(report) == "partner_confirmation", html
    confirm_as(login_as("other@demo.test"), report, report_partner)
    fire(lead, report, "send_to_steering")
    vote(login_as("steering1@demo.test"), report, "approve")
    vote(login_as("steering2@demo.test"), report, "approve")
    assert state_of(report) == "approved"
    lead_signs(report)
    fire(lead, report, "submit")
    assert state_of(report) == "submitted"

    # The decision tab offers the funder's answers to a report: accepted or returned.
    page = lead_browser.goto(f"/applications/{report.id}/decision")
    outcomes = page.locator("form.decision-form input[name=outcome]")
    assert sorted(outcomes.evaluate_all("els => els.map(e => e.value)")) == \
        ["accepted", "returned"]
    assert page.locator("form.decision-form #comment").count() == 1
    check_page(lead_browser, f"/applications/{report.id}/decision", "decision", found)

    assert not found, "\n".join(f"{where}: {problem}" for where, problems in found.items()
                                for problem in problems)
