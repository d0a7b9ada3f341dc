"""The project tab and a report's budget tab: what they show, who sees what, that the project
starts once, that the call's plan is chosen in call administration, and that the pages do not
grow in SQL statements with the number of partners, documents or lines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from grants.applications.models import Application
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.deadlines.models import Reminder
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.partners.models import ApplicationPartner
from grants.reporting.operations import start_project
from grants.submissions.models import FunderDecision
from tests.factories import add_partner, make_user
from tests.system.test_sql_counts import assert_flat


def granted(world, plan="esf", start=date(2027, 1, 1), end=date(2028, 12, 31)):
    world.call.reporting_plan = plan
    application = world.new_application(state="granted")
    add_partner(world, application)
    decision = FunderDecision(application_id=application.id, outcome="granted",
                              granted_amount=900_000, decision_date=date(2026, 11, 20),
                              project_start=start, project_end=end, funder_reference="ESF 1")
    db.session.add(decision)
    db.session.flush()
    made = start_project(application=application, decision=decision, submission=None,
                         actor=world.user("lead"))
    db.session.commit()
    return application, made


def test_the_esf_plan_makes_every_period_with_due_dates_and_reminders(world):
    application, made = granted(world)
    kinds = [(d.kind, d.sequence) for d in made]
    assert kinds.count(("final_report", None)) == 1
    assert [s for k, s in kinds if k == "progress_report"] == [1, 2, 3, 4]
    assert [s for k, s in kinds if k == "payment_claim"] == [1, 2, 3, 4]
    claim = next(d for d in made if d.kind == "payment_claim" and d.sequence == 2)
    assert (claim.period_start, claim.period_end) == (date(2027, 7, 1), date(2027, 12, 31))
    assert claim.due_at.date() == date(2028, 2, 14)          # 45 days after the period
    assert claim.title == application.title and claim.baseline_id == application.id
    # Each document has its reminders, counted back from its own due date.
    assert db.session.scalar(select(func.count(Reminder.id)).where(
        Reminder.application_id == claim.id)) > 0
    # Starting again changes nothing.
    decision = db.session.scalar(select(FunderDecision))
    assert start_project(application=application, decision=decision, submission=None,
                         actor=world.user("lead")) == []


def test_the_project_tab_shows_the_documents_and_who_has_not_entered_figures(login_as, world):
    application, made = granted(world, plan="kulturradet", end=date(2027, 12, 31))
    report = made[0]
    db.session.add(BudgetLine(application_id=report.id, organisation_id=world.orgs["kalmar"].id,
                              year=2027, category="personnel", description="Utfall",
                              amount=10_000))
    db.session.commit()
    lead = login_as("lead@demo.test")
    page = lead.get(f"/applications/{application.id}/project").get_data(as_text=True)
    assert "Redovisning" in page and "Växjö stadsbibliotek" in page
    assert "900\u00a0000 kr" in page
    row = page.split(f'/applications/{report.id}"')[1].split("</tr>")[0]
    assert "Växjö stadsbibliotek" in row and "Kalmar stadsbibliotek" not in row
    # The report's own page names its project and its kind.
    page = lead.get(f"/applications/{report.id}").get_data(as_text=True)
    assert "Redovisning" in page and f"/applications/{application.id}/project" in page
    # Before a grant the tab says what will come.
    other = world.new_application()
    page = lead.get(f"/applications/{other.id}/project").get_data(as_text=True)
    assert "Inget projekt ännu" in page


def test_a_coordinator_chooses_the_calls_reporting_plan(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    page = coordinator.get(f"/admin/calls/{world.call.id}").get_data(as_text=True)
    assert "Rapportering efter beviljat bidrag" in page and "ESF-rådets rapportering" in page


def test_the_pages_do_not_grow_with_partners_documents_or_lines(login_as, world):
    application, made = granted(world)
    report = next(d for d in made if d.kind == "progress_report")
    lead = login_as("lead@demo.test")
    serial = iter(range(1000, 2000))

    def more_partners(n):
        for _ in range(n):
            number = next(serial)
            org = Organisation(name=f"Kommun {number}", county="Kalmar län",
                               kind=OrganisationKind.municipality,
                               org_number=make_fictional(number), is_fictional=True)
            db.session.add(org)
            db.session.flush()
            user = make_user(f"p{number}@demo.test", f"Person {number}", org)
            db.session.flush()
            for document in [application, *made]:
                db.session.add(ApplicationPartner(
                    application_id=document.id, organisation_id=org.id,
                    contact_name=user.name, contact_email=user.email,
                    contact_user_id=user.id, status="active"))
            for year in (2027, 2028):
                db.session.add(BudgetLine(application_id=application.id,
                                          organisation_id=org.id, year=year,
                                          category="personnel", description="Budget",
                                          amount=10_000))
                db.session.add(BudgetLine(application_id=report.id, organisation_id=org.id,
                                          year=year, category="personnel",
                                          description="Utfall", amount=9_000))
            db.session.add(Cofinancing(application_id=report.id, organisation_id=org.id,
                                       year=2027, kind="in_kind", source="public",
                                       description="Tid", amount=1_000, hours=2,
                                       hourly_rate=500))

    assert_flat(lead, f"/applications/{application.id}/project", more_partners)
    assert_flat(lead, f"/applications/{report.id}/budget", more_partners)


@pytest.mark.parametrize("plan", ["kulturradet", "esf", "region"])
def test_every_shipped_plan_starts_a_project(world, plan):
    application, made = granted(world, plan=plan)
    assert made and all(d.parent_id == application.id for d in made)
    assert db.session.scalar(select(func.count(Application.id)).where(
        Application.parent_id == application.id)) == len(made)
