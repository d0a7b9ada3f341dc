"""Real signatories: each organisation, the lead included, names its authorised signatory
(firmatecknare); only that person confirms for it, and the record keeps who, as what, when and
which version."""

import email
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.queries import load_answers
from grants.audit import AuditEvent
from grants.db import db
from grants.documents.rendering import render_application_pdf
from grants.i18n import format_datetime_local
from grants.partners.models import PartnerConfirmation, Signatory
from grants.submissions.models import Submission
from tests.conftest import Browser
from tests.factories import FULL_ANSWERS, add_partner, make_user


def name_signatory(browser, application, organisation, **fields):
    data = {f"s{organisation.id}-{key}": str(value) for key, value in fields.items()}
    return browser.post(f"/applications/{application.id}/signatories/{organisation.id}", data,
                        follow_redirects=True)


def shown_version(browser, application, key) -> dict[str, str]:
    """The version the confirmation form on the partners tab carries (empty when none)."""
    page = browser.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    form = re.search(rf'<form[^>]*id="confirm-form-{key}"[\s\S]*?</form>', page)
    if form is None:
        return {}
    return dict(re.findall(r'<input type="hidden" name="(fingerprint|parts)" value="([^"]*)"',
                           form.group(0)))


def confirm_partner(browser, application, partner, shown=None):
    data = dict(shown if shown is not None else shown_version(browser, application, partner.id))
    return browser.post(f"/applications/{application.id}/partners/{partner.id}/confirm",
                        dict(data, authorised="y"), follow_redirects=True)


def confirm_lead(browser, application, shown=None):
    data = dict(shown if shown is not None else shown_version(browser, application, "lead"))
    return browser.post(f"/applications/{application.id}/lead/confirm",
                        dict(data, authorised="y"), follow_redirects=True)


def fire(browser, application, name):
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    return browser.post(f"/applications/{application.id}/transitions/{name}",
                        {"comment": "", "state_version": str(application.state_version)},
                        follow_redirects=True)


def confirmations(**where):
    db.session.expire_all()
    return list(db.session.scalars(select(PartnerConfirmation).filter_by(**where)
                                   .order_by(PartnerConfirmation.id)))


def test_only_the_named_signatory_confirms_for_the_organisation(login_as, world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    partner = add_partner(world, application, "vaxjo", "other_lead")
    chief = make_user("chef@vaxjo.example", "Vera Chef", world.orgs["vaxjo"])
    db.session.commit()
    contact = login_as("other@demo.test")

    # Nobody is named yet: nobody can confirm, and the partners tab says why.
    page = contact.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert 'id="confirm-form-' not in page
    assert "Växjö stadsbibliotek har inte utsett någon firmatecknare än." in page \
        or "has not named its authorised signatory" in page
    # The partner's contact names the head of the library, a person of its organisation.
    html = name_signatory(contact, application, world.orgs["vaxjo"], user_id=chief.id,
                          title="Bibliotekschef").get_data(as_text=True)
    signatory = db.session.scalar(select(Signatory))
    assert (signatory.user_id, signatory.name, signatory.title) == \
        (chief.id, "Vera Chef", "Bibliotekschef")
    assert "Vera Chef" in html

    # The contact, another person of the same organisation, is refused – with who must sign.
    shown = shown_version(contact, application, partner.id)
    assert shown == {}  # not offered the form
    html = confirm_partner(contact, application, partner, shown={
        "fingerprint": "0" * 64}).get_data(as_text=True)
    assert confirmations() == []
    assert "Vera Chef" in html
    # A steering member, a lead: refused too.
    login_as("lead@demo.test").post(f"/applications/{application.id}/partners/{partner.id}/"
                                    "confirm", {"fingerprint": "0" * 64, "authorised": "y"})
    assert confirmations() == []

    # The signatory reads the application (a viewer of it) and confirms the version shown.
    chief_browser = login_as("chef@vaxjo.example")
    page = chief_browser.get(f"/applications/{application.id}")
    assert page.status_code == 200
    assert f"/applications/{application.id}" in chief_browser.get("/").get_data(as_text=True)
    html = confirm_partner(chief_browser, application, partner).get_data(as_text=True)
    assert "Växjö stadsbibliotek har bekräftat den här versionen" in html
    [record] = confirmations()
    assert (record.partner_id, record.confirmed_by_id, record.signatory_name,
            record.signatory_title) == (partner.id, chief.id, "Vera Chef", "Bibliotekschef")
    assert len(record.fingerprint) == 64 and record.confirmed_at is not None
    # The signatory only reads: no section can be saved.
    chief_browser.post(f"/applications/{application.id}/sections/summary",
                       {"summary": "Intrång", "version": "1"})
    db.session.expire_all()
    assert "Intrång" not in str(load_answers(application.id))

    # Naming another signatory is in the history; the confirmation given stays valid.
    name_signatory(contact, application, world.orgs["vaxjo"], user_id=world.user(
        "other_lead").id, title="Enhetschef")
    change = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                        "signatory.change"))
    assert change.before["name"] == "Vera Chef" and change.after["name"] == "Olle Öberg"
    assert change.after["title"] == "Enhetschef"
    assert confirmations()[0].voided_at is None
    page = contact.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert "Vera Chef, Bibliotekschef" in page  # the confirmation, as given
    # The one replaced no longer sees the application.
    assert chief_browser.get(f"/applications/{application.id}").status_code == 404


