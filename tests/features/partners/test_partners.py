"""Partners: invitations, who edits what, per-partner sections, history."""

import re

import pytest
from sqlalchemy import select

from grants.applications.models import SectionAnswer
from grants.audit import AuditEvent
from grants.db import db
from grants.notifications.models import OutboxEmail
from grants.partners.models import ApplicationPartner
from tests.conftest import Browser
from tests.factories import make_user


@pytest.fixture
def kr_app(world):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    return world.new_application(form="kulturradet_utveckling", title="Läsfrämjande i sydost")


def add_partner(lead, app_, org_id, email, name="Petra Partner"):
    return lead.post(f"/applications/{app_.id}/partners", {
        "organisation_id": org_id, "contact_name": name, "contact_email": email,
        "new_kind": "folkbibliotek"})


def invitation_link(email):
    body = db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == email)
                              .order_by(OutboxEmail.id.desc())).first().body
    return re.search(r"https://bidrag\.test(/partner-invitations/\S+)", body).group(1)


def test_lead_invites_a_partner_who_accepts_with_an_account(login_as, world, kr_app, app,
                                                            smtp_server, run_worker):
    lead = login_as("lead@demo.test")
    response = add_partner(lead, kr_app, world.orgs["vaxjo"].id, "Other@Demo.test")
    assert response.status_code == 303
    partner = db.session.scalar(select(ApplicationPartner))
    assert (partner.status, partner.contact_email) == ("invited", "other@demo.test")
    run_worker()
    import email as email_lib
    message = email_lib.message_from_bytes(smtp_server.messages[0].content)
    assert smtp_server.messages[0].rcpt_tos == ["other@demo.test"]
    body = message.get_payload(decode=True).decode()
    assert "bjuder in Växjö stadsbibliotek" in body and "Läsfrämjande i sydost" in body
    link = invitation_link("other@demo.test")
    invited = login_as("other@demo.test")
    # Before accepting, the invited person sees nothing of the application.
    assert invited.get(f"/applications/{kr_app.id}").status_code == 404
    assert invited.get(link).status_code == 200
    assert invited.post(link, {}).status_code == 303
    db.session.expire_all()
    partner = db.session.get(ApplicationPartner, partner.id)
    assert partner.status == "active" and partner.contact_user_id == world.users["other_lead"].id
    assert invited.get(f"/applications/{kr_app.id}").status_code == 200
    page = invited.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    assert "Samverkanspartens del – Växjö stadsbibliotek" in page
    # The link works once.
    assert Browser(app).get(link).status_code == 410
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "partner.accept")).after["organisation"] == "Växjö stadsbibliotek"


def test_invited_person_without_account_creates_one(login_as, world, kr_app, app):
    lead = login_as("lead@demo.test")
    add_partner(lead, kr_app, 0, "ny@lnu.example", "Nora Ny")  # 0: new organisation, invalid
    assert db.session.scalar(select(ApplicationPartner)) is None
    response = lead.post(f"/applications/{kr_app.id}/partners", {
        "organisation_id": 0, "new_name": "Ronneby bibliotek", "new_org_number": "2120000142",
        "new_county": "Blekinge län", "new_kind": "folkbibliotek",
        "contact_name": "Nora Ny", "contact_email": "ny@lnu.example"})
    assert response.status_code == 303
    visitor = Browser(app)
    link = invitation_link("ny@lnu.example")
    assert visitor.post(link, {"account-name": "Nora Ny",
                               "account-password": "ett långt lösenord"}).status_code == 303
    assert visitor.get(f"/applications/{kr_app.id}").status_code == 200
    page = visitor.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    assert "Samverkanspartens del – Ronneby bibliotek" in page


def active_partner(world, app_, user_key, org_key):
    partner = ApplicationPartner(application_id=app_.id, organisation_id=world.orgs[org_key].id,
                                 contact_name="x", contact_email=world.users[user_key].email,
                                 contact_user_id=world.users[user_key].id, status="active")
    db.session.add(partner)
    db.session.commit()
    return partner


def test_partner_edits_only_its_own_part(login_as, world, kr_app):
    vaxjo = active_partner(world, kr_app, "other_lead", "vaxjo")
    lnu_user = make_user("lnu@demo.test", "Lars Lnu", world.orgs["lnu"])
    db.session.commit()
    world.users["lnu"] = lnu_user
    lnu = active_partner(world, kr_app, "lnu", "lnu")
    partner = login_as("other@demo.test")
    own = f"/applications/{kr_app.id}/partners/{vaxjo.id}/sections/partner_part"
    assert partner.get(own).status_code == 200
    assert partner.post(own, {"partner_role": "Vi håller bokcirklar.",
                              "partner_cofinancing": "50 000", "version": "0"}).status_code == 303
    # Another partner's part, and the lead's common sections: refused, nothing changes.
    other = f"/applications/{kr_app.id}/partners/{lnu.id}/sections/partner_part"
    partner.post(other, {"partner_role": "Intrång", "partner_cofinancing": "1", "version": "0"},
                 follow_redirects=True)
    partner.post(f"/applications/{kr_app.id}/sections/summary",
                 {"summary": "Intrång", "version": "0"})
    rows = db.session.scalars(select(SectionAnswer)).all()
    assert [(r.section_key, r.partner_id, r.data.get("partner_role")) for r in rows] == [
        ("partner_part", vaxjo.id, "Vi håller bokcirklar.")]
    # A partner section without a partner, or a common section with one, does not exist.
    assert partner.get(f"/applications/{kr_app.id}/sections/partner_part").status_code == 404
    assert partner.get(f"/applications/{kr_app.id}/partners/{vaxjo.id}/sections/summary"
                       ).status_code == 404
    # The lead may edit a partner's part in draft.
    lead = login_as("lead@demo.test")
    assert lead.post(other, {"partner_role": "Forskning om läsning.",
                             "partner_cofinancing": "80000", "version": "0"}).status_code == 303


