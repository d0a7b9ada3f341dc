"""Every version kept, compared word by word, and restored as one recorded action."""

import re

import pytest
from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer
from grants.audit import AuditEvent
from grants.collaboration.models import ContentRevision
from grants.db import db
from grants.demo import DEMO_APPLICATION_TITLE
from tests.features.budget.test_budget import add_line
from tests.features.forms.test_form_fields import post_section
from tests.features.partners.test_partners import add_partner


@pytest.fixture
def kr_app(world):
    world.call.form_name = "kulturradet_utveckling"
    world.call.max_chars_per_field = None
    db.session.commit()
    return world.new_application(form="kulturradet_utveckling", title="Läsfrämjande för alla")


def revisions(application, target):
    db.session.expire_all()
    return list(db.session.scalars(select(ContentRevision).where(
        ContentRevision.application_id == application.id, ContentRevision.target == target)
        .order_by(ContentRevision.number)))


def version_of(application, key):
    db.session.expire_all()
    return db.session.scalar(select(SectionAnswer.version).where(
        SectionAnswer.application_id == application.id, SectionAnswer.section_key == key))


def compared(page: str) -> str:
    """The comparison card of a versions page."""
    return re.search(r'<section class="card" aria-labelledby="compare-title">([\s\S]*?)</section>',
                     page).group(1)


def test_each_save_keeps_a_version_and_every_kind_of_field_is_compared(login_as, kr_app):
    lead = login_as("lead@demo.test")
    assert post_section(lead, kr_app, "summary", {
        "short_name": "Läslust", "summary": "Vi når äldre på Öland.",
        "start_date": "2027-08-15", "end_date": "2029-06-30"}).status_code == 303
    assert post_section(lead, kr_app, "summary", {
        "short_name": "Läslust", "summary": "Vi når unga och äldre i Kalmar.",
        "start_date": "2027-09-01", "end_date": "2029-06-30"}, version="1").status_code == 303
    kept = revisions(kr_app, "summary")
    assert [r.number for r in kept] == [1, 2]
    assert kept[0].data["summary"] == "Vi når äldre på Öland." and kept[1].saved_by.name == \
        "Lena Lindqvist"

    page = lead.get(f"/applications/{kr_app.id}/versions/summary").get_data(as_text=True)
    card = compared(page)
    assert "Version 1 jämförd med version 2" in card
    # Inserted and deleted words are marked in the markup, with words for screen readers.
    assert '<ins><span class="visually-hidden">[infogat:] </span>unga och ' in card
    assert '<del><span class="visually-hidden">[borttaget:] </span>på Öland' in card
    assert "15 augusti 2027" in card and "1 september 2027" in card   # a date: before → after
    assert "Läslust" not in card                                    # unchanged fields left out

    # Rich text, choices, tables and money.
    post_section(lead, kr_app, "cultural_aims", {"cultural_aims": "Läsning som **konst**.",
                                                 "priorities": ["literacy"]})
    post_section(lead, kr_app, "cultural_aims", {
        "cultural_aims": "Läsning som **konst** och *gemenskap*.",
        "priorities": ["literacy", "digital_inclusion"]}, version="1")
    card = compared(lead.get(f"/applications/{kr_app.id}/versions/cultural_aims")
                    .get_data(as_text=True))
    assert "</span> och *gemenskap*<span" in card
    post_section(lead, kr_app, "financing", {
        "requested_amount": "450000", "has_other_financing": "yes",
        "other_financing-0-financier": "Region Kalmar län",
        "other_financing-0-amount": "120000", "other_financing-0-status": "applied"})
    post_section(lead, kr_app, "financing", {
        "requested_amount": "450000", "has_other_financing": "yes",
        "other_financing-0-financier": "Region Kalmar län",
        "other_financing-0-amount": "150000", "other_financing-0-status": "granted",
        "other_financing-1-financier": "Kalmar kommun", "other_financing-1-amount": "5000",
        "other_financing-1-status": "applied"}, version="1")
    card = compared(lead.get(f"/applications/{kr_app.id}/versions/financing")
                    .get_data(as_text=True))
    assert '<tr class="diff-row-changed">' in card and '<tr class="diff-row-added">' in card
    assert "120\u00a0000" in card and "150\u00a0000" in card
    assert "Beviljad" in card and "Kalmar kommun" in card
    # A comparison of any two versions, chosen on the page.
    page = lead.get(f"/applications/{kr_app.id}/versions/summary?a=2&b=2").get_data(
        as_text=True)
    assert "De två versionerna säger samma sak." in page


