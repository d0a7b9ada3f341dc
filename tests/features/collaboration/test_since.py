"""What changed since you last saw it: a steering member's earlier round, a partner's voided
confirmation, a lead's submission — each compared with what was shown then."""

import re

from sqlalchemy import select

from grants.applications.models import Application
from grants.applications.queries import load_answers
from grants.applications.snapshot import fingerprint
from grants.approvals.operations import on_state_entered
from grants.approvals.rounds import open_round
from grants.collaboration.models import ShownContent
from grants.db import db, utcnow
from grants.partners.models import PartnerConfirmation
from grants.processes import get_form, workflow_for
from grants.submissions.models import Submission
from grants.submissions.operations import submission_snapshot
from tests.factories import FULL_ANSWERS, make_user, vote
from tests.features.partners.test_confirmations import back_in_draft, confirm, setup_partners


def changes_link(page: str, prefix: str) -> str:
    match = re.search(rf'href="(/applications/\d+/changes\?since={prefix}-\d+)"', page)
    assert match, f"no link to what changed since {prefix}"
    return match.group(1)


def test_a_member_voting_on_a_new_round_sees_what_changed_since_the_round_they_voted_on(
        login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    s1 = login_as("steering1@demo.test")
    vote(s1, application, "changes", "Förtydliga målen.")
    assert db.session.get(Application, application.id).state == "changes_requested"
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/sections/aims",
                     {"aims": "Mål: 800 deltagare i 25 kommuner.", "version": "1"}
                     ).status_code == 303
    # Back to the steering group (the transitions are tested elsewhere): round 2 opens.
    application = db.session.get(Application, application.id)
    application.state = "steering_approval"
    on_state_entered(application, workflow_for(application),
                     get_form(application.form_name), world.user("coordinator"))
    db.session.commit()
    assert open_round(application.id).number == 2

    page = s1.get(f"/applications/{application.id}/decision").get_data(as_text=True)
    assert "Vad som ändrats sedan omgång 1, som du röstade i" in page
    changes = s1.get(changes_link(page, "round")).get_data(as_text=True)
    assert "Vad som ändrats sedan omgång 1 av styrgruppens omröstning" in changes
    assert '[borttaget:] </span>500<' in changes and '[infogat:] </span>800<' in changes
    assert '[borttaget:] </span>, 3 län<' in changes
    assert "Workshoppar" not in changes                   # an unchanged section is left out
    # A member who did not vote in round 1 is not offered it.
    s2 = login_as("steering2@demo.test")
    assert "som du röstade i" not in s2.get(f"/applications/{application.id}/decision") \
        .get_data(as_text=True)
    # Once the member has voted in round 2, the notice is gone.
    vote(s1, application, "approve")
    assert "som du röstade i" not in s1.get(f"/applications/{application.id}/decision") \
        .get_data(as_text=True)


def test_a_partner_whose_confirmation_was_voided_sees_what_changed_since(login_as, world):
    application, partners = setup_partners(world)
    vaxjo = login_as("other@demo.test")
    confirm(vaxjo, application, partners["vaxjo"])
    confirmation = db.session.scalar(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id == partners["vaxjo"].id))
    kept = db.session.scalar(select(ShownContent).where(
        ShownContent.fingerprint == confirmation.fingerprint))
    assert kept is not None and kept.snapshot["application"]["title"] == "Gemensam läsning"
    lead, lnu = login_as("lead@demo.test"), login_as("lnu@demo.test")
    with back_in_draft(application):
        lead.post(f"/applications/{application.id}/sections/background",
                  {"background": "Ny bakgrund om läsning.", "version": "0"})
    # Another partner's own part is not what Växjö vouched for.
    lnu.post(f"/applications/{application.id}/partners/{partners['lnu'].id}/sections/"
             f"partner_part", {"partner_role": "Forskning om läsvanor",
                               "partner_cofinancing": "10000", "version": "0"})
    page = vaxjo.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    assert "Vad som ändrats sedan Olle Öberg bekräftade" in page
    changes = vaxjo.get(changes_link(page, "confirmation")).get_data(as_text=True)
    assert "Växjö stadsbibliotek bekräftade den (Olle Öberg" in changes
    assert "Ny bakgrund om läsning." in changes
    assert "Forskning om läsvanor" not in changes
    # A confirmation of another application is not found here.
    other = world.new_application(title="Annan ansökan")
    assert vaxjo.get(f"/applications/{other.id}/changes?since=confirmation-"
                     f"{confirmation.id}").status_code == 404


def test_a_lead_preparing_a_resubmission_sees_what_changed_since_submission(login_as, world):
    application = world.new_application(state="changes_requested", answers=FULL_ANSWERS)
    lead_user = world.user("lead")
    form = get_form(application.form_name)
    snapshot = submission_snapshot(application, form, load_answers(application.id), [],
                                   number=1, submitted_at=utcnow(), actor=lead_user)
    db.session.add(Submission(application_id=application.id, number=1, submitted_at=utcnow(),
                              submitted_by_id=lead_user.id, snapshot=snapshot,
                              sha256=fingerprint(snapshot), status="withdrawn"))
    db.session.commit()
    lead = login_as("lead@demo.test")
    page = lead.get(f"/applications/{application.id}/decision").get_data(as_text=True)
    link = changes_link(page, "submission")
    assert "Inget har ändrats sedan dess." in lead.get(link).get_data(as_text=True)
    lead.post(f"/applications/{application.id}/sections/summary",
              {"summary": "Sammanfattning: läsfrämjande för alla åldrar.", "version": "1"})
    changes = lead.get(link).get_data(as_text=True)
    assert "Vad som ändrats sedan inskickning 1" in changes
    assert "alla åldrar" in changes and "äldre i Växjö och Älmhult" in changes
    # Outsiders and unknown points: not found.
    assert lead.get(f"/applications/{application.id}/changes?since=submission-9") \
        .status_code == 404
    assert lead.get(f"/applications/{application.id}/changes?since=nonsense").status_code == 404
    make_user("outsider@demo.test", "Ulla Utanför", world.orgs["kalmar"])
    db.session.commit()
    assert login_as("outsider@demo.test").get(link).status_code == 404
