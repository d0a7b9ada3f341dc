"""The portfolio follows the money of the granted projects: granted, claimed, paid out and
spent per project, per funder (with a chart), per county and per year, in the page and the
CSV; their reports due, overdue and accepted; only applications listed (never a project's
documents); the same number of SQL statements however many projects and documents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.budget.models import BudgetLine
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.db import db, utcnow
from grants.steering.models import SteeringGroup
from grants.submissions.models import FunderDecision, Submission
from tests.factories import add_partner
from tests.features.portfolio.test_portfolio import body, read_csv, tables
from tests.features.reporting.test_reporting_cycle import record
from tests.system.test_sql_counts import count_statements


def granted_project(world, lead, *, title, granted, call=None, organisation="kalmar",
                    partners=()):
    """An application submitted (its current submission asks for `granted`) whose grant is
    recorded through the decision form; its call's plan is ESF-rådet's (progress reports
    and payment claims every six months, a final report), so the grant makes five
    documents. The project starts in a month and runs a year: every due date is ahead."""
    call = call or world.call
    call.reporting_plan = "esf"
    application = world.new_application(state="submitted", title=title)
    application.call_id = call.id
    application.lead_organisation_id = world.orgs[organisation].id
    db.session.add(Submission(application_id=application.id, number=1, status="current",
                              snapshot={}, sha256="1" * 64, requested_amount=granted,
                              submitted_by_id=application.lead_user_id))
    db.session.commit()
    for org_key, contact_key in partners:
        add_partner(world, application, org_key, contact_key)
    start = date.today() + timedelta(days=31)
    response = record(lead, application, "granted", granted_amount=str(granted),
                      project_start=start.isoformat(),
                      project_end=(start + timedelta(days=364)).isoformat(),
                      funder_reference="2026-00042")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    documents = db.session.scalars(select(Application).where(
        Application.parent_id == application.id).order_by(Application.id)).all()
    assert sorted((d.kind, d.sequence) for d in documents) == [
        ("final_report", None), ("payment_claim", 1), ("payment_claim", 2),
        ("progress_report", 1), ("progress_report", 2)]
    return application, {(d.kind, d.sequence): d for d in documents}


def sent(document, requested=None, *, state="submitted", answer=None, paid=None):
    """The document sent to the funder (a current submission asking `requested`), and the
    funder's answer to it when `answer` is given."""
    document = db.session.get(Application, document.id)
    submission = Submission(application_id=document.id, number=1, status="current",
                            snapshot={}, sha256="2" * 64, requested_amount=requested,
                            submitted_by_id=document.lead_user_id)
    db.session.add(submission)
    db.session.flush()
    if answer is not None:
        db.session.add(FunderDecision(application_id=document.id, submission_id=submission.id,
                                      outcome=answer, paid_amount=paid,
                                      decision_date=date.today()))
    document.state = state
    db.session.commit()


def cost(document, organisation, amount):
    db.session.add(BudgetLine(application_id=document.id, organisation_id=organisation.id,
                              year=2027, category="personnel", description="Utfall",
                              amount=amount))
    db.session.commit()


def local_year(moment: datetime) -> str:
    return str(moment.astimezone(STOCKHOLM).year)


@pytest.fixture
def english(world):
    for user in db.session.scalars(select(User)):
        user.locale = "en"
    db.session.commit()
    return world


