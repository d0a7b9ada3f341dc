"""Creating and filling applications: validation, limits, edit rights, stale edits."""

from sqlalchemy import select

from grants.applications.models import Application, SectionAnswer
from grants.db import db
from tests.factories import FULL_ANSWERS, JOINT_VERSION


def test_lead_creates_application_for_open_call(login_as, world):
    lead = login_as("lead@demo.test")
    page = lead.get(f"/applications/new?call={world.call.id}").get_data(as_text=True)
    assert "Utvecklingsbidrag för bibliotek 2027" in page
    response = lead.post("/applications/new", {
        "call_id": world.call.id, "organisation_id": world.orgs["kalmar"].id,
        "title": "  Läsglädje i Småland  ", "language": "sv"})
    assert response.status_code == 303
    application = db.session.scalar(select(Application))
    assert application.title == "Läsglädje i Småland"
    assert application.state == "draft"
    assert application.workflow_name == "joint_application" and application.workflow_version == JOINT_VERSION
    html = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Läsglädje i Småland" in html and "Utkast" in html


def test_create_refused_for_foreign_organisation_and_missing_title(login_as, world):
    lead = login_as("lead@demo.test")
    response = lead.post("/applications/new", {
        "call_id": world.call.id, "organisation_id": world.orgs["vaxjo"].id, "title": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ge projektet ett namn." in html
    assert 'href="#organisation_id"' in html and 'href="#title"' in html
    assert db.session.scalar(select(Application)) is None


def test_create_refused_after_deadline(login_as, world, past_deadline):
    world.call.deadline_at = past_deadline
    db.session.commit()
    lead = login_as("lead@demo.test")
    response = lead.post("/applications/new", {
        "call_id": world.call.id, "organisation_id": world.orgs["kalmar"].id, "title": "Sent"})
    assert response.status_code == 422
    assert db.session.scalar(select(Application)) is None


def test_section_saves_and_shows_on_page(login_as, world):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/summary"
    form = lead.get(url).get_data(as_text=True)
    assert 'name="version"' in form and 'data-max-chars="300"' in form
    response = lead.post(url, {"summary": "Vi når äldre i Åseda och Ölands norra delar.",
                               "version": "0"})
    assert response.status_code == 303
    page = lead.get(f"/applications/{application.id}/sections").get_data(as_text=True)
    assert "Vi når äldre i Åseda och Ölands norra delar." in page
    assert "”Sammanfattning” sparades." in page


def test_required_and_char_limit_errors_beside_field_and_in_summary(login_as, world):
    application = world.new_application(answers={"summary": {"summary": "Gammal text"}})
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/summary"
    response = lead.post(url, {"summary": "", "version": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("Fyll i fältet.") == 2
    assert 'href="#summary"' in html and 'aria-invalid="true"' in html
    too_long = "å" * 301  # the call allows 300 characters per field
    html = lead.post(url, {"summary": too_long, "version": "1"}).get_data(as_text=True)
    assert "Högst 300 tecken är tillåtna; texten har 301." in html
    assert too_long in html  # nothing typed is lost
    row = db.session.scalar(select(SectionAnswer))
    assert row.data == {"summary": "Gammal text"} and row.version == 1  # nothing half-saved


def test_money_in_whole_kronor(login_as, world):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/funding"
    for bad, message in [("450000,50", "Ange beloppet i hela kronor, utan ören."),
                         ("fyra hundra", "Ange beloppet som ett helt antal kronor"),
                         ("-5", "Ange beloppet som ett helt antal kronor"),
                         ("2 000 001", "Beloppet får vara högst 2\u00a0000\u00a0000 kr.")]:
        response = lead.post(url, {"requested_amount": bad, "version": "0"})
        assert response.status_code == 422, bad
        assert message in response.get_data(as_text=True), bad
    assert db.session.scalar(select(SectionAnswer)) is None
    assert lead.post(url, {"requested_amount": "1 234 567 kr", "version": "0"}).status_code == 303
    assert db.session.scalar(select(SectionAnswer)).data == {"requested_amount": 1234567}
    page = lead.get(f"/applications/{application.id}/sections").get_data(as_text=True)
    assert "1\u00a0234\u00a0567 kr" in page


def test_editing_refused_outside_editable_states(login_as, world):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/summary"
    response = lead.post(url, {"summary": "Ändrad", "version": "1"}, follow_redirects=True)
    assert "Du kan inte ändra ”Sammanfattning” medan ansökan har status" in response.get_data(
        as_text=True)
    assert db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.section_key == "summary")).data == FULL_ANSWERS["summary"]


def test_steering_member_cannot_edit_common_sections(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    steering = login_as("steering1@demo.test")
    assert steering.get(f"/applications/{application.id}").status_code == 200
    steering.post(f"/applications/{application.id}/sections/summary",
                  {"summary": "Intrång", "version": "1"})
    assert db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.section_key == "summary")).data == FULL_ANSWERS["summary"]


def test_foreign_application_is_404_like_a_missing_one(login_as, world):
    application = world.new_application()
    other = login_as("other@demo.test")
    for url in [f"/applications/{application.id}",
                f"/applications/{application.id}/sections/summary",
                "/applications/9999"]:
        assert other.get(url).status_code == 404
    response = other.post(f"/applications/{application.id}/sections/summary",
                          {"summary": "x", "version": "0"})
    assert response.status_code == 404
    assert db.session.scalar(select(SectionAnswer)) is None


def test_second_save_of_same_section_is_refused_with_both_versions(login_as, world):
    application = world.new_application(answers={"summary": {"summary": "Version ett"}})
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/summary"
    assert lead.post(url, {"summary": "Första personens text", "version": "1"}).status_code == 303
    response = lead.post(url, {"summary": "Andra personens text", "version": "1"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Första personens text" in html and "Andra personens text" in html
    assert "sparade det här avsnittet medan du skrev" in html
    assert 'name="version" type="hidden" value="2"' in html
    row = db.session.scalar(select(SectionAnswer))
    assert row.data == {"summary": "Första personens text"} and row.version == 2
    # Saving again from the conflict page (now carrying version 2) goes through.
    assert lead.post(url, {"summary": "Sammanfogad text", "version": "2"}).status_code == 303


def test_different_sections_never_conflict(login_as, world):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    base = f"/applications/{application.id}/sections/"
    assert lead.post(base + "summary", {"summary": "A", "version": "0"}).status_code == 303
    assert lead.post(base + "aims", {"aims": "B", "version": "0"}).status_code == 303
    assert {r.section_key for r in db.session.scalars(select(SectionAnswer))} == {"summary", "aims"}


def test_page_in_english(login_as, world):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    lead.post("/language", {"lang": "en", "next": f"/applications/{application.id}"})
    html = lead.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Draft" in html and "Requested amount" in html and 'lang="en"' in html


def test_autosave_saves_with_the_version_check(login_as, world):
    application = world.new_application()
    lead = login_as("lead@demo.test")
    url = f"/applications/{application.id}/sections/summary"
    headers = {"X-Autosave": "1"}
    response = lead.post(url, {"summary": "Första utkastet", "version": "0"}, headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["saved"] is True and data["version"] == 1
    assert data["message"].startswith("Utkastet sparades kl. ")
    response = lead.post(url, {"summary": "Andra utkastet", "version": "1"}, headers=headers)
    assert response.get_json()["version"] == 2
    stale = lead.post(url, {"summary": "Gammal flik", "version": "1"}, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["conflict"] is True
    invalid = lead.post(url, {"summary": "å" * 301, "version": "2"}, headers=headers)
    assert invalid.status_code == 422 and invalid.get_json()["saved"] is False
    row = db.session.scalar(select(SectionAnswer))
    assert (row.data["summary"], row.version) == ("Andra utkastet", 2)
