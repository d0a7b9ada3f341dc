"""Access matrix generated from the URL map: every route that names an application is tried by
people who must not reach it, so a new route is covered the day it is added."""

import re

import pytest
from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from tests.factories import FULL_ANSWERS, make_user


def state_of_database() -> dict:
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (
        SectionAnswer, TransitionRecord, BudgetLine, Cofinancing, Document, Attachment, Job,
        ApplicationPartner, PartnerConfirmation)}
    counts["states"] = sorted((a.id, a.state, a.title) for a in db.session.scalars(
        select(Application)))
    counts["partners"] = sorted((p.id, p.status, p.contact_email) for p in db.session.scalars(
        select(ApplicationPartner)))
    counts["answers"] = sorted((r.id, r.version) for r in db.session.scalars(select(SectionAnswer)))
    return counts


@pytest.fixture
def setting(world):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    target = world.new_application(form="kulturradet_utveckling", answers={
        "summary": {"summary": "Mål"}})
    other_app = world.new_application(form="kulturradet_utveckling", title="Annan ansökan")
    make_user("partner2@demo.test", "Paula Partner", world.orgs["lnu"])
    make_user("foreign@demo.test", "Fia Främling", world.orgs["lnu"])
    db.session.commit()
    from grants.accounts.models import User
    partner2 = db.session.scalar(select(User).where(User.email == "partner2@demo.test"))
    foreign = db.session.scalar(select(User).where(User.email == "foreign@demo.test"))
    vaxjo = ApplicationPartner(application_id=target.id, organisation_id=world.orgs["vaxjo"].id,
                               contact_name="V", contact_email="other@demo.test",
                               contact_user_id=world.users["other_lead"].id, status="active")
    lnu = ApplicationPartner(application_id=target.id, organisation_id=world.orgs["lnu"].id,
                             contact_name="L", contact_email="partner2@demo.test",
                             contact_user_id=partner2.id, status="active")
    # "foreign" is a partner, but of the other application only.
    elsewhere = ApplicationPartner(application_id=other_app.id,
                                   organisation_id=world.orgs["lnu"].id, contact_name="F",
                                   contact_email="foreign@demo.test",
                                   contact_user_id=foreign.id, status="active")
    db.session.add_all([vaxjo, lnu, elsewhere])
    db.session.flush()
    line = BudgetLine(application_id=target.id, organisation_id=world.orgs["kalmar"].id,
                      category="personnel", year=2027, description="Lead", amount=1000)
    cofin = Cofinancing(application_id=target.id, organisation_id=world.orgs["kalmar"].id,
                        kind="cash", source="public", year=2027, description="K", amount=10)
    document = Document(application_id=target.id, kind="preview", fingerprint="f" * 64,
                        filename="a.pdf", size=4, sha256="0" * 64, content=b"%PDF")
    attachment = Attachment(application_id=target.id, field_id="letter_of_intent",
                            filename="b.pdf", kind="pdf", mime_type="application/pdf", size=4,
                            sha256="1" * 64, content=b"%PDF")
    job = Job(kind="render_application", application_id=target.id, payload={})
    db.session.add_all([line, cofin, document, attachment, job])
    db.session.commit()
    return {"application_id": target.id, "partner_id": lnu.id, "section_key": "summary",
            "name": "send_to_partners", "document_id": document.id,
            "attachment_id": attachment.id, "job_id": job.id, "item_id": line.id,
            "kind": "lines", "own_partner_id": vaxjo.id}


def application_routes(app):
    for rule in app.url_map.iter_rules():
        if "application_id" in rule.arguments:
            yield rule


def build(rule, values) -> str:
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(values[argument]), url)
    return url


def test_every_application_route_is_404_for_outsiders(app, login_as, world, setting):
    routes = list(application_routes(app))
    assert len(routes) >= 19  # the map really was read
    before = state_of_database()
    for email in ["foreign@demo.test", "steering1@demo.test"]:
        if email == "steering1@demo.test":
            # A steering member of *another* group: move the call away from BISS.
            world.call.steering_group_id = None
            db.session.commit()
        browser = login_as(email)
        for rule in routes:
            url = build(rule, setting)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = browser.get(url)
                else:
                    response = browser.post(url, {"state_version": "1", "version": "0",
                                                  "summary": "Intrång", "state": "submitted"})
                assert response.status_code == 404, (email, method, url, response.status_code)
    assert state_of_database() == before


def test_partner_cannot_change_what_is_not_its_own(app, login_as, world, setting):
    """A partner of this application: POST every changing route aimed at the common sections,
    another partner's part, the lead's budget and the workflow; nothing changes."""
    before = state_of_database()
    browser = login_as("other@demo.test")  # contact of Växjö; the target partner is LNU
    forged = {"state_version": "1", "version": "1", "summary": "Intrång", "partner_role": "X",
              "partner_cofinancing": "1", "state": "submitted", "lead_user_id": "3",
              "line-organisation_id": world.orgs["kalmar"].id, "line-category": "travel",
              "line-year": "2027", "line-description": "x", "line-amount": "5",
              "cofin-organisation_id": world.orgs["kalmar"].id, "cofin-kind": "cash",
              "cofin-source": "public", "cofin-year": "2027", "cofin-description": "x",
              "cofin-amount": "5", "organisation_id": world.orgs["lnu"].id,
              "contact_name": "X", "contact_email": "x@example.org", "to_state": "approved",
              "comment": "x", "signatory_name": "X", "signatory_title": "X", "authorised": "y"}
    skipped_endpoints = {"applications.preview"}  # any participant may preview
    for rule in application_routes(app):
        if "POST" not in rule.methods or rule.endpoint in skipped_endpoints:
            continue
        values = dict(setting)  # partner_id: the *other* partner; section: the lead's common one
        if rule.endpoint == "applications.edit_section" and "partner_id" in rule.arguments:
            values["section_key"] = "partner_part"  # the other partner's own part
        for version in ("0", "1"):  # a new row, and the one that exists
            browser.post(build(rule, values), dict(forged, version=version))
    after = state_of_database()
    assert after == before
    assert db.session.get(ApplicationPartner, setting["partner_id"]).status == "active"