def test_restoring_an_earlier_version_is_one_recorded_save(login_as, kr_app, world):
    lead = login_as("lead@demo.test")
    post_section(lead, kr_app, "background", {"background": "Första texten."})
    post_section(lead, kr_app, "background", {"background": "Andra texten."}, version="1")
    url = f"/applications/{kr_app.id}/versions/background/1/restore"
    # A save by someone else since the page was opened: nothing is restored.
    html = lead.post(url, {"version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Inget återställdes: Lena Lindqvist sparade avsnittet" in html
    assert version_of(kr_app, "background") == 2
    html = lead.post(url, {"version": "2"}, follow_redirects=True).get_data(as_text=True)
    assert "Version 1 av ”Bakgrund och behov” är den aktuella versionen igen (sparad som version 3)." \
        in html
    kept = revisions(kr_app, "background")
    assert [(r.number, r.restored_from) for r in kept] == [(1, None), (2, None), (3, 1)]
    assert kept[2].data == {"background": "Första texten."}
    assert db.session.scalar(select(SectionAnswer.data).where(
        SectionAnswer.application_id == kr_app.id,
        SectionAnswer.section_key == "background")) == {"background": "Första texten."}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "section.restore"))
    assert event.after["restored"] == 1 and event.actor_id == world.users["lead"].id
    # Restoring what the section already says is refused, saying why.
    html = lead.post(url, {"version": "3"}, follow_redirects=True).get_data(as_text=True)
    assert "version 1 säger samma sak som den aktuella versionen" in html
    assert version_of(kr_app, "background") == 3
    # Someone who may not edit the section sees the versions but cannot restore.
    steering = login_as("steering1@demo.test")
    page = steering.get(f"/applications/{kr_app.id}/versions/background").get_data(
        as_text=True)
    assert "Återställ version" not in page
    html = steering.post(url, {"version": "3"}, follow_redirects=True).get_data(as_text=True)
    assert "Du kan inte ändra ”Bakgrund och behov”" in html and version_of(kr_app, "background") == 3


def test_budget_and_partner_list_keep_their_versions(login_as, kr_app, world):
    lead = login_as("lead@demo.test")
    add_line(lead, kr_app, world.orgs["kalmar"].id, "personnel", "100000",
             description="Projektledare")
    add_line(lead, kr_app, world.orgs["kalmar"].id, "travel", "5000", description="Resor")
    assert [len(r.data["lines"]) for r in revisions(kr_app, "budget")] == [1, 2]
    page = lead.get(f"/applications/{kr_app.id}/versions/budget").get_data(as_text=True)
    card = compared(page)
    assert "Tillagd: Kalmar stadsbibliotek · Resor" in card and "Projektledare" not in card
    add_partner(lead, kr_app, world.orgs["vaxjo"].id, "other@demo.test", "Olle Öberg")
    [first] = revisions(kr_app, "partners")
    assert first.data["partners"][0]["name"] == "Växjö stadsbibliotek"
    page = lead.get(f"/applications/{kr_app.id}/versions/partners").get_data(as_text=True)
    assert "Tillagd: Växjö stadsbibliotek · Olle Öberg &lt;other@demo.test&gt;" in page


def test_versions_of_what_does_not_exist_are_not_found(login_as, kr_app):
    lead = login_as("lead@demo.test")
    for target in ("nonsense", "partner_part", "summary@99999", "summary@x"):
        assert lead.get(f"/applications/{kr_app.id}/versions/{target}").status_code == 404
    assert lead.post(f"/applications/{kr_app.id}/versions/summary/7/restore",
                     {"version": "0"}).status_code == 404


def test_the_demo_starts_its_documents_at_version_1_once(app):
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    demo = db.session.scalar(select(Application).where(
        Application.title == DEMO_APPLICATION_TITLE))
    targets = {r.target: r.number for r in db.session.scalars(select(ContentRevision).where(
        ContentRevision.application_id == demo.id))}
    assert {"summary", "budget", "partners"} <= set(targets) and set(targets.values()) == {1}
    count = db.session.scalar(select(func.count(ContentRevision.id)))
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    assert db.session.scalar(select(func.count(ContentRevision.id))) == count