def test_a_person_of_another_organisation_cannot_be_named(login_as, world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    add_partner(world, application, "vaxjo", "other_lead")
    contact = login_as("other@demo.test")
    response = name_signatory(contact, application, world.orgs["vaxjo"],
                              user_id=world.users["lead"].id, title="Chef")
    assert response.status_code == 422
    assert db.session.scalar(select(Signatory)) is None
    # A new person whose address already has an account elsewhere: refused beside the field.
    response = name_signatory(contact, application, world.orgs["vaxjo"], user_id=0,
                              name="Lena", email="lead@demo.test", title="Chef")
    assert response.status_code == 422
    assert "lead@demo.test" in response.get_data(as_text=True)
    assert db.session.scalar(select(Signatory)) is None
    # A partner's contact cannot name the lead organisation's signatory.
    response = name_signatory(contact, application, world.orgs["kalmar"],
                              user_id=world.users["other_lead"].id, title="Chef")
    assert response.status_code == 403
    assert db.session.scalar(select(Signatory)) is None


def test_a_new_signatory_is_invited_by_email_accepts_and_signs(login_as, world, smtp_server,
                                                              run_worker, app):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    # Named by mistake first, then replaced before accepting: that invitation is void.
    name_signatory(lead, application, world.orgs["kalmar"], user_id=0, name="Fel Person",
                   email="fel@kalmar.example", title="Chef")
    response = name_signatory(lead, application, world.orgs["kalmar"], user_id=0,
                              name="Kim Kommunchef", email="Kim.Kommunchef@Kalmar.example",
                              title="Kommundirektör")
    assert response.status_code == 200
    run_worker()
    messages = {m.rcpt_tos[0]: email.message_from_bytes(m.content) for m in smtp_server.messages}
    assert set(messages) == {"fel@kalmar.example", "kim.kommunchef@kalmar.example"}
    links = {to: re.search(r"https://bidrag\.test(/invitations/\S+)",
                           m.get_payload(decode=True).decode()).group(1)
             for to, m in messages.items()}
    body = messages["kim.kommunchef@kalmar.example"].get_payload(decode=True).decode()
    assert "firmatecknare" in body and "Kalmar stadsbibliotek" in body
    assert "Kommundirektör" in body

    visitor = Browser(app)
    assert visitor.post(links["fel@kalmar.example"], {"password": "ett-långt-lösenord"}
                        ).status_code == 422  # void
    kim = Browser(app)
    response = kim.post(links["kim.kommunchef@kalmar.example"],
                        {"password": "ett-långt-lösenord"})
    assert response.status_code == 303
    kim_user = db.session.scalar(select(User).where(User.email ==
                                                    "kim.kommunchef@kalmar.example"))
    assert [o.name for o in kim_user.organisations] == ["Kalmar stadsbibliotek"]
    # The lead herself cannot sign for the lead organisation: Kim is its signatory.
    assert "Kim Kommunchef" in confirm_lead(lead, application, shown={
        "fingerprint": "0" * 64}).get_data(as_text=True)
    assert confirmations() == []
    html = confirm_lead(kim, application).get_data(as_text=True)
    assert "Kalmar stadsbibliotek har bekräftat den här versionen" in html
    [record] = confirmations()
    assert record.partner_id is None and record.lead_application_id == application.id
    assert (record.signatory_name, record.signatory_title, record.confirmed_by_id) == \
        ("Kim Kommunchef", "Kommundirektör", kim_user.id)
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "application", AuditEvent.object_id == application.id)))
    assert {"signatory.name", "signatory.change", "lead.confirm"} <= actions


