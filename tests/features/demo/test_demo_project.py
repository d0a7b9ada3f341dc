"""The demo seeds a project the funder has granted, reporting through the real engine: its
calls name their reporting plans; the ESF application was sent and its grant recorded, which
made the project's documents; the first period's progress report and payment claim are sent
and accepted (the claim paid); the current progress report is under way with the lead's and
Växjö's figures and none of Linnéuniversitetet's; the current payment claim is a draft with
figures. Seeding again changes nothing, and the worker sends none of it to the funder again."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import STOCKHOLM, Call
from grants.db import db, utcnow
from grants.delivery.models import Delivery
from grants.demo import ESF_PROJECT
from grants.partners.models import ApplicationPartner
from grants.reporting.queries import load_project
from grants.submissions.models import FunderDecision, Submission


def seeded(app) -> Application:
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return db.session.scalar(select(Application).where(Application.title == ESF_PROJECT,
                                                       Application.parent_id.is_(None)))


def documents_of(project) -> dict[tuple[str, int | None], Application]:
    return {(d.kind, d.sequence): d for d in db.session.scalars(
        select(Application).where(Application.parent_id == project.id))}


def test_the_demo_calls_name_their_reporting_plans(app):
    seeded(app)
    plans = {c.title: c.reporting_plan for c in db.session.scalars(select(Call))}
    assert plans == {"Utvecklingsbidrag för bibliotek 2027": "kulturradet",
                     "Kompetensutveckling för digital delaktighet": "esf",
                     "Regionalt utvecklingsbidrag, bibliotek": "region"}


def test_the_demo_has_a_granted_project_with_its_documents(app):
    project = seeded(app)
    assert project is not None and project.state == "granted"
    grant = db.session.scalar(select(FunderDecision).where(
        FunderDecision.application_id == project.id))
    assert grant.outcome == "granted" and grant.granted_amount > 0
    # Started about eight months ago: the first period is over, the second one is running.
    documents = documents_of(project)
    assert {kind for kind, _n in documents} == {"progress_report", "payment_claim",
                                               "final_report"}
    first, second = documents[("progress_report", 1)], documents[("progress_report", 2)]
    today = utcnow().astimezone(STOCKHOLM).date()
    assert grant.project_start == first.period_start and first.period_end < today
    assert second.period_start <= today <= second.period_end
    assert [d.state for d in (first, documents[("payment_claim", 1)])] == ["accepted"] * 2
    assert second.state == documents[("payment_claim", 2)].state == "draft"
    # Every document has the application's two partners.
    assert {d.id: db.session.scalar(select(func.count(ApplicationPartner.id)).where(
        ApplicationPartner.application_id == d.id)) for d in documents.values()} == \
        {d.id: 2 for d in documents.values()}

    view = load_project(project)
    lines = {(line.document.kind, line.document.sequence): line for line in view.documents}
    assert lines[("progress_report", 1)].finished and not lines[("progress_report", 1)].overdue
    assert lines[("progress_report", 1)].answer.outcome == "accepted"
    # The current report: the lead and Växjö have entered figures, Linnéuniversitetet not.
    assert lines[("progress_report", 2)].missing == ["Linnéuniversitetet"]
    assert lines[("payment_claim", 2)].missing == ["Växjö stadsbibliotek", "Linnéuniversitetet"]
    # The money: the first claim claimed and paid, its actual costs spent.
    claim = db.session.scalar(select(Submission).where(
        Submission.application_id == documents[("payment_claim", 1)].id))
    assert view.money.granted == grant.granted_amount
    assert view.money.claimed == view.money.paid == claim.requested_amount > 0
    assert view.money.spent == db.session.scalar(select(func.sum(BudgetLine.amount)).where(
        BudgetLine.application_id == claim.application_id)) > claim.requested_amount


def test_the_partner_sees_its_own_figures_and_the_lead_who_has_entered_none(app, login_as):
    project = seeded(app)
    report = documents_of(project)[("progress_report", 2)]
    names = {p.organisation.name: p.organisation_id for p in db.session.scalars(
        select(ApplicationPartner).where(ApplicationPartner.application_id == report.id))}
    lead_org, vaxjo, lnu = (project.lead_organisation_id, names["Växjö stadsbibliotek"],
                            names["Linnéuniversitetet"])
    # Växjö's work given in kind as hours × an hourly rate.
    in_kind = db.session.scalar(select(Cofinancing).where(
        Cofinancing.application_id == report.id, Cofinancing.organisation_id == vaxjo))
    assert in_kind.hours and in_kind.hourly_rate and \
        in_kind.amount == in_kind.hours * in_kind.hourly_rate
    assert db.session.scalar(select(func.count(BudgetLine.id)).where(
        BudgetLine.application_id == report.id, BudgetLine.organisation_id == lnu)) == 0

    partner = login_as("partner@demo.test").get(f"/applications/{report.id}/budget")
    page = partner.get_data(as_text=True)
    assert partner.status_code == 200
    assert f'id="actuals-org-{vaxjo}"' in page
    assert f'id="actuals-org-{lead_org}"' not in page and f'id="actuals-org-{lnu}"' not in page
    assert "Projektledare 50 %, utfall" not in page
    lead = login_as("lead@demo.test").get(f"/applications/{report.id}/budget")
    page = lead.get_data(as_text=True)
    for org in (lead_org, vaxjo, lnu):
        assert f'id="actuals-org-{org}"' in page
    # Only Linnéuniversitetet's comparison says it has no figures yet.
    assert page.count('class="badge badge-incomplete"') == 1
    assert page.index('class="badge badge-incomplete"') > page.index(f'id="actuals-org-{lnu}"')
    tab = login_as("lead@demo.test").get(f"/applications/{project.id}/project")
    assert tab.status_code == 200 and "Linnéuniversitetet" in tab.get_data(as_text=True)


def test_seeding_again_changes_nothing_and_nothing_is_sent_again(app, run_worker,
                                                                 smtp_server):
    project = seeded(app)
    counts = [db.session.scalar(select(func.count(m.id))) for m in (
        Application, BudgetLine, Cofinancing, Submission, FunderDecision, Delivery)]
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0 and "nothing changed" in result.output
    assert [db.session.scalar(select(func.count(m.id))) for m in (
        Application, BudgetLine, Cofinancing, Submission, FunderDecision, Delivery)] == counts
    # The worker renders the copies of record; what was sent is not sent again.
    run_worker()
    sent = db.session.scalars(select(Submission)).all()
    assert len(sent) == 3 and all(s.final_document_id for s in sent)
    assert not [m for m in smtp_server.messages
                if any(r.startswith("registrator@") for r in m.rcpt_tos)]
    assert {d.status for d in db.session.scalars(select(Delivery))} == {"sent"}
    assert project.id in {s.application_id for s in sent}
