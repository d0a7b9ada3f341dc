"""One source for each fact: a form field that states what the budget computes (`mirrors:`)
is either filled in from the budget and read-only, or checked against it by `form_complete`
with both figures; the page, the snapshot and the PDF never give two values for one fact."""

import io
import re

import pypdf
import pytest
from sqlalchemy import select

from grants.applications.models import Application, SectionAnswer
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.documents.models import Document
from grants.i18n import format_money
from grants.jobs.models import Job
from grants.partners.models import ApplicationPartner
from tests.factories import FULL_ANSWERS
from tests.features.dashboard.test_next_steps import KULTURRADET_COMMON

# KULTURRADET_COMMON's typed requested amount is never read: the form fills it in from the
# budget.


@pytest.fixture
def kr_app(world):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    return world.new_application(form="kulturradet_utveckling", answers=KULTURRADET_COMMON)


def add_budget(application, org, *, cost=300_000, year=2028, cofinancing=50_000):
    db.session.add(BudgetLine(application_id=application.id, organisation_id=org.id,
                              category="personnel", year=year, description="Projektledning",
                              amount=cost))
    if cofinancing:
        db.session.add(Cofinancing(application_id=application.id, organisation_id=org.id,
                                   kind="cash", source="public", year=year,
                                   description="Kommunens insats", amount=cofinancing))
    db.session.commit()


def fire(browser, application, transition):
    """Fire a transition from the page; gives the flashed messages of the page after it."""
    db.session.expire_all()
    version = db.session.get(Application, application.id).state_version
    db.session.rollback()
    html = browser.post(f"/applications/{application.id}/transitions/{transition}",
                        {"state_version": str(version)}, follow_redirects=True
                        ).get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def kr(amount: int) -> str:
    return format_money(amount, "sv")


def test_a_filled_in_figure_is_the_budget_s_everywhere(login_as, world, kr_app, run_worker):
    lead = login_as("lead@demo.test")
    add_budget(kr_app, world.orgs["kalmar"])            # 300 000 − 50 000 = 250 000 asked
    url = f"/applications/{kr_app.id}/sections/financing"
    page = lead.get(url).get_data(as_text=True)
    # Shown filled in and read-only: no input to type another figure into.
    assert kr(250_000) in page
    assert 'name="requested_amount"' not in page
    assert f'href="/applications/{kr_app.id}/budget"' in page
    # A figure posted anyway (an old tab, a crafted request) is not kept.
    assert lead.post(url, {"requested_amount": "200 000", "has_other_financing": "no",
                           "version": "1"}).status_code == 303
    db.session.expire_all()
    stored = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == kr_app.id, SectionAnswer.section_key == "financing"))
    assert "requested_amount" not in stored.data
    # The sections tab (the financing section's answers), the snapshot and the PDF all give
    # the budget's figure.
    sections = lead.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    shown = sections.split('id="section-financing"')[1].split('id="section-')[0]
    assert kr(250_000) in shown
    snapshot = lead.get(f"/applications/{kr_app.id}/export.json").get_json(force=True)[
        "snapshot"]
    financing = next(s for s in snapshot["sections"] if s["key"] == "financing")
    field = next(f for f in financing["fields"] if f["id"] == "requested_amount")
    assert field["value"] == snapshot["application"]["requested_amount"] == 250_000
    lead.post(f"/applications/{kr_app.id}/preview")
    run_worker()
    job = db.session.scalar(select(Job))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(
        io.BytesIO(db.session.get(Document, job.document_id).content)).pages)
    assert text.count("250 000 kr") >= 3          # cover, financing section, budget
    assert "200 000" not in text
    # The budget changes: so does the figure, with nothing to retype.
    add_budget(kr_app, world.orgs["kalmar"], cost=100_000, cofinancing=0)
    assert kr(350_000) in lead.get(url).get_data(as_text=True)


def test_a_partner_s_own_co_financing_comes_from_its_budget_rows(login_as, world, kr_app):
    partner = ApplicationPartner(application_id=kr_app.id, organisation_id=world.orgs["vaxjo"].id,
                                 contact_name="Olle", contact_email="other@demo.test",
                                 contact_user_id=world.users["other_lead"].id, status="active")
    db.session.add(partner)
    db.session.commit()
    add_budget(kr_app, world.orgs["vaxjo"], cost=80_000, cofinancing=30_000)
    add_budget(kr_app, world.orgs["kalmar"], cost=200_000, cofinancing=70_000)
    page = login_as("other@demo.test").get(
        f"/applications/{kr_app.id}/partners/{partner.id}/sections/partner_part"
    ).get_data(as_text=True)
    assert kr(30_000) in page and kr(70_000) not in page
    assert 'name="partner_cofinancing"' not in page


def test_without_a_budget_a_filled_in_figure_stops_the_transition(login_as, world, kr_app):
    lead = login_as("lead@demo.test")
    text = fire(lead, kr_app, "send_to_partners")
    assert "tas från budgeten, som inte har några kostnadsrader än" in text
    assert db.session.get(Application, kr_app.id).state == "draft"
    add_budget(kr_app, world.orgs["kalmar"])
    fire(lead, kr_app, "send_to_partners")
    assert db.session.get(Application, kr_app.id).state == "partner_confirmation"


def test_a_typed_figure_that_disagrees_is_refused_with_both_numbers(login_as, world):
    # The standard form lets the lead type the requested amount ("checked").
    application = world.new_application(answers=FULL_ANSWERS)       # 450 000 typed
    add_budget(application, world.orgs["kalmar"], cost=300_000, cofinancing=120_000)
    lead = login_as("lead@demo.test")
    text = fire(lead, application, "send_to_partners")
    assert " ".join(f"säger {kr(450_000)}, men budgeten ger {kr(180_000)}".split()) in text
    assert db.session.get(Application, application.id).state == "draft"
    # The checklist on the page says the same, and the section form names the budget's figure.
    page = lead.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f"säger {kr(450_000)}, men budgeten ger {kr(180_000)}" in page
    section = lead.get(f"/applications/{application.id}/sections/funding").get_data(
        as_text=True)
    assert 'name="requested_amount"' in section and kr(180_000) in section
    # Corrected: the two agree and the transition goes through.
    assert lead.post(f"/applications/{application.id}/sections/funding",
                     {"requested_amount": "180 000", "version": "1"}).status_code == 303
    fire(lead, application, "send_to_partners")
    assert db.session.get(Application, application.id).state == "partner_confirmation"


@pytest.mark.parametrize("year, words", [(2030, "efter det året"), (2026, "före det året")])
def test_budget_years_outside_the_project_period_are_refused(login_as, world, kr_app, year,
                                                              words):
    add_budget(kr_app, world.orgs["kalmar"])                          # 2028: inside
    add_budget(kr_app, world.orgs["kalmar"], year=year, cost=10_000, cofinancing=0)
    text = fire(login_as("lead@demo.test"), kr_app, "send_to_partners")
    date = "2029-06-30" if year == 2030 else "2027-09-01"
    assert f"är {date}, men budgeten har kostnader {year}, {words}" in text
    assert db.session.get(Application, kr_app.id).state == "draft"