@pytest.fixture
def projects(english, login_as):
    """Two granted projects and two applications that are not projects.

    p1  Kulturrådet (the world's call), Kalmar län, granted 300 000: progress report 1 and
        payment claim 1 accepted (the claim asked 120 000, the funder paid 100 000; the claim
        reports 90 000 of actual costs), payment claim 2 sent (asks 80 000), progress report
        2 overdue, the final report due.
    p2  ESF-rådet, a call of 2025 of another steering group, Kronobergs län, granted 200 000:
        its five documents all due.
    """
    world = english
    lead = login_as("lead@demo.test")
    other_group = SteeringGroup(name="Regionala kulturgruppen")
    esf = Funder(name="Svenska ESF-rådet", short_name="ESF-rådet", slug="esf")
    db.session.add_all([other_group, esf])
    db.session.flush()
    esf_call = Call(funder_id=esf.id, title="Kompetens i sydost",
                    opens_at=datetime(2025, 1, 1, tzinfo=UTC),
                    deadline_at=datetime(2025, 9, 30, 10, 0, tzinfo=UTC),
                    workflow_name="joint_application", form_name="standard",
                    steering_group_id=other_group.id)
    db.session.add(esf_call)
    db.session.commit()
    p1, docs1 = granted_project(world, lead, title="Läslyftet", granted=300_000)
    p2, docs2 = granted_project(world, lead, title="Digitalt lyft", granted=200_000,
                                call=esf_call, organisation="vaxjo")
    sent(docs1[("progress_report", 1)], state="accepted", answer="accepted")
    sent(docs1[("payment_claim", 1)], 120_000, state="accepted", answer="accepted",
         paid=100_000)
    cost(docs1[("payment_claim", 1)], world.orgs["kalmar"], 90_000)
    sent(docs1[("payment_claim", 2)], 80_000)
    overdue = db.session.get(Application, docs1[("progress_report", 2)].id)
    overdue.due_at = utcnow() - timedelta(days=5)
    db.session.commit()
    draft = world.new_application(title="Ett utkast")
    return {"p1": p1.id, "p2": p2.id, "draft": draft.id,
            "documents": [d.id for d in (*docs1.values(), *docs2.values())],
            "world_year": local_year(world.call.deadline_at)}


MONEY_COLUMNS = ["Projects", "Granted", "Claimed", "Paid out", "Spent", "Reports due",
                 "Reports overdue", "Reports accepted"]
P1 = ["1", "SEK 300,000", "SEK 200,000", "SEK 100,000", "SEK 90,000", "1", "1", "2"]
P2 = ["1", "SEK 200,000", "SEK 0", "SEK 0", "SEK 0", "5", "0", "0"]
TOTAL = ["2", "SEK 500,000", "SEK 200,000", "SEK 100,000", "SEK 90,000", "6", "1", "2"]


