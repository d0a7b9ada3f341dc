"""Budget and co-financing: lines, totals, the call's rules, who edits whose budget, PDF."""

import io

import pypdf
import pytest
from sqlalchemy import func, select

from grants.applications.models import SectionAnswer
from grants.audit import AuditEvent
from grants.budget.models import BudgetLine, Cofinancing
from grants.budget.totals import summarise
from grants.db import db
from grants.documents.models import Document
from grants.jobs.models import Job
from grants.partners.models import ApplicationPartner
from tests.factories import FULL_ANSWERS


def test_summary_arithmetic():
    summary = summarise(
        [{"organisation": "A", "category": "personnel", "year": 2027, "amount": 600_000},
         {"organisation": "A", "category": "indirect", "year": 2027, "amount": 90_000},
         {"organisation": "B", "category": "travel", "year": 2028, "amount": 110_000}],
        [{"organisation": "B", "year": 2027, "amount": 200_000}])
    assert summary.total_cost == 800_000 and summary.direct_cost == 710_000
    assert summary.indirect_cost == 90_000 and summary.requested == 600_000
    assert summary.by_organisation == {"A": {"cost": 690_000, "cofinancing": 0},
                                       "B": {"cost": 110_000, "cofinancing": 200_000}}
    assert summary.by_year == {2027: 690_000, 2028: 110_000}
    assert summary.cofinancing_percent == 25.0


@pytest.fixture
def budget_app(world):
    world.call.max_requested_amount = 500_000
    world.call.min_cofinancing_percent = 20
    world.call.max_indirect_percent = 10
    db.session.commit()
    application = world.new_application(answers=FULL_ANSWERS)
    partner = ApplicationPartner(application_id=application.id,
                                 organisation_id=world.orgs["vaxjo"].id, contact_name="Olle",
                                 contact_email="other@demo.test",
                                 contact_user_id=world.users["other_lead"].id, status="active")
    db.session.add(partner)
    db.session.commit()
    return application


def add_line(browser, app_, org_id, category, amount, year=2027, description="Rad"):
    return browser.post(f"/applications/{app_.id}/budget/lines", {
        "line-organisation_id": org_id, "line-category": category, "line-year": year,
        "line-description": description, "line-amount": amount})


def add_cofin(browser, app_, org_id, amount, kind="in_kind", source="public", year=2027):
    return browser.post(f"/applications/{app_.id}/budget/cofinancing", {
        "cofin-organisation_id": org_id, "cofin-kind": kind, "cofin-source": source,
        "cofin-year": year, "cofin-description": "Arbetstid 20 %", "cofin-amount": amount})


def test_lines_totals_and_rules_with_numbers(login_as, world, budget_app):
    lead = login_as("lead@demo.test")
    kalmar = world.orgs["kalmar"].id
    assert add_line(lead, budget_app, kalmar, "personnel", "600 000",
                    description="Projektledare 50 %").status_code == 303
    assert add_line(lead, budget_app, kalmar, "indirect", "90 000").status_code == 303
    page = lead.get(f"/applications/{budget_app.id}/budget").get_data(as_text=True)
    assert "690\u00a0000 kr" in page and "Projektledare 50 %" in page
    # Requested 690 000 > max 500 000; co-financing 0 % < 20 %; indirect 15 % > 10 %.
    assert "Det sökta beloppet 690\u00a0000 kr" in page and "högst 500\u00a0000 kr" in page
    assert "minst 20 %" in page and "138\u00a0000 kr" in page
    assert "15,0 % av de direkta kostnaderna 600\u00a0000 kr" in page
    # The steering group cannot be asked while the rules are broken.
    budget_app.state = "internal_review"
    db.session.commit()
    coordinator = login_as("coordinator@demo.test")
    html = coordinator.post(f"/applications/{budget_app.id}/transitions/send_to_steering",
                            {"state_version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Det sökta beloppet 690\u00a0000 kr" in html and "(villkor: budgeten inom " in html
    assert db.session.get(type(budget_app), budget_app.id).state == "internal_review"


def test_rules_met_lets_the_application_through(login_as, world, budget_app):
    lead = login_as("lead@demo.test")
    kalmar, vaxjo = world.orgs["kalmar"].id, world.orgs["vaxjo"].id
    add_line(lead, budget_app, kalmar, "personnel", "500000")
    add_line(lead, budget_app, kalmar, "indirect", "50000")
    add_line(lead, budget_app, vaxjo, "travel", "50000")
    add_cofin(lead, budget_app, vaxjo, "150000")
    page = lead.get(f"/applications/{budget_app.id}/budget").get_data(as_text=True)
    assert "Budgeten håller sig inom utlysningens regler." in page
    assert "450\u00a0000 kr" in page  # 600 000 − 150 000
    budget_app.state = "internal_review"
    db.session.commit()
    coordinator = login_as("coordinator@demo.test")
    coordinator.post(f"/applications/{budget_app.id}/transitions/send_to_steering",
                     {"state_version": "1"})
    db.session.expire_all()
    assert db.session.get(type(budget_app), budget_app.id).state == "steering_approval"


def test_amount_errors_and_nothing_half_saved(login_as, world, budget_app):
    lead = login_as("lead@demo.test")
    response = add_line(lead, budget_app, world.orgs["kalmar"].id, "personnel", "1 000,50")
    assert response.status_code == 422
    assert "Ange beloppet i hela kronor, utan ören." in response.get_data(as_text=True)
    response = add_line(lead, budget_app, world.orgs["kalmar"].id, "personnel", "")
    assert response.status_code == 422
    assert db.session.scalar(select(BudgetLine)) is None


def test_partner_edits_only_its_own_budget(login_as, world, budget_app):
    partner = login_as("other@demo.test")
    assert add_line(partner, budget_app, world.orgs["vaxjo"].id, "travel",
                    "20000").status_code == 303
    response = add_line(partner, budget_app, world.orgs["kalmar"].id, "travel", "1")
    assert response.status_code == 422  # not a choice this partner has
    lead_line = BudgetLine(application_id=budget_app.id, organisation_id=world.orgs["kalmar"].id,
                           category="personnel", year=2027, description="Lead", amount=100)
    db.session.add(lead_line)
    db.session.commit()
    partner.post(f"/applications/{budget_app.id}/budget/lines/{lead_line.id}/delete", {})
    assert db.session.get(BudgetLine, lead_line.id) is not None
    lines = db.session.scalars(select(BudgetLine).order_by(BudgetLine.id)).all()
    assert [(l.organisation_id, l.amount) for l in lines] == [
        (world.orgs["vaxjo"].id, 20000), (world.orgs["kalmar"].id, 100)]
    # A steering member sees the budget but may change nothing.
    steering = login_as("steering1@demo.test")
    assert steering.get(f"/applications/{budget_app.id}/budget").status_code == 200
    assert add_line(steering, budget_app, world.orgs["kalmar"].id, "travel",
                    "5").status_code == 403
    # Someone outside the application gets 404, as for a budget that does not exist.
    from tests.factories import make_user
    make_user("stranger@demo.test", "Stina Främling", world.orgs["lnu"])
    db.session.commit()
    outsider = login_as("stranger@demo.test")
    assert outsider.get(f"/applications/{budget_app.id}/budget").status_code == 404
    assert outsider.get("/applications/9999/budget").status_code == 404
    assert add_line(outsider, budget_app, world.orgs["lnu"].id, "travel", "5").status_code == 404
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "budget.add")).after["amount"] == 20000


