"""After the grant, with real components: the grant recorded → the revised budget proposed,
confirmed, approved and sent → the final report drafted, partners entering their actual
figures (each only its own), the form's rules refusing with the numbers, the signatories
confirming, the steering group voting with one member recused, the report delivered once over
real SMTP with its PDF/A and its budget-vs-actual data, returned by the funder, completed and
accepted – each sending kept."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.delivery.models import Delivery
from grants.documents.models import Document
from grants.partners.models import ApplicationPartner
from grants.submissions.models import FunderDecision, Submission
from tests.factories import FULL_ANSWERS, add_partner, lead_signs, vote

FUNDER = "registrator@kulturradet.example"


def fire(browser, document, transition, comment=""):
    db.session.expire_all()
    document = db.session.get(Application, document.id)
    return browser.post(f"/applications/{document.id}/transitions/{transition}",
                        {"state_version": str(document.state_version), "comment": comment},
                        follow_redirects=True).get_data(as_text=True)


def state_of(document) -> str:
    db.session.expire_all()
    return db.session.get(Application, document.id).state


def confirm_as(browser, document, partner):
    page = browser.get(f"/applications/{document.id}/partners").get_data(as_text=True)
    form = re.search(rf'<form[^>]*id="confirm-form-{partner.id}"[\s\S]*?</form>', page)
    assert form is not None, "no confirmation form for the partner"
    data = dict(re.findall(r'<input type="hidden" name="(fingerprint|parts)" value="([^"]*)"',
                           form.group(0)))
    data["authorised"] = "y"
    return browser.post(f"/applications/{document.id}/partners/{partner.id}/confirm", data,
                        follow_redirects=True)


def add_cost(browser, document, organisation, amount, category="personnel", year=2027,
             description="Projektledning"):
    return browser.post(f"/applications/{document.id}/budget/lines", {
        "line-organisation_id": str(organisation.id), "line-category": category,
        "line-year": str(year), "line-description": description,
        "line-amount": str(amount)}, follow_redirects=True)


def add_cofinancing(browser, document, organisation, *, amount="", hours="", rate="",
                    kind="in_kind", description="Personaltid"):
    return browser.post(f"/applications/{document.id}/budget/cofinancing", {
        "cofin-organisation_id": str(organisation.id), "cofin-kind": kind,
        "cofin-source": "public", "cofin-year": "2027", "cofin-description": description,
        "cofin-amount": amount, "cofin-hours": hours, "cofin-hourly_rate": rate},
        follow_redirects=True)


def answer(document, key, values, partner_id=None):
    db.session.add(SectionAnswer(application_id=document.id, section_key=key, data=values,
                                 owner_key=str(partner_id or ""), partner_id=partner_id,
                                 updated_by_id=document.lead_user_id))
    db.session.commit()


def record(browser, document, outcome, **fields):
    db.session.expire_all()
    document = db.session.get(Application, document.id)
    data = {"outcome": outcome, "decision_date": "2026-11-20",
            "state_version": str(document.state_version), **fields}
    return browser.post(f"/applications/{document.id}/decision", data)


def fill_final_report(document, partner):
    answer(document, "implementation", {"implemented": "Vi genomförde 40 workshoppar.",
                                        "actual_start": "2027-01-01",
                                        "actual_end": "2027-12-31"})
    answer(document, "results", {"results": "600 deltagare i 12 kommuner."})
    answer(document, "target_groups_reached", {"target_groups_reached": [
        {"group": "Äldre", "count": 400}, {"group": "Nyanlända", "count": 200}]})
    answer(document, "dissemination", {"dissemination": "Konferens i Växjö."})
    answer(document, "deviations", {"as_planned": True})
    answer(document, "finances", {})
    answer(document, "partner_part", {"partner_account": "Växjö höll 15 workshoppar."},
           partner_id=partner.id)


@pytest.fixture
def granted_world(world):
    world.call.reporting_plan = "kulturradet"
    db.session.commit()
    # The requested amount the form states agrees with the budget: 400 000 − 100 000.
    application = world.new_application(state="approved", answers={
        **FULL_ANSWERS, "funding": {"requested_amount": 300_000}})
    partner = add_partner(world, application, signatory=True)   # Växjö, its contact signs
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
    return application, partner


def test_from_grant_through_revised_budget_to_an_accepted_final_report(
        login_as, world, granted_world, smtp_server, run_worker):
    application, partner = granted_world
    kalmar, vaxjo = world.orgs["kalmar"], world.orgs["vaxjo"]
    lead = login_as("lead@demo.test")
    lead_signs(application)
    html = fire(lead, application, "submit")
    assert state_of(application) == "submitted", html
    run_worker()
    assert db.session.scalar(select(Submission)).requested_amount == 300_000

    # 1. The grant, lower than requested, starts the project.
    assert record(lead, application, "granted", granted_amount="250 000",
                  project_start="2027-01-01", project_end="2027-12-31",
                  funder_reference="KUR 2026/99",
                  conditions="Redovisning senast två månader efter slutet.").status_code == 303
    assert state_of(application) == "granted"
    documents = db.session.scalars(select(Application).where(
        Application.parent_id == application.id).order_by(Application.id)).all()
    assert [d.kind for d in documents] == ["revised_budget", "final_report"]
    revised, report = documents
    assert report.due_at.date().isoformat() == "2028-02-29"     # 60 days after the end
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == \
        ("2027-01-01", "2027-12-31")
    # Each document has the application's partners, contacts and signatories.
    assert db.session.scalar(select(func.count(ApplicationPartner.id)).where(
        ApplicationPartner.application_id == report.id)) == 1
    page = lead.get(f"/applications/{application.id}/project").get_data(as_text=True)
    assert "Reviderad budget" in page and "Redovisning" in page
    assert "250\u00a0000 kr" in page and "Redovisning senast två månader" in page
    assert "29 februari 2028" in page or "2028-02-29" in page

    # 2. The revised budget: within the grant before it goes to the partners.
    answer(revised, "revision", {"changes": "Projektledaren går ner till 80 procent."})
    html = fire(lead, revised, "send_to_partners")
    assert "300\u00a0000 kr" in html and "bidraget på 250\u00a0000 kr" in html
    assert state_of(revised) == "draft"
    line = db.session.scalar(select(BudgetLine).where(BudgetLine.application_id == revised.id,
                                                      BudgetLine.organisation_id == kalmar.id))
    lead.post(f"/applications/{revised.id}/budget/lines/{line.id}/delete")
    add_cost(lead, revised, kalmar, 200_000)
    fire(lead, revised, "send_to_partners")
    assert state_of(revised) == "partner_confirmation"
    vaxjo_user = login_as("other@demo.test")
    revised_partner = db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == revised.id))
    confirm_as(vaxjo_user, revised, revised_partner)
    fire(lead, revised, "send_to_steering")
    assert state_of(revised) == "steering_approval"
    vote(login_as("steering1@demo.test"), revised, "approve")
    vote(login_as("steering2@demo.test"), revised, "approve")
    assert state_of(revised) == "approved"
    lead_signs(revised)
    fire(lead, revised, "submit")
    assert state_of(revised) == "submitted"
    db.session.expire_all()
    assert db.session.get(Application, report.id).baseline_id == revised.id

    # 3. The final report: each partner enters its own actual figures, and only those.
    assert add_cost(vaxjo_user, report, kalmar, 1).status_code == 422
    assert db.session.scalar(select(func.count(BudgetLine.id)).where(
        BudgetLine.application_id == report.id)) == 0
    add_cost(vaxjo_user, report, vaxjo, 180_000, description="Bibliotekarie, utfall")
    add_cofinancing(vaxjo_user, report, vaxjo, hours="200", rate="500")
    add_cofinancing(vaxjo_user, report, vaxjo, amount="20 000", kind="cash",
                    description="Kommunala medel")
    item = db.session.scalar(select(Cofinancing).where(Cofinancing.application_id == report.id,
                                                       Cofinancing.hours.is_not(None)))
    assert (item.hours, item.hourly_rate, item.amount) == (200, 500, 100_000)
    add_cost(lead, report, kalmar, 200_000, description="Projektledare, utfall")
    own = vaxjo_user.get(f"/applications/{report.id}/budget").get_data(as_text=True)
    assert f'id="actuals-org-{vaxjo.id}"' in own and f'id="actuals-org-{kalmar.id}"' not in own
    assert "Projektledare, utfall" not in own
    everyone = lead.get(f"/applications/{report.id}/budget").get_data(as_text=True)
    assert f'id="actuals-org-{kalmar.id}"' in everyone and "Projektledare, utfall" in everyone

    # The rules refuse with the numbers: Växjö's costs are 20 % above its budget without an
    # explanation, and the costs (380 000) do not balance the grant and co-financing (370 000).
    fill_final_report(report, db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == report.id)))
    html = fire(lead, report, "send_to_partners")
    assert state_of(report) == "draft"
    assert "Växjö stadsbibliotek" in html and "180\u00a0000 kr" in html and \
        "150\u00a0000 kr" in html and "+20,0" in html
    assert "10\u00a0000 kr" in html and "380\u00a0000 kr" in html
    report_partner = db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == report.id))
    prefix = f"explain-{vaxjo.id}-personnel"
    assert vaxjo_user.post(f"/applications/{report.id}/budget/explanations", {
        f"{prefix}-organisation_id": str(vaxjo.id), f"{prefix}-category": "personnel",
        f"{prefix}-text": "Fler workshoppar än planerat."}).status_code == 303
    add_cofinancing(vaxjo_user, report, vaxjo, amount="10 000", kind="cash",
                    description="Kommunala medel, del 2")
    fire(lead, report, "send_to_partners")
    assert state_of(report) == "partner_confirmation"

    # 4. The signatory confirms; the steering group votes, one member recused.
    confirm_as(vaxjo_user, report, report_partner)
    fire(lead, report, "send_to_steering")
    assert state_of(report) == "steering_approval"
    steering1 = login_as("steering1@demo.test")
    steering1.post(f"/applications/{report.id}/recusal",
                   {"reason": "Jag är anställd i Växjö kommun."})
    vote(login_as("steering2@demo.test"), report, "approve")
    assert state_of(report) == "approved"
    lead_signs(report)
    fire(lead, report, "submit")
    assert state_of(report) == "submitted"
    run_worker()

    # 5. Delivered once, over real SMTP, with its PDF/A and the budget against actual.
    first = db.session.scalar(select(Submission).where(Submission.application_id == report.id))
    assert first.snapshot["document"]["kind"] == "final_report"
    assert first.snapshot["comparison"]["organisations"][1]["explanations"][0]["text"] == \
        "Fler workshoppar än planerat."
    pdf = db.session.get(Document, first.final_document_id).content
    reader = PdfReader(io.BytesIO(pdf))
    names = set(reader.attachments)
    assert {"budget.csv", "budget_vs_actual.csv"} <= names
    csv_text = reader.attachments["budget_vs_actual.csv"][0].decode("utf-8")
    assert "Växjö stadsbibliotek;personnel;2027;150000;0;180000;30000" in csv_text
    to_funder = [m for m in smtp_server.messages if FUNDER in m.rcpt_tos]
    assert len(to_funder) == 3   # the application, the revised budget, the report: once each
    assert db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.submission_id == first.id)) == 1

    # 6. The funder returns it; it is completed and sent again; the funder accepts.
    response = record(lead, report, "returned")
    assert response.status_code == 422 and "Skriv vad bidragsgivaren" in \
        response.get_data(as_text=True)
    assert record(lead, report, "returned",
                  comment="Bifoga tidrapporterna.").status_code == 303
    assert state_of(report) == "returned"
    answer_row = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == report.id, SectionAnswer.section_key == "results"))
    answer_row.data = {"results": "600 deltagare i 12 kommuner; tidrapporter bifogade."}
    db.session.commit()
    fire(lead, report, "send_to_partners")
    confirm_as(vaxjo_user, report, report_partner)
    fire(lead, report, "send_to_steering")
    vote(login_as("steering2@demo.test"), report, "approve")
    lead_signs(report)
    fire(lead, report, "submit")
    run_worker()
    assert record(lead, report, "accepted").status_code == 303
    assert state_of(report) == "accepted"
    sendings = db.session.scalars(select(Submission).where(
        Submission.application_id == report.id).order_by(Submission.number)).all()
    assert [(s.number, s.status) for s in sendings] == [(1, "withdrawn"), (2, "current")]
    answers = db.session.scalars(select(FunderDecision).where(
        FunderDecision.application_id == report.id).order_by(FunderDecision.id)).all()
    assert [(a.outcome, a.submission_id) for a in answers] == [
        ("returned", sendings[0].id), ("accepted", sendings[1].id)]
    page = lead.get(f"/applications/{report.id}/decision").get_data(as_text=True)
    assert "Bifoga tidrapporterna." in page and "Godkänd" in page
    assert len([m for m in smtp_server.messages if FUNDER in m.rcpt_tos]) == 4
