"""Starting an application from an earlier one: the two steps, what is carried over and what
not, partners and budget by choice, refusals that leave nothing behind."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.audit import AuditEvent
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db
from grants.deadlines.models import Reminder
from grants.notifications.models import OutboxEmail
from grants.partners.models import ApplicationPartner, PartnerInvitation
from grants.reuse.models import ApplicationLink


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def preview(browser, setting, call, title="Ny ansökan"):
    response = browser.get(f"/applications/{setting.source.id}/copy",
                           query_string={"call": call.id, "title": title})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def create(browser, setting, call, *, title="Ny ansökan", sections=None, partners=None,
           budget=True):
    data = {"call": str(call.id), "title": title,
            "sections": sections if sections is not None else [
                "summary", "background", "cultural_aims", "target_groups"],
            "partners": [str(p) for p in (partners if partners is not None
                                          else [setting.partner_id])]}
    if budget:
        data["budget"] = "y"
    return browser.post(f"/applications/{setting.source.id}/copy", data)


def the_copy() -> Application:
    return db.session.scalars(select(Application).order_by(Application.id.desc())).first()


def answers_of(application_id: int) -> dict:
    return {row.instance_key: row for row in db.session.scalars(
        select(SectionAnswer).where(SectionAnswer.application_id == application_id))}


def test_new_application_page_links_to_starting_from_an_earlier_one(login_as, setting):
    html = login_as("lead@demo.test").get("/applications/new").get_data(as_text=True)
    assert "/applications/reuse" in html


def test_step_one_lists_own_applications_and_open_calls_and_goes_on_to_the_preview(
        login_as, setting):
    lead = login_as("lead@demo.test")
    page = lead.get("/applications/reuse").get_data(as_text=True)
    assert "Digitala vägledare" in page
    assert "Utvecklingsbidrag 2028" in page and "Regionalt utvecklingsbidrag" in page
    assert "Stängd utlysning" not in page                   # closed calls are not offered
    response = lead.get("/applications/reuse", query_string={
        "source": setting.source.id, "call": setting.region.id, "title": ""})
    assert response.status_code == 303
    target = urlparse(response.headers["Location"])
    assert target.path == f"/applications/{setting.source.id}/copy"
    assert parse_qs(target.query)["title"] == ["Digitala vägledare (kopia)"]


def test_step_one_says_what_is_wrong_and_never_fails(login_as, setting, world):
    lead = login_as("lead@demo.test")
    response = lead.get("/applications/reuse", query_string={"source": "", "call": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Välj en av de listade ansökningarna" in html
    assert "Välj en av utlysningarna" in html
    foreign = world.new_application(lead="other_lead", title="Någon annans")
    response = lead.get("/applications/reuse", query_string={
        "source": foreign.id, "call": setting.closed.id})
    assert response.status_code == 422
    response = lead.get("/applications/reuse", query_string={"source": "x", "call": "y"})
    assert response.status_code == 422


def test_copy_to_the_same_form_carries_everything_and_is_a_new_application(
        login_as, setting, world):
    lead = login_as("lead@demo.test")
    html = preview(lead, setting, setting.same)
    assert "Överförs" in html and "Överförs delvis" not in html
    before = count(Application)
    response = create(lead, setting, setting.same)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert count(Application) == before + 1
    copy = the_copy()
    assert response.headers["Location"].endswith(f"/applications/{copy.id}/copied")
    assert (copy.call_id, copy.title, copy.state) == (setting.same.id, "Ny ansökan", "draft")
    assert copy.lead_organisation_id == setting.source.lead_organisation_id
    answers = answers_of(copy.id)
    for key, values in (("summary", {"short_name": "Läslust"}),
                        ("target_groups", {"target_groups": [{"group": "Äldre",
                                                              "count": 600}]})):
        assert answers[key].version == 1
        assert values.items() <= answers[key].data.items()
    # The same operation as any new application: its history and its reminders.
    assert db.session.scalar(select(TransitionRecord.transition).where(
        TransitionRecord.application_id == copy.id)) == "create"
    assert db.session.scalar(select(func.count()).select_from(Reminder).where(
        Reminder.application_id == copy.id)) > 0
    link = db.session.get(ApplicationLink, copy.id)
    assert link.copied_from_id == setting.source.id
    assert db.session.get(ApplicationLink, setting.source.id).group_id == link.group_id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application.copy"))
    assert audit.object_id == copy.id and audit.before == {"copied_from": setting.source.id}
    result = lead.get(f"/applications/{copy.id}/copied").get_data(as_text=True)
    assert "Det här överfördes" in result


def test_the_copy_sections_are_editable(login_as, setting):
    lead = login_as("lead@demo.test")
    create(lead, setting, setting.same)
    copy = the_copy()
    assert lead.get(f"/applications/{copy.id}/sections/summary").status_code == 200
    response = lead.post(f"/applications/{copy.id}/sections/summary", {
        "short_name": "Ändrad", "summary": "Ny text", "start_date": "2027-09-01",
        "end_date": "2029-06-30", "version": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert answers_of(copy.id)["summary"].data["short_name"] == "Ändrad"
    assert answers_of(copy.id)["summary"].version == 2
    # The source is untouched.
    assert answers_of(setting.source.id)["summary"].data["short_name"] == "Läslust"


def test_copy_to_another_funders_form_lists_what_was_not_carried_over(login_as, setting):
    lead = login_as("lead@demo.test")
    html = preview(lead, setting, setting.region)
    assert "Överförs delvis" in html
    # A table does not become a text; a field the new form lacks; a section it lacks.
    assert "Inte överfört: Målgrupper och hur många ni vill nå" in html
    assert "Inte överfört: Projektets kortnamn" in html
    assert "Inte överfört: Kulturella och konstnärliga mål" in html
    response = create(lead, setting, setting.region)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    copy = the_copy()
    answers = answers_of(copy.id)
    assert answers["summary"].data == {"summary": "Biblioteken når äldre och nyanlända."}
    # Formatted text becomes plain text in the common form's plain field.
    assert answers["background"].data["background"] == \
        "Många står utanför den digitala välfärden.\n\n- äldre\n- nyanlända"
    assert "target_groups" not in answers and "cultural_aims" not in answers
    result = lead.get(f"/applications/{copy.id}/copied").get_data(as_text=True)
    assert "Inte överfört: Målgrupper och hur många ni vill nå" in result
    assert "Inte överfört: Projektets kortnamn" in result
    assert "Inte överfört: catering kalmar" in result          # no such cost category
    assert "inte vald" not in result          # nothing there to choose is "not chosen"


def test_partners_and_budget_are_carried_when_chosen(login_as, setting, world):
    lead = login_as("lead@demo.test")
    outbox = count(OutboxEmail)
    create(lead, setting, setting.same)
    copy = the_copy()
    partner = db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == copy.id))
    assert (partner.organisation_id, partner.contact_email, partner.status) == (
        world.orgs["vaxjo"].id, "other@demo.test", "invited")
    # Invited as adding a partner does: an invitation and its email.
    assert db.session.scalar(select(func.count()).select_from(PartnerInvitation).where(
        PartnerInvitation.partner_id == partner.id)) == 1
    assert count(OutboxEmail) == outbox + 1
    own_part = answers_of(copy.id)[f"partner_part@{partner.id}"]
    assert own_part.data == {"partner_role": "Växjö håller i workshoppar."}
    lines = db.session.scalars(select(BudgetLine).where(
        BudgetLine.application_id == copy.id)).all()
    assert sorted((line.category, line.amount) for line in lines) == [
        ("personnel", 300_000), ("travel", 20_000)]          # not the unknown category
    assert db.session.scalar(select(func.count()).select_from(Cofinancing).where(
        Cofinancing.application_id == copy.id)) == 1


def test_partners_and_budget_stay_behind_when_unchecked(login_as, setting, world):
    lead = login_as("lead@demo.test")
    outbox = count(OutboxEmail)
    create(lead, setting, setting.same, partners=[], budget=False, sections=["summary"])
    copy = the_copy()
    assert db.session.scalar(select(func.count()).select_from(ApplicationPartner).where(
        ApplicationPartner.application_id == copy.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(BudgetLine).where(
        BudgetLine.application_id == copy.id)) == 0
    assert count(OutboxEmail) == outbox
    assert set(answers_of(copy.id)) == {"summary"}
    result = lead.get(f"/applications/{copy.id}/copied").get_data(as_text=True)
    assert "Inte överfört: Bakgrund och behov – inte vald" in result


def test_budget_without_the_partner_keeps_only_the_lead_organisations_lines(login_as, setting,
                                                                           world):
    lead = login_as("lead@demo.test")
    create(lead, setting, setting.same, partners=[])
    copy = the_copy()
    lines = db.session.scalars(select(BudgetLine).where(
        BudgetLine.application_id == copy.id)).all()
    assert [(line.organisation_id, line.category) for line in lines] == [
        (world.orgs["kalmar"].id, "personnel")]
    result = lead.get(f"/applications/{copy.id}/copied").get_data(as_text=True)
    assert "samverkansparten överförs inte" in result


def test_closed_or_missing_call_is_refused_and_nothing_is_created(login_as, setting):
    lead = login_as("lead@demo.test")
    before = {m: count(m) for m in (Application, SectionAnswer, ApplicationPartner,
                                    BudgetLine, ApplicationLink)}
    response = lead.get(f"/applications/{setting.source.id}/copy",
                        query_string={"call": setting.closed.id})
    assert response.status_code == 422
    assert "inte öppen för ansökningar" in response.get_data(as_text=True)
    response = create(lead, setting, setting.closed)
    assert response.status_code == 422
    assert "inte öppen för ansökningar" in response.get_data(as_text=True)
    response = lead.post(f"/applications/{setting.source.id}/copy",
                         {"call": "", "title": "X"})
    assert response.status_code == 422
    assert "Välj utlysningen" in response.get_data(as_text=True)
    response = lead.post(f"/applications/{setting.source.id}/copy",
                         {"call": "999999", "title": "X"})
    assert response.status_code == 422
    response = create(lead, setting, setting.same, title="   ")
    assert response.status_code == 422
    response = create(lead, setting, setting.same, title="x" * 301)
    assert response.status_code == 422
    assert "högst 300 tecken" in response.get_data(as_text=True)
    assert {m: count(m) for m in before} == before


def test_outsiders_get_404_on_the_copy_routes(login_as, setting, world):
    """Another organisation's lead, and even the source's partner (who may see it, but it is
    not theirs to copy): 404, as for a missing application. Nothing is made."""
    before = count(Application)
    for email in ("other@demo.test", "steering1@demo.test", "coordinator@demo.test"):
        browser = login_as(email)
        source = setting.source.id
        assert browser.get(f"/applications/{source}/copy").status_code == 404, email
        assert browser.get(f"/applications/{source}/copy",
                           query_string={"call": setting.same.id}).status_code == 404
        assert browser.post(f"/applications/{source}/copy", {
            "call": str(setting.same.id), "title": "Stulen"}).status_code == 404
        assert browser.post(f"/applications/{source}/link", {}).status_code == 404
        assert browser.post(f"/applications/{source}/unlink", {}).status_code == 404
        page = browser.get("/applications/reuse").get_data(as_text=True)
        assert "Digitala vägledare" not in page
        assert browser.get("/applications/reuse", query_string={
            "source": source, "call": setting.same.id}).status_code == 422
    assert count(Application) == before


def test_someone_of_the_lead_organisation_may_copy(login_as, setting, world, app):
    from tests.factories import make_user
    make_user("colleague@demo.test", "Kim Kollega", world.orgs["kalmar"])
    db.session.commit()
    # A colleague who does not see the application (no part in it): 404 as for anyone.
    colleague = login_as("colleague@demo.test")
    assert colleague.get(f"/applications/{setting.source.id}/copy").status_code == 404
