"""The application's history and the audit log name people, organisations, sections and fields
by their names: never "Cost added – 31"."""

import csv
import io
import re

from sqlalchemy import select

from grants.applications.audit_text import describe_event
from grants.audit import AuditEvent, audit
from grants.budget.models import BudgetLine
from grants.db import db
from tests.factories import add_partner


def _application_with_partner(world):
    application = world.new_application(form="kulturradet_utveckling")
    return application, add_partner(world, application)


def _other_changes(page: str) -> str:
    return page[page.index("<h3>Andra ändringar</h3>"):]


def test_history_names_organisations_sections_and_fields(login_as, world):
    application, partner = _application_with_partner(world)
    kalmar, vaxjo = world.orgs["kalmar"], world.orgs["vaxjo"]
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/budget/lines", {
        "line-organisation_id": kalmar.id, "line-category": "personnel", "line-year": 2027,
        "line-description": "Projektledning", "line-amount": "120 000"}).status_code == 303
    assert lead.post(f"/applications/{application.id}/budget/cofinancing", {
        "cofin-organisation_id": vaxjo.id, "cofin-kind": "in_kind", "cofin-source": "public",
        "cofin-year": 2027, "cofin-description": "Arbetstid 20 %",
        "cofin-amount": "40 000"}).status_code == 303
    line_id = db.session.scalar(select(BudgetLine.id))
    assert lead.post(f"/applications/{application.id}/budget/lines/{line_id}/delete",
                     {}).status_code == 303
    other = login_as("other@demo.test")
    assert other.post(f"/applications/{application.id}/partners/{partner.id}/sections/"
                      "partner_part", {"partner_role": "Vi håller i läsecirklarna.",
                                       "version": "0"}).status_code == 303

    page = _other_changes(lead.get(f"/applications/{application.id}/history").get_data(as_text=True))
    assert "Kostnad tillagd</strong> – Kalmar stadsbibliotek" in page
    assert "Kostnad borttagen</strong> – Kalmar stadsbibliotek" in page
    assert "Medfinansiering tillagd</strong> – Växjö stadsbibliotek" in page
    # The cost line reads by what it is for, its category and amount; the section by its title
    # and whose part it is, the field by its label.
    assert "Projektledning" in page and "Personal" in page and "120\u00a0000 kr" in page
    assert "Annat än pengar" in page and "Arbetstid 20 %" in page
    assert "Avsnitt ändrat</strong> – Samverkanspartens del – Växjö stadsbibliotek" in page
    assert "Samverkanspartens roll i projektet" in page
    assert "Vi håller i läsecirklarna." in page
    # No id where a name belongs: not the organisations', not the partner's, not the rows'.
    for number in {kalmar.id, vaxjo.id, partner.id, line_id}:
        assert not re.search(rf"(– |<dd>|→ ){number}\b", page), number
    assert "partner_role" not in page and "partner_part" not in page


def test_the_english_history_reads_in_english(login_as, world):
    application, _partner = _application_with_partner(world)
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/budget/cofinancing", {
        "cofin-organisation_id": world.orgs["vaxjo"].id, "cofin-kind": "cash",
        "cofin-source": "public", "cofin-year": 2027, "cofin-description": "Pengar",
        "cofin-amount": "10 000"})
    lead.post("/language", {"lang": "en"})
    page = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert "Co-financing added</strong> – Växjö stadsbibliotek" in page


def test_rows_of_the_old_kind_and_of_organisations_that_are_gone_read_sensibly(app, world):
    application = world.new_application()
    with app.test_request_context():
        # A row of before names were stored: the id is resolved to the name.
        old = audit("budget.add", actor=world.users["lead"], object_type="application",
                    object_id=application.id,
                    after={"line": 5, "category": "travel", "year": 2027, "amount": 1000,
                           "organisation": world.orgs["kalmar"].id})
        gone_named = audit("budget_line.delete", actor=world.users["lead"],
                           object_type="application", object_id=application.id,
                           after={"id": 6, "amount": 10, "organisation": 987654,
                                  "organisation_name": "Nybro bibliotek"})
        gone = audit("cofinancing.delete", actor=world.users["lead"],
                     object_type="application", object_id=application.id,
                     after={"id": 7, "amount": 10, "organisation": 987655})
        db.session.commit()
        assert describe_event(old).summary == "Kostnad tillagd – Kalmar stadsbibliotek"
        assert describe_event(old).object_name == f"Ansökan ”{application.title}”"
        assert describe_event(gone_named).subject == "Nybro bibliotek"
        assert describe_event(gone).subject == "organisation 987655 (inte längre registrerad)"
        labels = [c.label for c in describe_event(old).changes]
        assert labels == ["Kostnadsslag", "År", "Belopp"]
        assert "Resor" in [c.after for c in describe_event(old).changes]


def test_audit_log_page_and_csv_name_people_and_organisations(login_as, world):
    coordinator = login_as("coordinator@demo.test")
    assert coordinator.post(f"/admin/users/{world.users['steering2'].id}", {
        "organisation_ids": [world.orgs["lnu"].id, world.orgs["vaxjo"].id],
        "is_active_account": "y"}).status_code == 303
    page = coordinator.get("/admin/audit").get_data(as_text=True)
    assert "Användare ändrad" in page and "Omar Haddad" in page
    assert "Linnéuniversitetet, Växjö stadsbibliotek" in page
    assert "user.update" not in page
    rows = list(csv.DictReader(io.StringIO(
        coordinator.get("/admin/audit?format=csv").get_data(as_text=True))))
    row = next(r for r in rows if r["action"] == "user.update")
    assert row["what"] == "Användare ändrad" and row["object_name"] == "Omar Haddad"
    assert row["actor"] == "coordinator@demo.test" and row["actor_name"] == "Cecilia Holm"
    assert "Linnéuniversitetet, Växjö stadsbibliotek" in row["changes"]
    # The row as stored stays machine-readable: ids in their own columns, JSON as it was.
    event = db.session.get(AuditEvent, int(row["id"]))
    assert row["object_id"] == str(world.users["steering2"].id)
    assert f"{world.orgs['vaxjo'].id}" in row["after"]
    assert event.after["organisations"] == sorted([world.orgs["lnu"].id, world.orgs["vaxjo"].id])