def test_the_portfolio_follows_the_money_of_the_granted_projects(projects, login_as):
    coordinator = login_as("coordinator@demo.test")
    html = coordinator.get("/portfolio").get_data(as_text=True)
    t = tables(html)

    # Only the applications: the ten documents are not rows of their own anywhere.
    assert t["summary-table"][0] == ["Applications", "3"]
    listed = [int(row[0]) for row in body(t["applications-table"])]
    assert listed == sorted([projects["p1"], projects["p2"], projects["draft"]], reverse=True)
    assert not set(listed) & set(projects["documents"])
    assert body(t["funder-table"])[-1] == ["Total", "3"]
    assert body(t["amounts-table"])[-1] == ["Total", "", "3", "SEK 500,000", "SEK 500,000"]
    # The payment claim's "accepted" is an answer to a document, not a decision on an
    # application: the success rate counts the two grants only.
    assert body(t["success-table"])[-1] == ["Total", "", "2", "0", "100%"]

    assert t["summary-table"][4:] == [
        ["Granted projects", "2"], ["Claimed", "SEK 200,000"], ["Paid out", "SEK 100,000"],
        ["Spent", "SEK 90,000"], ["Reports due", "6"], ["Reports overdue", "1"],
        ["Reports accepted", "2"]]

    # Per project, in the list.
    header = t["applications-table"][0]
    assert header[-6:] == ["Claimed", "Paid out", "Spent", "Reports due", "Reports overdue",
                           "Reports accepted"]
    rows = {int(row[0]): row for row in body(t["applications-table"])}
    assert rows[projects["p1"]][8:] == ["SEK 300,000", "Granted", "SEK 200,000",
                                        "SEK 100,000", "SEK 90,000", "1", "1", "2"]
    assert rows[projects["p2"]][8:] == ["SEK 200,000", "Granted", "SEK 0", "SEK 0", "SEK 0",
                                        "5", "0", "0"]
    assert rows[projects["draft"]][7:] == [""] * 9

    # Per funder, county and year.
    assert t["project-money-table"] == [
        ["Funder", *MONEY_COLUMNS], ["ESF-rådet", *P2], ["Kulturrådet", *P1],
        ["Total", *TOTAL]]
    assert t["project-money-county-table"] == [
        ["County", *MONEY_COLUMNS], ["Kalmar län", *P1], ["Kronobergs län", *P2],
        ["Total", *TOTAL]]
    assert t["project-money-year-table"] == [
        ["Year", *MONEY_COLUMNS], ["2025", *P2], [projects["world_year"], *P1],
        ["Total", *TOTAL]]

    # The chart: four bars per funder, each value naming its series; a table under it.
    chart = html.split('id="chart-project-money"')[1].split("</svg>")[0]
    assert chart.count('fill="#1f4e8c"') == 3   # the legend's swatch and a bar per funder
    for text in ("Granted: SEK 300,000", "Claimed: SEK 200,000", "Paid out: SEK 100,000",
                 "Spent: SEK 90,000", "Granted: SEK 200,000"):
        assert text in chart
    desc = chart.split("<desc")[1].split("</desc>")[0]
    assert ("Kulturrådet: Granted: SEK 300,000, Claimed: SEK 200,000, Paid out: SEK 100,000, "
            "Spent: SEK 90,000.") in desc

    # The CSV: the same per project.
    rows = read_csv(coordinator.get("/portfolio.csv"))
    assert rows[0][-6:] == ["Claimed (SEK)", "Paid out (SEK)", "Spent (SEK)", "Reports due",
                            "Reports overdue", "Reports accepted"]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert set(by_id) == {projects["p1"], projects["p2"], projects["draft"]}
    assert by_id[projects["p1"]][9:] == ["300000", "Granted", "200000", "100000", "90000",
                                         "1", "1", "2"]
    assert by_id[projects["p2"]][9:] == ["200000", "Granted", "0", "0", "0", "5", "0", "0"]
    assert by_id[projects["draft"]][9:] == [""] * 8


def test_filters_and_scope_narrow_the_money(projects, login_as):
    coordinator = login_as("coordinator@demo.test")
    t = tables(coordinator.get("/portfolio?county=Kronobergs+l%C3%A4n").get_data(as_text=True))
    assert t["project-money-table"][1:] == [["ESF-rådet", *P2], ["Total", *P2]]
    # A steering member sees the projects of their group's calls: p1 only.
    t = tables(login_as("steering1@demo.test").get("/portfolio").get_data(as_text=True))
    assert t["project-money-table"][1:] == [["Kulturrådet", *P1], ["Total", *P1]]
    assert t["summary-table"][0] == ["Applications", "2"]
    # No granted project in view: no money figures.
    html = coordinator.get("/portfolio?state=draft").get_data(as_text=True)
    assert "project-money-table" not in html and "Granted projects" not in html


@pytest.mark.parametrize("url", ["/portfolio", "/portfolio.csv"])
def test_statements_stay_the_same_with_more_projects_and_documents(projects, login_as, world,
                                                                  url):
    coordinator = login_as("coordinator@demo.test")
    lead = login_as("lead@demo.test")
    coordinator.get(url)
    few, _few_statements = count_statements(coordinator, url)
    # Two more projects (ten more documents), one of them with a claim paid and a report
    # accepted, and another funder decision on an application's document.
    _p3, docs3 = granted_project(world, lead, title="Tredje projektet", granted=50_000,
                                 organisation="vaxjo")
    granted_project(world, lead, title="Fjärde projektet", granted=70_000)
    sent(docs3[("payment_claim", 1)], 10_000, state="accepted", answer="accepted", paid=9_000)
    sent(docs3[("progress_report", 1)], state="accepted", answer="accepted")
    cost(docs3[("payment_claim", 1)], world.orgs["vaxjo"], 8_000)
    many, statements = count_statements(coordinator, url)
    assert few == many, "\n".join(statements)
    assert many <= 20, "\n".join(statements)