def test_lead_signed_blocks_submission_until_the_lead_organisation_signs(login_as, world):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    html = fire(lead, application, "submit").get_data(as_text=True)
    assert db.session.get(Application, application.id).state == "approved"
    assert "Kalmar stadsbibliotek, den sökande organisationen, har inte utsett någon " \
           "firmatecknare." in html or "has not named its authorised signatory" in html
    name_signatory(lead, application, world.orgs["kalmar"], user_id=world.users["lead"].id,
                   title="Bibliotekschef")
    html = fire(lead, application, "submit").get_data(as_text=True)
    assert db.session.get(Application, application.id).state == "approved"
    assert "Lena Lindqvist" in html
    # Signed on a version shown before a change: refused, nothing signed.
    shown = shown_version(lead, application, "lead")
    assert shown["fingerprint"]
    html = confirm_lead(lead, application, shown=dict(shown, fingerprint="f" * 64)
                        ).get_data(as_text=True)
    assert confirmations() == []
    confirm_lead(lead, application, shown=shown)
    assert len(confirmations()) == 1
    fire(lead, application, "submit")
    assert db.session.get(Application, application.id).state == "submitted"


def test_the_snapshot_and_the_pdf_name_the_signatories(login_as, world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    partner = add_partner(world, application, "vaxjo", "other_lead")
    lead, contact = login_as("lead@demo.test"), login_as("other@demo.test")
    name_signatory(contact, application, world.orgs["vaxjo"],
                   user_id=world.users["other_lead"].id, title="Bibliotekschef i Växjö")
    confirm_partner(contact, application, partner)
    name_signatory(lead, application, world.orgs["kalmar"], user_id=world.users["lead"].id,
                   title="Kultur- och fritidschef")
    confirm_lead(lead, application)  # the lead organisation may sign while partners confirm
    application = db.session.get(Application, application.id)
    application.state = "approved"
    db.session.commit()
    fire(lead, application, "submit")
    submission = db.session.scalar(select(Submission))
    assert submission is not None
    records = submission.snapshot["confirmations"]
    lead_record, partner_record = records
    stored = {c.partner_id: c for c in confirmations()}
    assert lead_record["lead"] is True and lead_record["organisation"] == "Kalmar stadsbibliotek"
    assert (lead_record["signatory_name"], lead_record["signatory_title"],
            lead_record["signatory_user_id"]) == ("Lena Lindqvist", "Kultur- och fritidschef",
                                                  world.users["lead"].id)
    assert lead_record["fingerprint"] == stored[None].fingerprint
    assert lead_record["confirmed_at"] == stored[None].confirmed_at.isoformat()
    assert partner_record["organisation"] == "Växjö stadsbibliotek"
    assert (partner_record["signatory_name"], partner_record["signatory_title"]) == \
        ("Olle Öberg", "Bibliotekschef i Växjö")
    assert partner_record["fingerprint"] == stored[partner.id].fingerprint

    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(
        render_application_pdf(submission.snapshot, "final"))).pages)
    text = text.replace("\u2010\n", "")  # words hyphenated at a line end, joined again
    flat = re.sub(r"\s+", "", text)
    assert "Lena Lindqvist, Kultur- och fritidschef" in " ".join(text.split())
    assert "Olle Öberg, Bibliotekschef i Växjö" in " ".join(text.split())
    assert stored[None].fingerprint in flat and stored[partner.id].fingerprint in flat
    spaced = " ".join(text.split())
    assert format_datetime_local(lead_record["confirmed_at"], "sv") in spaced
    assert format_datetime_local(partner_record["confirmed_at"], "sv") in spaced


def test_a_signatory_of_another_application_gets_404(login_as, world):
    mine = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                 title="Min ansökan")
    other = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS,
                                  title="En annan ansökan")
    partner = add_partner(world, other, "vaxjo", "other_lead")
    chief = make_user("chef@kalmar.example", "Kalle Chef", world.orgs["kalmar"])
    db.session.commit()
    name_signatory(login_as("lead@demo.test"), mine, world.orgs["kalmar"], user_id=chief.id,
                   title="Kommundirektör")
    browser = login_as("chef@kalmar.example")
    assert browser.get(f"/applications/{mine.id}").status_code == 200
    assert browser.get(f"/applications/{other.id}").status_code == 404
    assert browser.post(f"/applications/{other.id}/lead/confirm",
                        {"fingerprint": "0" * 64, "authorised": "y"}).status_code == 404
    assert browser.post(f"/applications/{other.id}/partners/{partner.id}/confirm",
                        {"fingerprint": "0" * 64, "authorised": "y"}).status_code == 404
    assert browser.post(f"/applications/{other.id}/signatories/{world.orgs['kalmar'].id}",
                        {"s1-user_id": str(chief.id), "s1-title": "X"}).status_code == 404
    assert "En annan ansökan" not in browser.get("/").get_data(as_text=True)
    assert confirmations() == []
