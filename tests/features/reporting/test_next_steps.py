"""The overview after the grant: a project's report or claim due within 90 days (or overdue)
tells its lead when it is due and which organisations have not entered their actual costs,
and a partner's contact that its own organisation has not; the documents' other steps name
the document; documents further ahead wait; the list of applications lists the application,
not its documents; the same number of SQL statements however many documents and partners."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from grants.applications.models import Application
from grants.db import db, utcnow
from grants.i18n import format_date_local
from grants.partners.models import ApplicationPartner
from tests.features.dashboard.test_next_steps import next_steps_of
from tests.features.reporting.test_portfolio_money import cost, granted_project, sent
from tests.system.test_sql_counts import count_statements

MISSING_TWO = ("Växjö stadsbibliotek och Linnéuniversitetet har inte fört in sina faktiska "
               "kostnader.")


def due_in(document, days: int):
    """Move the document's due date to `days` from now (negative: past)."""
    row = db.session.get(Application, document.id)
    row.due_at = utcnow() + timedelta(days=days)
    db.session.commit()
    return row.due_at


def day(moment) -> str:
    return format_date_local(moment, "sv")


def steps_about(steps: list[str], label: str) -> list[str]:
    return [s for s in steps if s.startswith(label + " ") or s.startswith(label + ":")]


@pytest.fixture
def project(world, login_as):
    """A granted project (ESF-rådet's plan: five documents) with two partners: Växjö (its
    contact other@demo.test) and Linnéuniversitetet (its contact steering2@demo.test).
    Progress report 1 is due in 20 days, payment claim 1 was due 3 days ago; the others are
    months ahead."""
    application, documents = granted_project(
        world, login_as("lead@demo.test"), title="Läslyftet",
        granted=300_000, partners=(("vaxjo", "other_lead"), ("lnu", "steering2")))
    report, claim = documents[("progress_report", 1)], documents[("payment_claim", 1)]
    return {"application": application, "documents": documents, "report": report,
            "claim": claim, "report_due": due_in(report, 20), "claim_due": due_in(claim, -3)}


def test_the_lead_and_the_partners_read_what_is_due_and_who_has_not_entered_figures(
        project, world, login_as):
    report, claim = project["report"], project["claim"]
    lead = login_as("lead@demo.test")
    # The lead organisation has entered its costs in the progress report; nobody in the claim.
    cost(report, world.orgs["kalmar"], 40_000)

    steps = next_steps_of(lead)
    report_due, claim_due = day(project["report_due"]), day(project["claim_due"])
    assert steps_about(steps, "Lägesrapport 1")[0].startswith(
        f"Lägesrapport 1 ska lämnas senast {report_due}: {MISSING_TWO}")
    # Overdue: it says so, and names every organisation, the lead's own first.
    assert steps_about(steps, "Ansökan om utbetalning 1")[0].startswith(
        f"Ansökan om utbetalning 1 skulle ha lämnats senast {claim_due}: Kalmar "
        "stadsbibliotek, Växjö stadsbibliotek och Linnéuniversitetet har inte fört in sina "
        "faktiska kostnader.")
    # The overdue claim comes first (nearest deadline first), each once.
    assert steps.index(steps_about(steps, "Ansökan om utbetalning 1")[0]) < steps.index(
        steps_about(steps, "Lägesrapport 1")[0])
    assert len([s for s in steps if "ska lämnas senast" in s or "skulle ha lämnats" in s]) == 2
    # The documents' other steps are named by the document (their title is the project's).
    assert any(s.startswith("Lägesrapport 1: Fyll i") for s in steps), steps
    # The documents months ahead wait.
    assert not [s for s in steps if s.startswith(("Lägesrapport 2", "Slutrapport",
                                                  "Ansökan om utbetalning 2"))], steps
    # Each due step links to the document's budget tab, where the figures are entered.
    html = lead.get("/").get_data(as_text=True)
    for document in (report, claim):
        assert re.search(rf'<a href="/applications/{document.id}/budget">[^<]*(ska lämnas|'
                         r'skulle ha lämnats)', html), document.kind

    # A partner's contact reads its own organisation, not the others.
    vaxjo = login_as("other@demo.test")
    steps = next_steps_of(vaxjo)
    assert steps_about(steps, "Lägesrapport 1")[0].startswith(
        f"Lägesrapport 1 ska lämnas senast {report_due}: din organisation har inte fört in "
        "sina faktiska kostnader.")
    assert steps_about(steps, "Ansökan om utbetalning 1")[0].startswith(
        f"Ansökan om utbetalning 1 skulle ha lämnats senast {claim_due}: din organisation")
    assert f'href="/applications/{report.id}/budget"' in vaxjo.get("/").get_data(as_text=True)

    # Växjö enters its costs in the report: it no longer reads it; the lead reads the one left.
    cost(report, world.orgs["vaxjo"], 30_000)
    assert not [s for s in next_steps_of(vaxjo) if "Lägesrapport 1 ska lämnas" in s]
    assert steps_about(next_steps_of(lead), "Lägesrapport 1")[0].startswith(
        f"Lägesrapport 1 ska lämnas senast {report_due}: Linnéuniversitetet har inte fört in "
        "sina faktiska kostnader.")
    lnu = steps_about(next_steps_of(login_as("steering2@demo.test")), "Lägesrapport 1")
    assert lnu[0].startswith(f"Lägesrapport 1 ska lämnas senast {report_due}: din "
                             "organisation har inte fört in")

    # Everyone has entered figures: the lead reads when it is due, linked to the document.
    cost(report, world.orgs["lnu"], 10_000)
    step = steps_about(next_steps_of(lead), "Lägesrapport 1")[0]
    assert step.startswith(f"Lägesrapport 1 ska lämnas senast {report_due}. ")
    assert f'<a href="/applications/{report.id}">Lägesrapport 1 ska lämnas' in lead.get(
        "/").get_data(as_text=True)

    # Sent to the funder (a finished state): nothing is due any more.
    sent(claim, 50_000)
    assert not steps_about(next_steps_of(lead), "Ansökan om utbetalning 1")
    assert not steps_about(next_steps_of(vaxjo), "Ansökan om utbetalning 1")


