"""Search: what it finds an application by, what it never shows to others, how it ranks,
pages and highlights, and that it never fails on what is typed (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event, select

from grants import create_app
from grants.accounts.models import User
from grants.admin.operations import save_funder, save_organisation
from grants.applications.models import Application
from grants.backup import export_database, import_database
from grants.calls.models import Funder
from grants.db import db
from grants.processes import workflows
from grants.search.indexing import rebuild_index
from grants.search.models import SearchDocument
from grants.search.query import PAGE_SIZE, search
from grants.submissions.models import FunderDecision
from tests.conftest import make_settings
from tests.factories import FULL_ANSWERS, add_partner


def reindex() -> None:
    rebuild_index()
    db.session.commit()


def hits(browser, query: str, page: int | None = None) -> tuple[list[str], str]:
    """The titles of the results, and the page."""
    params = {"q": query, **({"page": str(page)} if page else {})}
    response = browser.get("/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    titles = re.findall(r'<li class="search-hit">\s*<h3><a href="[^"]+">([^<]*)</a>', html)
    return titles, html


def postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def project(world):
    """An application of the lead with a partner, text in its sections and a decision."""
    application = world.new_application(
        title="Läslyftet i Kalmarsund",
        answers={**FULL_ANSWERS,
                 "background": {"background": "Bakgrund: Zebrafinkar i biblioteken."}})
    add_partner(world, application, "lnu", "steering2")
    db.session.add(FunderDecision(application_id=application.id, outcome="granted",
                                  granted_amount=100_000, decision_date=date(2027, 3, 1),
                                  funder_reference="KUR 2027/4711"))
    db.session.commit()
    reindex()
    return application


@pytest.mark.parametrize("query", [
    "Kalmarsund",             # the title
    "Zebrafinkar",            # text of a section
    "Workshoppar",            # plain text of a section
    "Linnéuniversitetet",     # a partner organisation
    "Kalmar stadsbibliotek",  # the lead organisation
    "Utvecklingsbidrag",      # the call
    "Kulturrådet",            # the funder
    "2027/4711",              # the funder's reference
])
def test_an_application_is_found_by_what_it_says_and_who_takes_part(login_as, project, query):
    titles, html = hits(login_as("lead@demo.test"), query)
    assert titles == ["Läslyftet i Kalmarsund"], (query, html[-3000:])
    assert "<mark>" in html


def test_found_by_its_id_and_the_snippet_marks_the_words(login_as, project):
    titles, _html = hits(login_as("lead@demo.test"), str(project.id))
    assert "Läslyftet i Kalmarsund" in titles
    _titles, html = hits(login_as("lead@demo.test"), "Zebrafinkar")
    assert "<mark>Zebrafinkar</mark>" in html


def test_formatted_text_choices_and_table_cells_are_searched(login_as, world):
    world.new_application(title="Kompetenslyftet", form="esf_kompetens", answers={
        "summary": {"summary": "Kort.", "area": "inclusion"},
        "target_groups": {"target_group_description": "Unga **långtidsarbetslösa** i Nybro.",
                          "participants": [{"group": "Hamnarbetare", "women": 3, "men": 4}]}})
    reindex()
    lead = login_as("lead@demo.test")
    for query in ("långtidsarbetslösa", "Hamnarbetare", "inkludering", "inclusion"):
        assert hits(lead, query)[0] == ["Kompetenslyftet"], query
    _titles, html = hits(lead, "långtidsarbetslösa")
    assert "**" not in html.split('class="snippet"')[1].split("</p>")[0]


def test_outsiders_get_neither_title_nor_snippet(login_as, world, project):
    """The lead of another application searching for a word only this one holds: nothing of
    it on the page. (Remove the access filter and this fails.)"""
    outsider = login_as("other@demo.test")
    for query in ("Zebrafinkar", "Kalmarsund", "2027/4711"):
        titles, html = hits(outsider, query)
        assert titles == [] and "search-hit" not in html and "<mark>" not in html
        rest = html.replace(query, "")   # the page repeats what was searched for
        for secret in ("Kalmarsund", "Zebrafinkar", "4711", "Bakgrund"):
            assert secret not in rest, (query, secret)
    # Those who take part find it: the partner, the steering group, the coordinator.
    for email in ("steering2@demo.test", "steering1@demo.test", "coordinator@demo.test"):
        assert hits(login_as(email), "Zebrafinkar")[0] == ["Läslyftet i Kalmarsund"], email


def test_a_title_match_ranks_before_a_match_in_the_text(login_as, world):
    world.new_application(title="Ansökan om läsning",
                          answers={"summary": {"summary": "Om kanotpaddling i skärgården."}})
    world.new_application(title="Kanotpaddling för alla")
    reindex()
    titles, _html = hits(login_as("lead@demo.test"), "kanotpaddling")
    assert titles == ["Kanotpaddling för alla", "Ansökan om läsning"]


def test_swedish_words_are_found_in_other_forms(login_as, world):
    """PostgreSQL stems Swedish ("kommunerna" finds "kommun"); both find what begins with the
    last word typed ("bibliotek" finds "biblioteken")."""
    world.new_application(title="Samverkan",
                          answers={"summary": {"summary": "Alla biblioteken i en kommun."}})
    reindex()
    lead = login_as("lead@demo.test")
    assert hits(lead, "bibliotek")[0] == ["Samverkan"]
    assert hits(lead, "bibl")[0] == ["Samverkan"]
    if postgres():
        assert hits(lead, "kommunerna")[0] == ["Samverkan"]
        assert hits(lead, "kommunens bibliotek")[0] == ["Samverkan"]


def test_a_and_a_with_rings_are_different_letters(login_as, world):
    world.new_application(title="Åland och hamnen")
    world.new_application(title="Aland utan ring")
    reindex()
    assert hits(login_as("lead@demo.test"), "Åland")[0] == ["Åland och hamnen"]


def test_results_come_a_page_at_a_time(login_as, world):
    for number in range(PAGE_SIZE + 5):
        world.new_application(title=f"Sagostund {number:02d}")
    reindex()
    lead = login_as("lead@demo.test")
    first, html = hits(lead, "Sagostund")
    assert len(first) == PAGE_SIZE and "25" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    second, html = hits(lead, "Sagostund", page=2)
    assert len(second) == 5 and 'rel="prev"' in html and 'rel="next"' not in html
    assert not set(first) & set(second)
    # A page past the end shows the last one; nonsense shows the first.
    assert hits(lead, "Sagostund", page=99)[0] == second
    assert len(hits(lead, "Sagostund", page=-3)[0]) == PAGE_SIZE


def test_what_users_wrote_is_never_markup(login_as, world):
    world.new_application(title='Trolleri <script>alert("t")</script>',
                          answers={"summary": {"summary": 'Trolleri <img src=x onerror=alert(1)> '
                                                          '<b>fet</b>'}})
    reindex()
    titles, html = hits(login_as("lead@demo.test"), "Trolleri")
    assert len(titles) == 1
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>Trolleri</mark>" in html


@pytest.mark.parametrize("query", ['"', "*", "AND OR (", "-", "OR", '"oavslutad', "a:b",
                                   "NEAR(x y)", "^x", "title:x", "x AND", "((", "'", "\\",
                                   "-Kalmarsund", "Kalmarsund OR", "OR Kalmarsund", "💥",
                                   "x" * 500, "NOT", "Kalmarsund -Zebrafinkar", "-- ;"])
def test_odd_searches_give_results_or_a_message_never_an_error(login_as, project, query):
    titles, html = hits(login_as("lead@demo.test"), query)
    assert 'role="status"' in html
    if query in ("Kalmarsund OR", "OR Kalmarsund"):
        assert titles == ["Läslyftet i Kalmarsund"]
    if query == "Kalmarsund -Zebrafinkar":
        assert titles == []


def test_an_empty_search_asks_for_words(login_as, project):
    lead = login_as("lead@demo.test")
    for query in ("", "   "):
        titles, html = hits(lead, query)
        assert titles == [] and 'id="search-page-q"' in html


def test_project_documents_are_found_with_their_kind(login_as, world, project):
    report = world.new_application(title=project.title, workflow="report",
                                   form="kulturradet_redovisning")
    report.kind, report.parent_id = "progress_report", project.id
    report.kind_label = {"sv": "Lägesrapport", "en": "Progress report"}
    db.session.commit()
    reindex()
    lead = login_as("lead@demo.test")
    titles, html = hits(lead, "2027/4711")   # the grant's reference finds its reports too
    assert titles == [project.title, project.title]
    assert "Lägesrapport" in html or "Progress report" in html


def test_the_index_follows_what_the_users_do(login_as, world):
    lead = login_as("lead@demo.test")
    response = lead.post("/applications/new", {
        "call_id": world.call.id, "organisation_id": world.orgs["kalmar"].id,
        "title": "Poesiverkstad i Nybro", "language": "sv"})
    assert response.status_code == 303
    assert hits(lead, "Poesiverkstad")[0] == ["Poesiverkstad i Nybro"]
    application = db.session.scalar(select(Application))
    response = lead.post(f"/applications/{application.id}/sections/summary",
                         {"summary": "Vi skriver haiku med pensionärer.", "version": "0"})
    assert response.status_code in (200, 303)
    assert hits(lead, "haiku")[0] == ["Poesiverkstad i Nybro"]


def test_reindex_command_rebuilds_everything(app, world, project):
    db.session.execute(SearchDocument.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 application" in result.output
    assert db.session.get(SearchDocument, project.id).title == "Läslyftet i Kalmarsund"


def count_statements(browser, url: str, params: dict) -> int:
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = browser.get(url, query_string=params)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(statements)


def test_the_results_page_costs_the_same_for_3_and_30_matches(login_as, world):
    """Flat: the count and one page, whatever matches (no query per result)."""
    def grow(n: int) -> None:
        for number in range(n):
            application = world.new_application(title=f"Bokcirkel {number}")
            add_partner(world, application, "vaxjo", "other_lead")
        reindex()
    lead = login_as("lead@demo.test")
    grow(3)
    lead.get("/search", query_string={"q": "Bokcirkel"})
    few = count_statements(lead, "/search", {"q": "Bokcirkel"})
    grow(27)
    many = count_statements(lead, "/search", {"q": "Bokcirkel"})
    assert hits(lead, "Bokcirkel")[0].__len__() == PAGE_SIZE
    assert few == many


def test_every_role_the_list_lets_through_may_view_every_state(app):
    """Search filters by `visible_applications_filter` only, as the overview does; that is
    the workflows' rule as long as every state lets every involved role view it. A workflow
    that hides a state from a role must make search (and the overview) apply `may_view`."""
    for workflow in workflows().values():
        for name, state in workflow.states.items():
            assert {"lead", "partner", "steering", "coordinator"} <= set(state.view), \
                (workflow.name, name)


def test_the_index_survives_a_backup_into_another_database(app, project, tmp_path, redis_url):
    """Export (from PostgreSQL when the tests run on it), import into a new SQLite database:
    its search finds what the first one did (the FTS5 table filled as the rows arrived)."""
    export_database(tmp_path / "backup.zip")
    target = create_app(settings=make_settings(tmp_path / "target",
                                               f"sqlite:///{tmp_path / 'target.sqlite3'}",
                                               redis_url))
    with target.app_context():
        db.create_all()
        import_database(tmp_path / "backup.zip")
        lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
        found = search(lead, "Zebrafinkar")
        assert [hit.application.title for hit in found.hits] == ["Läslyftet i Kalmarsund"]
        db.session.remove()
        db.engine.dispose()


def test_a_renamed_organisation_or_funder_is_found_by_its_new_name(login_as, world, project):
    coordinator = world.user("coordinator")
    lnu = world.orgs["lnu"]
    save_organisation(coordinator, db.session.get(type(lnu), lnu.id), {
        "name": "Högskolan i Smålandsstenar", "org_number": lnu.org_number,
        "county": lnu.county, "kind": lnu.kind.value})
    funder = db.session.get(Funder, world.call.funder_id)
    save_funder(coordinator, funder, {
        "name": "Nämnden för läsning", "short_name": "Läsnämnden", "slug": funder.slug,
        "submission_email": funder.submission_email})
    lead = login_as("lead@demo.test")
    assert hits(lead, "Smålandsstenar")[0] == ["Läslyftet i Kalmarsund"]
    assert hits(lead, "Läsnämnden")[0] == ["Läslyftet i Kalmarsund"]
    assert hits(lead, "Linnéuniversitetet")[0] == []
