"""Sign-off pinned to a version: any later change to what a partner vouches for voids it."""

import re
from contextlib import contextmanager

from sqlalchemy import select

from grants.db import db
from grants.notifications.models import OutboxEmail
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from tests.factories import make_user, name_signatory


def setup_partners(world, *, sent_to_partners: bool = True):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(form="kulturradet_utveckling", title="Gemensam läsning")
    make_user("lnu@demo.test", "Lars Lnu", world.orgs["lnu"])
    db.session.commit()
    from grants.accounts.models import User
    lnu_user = db.session.scalar(select(User).where(User.email == "lnu@demo.test"))
    partners = {}
    for key, org, user_id, email in [("vaxjo", "vaxjo", world.users["other_lead"].id,
                                      "other@demo.test"),
                                     ("lnu", "lnu", lnu_user.id, "lnu@demo.test")]:
        partners[key] = ApplicationPartner(application_id=application.id,
                                           organisation_id=world.orgs[org].id,
                                           contact_name=key, contact_email=email,
                                           contact_user_id=user_id, status="active")
        db.session.add(partners[key])
        # Each partner's contact is its organisation's authorised signatory.
        name_signatory(application, world.orgs[org].id, db.session.get(User, user_id))
    if sent_to_partners:
        # The lead has sent it to the partners: confirmation is offered in this state only.
        application.state = "partner_confirmation"
    db.session.commit()
    return application, partners


@contextmanager
def back_in_draft(application):
    """The lead takes the application back to draft to change it, then sends it to the
    partners again (the state is set directly: the transitions are tested elsewhere)."""
    application.state = "draft"
    db.session.commit()
    yield
    application.state = "partner_confirmation"
    db.session.commit()


def shown_version(browser, application, partner) -> dict[str, str]:
    """The version the confirmation form on the partners tab carries, as a browser
    would send it (empty when this user is offered no form for that partner)."""
    page = browser.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    form = re.search(rf'<form[^>]*id="confirm-form-{partner.id}"[\s\S]*?</form>', page)
    if form is None:
        return {}
    return dict(re.findall(r'<input type="hidden" name="(fingerprint|parts)" value="([^"]*)"',
                           form.group(0)))


def confirm(browser, application, partner, tick=True, shown=None):
    data = dict(shown if shown is not None else shown_version(browser, application, partner))
    if tick:
        data["authorised"] = "y"
    return browser.post(f"/applications/{application.id}/partners/{partner.id}/confirm", data,
                        follow_redirects=True)


def valid_confirmation(partner):
    db.session.expire_all()
    return db.session.scalar(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id == partner.id, PartnerConfirmation.voided_at.is_(None)))


def test_confirmation_pins_a_version_and_changes_void_only_the_right_ones(login_as, world):
    application, partners = setup_partners(world)
    vaxjo, lnu = login_as("other@demo.test"), login_as("lnu@demo.test")
    html = confirm(vaxjo, application, partners["vaxjo"], tick=False).get_data(as_text=True)
    assert "Kryssa i rutan för att bekräfta." in html
    assert valid_confirmation(partners["vaxjo"]) is None
    assert "har bekräftat den här versionen" in confirm(
        vaxjo, application, partners["vaxjo"]).get_data(as_text=True)
    confirm(lnu, application, partners["lnu"])
    first = valid_confirmation(partners["vaxjo"])
    assert len(first.fingerprint) == 64 and first.signatory_name == "Olle Öberg"
    # Another partner cannot confirm for Växjö.
    confirm(lnu, application, partners["vaxjo"])
    assert valid_confirmation(partners["vaxjo"]).id == first.id

    # LNU edits its own part: only LNU's confirmation is void.
    lnu.post(f"/applications/{application.id}/partners/{partners['lnu'].id}/sections/"
             f"partner_part", {"partner_role": "Forskning", "partner_cofinancing": "10000",
                               "version": "0"})
    assert valid_confirmation(partners["lnu"]) is None
    assert valid_confirmation(partners["vaxjo"]).id == first.id
    assert db.session.scalar(select(OutboxEmail).where(
        OutboxEmail.recipient == "lnu@demo.test")).subject == \
        "Bekräfta ”Gemensam läsning” på nytt"

    # The lead edits a common section: Växjö's confirmation is void too, and it is told.
    lead = login_as("lead@demo.test")
    with back_in_draft(application):
        lead.post(f"/applications/{application.id}/sections/background",
                  {"background": "Ny bakgrund", "version": "0"})
    assert valid_confirmation(partners["vaxjo"]) is None
    page = lead.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert page.count("Måste bekräfta igen") == 2