def test_budget_in_the_pdf_and_json(login_as, world, budget_app, run_worker):
    lead = login_as("lead@demo.test")
    add_line(lead, budget_app, world.orgs["kalmar"].id, "personnel", "400000",
             description="Projektledare Åsa")
    add_cofin(lead, budget_app, world.orgs["vaxjo"].id, "100000")
    export = lead.get(f"/applications/{budget_app.id}/export.json").get_json(force=True)
    budget = export["snapshot"]["budget"]
    assert (budget["total_cost"], budget["cofinancing_total"], budget["requested"]) == (
        400000, 100000, 300000)
    assert export["snapshot"]["application"]["requested_amount"] == 300000  # the cover page
    lead.post(f"/applications/{budget_app.id}/preview")
    run_worker()
    job = db.session.scalar(select(Job))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        db.session.get(Document, job.document_id).content)).pages)
    for expected in ["Budget och medfinansiering", "Projektledare Åsa", "400\u00a0000 kr",
                     "300\u00a0000 kr", "Kostnader – Kalmar stadsbibliotek", "Växjö stadsbibliotek"]:
        assert expected in text, expected
    assert db.session.scalar(select(Cofinancing)).kind == "in_kind"


def test_cofinancing_certificate_pdf_per_partner(login_as, world, budget_app, run_worker):
    partner_row = db.session.scalar(select(ApplicationPartner))
    partner = login_as("other@demo.test")
    add_cofin(partner, budget_app, world.orgs["vaxjo"].id, "75 000")
    add_cofin(partner, budget_app, world.orgs["vaxjo"].id, "25000", kind="cash", year=2028)
    assert partner.post(f"/applications/{budget_app.id}/partners/{partner_row.id}/certificate",
                        {}).status_code == 303
    job = db.session.scalar(select(Job).where(Job.kind == "render_certificate"))
    run_worker()
    job = db.session.get(Job, job.id)
    assert job.status == "done"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        db.session.get(Document, job.document_id).content)).pages)
    for expected in ["Medfinansieringsintyg", "Växjö stadsbibliotek", "75\u00a0000 kr",
                     "25\u00a0000 kr", "100\u00a0000 kr", "Underskrift", "Namnförtydligande",
                     "Befattning", budget_app.title]:
        assert expected in text, expected
    # The certificate is listed among the PDF jobs on the documents tab.
    page = partner.get(f"/applications/{budget_app.id}/documents").get_data(as_text=True)
    assert "Medfinansieringsintyg – Växjö stadsbibliotek" in page
    # A steering member may read but not order certificates.
    steering = login_as("steering1@demo.test")
    steering.post(f"/applications/{budget_app.id}/partners/{partner_row.id}/certificate", {})
    assert len(db.session.scalars(select(Job).where(Job.kind == "render_certificate")).all()) == 1


def test_oversize_upload_is_refused_before_saving(login_as, world, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    application = world.new_application()
    lead = login_as("lead@demo.test")
    token = lead.csrf_token()
    response = lead.client.post(
        f"/applications/{application.id}/sections/summary",
        data={"csrf_token": token, "summary": "x" * (2 * 1024 * 1024), "version": "0"})
    assert response.status_code == 413
    assert "Filer får vara högst 1 MB. Inget sparades." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SectionAnswer.id))) == 0