def test_english(project, world, login_as):
    lead = login_as("lead@demo.test")
    lead.post("/language", {"lang": "en", "next": "/"})
    steps = next_steps_of(lead)
    due = format_date_local(project["claim_due"], "en")
    assert any(s.startswith(f"Payment claim 1 was due on {due}: Kalmar stadsbibliotek, Växjö "
                            "stadsbibliotek and Linnéuniversitetet have not entered their "
                            "actual costs.") for s in steps), steps


def test_the_list_shows_applications_not_their_documents(project, login_as):
    html = login_as("lead@demo.test").get("/").get_data(as_text=True)
    listing = html.split('id="my-apps"')[1].split("</section>")[0]
    application = project["application"]
    assert f'href="/applications/{application.id}"' in listing
    for document in project["documents"].values():
        assert f'href="/applications/{document.id}"' not in listing
    assert listing.count("<tr>") == 2   # the header and the application


def test_statements_stay_the_same_with_more_documents_and_partners(project, world, login_as):
    lead, vaxjo = login_as("lead@demo.test"), login_as("other@demo.test")
    for browser in (lead, vaxjo):
        browser.get("/")
    before = {"lead": count_statements(lead, "/")[0], "vaxjo": count_statements(vaxjo, "/")[0]}
    # Every document due soon, one more partner on each, figures in some.
    for offset, document in enumerate(project["documents"].values()):
        due_in(document, 10 + offset)
        db.session.add(ApplicationPartner(
            application_id=document.id, organisation_id=world.orgs["sydost"].id,
            contact_name="Sara Ek", contact_email="steering1@demo.test",
            contact_user_id=world.users["steering1"].id, status="active"))
    db.session.commit()
    cost(project["report"], world.orgs["sydost"], 5_000)
    cost(project["claim"], world.orgs["vaxjo"], 5_000)
    steps = next_steps_of(lead)
    assert len([s for s in steps if "ska lämnas senast" in s]) == 5, steps
    assert any("Länsbibliotek Sydost" in s for s in steps)
    _count, statements = count_statements(lead, "/")
    assert count_statements(lead, "/")[0] == before["lead"], "\n".join(statements)
    assert count_statements(vaxjo, "/")[0] == before["vaxjo"]