def test_budget_change_voids_and_the_guard_names_who_must_confirm(login_as, world):
    application, partners = setup_partners(world)
    vaxjo, lnu, lead = (login_as("other@demo.test"), login_as("lnu@demo.test"),
                        login_as("lead@demo.test"))
    confirm(vaxjo, application, partners["vaxjo"])
    with back_in_draft(application):
        lead.post(f"/applications/{application.id}/budget/lines", {
            "line-organisation_id": world.orgs["kalmar"].id, "line-category": "travel",
            "line-year": "2027", "line-description": "Resor", "line-amount": "10000"})
    assert valid_confirmation(partners["vaxjo"]) is None
    html = lead.post(f"/applications/{application.id}/transitions/send_to_review",
                     {"state_version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Samverkansparten Växjö stadsbibliotek måste bekräfta igen" in html
    assert "Samverkansparten Linnéuniversitetet har inte bekräftat." in html
    # Both confirm the current version: the guard passes.
    confirm(vaxjo, application, partners["vaxjo"])
    confirm(lnu, application, partners["lnu"])
    from grants.applications.queries import current_partners, load_answers
    from grants.partners.confirmation import unconfirmed_problems
    from grants.processes import get_form
    db.session.expire_all()
    assert unconfirmed_problems(application, get_form("kulturradet_utveckling"),
                                load_answers(application.id),
                                current_partners(application.id)) == []


def test_checklist_says_what_is_missing_and_whose_turn(login_as, world):
    application, partners = setup_partners(world)
    partners["lnu"].status = "invited"
    db.session.commit()
    page = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    checklist = page.split('id="checklist-title"')[1].split("</section>")[0]
    assert "Sammanfattning: fyll i ”Sammanfattning av projektet”." in checklist
    assert "Lena Lindqvist (projektledare)" in checklist
    assert "Samverkanspartens del: fyll i ”Samverkanspartens roll i projektet”." in checklist
    assert "vaxjo (Växjö stadsbibliotek)" in checklist
    assert "Tacka ja till inbjudan att delta." in checklist and "lnu (Linnéuniversitetet)" in checklist
    assert "Bekräfta deltagande och medfinansiering." in checklist


def test_the_signatory_confirms_the_version_shown_not_a_later_one(login_as, world):
    application, partners = setup_partners(world)
    vaxjo, lead = login_as("other@demo.test"), login_as("lead@demo.test")
    page = vaxjo.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    shown = shown_version(vaxjo, application, partners["vaxjo"])
    assert len(shown["fingerprint"]) == 64 and shown["parts"].startswith("common:")
    assert f"version {shown['fingerprint'][:12]}" in page  # the version is named on the page
    assert "hela budgeten" in page.lower() or "the whole budget" in page.lower()

    # While Växjö's signatory reads, the lead takes it back, edits a common section and
    # sends it again; then they confirm.
    with back_in_draft(application):
        assert lead.post(f"/applications/{application.id}/sections/background",
                         {"background": "Ändrad bakgrund", "version": "0"}).status_code == 303
    refused = confirm(vaxjo, application, partners["vaxjo"], shown=shown).get_data(as_text=True)
    assert valid_confirmation(partners["vaxjo"]) is None  # nothing confirmed unseen
    assert "Inget bekräftades: ansökan ändrades efter att du öppnade sidan." in refused
    assert "Ändrat: de gemensamma avsnitten (eller titeln)" in refused
    assert "Ändrat: budgeten eller medfinansieringen" not in refused

    # A budget change in between is named as such.
    shown = shown_version(vaxjo, application, partners["vaxjo"])
    with back_in_draft(application):
        assert lead.post(f"/applications/{application.id}/budget/lines", {
            "line-organisation_id": world.orgs["kalmar"].id, "line-category": "personnel",
            "line-year": str(application.call.deadline_at.year), "line-description": "Lön",
            "line-amount": "1000"}).status_code == 303
    refused = confirm(vaxjo, application, partners["vaxjo"], shown=shown).get_data(as_text=True)
    assert "Ändrat: budgeten eller medfinansieringen" in refused
    assert valid_confirmation(partners["vaxjo"]) is None

    # Reading the page again shows the current version, which can be confirmed.
    shown = shown_version(vaxjo, application, partners["vaxjo"])
    assert "har bekräftat den här versionen" in confirm(
        vaxjo, application, partners["vaxjo"], shown=shown).get_data(as_text=True)
    assert valid_confirmation(partners["vaxjo"]).fingerprint == shown["fingerprint"]


def test_a_confirmation_without_the_version_shown_is_refused(login_as, world):
    application, partners = setup_partners(world)
    vaxjo = login_as("other@demo.test")
    refused = confirm(vaxjo, application, partners["vaxjo"], shown={}).get_data(as_text=True)
    assert "Inget bekräftades" in refused
    assert valid_confirmation(partners["vaxjo"]) is None


def test_confirmation_is_offered_only_in_the_states_the_workflow_gives_for_it(login_as, world):
    application, partners = setup_partners(world)
    application.state = "draft"  # the lead is still writing
    db.session.commit()
    vaxjo = login_as("other@demo.test")
    page = vaxjo.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert f'id="confirm-form-{partners["vaxjo"].id}"' not in page  # no confirmation form
    assert ("Inget att bekräfta nu" in page
            or "Nothing to confirm now: confirmation is open while the application is in "
               "”Samverkansparternas bekräftelse”" in page.replace("“", "”"))
    # A POST anyway (a form kept open from earlier, or crafted) confirms nothing.
    application.state = "partner_confirmation"
    db.session.commit()
    shown = shown_version(vaxjo, application, partners["vaxjo"])
    assert shown["fingerprint"]
    application.state = "draft"
    db.session.commit()
    refused = confirm(vaxjo, application, partners["vaxjo"], shown=shown)
    assert valid_confirmation(partners["vaxjo"]) is None
    assert "Samverkansparternas bekräftelse" in refused.get_data(as_text=True)
    # In review it is closed again; in the confirmation state the same version confirms.
    for state in ("internal_review", "steering_approval", "approved"):
        application.state = state
        db.session.commit()
        confirm(vaxjo, application, partners["vaxjo"], shown=shown)
        assert valid_confirmation(partners["vaxjo"]) is None, state
    application.state = "partner_confirmation"
    db.session.commit()
    confirm(vaxjo, application, partners["vaxjo"], shown=shown)
    assert valid_confirmation(partners["vaxjo"]).fingerprint == shown["fingerprint"]
