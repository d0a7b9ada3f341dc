"""Coordinator administration: calls, funders, organisations, users, steering groups, audit."""

import email
import io
import re
from datetime import UTC, datetime, timedelta

import pypdf
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.audit import AuditEvent
from grants.calls.models import Call, Funder
from grants.db import db, utcnow
from grants.notifications.models import Invitation, OutboxEmail
from grants.organisations.models import Organisation
from grants.steering.models import SteeringMember


def test_only_coordinators_reach_administration(login_as, world):
    lead = login_as("lead@demo.test")
    for url in ["/admin/", "/admin/calls", "/admin/users", "/admin/forms/standard",
                "/admin/audit?format=csv"]:
        assert lead.get(url).status_code == 403, url
    response = lead.post("/admin/funders/new", {"name": "X", "short_name": "X", "slug": "x"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Funder.id))) == 1


def test_coordinator_creates_a_call_and_a_lead_applies_to_it(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    assert coordinator.post("/admin/funders/new", {
        "name": "Region Blekinge", "short_name": "Region Blekinge", "slug": "region-blekinge",
        "submission_email": "registrator@regionblekinge.example", "pdf_template": ""
    }).status_code == 303
    funder = db.session.scalar(select(Funder).where(Funder.slug == "region-blekinge"))
    response = coordinator.post("/admin/calls/new", {
        "funder_id": funder.id, "title": "Kultur i hela Blekinge 2027",
        "description": "Småbidrag.", "opens_at": "2026-11-01T08:00",
        "deadline_at": "2027-03-31T23:59", "workflow_name": "single_stage",
        "form_name": "region_smabidrag", "steering_group_id": world.group.id,
        "max_chars_per_field": "1000", "max_requested_amount": "300 000",
        "min_cofinancing_percent": "20", "max_indirect_percent": "15",
        "allow_resubmission": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    call = db.session.scalar(select(Call).where(Call.title == "Kultur i hela Blekinge 2027"))
    # 23:59 Swedish summer time on 31 March 2027 is 21:59 UTC.
    assert call.deadline_at == datetime(2027, 3, 31, 21, 59, tzinfo=UTC)
    assert call.form_version == 1 and call.allow_resubmission is True
    assert call.max_requested_amount == 300000 and call.min_cofinancing_percent == 20
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.create"))
    assert event.actor_id == world.users["coordinator"].id
    assert event.after["title"] == "Kultur i hela Blekinge 2027"

    # A lead applies to it and gets the call's own form and workflow.
    lead = login_as("lead@demo.test")
    assert "Kultur i hela Blekinge 2027" in lead.get("/").get_data(as_text=True)
    response = lead.post("/applications/new", {"call_id": call.id,
                                               "organisation_id": world.orgs["kalmar"].id,
                                               "title": "Läsfest i Ronneby", "language": "sv"})
    assert response.status_code == 303
    application = db.session.scalar(select(Application).where(
        Application.title == "Läsfest i Ronneby"))
    assert (application.workflow_name, application.form_name) == ("single_stage",
                                                                  "region_smabidrag")
    page = lead.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Kommuner som deltar" in page
    # Changing the call is recorded with before and after.
    coordinator.post(f"/admin/calls/{call.id}", {
        "funder_id": funder.id, "title": "Kultur i hela Blekinge 2027",
        "description": "Småbidrag.", "opens_at": "2026-11-01T08:00",
        "deadline_at": "2027-04-15T12:00", "workflow_name": "single_stage",
        "form_name": "region_smabidrag", "steering_group_id": world.group.id})
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.update"))
    assert update.before["deadline_at"].startswith("2027-03-31T21:59")
    assert update.after["deadline_at"].startswith("2027-04-15T10:00")


def test_call_form_errors_are_shown_and_nothing_is_saved(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    response = coordinator.post("/admin/calls/new", {
        "funder_id": world.call.funder_id, "title": "", "opens_at": "2027-02-01T08:00",
        "deadline_at": "2027-01-01T08:00", "workflow_name": "single_stage",
        "form_name": "standard", "steering_group_id": "0", "max_requested_amount": "12,50"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Sista ansökningsdag måste komma efter öppningen." in html
    assert "Fyll i fältet." in html and "utan ören" in html
    assert db.session.scalar(select(func.count(Call.id))) == 1


def test_organisation_number_is_checked(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    response = coordinator.post("/admin/organisations/new", {
        "name": "Ronneby bibliotek", "org_number": "212000-0143", "county": "Blekinge län",
        "kind": "folkbibliotek"})
    assert response.status_code == 422
    assert "Inget giltigt organisationsnummer" in response.get_data(as_text=True)
    assert coordinator.post("/admin/organisations/new", {
        "name": "Ronneby bibliotek", "org_number": "2120000142", "county": "Blekinge län",
        "kind": "folkbibliotek"}).status_code == 303
    assert db.session.scalar(select(Organisation.org_number).where(
        Organisation.name == "Ronneby bibliotek")) == "212000-0142"


def test_invitation_email_link_is_single_use(login_as, world, smtp_server, run_worker, app):
    coordinator = login_as("coordinator@demo.test")
    response = coordinator.post("/admin/users/invite", {
        "email": "Maja.Lind@Ronneby.example", "name": "Maja Lind",
        "organisation_ids": [world.orgs["vaxjo"].id]})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "maja.lind@ronneby.example"))
    assert [o.name for o in user.organisations] == ["Växjö stadsbibliotek"]
    assert db.session.scalar(select(OutboxEmail)).status == "pending"
    run_worker()
    assert len(smtp_server.messages) == 1
    message = email.message_from_bytes(smtp_server.messages[0].content)
    assert message["To"] == "maja.lind@ronneby.example"
    body = message.get_payload(decode=True).decode()
    assert "Cecilia Holm har bjudit in dig" in body
    link = re.search(r"https://bidrag\.test(/invitations/\S+)", body).group(1)
    assert db.session.scalar(select(OutboxEmail)).status == "sent"
    run_worker()  # nothing is sent twice
    assert len(smtp_server.messages) == 1

    from tests.conftest import Browser
    visitor = Browser(app)
    assert visitor.get(link).status_code == 200
    short = visitor.post(link, {"password": "kort"})
    assert short.status_code == 422 and "Minst 12 tecken." in short.get_data(as_text=True)
    assert visitor.post(link, {"password": "ett långt lösenord"}).status_code == 303
    assert "Maja Lind" in visitor.get("/").get_data(as_text=True)
    again = Browser(app).post(link, {"password": "ett annat långt lösenord"})
    assert "Inbjudningslänken gäller inte längre" in again.get_data(as_text=True)
    assert Browser(app).login("maja.lind@ronneby.example", "ett långt lösenord").status_code == 303


def test_expired_invitation_is_refused(login_as, world, app):
    coordinator = login_as("coordinator@demo.test")
    coordinator.post("/admin/users/invite", {"email": "sen@example.org", "name": "Sen Person"})
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    outbox = db.session.scalar(select(OutboxEmail))
    token = re.search(r"/invitations/(\S+)", outbox.body).group(1)
    from tests.conftest import Browser
    response = Browser(app).post(f"/invitations/{token}", {"password": "ett långt lösenord"})
    assert "Inbjudningslänken gäller inte längre" in response.get_data(as_text=True)


def test_deactivating_a_user_ends_their_sessions(login_as, world):
    lead = login_as("lead@demo.test")
    assert lead.get("/").status_code == 200
    coordinator = login_as("coordinator@demo.test")
    assert coordinator.post(f"/admin/users/{world.users['lead'].id}", {
        "organisation_ids": [world.orgs["kalmar"].id]}).status_code == 303
    assert lead.get("/").status_code == 302  # logged out
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.before["is_active"] is True and event.after["is_active"] is False
    refused = coordinator.post(f"/admin/users/{world.users['coordinator'].id}", {
        "organisation_ids": [], "is_active_account": "y"})
    assert "Du kan inte ta bort din egen samordnarroll" in refused.get_data(as_text=True)


def test_steering_group_members_and_chair(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    members = [world.users["steering1"].id, world.users["steering2"].id]
    bad = coordinator.post("/admin/steering-groups/new", {
        "name": "Styrgrupp Blekinge", "member_ids": members,
        "chair_id": world.users["lead"].id})
    assert bad.status_code == 422
    assert "Ordföranden måste vara en av ledamöterna." in bad.get_data(as_text=True)
    assert coordinator.post("/admin/steering-groups/new", {
        "name": "Styrgrupp Blekinge", "member_ids": members,
        "chair_id": world.users["steering2"].id}).status_code == 303
    rows = db.session.scalars(select(SteeringMember).order_by(SteeringMember.user_id)).all()
    new = [r for r in rows if r.group_id != world.group.id]
    assert {r.user_id for r in new} == set(members)
    assert [r.user_id for r in new if r.is_chair] == [world.users["steering2"].id]


def test_form_preview_page_and_pdf_made_by_a_worker(login_as, world, run_worker,
                                                    monkeypatch):
    import weasyprint  # noqa: PLC0415
    renders = []
    write_pdf = weasyprint.HTML.write_pdf

    def counted(self, *args, **kwargs):
        renders.append(self)
        return write_pdf(self, *args, **kwargs)
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", counted)

    coordinator = login_as("coordinator@demo.test")
    page = coordinator.get("/admin/forms/esf_kompetens").get_data(as_text=True)
    assert "Horisontella principer" in page and 'name="participants-0-women"' in page
    assert 'action="/admin/forms/esf_kompetens/preview.pdf"' in page
    assert coordinator.get("/admin/forms/esf_kompetens/preview.pdf").status_code == 405

    asked = coordinator.post("/admin/forms/esf_kompetens/preview.pdf")
    assert asked.status_code == 303 and not renders  # the web request renders nothing
    job_page = asked.headers["Location"]
    waiting = coordinator.get(job_page).get_data(as_text=True)
    assert "Förhandsvisningen (PDF) skapas" in waiting and "data-job-url" in waiting
    assert coordinator.get(job_page + "/status").get_json()["status"] == "queued"

    run_worker()
    assert len(renders) == 1
    status = coordinator.get(job_page + "/status").get_json()
    assert status["status"] == "done" and status["document_url"]
    assert status["document_url"] in coordinator.get(job_page).get_data(as_text=True)
    pdf = coordinator.get(status["document_url"])
    assert pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Kompetensutvecklingsprojekt" in text and "Jämställdhet" in text

    again = coordinator.post("/admin/forms/esf_kompetens/preview.pdf")  # same form: stored
    assert coordinator.get(again.headers["Location"] + "/status").get_json()["status"] == "done"
    assert "Förhandsvisningen (PDF) är klar" in coordinator.get(
        again.headers["Location"]).get_data(as_text=True)
    run_worker()
    assert len(renders) == 1

    lead = login_as("lead@demo.test")
    assert lead.get(job_page).status_code == 403
    assert lead.get(status["document_url"]).status_code == 403
    assert lead.post("/admin/forms/esf_kompetens/preview.pdf").status_code == 403
    assert coordinator.get("/admin/forms/standard/preview/"
                           f"{job_page.rsplit('/', 1)[1]}").status_code == 404


def test_audit_log_exports_csv(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    coordinator.post("/admin/organisations/new", {
        "name": "Olofströms bibliotek", "org_number": "2120000142", "county": "Blekinge län",
        "kind": "folkbibliotek"})
    page = coordinator.get("/admin/audit").get_data(as_text=True)
    assert "Organisation tillagd" in page and "Olofströms bibliotek" in page
    csv_text = coordinator.get("/admin/audit?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == ("id,time,actor,actor_name,action,what,object_type,"
                                        "object_id,object_name,changes,before,after")
    assert ("coordinator@demo.test,Cecilia Holm,organisation.create,Organisation tillagd,"
            "organisation,") in csv_text