def test_guard_names_the_partner_whose_part_is_missing(login_as, world, kr_app):
    active_partner(world, kr_app, "other_lead", "vaxjo")
    lead = login_as("lead@demo.test")
    html = lead.post(f"/applications/{kr_app.id}/transitions/send_to_partners",
                     {"state_version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Samverkanspartens del (Växjö stadsbibliotek): ”Samverkanspartens roll i projektet” är inte ifyllt." \
        in html


def test_removing_and_changing_contact_are_recorded(login_as, world, kr_app, app):
    lead = login_as("lead@demo.test")
    add_partner(lead, kr_app, world.orgs["vaxjo"].id, "forsta@vaxjo.example")
    partner = db.session.scalar(select(ApplicationPartner))
    first_link = invitation_link("forsta@vaxjo.example")
    lead.post(f"/applications/{kr_app.id}/partners/{partner.id}/contact",
              {"contact_name": "Andra Kontakten", "contact_email": "andra@vaxjo.example"})
    assert Browser(app).get(first_link).status_code == 410  # the old contact's link is void
    lead.post(f"/applications/{kr_app.id}/partners/{partner.id}/remove", {})
    db.session.expire_all()
    assert db.session.get(ApplicationPartner, partner.id).status == "removed"
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "application").order_by(AuditEvent.id))]
    assert actions == ["partner.add", "partner.contact", "partner.remove"]
    sections = lead.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    assert 'id="sections-title"' in sections  # the tab the partner's part would be on
    assert "Samverkanspartens del – Växjö" not in sections
    page = lead.get(f"/applications/{kr_app.id}/history").get_data(as_text=True)
    history = page.split('id="history-title"')[1]
    for text in ["Samverkanspart tillagd och inbjuden", "Samverkanspartens kontaktperson bytt",
                 "Samverkanspart borttagen</strong> – Växjö stadsbibliotek"]:
        assert text in history, text


def test_only_the_lead_manages_partners(login_as, world, kr_app):
    active_partner(world, kr_app, "other_lead", "vaxjo")
    partner = login_as("other@demo.test")
    response = partner.post(f"/applications/{kr_app.id}/partners", {
        "organisation_id": world.orgs["lnu"].id, "contact_name": "X",
        "contact_email": "x@example.org"})
    assert response.status_code == 403
    assert len(db.session.scalars(select(ApplicationPartner)).all()) == 1
    outsider = login_as("steering1@demo.test")
    assert outsider.get(f"/applications/{kr_app.id}/partners").status_code == 200  # steering sees
    stranger = Browser(partner.app)
    stranger.login("coordinator@demo.test")
    assert stranger.post(f"/applications/{kr_app.id}/partners", {
        "organisation_id": world.orgs["lnu"].id, "contact_name": "X",
        "contact_email": "x@example.org"}).status_code == 403


def test_partner_parts_and_partner_table_in_pdf_and_json(login_as, world, kr_app):
    from grants.applications.queries import current_partners, load_answers
    from grants.applications.snapshot import build_snapshot
    from grants.documents.rendering import application_html
    from grants.processes import get_form
    vaxjo = active_partner(world, kr_app, "other_lead", "vaxjo")
    login_as("other@demo.test").post(
        f"/applications/{kr_app.id}/partners/{vaxjo.id}/sections/partner_part",
        {"partner_role": "Bokcirklar i Växjö.", "partner_cofinancing": "50 000", "version": "0"})
    snapshot = build_snapshot(kr_app, get_form("kulturradet_utveckling"),
                              load_answers(kr_app.id), current_partners(kr_app.id))
    assert snapshot["partners"][0]["name"] == "Växjö stadsbibliotek"
    part = next(s for s in snapshot["sections"] if s.get("partner"))
    assert part["partner"]["name"] == "Växjö stadsbibliotek"
    assert part["fields"][0]["value"] == "Bokcirklar i Växjö."
    html = application_html(snapshot, "preview")
    assert "Samverkanspartens del – Växjö stadsbibliotek" in html and "Bokcirklar i Växjö." in html
    assert "Samverkansparter" in html and world.orgs["vaxjo"].org_number in html
