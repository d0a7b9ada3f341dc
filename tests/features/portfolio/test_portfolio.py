"""The portfolio page and its CSV export: exact figures for a known data set, who sees what,
filters, keyset pagination, a constant number of SQL statements, and the charts."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, insert, literal, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.db import db, utcnow
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.portfolio import charts
from grants.portfolio.queries import stockholm_year, year_bounds
from grants.processes import get_workflow
from grants.steering.models import SteeringGroup, SteeringMember
from grants.submissions.models import FunderDecision, Submission
from tests.factories import make_user


# --- reading the page ----------------------------------------------------------------------
class _Tables(HTMLParser):
    """Every <table id=...> as rows of cell texts (whitespace, incl. no-break, collapsed)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def body(table: list[list[str]]) -> list[list[str]]:
    """The rows without the header row."""
    return table[1:]


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would misread åäö"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def local(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


# --- the data set --------------------------------------------------------------------------
def add_application(call: Call, org: Organisation, lead: User, state: str, *,
                    title: str, requested: int | None = None, decision: str | None = None,
                    granted: int | None = None, withdrawn_requested: int | None = None,
                    workflow: str = "joint_application") -> Application:
    """An application with, optionally, a withdrawn and a current submission and a decision."""
    definition = get_workflow(workflow)
    application = Application(call_id=call.id, lead_organisation_id=org.id, lead_user_id=lead.id,
                              title=title, language="sv", workflow_name=workflow,
                              workflow_version=definition.version, form_name="standard",
                              state=state)
    db.session.add(application)
    db.session.flush()
    number = 0
    if withdrawn_requested is not None:
        number += 1
        db.session.add(Submission(application_id=application.id, number=number,
                                  status="withdrawn", snapshot={}, sha256="0" * 64,
                                  requested_amount=withdrawn_requested))
    submission = None
    if requested is not None:
        number += 1
        submission = Submission(application_id=application.id, number=number, status="current",
                                snapshot={}, sha256="1" * 64, requested_amount=requested)
        db.session.add(submission)
        db.session.flush()
    if decision is not None:
        db.session.add(FunderDecision(application_id=application.id,
                                      submission_id=submission.id if submission else None,
                                      outcome=decision, granted_amount=granted,
                                      decision_date=date(2026, 6, 1)))
    return application


@pytest.fixture
def english(world):
    """Every user reads the page in English: the tests read the msgids, whatever the
    catalogue says."""
    for user in db.session.scalars(select(User)):
        user.locale = "en"
    db.session.commit()
    return world


@pytest.fixture
def portfolio(english):
    """Three funders, three counties, three years (one deadline at 00:30 on 1 January, Swedish
    time, which is still 31 December in UTC), two steering groups, eleven applications.

      app  funder        year county     state      requested        decision
      a1   Kulturrådet   2026 Kalmar     granted    400 000          granted 300 000
      a2   Kulturrådet   2026 Kronoberg  rejected   200 000          rejected
      a3   Kulturrådet   2026 Blekinge   submitted  150 000 (an earlier, withdrawn 999 999)
      a4   Kulturrådet   2026 Kalmar     draft      – (only a withdrawn 777 777)
      a5   Kulturrådet   2027 Kronoberg  submitted  100 000
      a6   Kulturrådet   2027 Blekinge   draft      –
      a7   ESF-rådet     2026 Kalmar     rejected   500 000          rejected
      a8   ESF-rådet     2026 Kronoberg  submitted  250 000
      a9   Region Kalmar 2025 Blekinge   granted     50 000          granted 40 000
      a10  Region Kalmar 2025 Kalmar     withdrawn  –
      a11  Region Kalmar 2025 Kronoberg  stopped (two-stage workflow)

    a1–a8 are calls of BISS (steering1, steering2); a9–a11 of another group (outsider@demo.test).
    """
    world = english
    kulturradet = db.session.scalar(select(Funder).where(Funder.slug == "kulturradet"))
    esf = Funder(name="Svenska ESF-rådet", short_name="ESF-rådet", slug="esf")
    region = Funder(name="Region Kalmar län", short_name="Region Kalmar", slug="region-kalmar")
    other_group = SteeringGroup(name="Regionala kulturgruppen")
    blekinge = Organisation(name="Karlskrona stadsbibliotek", county="Blekinge län",
                            kind=OrganisationKind.public_library,
                            org_number=make_fictional(777), is_fictional=True)
    db.session.add_all([esf, region, other_group, blekinge])
    db.session.flush()
    outsider = make_user("outsider@demo.test", "Ulla Utanför", blekinge)
    db.session.flush()
    outsider.locale = "en"
    db.session.add(SteeringMember(group_id=other_group.id, user_id=outsider.id))

    def call(funder, title, deadline, group):
        row = Call(funder_id=funder.id, title=title, opens_at=deadline.replace(year=2020),
                   deadline_at=deadline, workflow_name="joint_application",
                   form_name="standard", steering_group_id=group.id)
        db.session.add(row)
        db.session.flush()
        return row

    c1 = call(kulturradet, "Läsfrämjande 2026", local(2026, 3, 15), world.group)
    c2 = call(kulturradet, "Läsfrämjande 2027", local(2027, 1, 1, 0, 30), world.group)
    c3 = call(esf, "Kompetens i sydost", local(2026, 10, 1, 23, 59), world.group)
    c4 = call(region, "Småbidrag 2025", local(2025, 11, 30), other_group)
    kalmar, vaxjo = world.orgs["kalmar"], world.orgs["vaxjo"]
    lead = world.users["lead"]
    apps = {
        "a1": add_application(c1, kalmar, lead, "granted", title="Läslyftet", requested=400_000,
                              decision="granted", granted=300_000),
        "a2": add_application(c1, vaxjo, lead, "rejected", title="Bokbussen",
                              requested=200_000, decision="rejected"),
        "a3": add_application(c1, blekinge, lead, "submitted", title="Sagostund på skärgården",
                              requested=150_000, withdrawn_requested=999_999),
        "a4": add_application(c1, kalmar, lead, "draft", title="Utkast i Kalmar",
                              withdrawn_requested=777_777),
        "a5": add_application(c2, vaxjo, lead, "submitted", title="Nyårsansökan",
                              requested=100_000),
        "a6": add_application(c2, blekinge, lead, "draft", title="Utkast i Blekinge"),
        "a7": add_application(c3, kalmar, lead, "rejected", title="Digitalt lyft",
                              requested=500_000, decision="rejected"),
        "a8": add_application(c3, vaxjo, lead, "submitted", title="=HYPERLINK(\"x\")",
                              requested=250_000),
        "a9": add_application(c4, blekinge, lead, "granted", title="Öppet hus",
                              requested=50_000, decision="granted", granted=40_000),
        "a10": add_application(c4, kalmar, lead, "withdrawn", title="Återtagen idé"),
        "a11": add_application(c4, vaxjo, lead, "stopped", title="Skiss som stoppades",
                               workflow="two_stage"),
    }
    db.session.commit()
    return {"apps": {key: app.id for key, app in apps.items()},
            "funders": {"kulturradet": kulturradet.id, "esf": esf.id, "region": region.id}}


ALL_BY_STATE = [["Draft", "2"], ["Submitted to the funder", "3"], ["Granted", "2"],
                ["Rejected", "2"], ["Withdrawn", "1"], ["Stopped at concept stage", "1"]]


# --- the figures ---------------------------------------------------------------------------
def test_coordinator_sees_exact_figures_for_every_application(portfolio, login_as):
    response = login_as("coordinator@demo.test").get("/portfolio")
    assert response.status_code == 200
    t = tables(response.get_data(as_text=True))

    assert t["summary-table"][:4] == [["Applications", "11"], ["Requested", "SEK 1,650,000"],
                                      ["Granted", "SEK 340,000"], ["Success rate", "50%"]]
    # a1 and a9 are granted projects (no documents: their calls name no reporting plan).
    assert t["summary-table"][4:] == [
        ["Granted projects", "2"], ["Claimed", "SEK 0"], ["Paid out", "SEK 0"],
        ["Spent", "SEK 0"], ["Reports due", "0"], ["Reports overdue", "0"],
        ["Reports accepted", "0"]]
    assert body(t["state-table"]) == ALL_BY_STATE + [["Total", "11"]]
    assert body(t["funder-table"]) == [["ESF-rådet", "2"], ["Kulturrådet", "6"],
                                       ["Region Kalmar", "3"], ["Total", "11"]]
    assert body(t["county-table"]) == [["Blekinge län", "3"], ["Kalmar län", "4"],
                                       ["Kronobergs län", "4"], ["Total", "11"]]
    # a5 and a6: deadline 00:30 on 1 January 2027 in Sweden (23:30 UTC on 31 December).
    assert body(t["year-table"]) == [["2025", "3"], ["2026", "6"], ["2027", "2"],
                                     ["Total", "11"]]
    assert t["amounts-table"] == [
        ["Funder", "Year", "Applications", "Requested", "Granted"],
        ["ESF-rådet", "2026", "2", "SEK 750,000", "SEK 0"],
        ["Kulturrådet", "2026", "4", "SEK 750,000", "SEK 300,000"],
        ["Kulturrådet", "2027", "2", "SEK 100,000", "SEK 0"],
        ["Region Kalmar", "2025", "3", "SEK 50,000", "SEK 40,000"],
        ["Total", "", "11", "SEK 1,650,000", "SEK 340,000"]]
    assert t["success-table"] == [
        ["Funder", "Year", "Granted decisions", "Rejected decisions", "Success rate"],
        ["ESF-rådet", "2026", "0", "1", "0%"],
        ["Kulturrådet", "2026", "1", "1", "50%"],
        ["Kulturrådet", "2027", "0", "0", "–"],
        ["Region Kalmar", "2025", "1", "0", "100%"],
        ["Total", "", "2", "2", "50%"]]
    listed = [int(row[0]) for row in body(t["applications-table"])]
    assert listed == sorted(portfolio["apps"].values(), reverse=True)


def test_swedish_page_formats_money_and_percent_the_swedish_way(portfolio, login_as):
    db.session.get(User, db.session.scalar(select(User.id).where(
        User.email == "coordinator@demo.test"))).locale = "sv"
    db.session.commit()
    t = tables(login_as("coordinator@demo.test").get("/portfolio").get_data(as_text=True))
    assert t["summary-table"][1][1] == "1 650 000 kr"
    assert t["summary-table"][3][1] == "50 %"
    # State labels come from the workflow files, in Swedish.
    assert body(t["state-table"])[0] == ["Utkast", "2"]


def test_charts_show_the_numbers_of_their_tables(portfolio, login_as):
    html = login_as("coordinator@demo.test").get("/portfolio").get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 7   # six figures of the applications, one of the projects' money
    for svg in svgs:
        assert 'role="img"' in svg
        labelledby = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        for element_id in labelledby:
            assert f'id="{element_id}"' in svg
        assert "<title " in svg and "<desc " in svg
        assert "<script" not in svg and "style=" not in svg
    state_svg = next(s for s in svgs if 'id="chart-state"' in s)
    # One bar per state, its number printed, and the same numbers in the description.
    assert state_svg.count('fill="#1f4e8c"') == len(ALL_BY_STATE)
    desc = re.search(r"<desc [^>]*>(.*?)</desc>", state_svg, re.S).group(1)
    for label, count in ALL_BY_STATE:
        assert f"{label}: {count}." in desc
        assert f">{count}</text>" in state_svg
    amounts_svg = next(s for s in svgs if 'id="chart-amounts"' in s)
    assert "Requested: SEK 750,000" in amounts_svg and "Granted: SEK 300,000" in amounts_svg
    success_svg = next(s for s in svgs if 'id="chart-success"' in s)
    assert "50% (1 of 2)" in success_svg and ">–</text>" in success_svg


def test_chart_escapes_labels_and_uses_colours_with_enough_contrast():
    svg = charts.bar_chart("c", "T <&>", "S", [charts.ChartRow("<script>x</script>", (
        charts.Bar(3, "3"),))], [charts.Series("A", charts.BLUE)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "T &lt;&amp;&gt;" in svg
    for colour in (charts.BLUE, charts.ORANGE, charts.GREEN, charts.PURPLE, charts.INK):
        assert charts.contrast_ratio(colour) >= 4.5, colour
    long = charts.bar_chart("c", "T", "S", [charts.ChartRow("x" * 80, (charts.Bar(1, "1"),))],
                            [charts.Series("A", charts.BLUE)])
    assert "x" * 29 + "…" in long and "<title>" + "x" * 80 + "</title>" in long


# --- who sees what -------------------------------------------------------------------------
def test_lead_only_user_gets_404_and_no_menu_link(portfolio, login_as):
    lead = login_as("lead@demo.test")
    assert lead.get("/portfolio").status_code == 404
    assert lead.get("/portfolio.csv").status_code == 404
    assert 'href="/portfolio"' not in lead.get("/").get_data(as_text=True)


def test_menu_shows_portfolio_to_coordinators_and_steering_members(portfolio, login_as):
    for email in ("coordinator@demo.test", "steering1@demo.test", "outsider@demo.test"):
        assert 'href="/portfolio"' in login_as(email).get("/").get_data(as_text=True), email


def test_steering_member_sees_only_their_groups_calls(portfolio, login_as):
    member = login_as("steering1@demo.test")
    html = member.get("/portfolio").get_data(as_text=True)
    t = tables(html)
    assert t["summary-table"][0] == ["Applications", "8"]
    assert body(t["funder-table"]) == [["ESF-rådet", "2"], ["Kulturrådet", "6"],
                                       ["Total", "8"]]
    assert "Region Kalmar" not in html  # not even among the filter's choices
    listed = {int(row[0]) for row in body(t["applications-table"])}
    assert listed == {portfolio["apps"][f"a{n}"] for n in range(1, 9)}
    rows = read_csv(member.get("/portfolio.csv"))
    assert {int(row[0]) for row in rows[1:]} == listed
    # A funder outside their calls is not a choice: a message, not their figures.
    region = member.get(f"/portfolio?funder={portfolio['funders']['region']}")
    assert region.status_code == 400
    assert tables(region.get_data(as_text=True))["summary-table"][0] == ["Applications", "8"]

    outsider = tables(login_as("outsider@demo.test").get("/portfolio").get_data(as_text=True))
    assert body(outsider["funder-table"]) == [["Region Kalmar", "3"], ["Total", "3"]]
    assert {int(r[0]) for r in body(outsider["applications-table"])} == {
        portfolio["apps"][key] for key in ("a9", "a10", "a11")}


# --- filters -------------------------------------------------------------------------------
def test_filters_narrow_every_figure(portfolio, login_as):
    coordinator = login_as("coordinator@demo.test")
    funders = portfolio["funders"]

    def summary(query):
        response = coordinator.get("/portfolio?" + query)
        assert response.status_code == 200, query
        return tables(response.get_data(as_text=True))

    t = summary(f"funder={funders['esf']}")
    assert t["summary-table"] == [["Applications", "2"], ["Requested", "SEK 750,000"],
                                  ["Granted", "SEK 0"], ["Success rate", "0%"]]
    t = summary("county=Blekinge+l%C3%A4n")
    assert body(t["county-table"]) == [["Blekinge län", "3"], ["Total", "3"]]
    assert body(t["amounts-table"])[-1] == ["Total", "", "3", "SEK 200,000", "SEK 40,000"]
    t = summary("year=2027")
    assert body(t["year-table"]) == [["2027", "2"], ["Total", "2"]]
    assert {int(r[0]) for r in body(t["applications-table"])} == {
        portfolio["apps"]["a5"], portfolio["apps"]["a6"]}
    t = summary("state=granted")
    assert body(t["state-table"]) == [["Granted", "2"], ["Total", "2"]]
    assert t["summary-table"][2:5] == [["Granted", "SEK 340,000"], ["Success rate", "100%"],
                                       ["Granted projects", "2"]]
    t = summary(f"funder={funders['kulturradet']}&county=Kronobergs+l%C3%A4n&year=2026")
    assert [r[0] for r in body(t["applications-table"])] == [str(portfolio["apps"]["a2"])]
    # Empty values (the "All …" choices) filter nothing.
    t = summary("funder=&county=&year=&state=")
    assert t["summary-table"][0] == ["Applications", "11"]
    # Nothing left: the page says so.
    html = coordinator.get(f"/portfolio?funder={funders['region']}&year=2026").get_data(
        as_text=True)
    assert "No applications match the filters." in html and "chart-state" not in html

    rows = read_csv(coordinator.get(f"/portfolio.csv?funder={funders['esf']}"))
    assert {int(row[0]) for row in rows[1:]} == {portfolio["apps"]["a7"],
                                                 portfolio["apps"]["a8"]}


@pytest.mark.parametrize("query, field, message", [
    ("funder=abc", "funder", "Choose a funder from the list."),
    ("funder=999999", "funder", "Choose a funder from the list."),
    ("county=Norrbottens+l%C3%A4n", "county", "Choose a county from the list."),
    ("year=1999", "year", "Choose a year from the list."),
    ("year=20x6", "year", "Choose a year from the list."),
    ("state=%3Cscript%3E", "state", "Choose a state from the list."),
])
def test_invalid_filter_shows_a_message_beside_it(portfolio, login_as, query, field, message):
    coordinator = login_as("coordinator@demo.test")
    response = coordinator.get("/portfolio?" + query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    beside = re.search(rf'<div id="{field}-error">\s*<p class="error-message">(.*?)</p>', html,
                       re.S)
    assert beside and message in beside.group(1)
    assert 'aria-invalid="true"' in html and "<script>" not in html.split("<main")[1]
    # The invalid filter is left out: the figures are those of everything.
    assert tables(html)["summary-table"][0] == ["Applications", "11"]
    csv_response = coordinator.get("/portfolio.csv?" + query)
    assert csv_response.status_code == 400 and message in csv_response.get_data(as_text=True)


def test_unreadable_page_key_starts_at_the_first_page(portfolio, login_as):
    response = login_as("coordinator@demo.test").get("/portfolio?after=abc")
    assert response.status_code == 200
    assert len(body(tables(response.get_data(as_text=True))["applications-table"])) == 11


# --- CSV -----------------------------------------------------------------------------------
def test_csv_has_one_row_per_application_with_bom_and_semicolons(portfolio, login_as):
    response = login_as("coordinator@demo.test").get("/portfolio.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="portfolio-')
    rows = read_csv(response)
    assert rows[0] == ["ID", "Title", "Funder", "Call", "Year", "County", "Lead organisation",
                       "State", "Requested (SEK)", "Granted (SEK)", "Decision", "Claimed (SEK)",
                       "Paid out (SEK)", "Spent (SEK)", "Reports due", "Reports overdue",
                       "Reports accepted"]
    assert len(rows) == 12
    by_id = {int(row[0]): row for row in rows[1:]}
    apps = portfolio["apps"]
    assert by_id[apps["a1"]][1:] == ["Läslyftet", "Kulturrådet", "Läsfrämjande 2026", "2026",
                                     "Kalmar län", "Kalmar stadsbibliotek", "Granted", "400000",
                                     "300000", "Granted", "0", "0", "0", "0", "0", "0"]
    # Not a project: no money and no documents, empty (not 0).
    assert by_id[apps["a2"]][7:] == ["Rejected", "200000", "", "Rejected", "", "", "", "", "",
                                     ""]
    # The withdrawn submission's amount does not count; the current one does.
    assert by_id[apps["a3"]][5:11] == ["Blekinge län", "Karlskrona stadsbibliotek",
                                       "Submitted to the funder", "150000", "", ""]
    assert by_id[apps["a4"]][7:11] == ["Draft", "", "", ""]
    assert by_id[apps["a5"]][4] == "2027"
    assert by_id[apps["a11"]][7] == "Stopped at concept stage"
    # Text a spreadsheet would run as a formula is neutralised.
    assert by_id[apps["a8"]][1] == "'=HYPERLINK(\"x\")"
    assert sum(int(row[8] or 0) for row in rows[1:]) == 1_650_000
    assert sum(int(row[9] or 0) for row in rows[1:]) == 340_000


# --- pagination and performance ------------------------------------------------------------
def bulk_applications(world, count: int, *, with_money: bool = True) -> list[int]:
    """`count` applications inserted in one statement (plus their submissions and
    decisions): every third submitted, every sixth granted 1 000, every ninth rejected."""
    definition = get_workflow("joint_application")
    now = utcnow()
    ids = list(db.session.scalars(insert(Application).returning(
        Application.id, sort_by_parameter_order=True), [
        {"call_id": world.call.id,
         "lead_organisation_id": world.orgs["kalmar" if n % 2 else "vaxjo"].id,
         "lead_user_id": world.users["lead"].id, "title": f"Ansökan {n}", "language": "sv",
         "workflow_name": "joint_application", "workflow_version": definition.version,
         "form_name": "standard", "state": "submitted" if n % 3 == 0 else "draft",
         "state_version": 1, "created_at": now, "updated_at": now} for n in range(count)]))
    if with_money:
        db.session.execute(insert(Submission), [
            {"application_id": ids[n], "number": 1, "status": "current", "snapshot": {},
             "sha256": "2" * 64, "requested_amount": 2_000, "submitted_at": now,
             "withdrawn_reason": ""} for n in range(0, count, 3)])
        db.session.execute(insert(FunderDecision), [
            {"application_id": ids[n], "outcome": "granted" if n % 6 == 0 else "rejected",
             "granted_amount": 1_000 if n % 6 == 0 else None, "decision_date": date(2026, 6, 1),
             "funder_reference": "", "recorded_at": now}
            for n in range(0, count, 3) if n % 6 == 0 or n % 9 == 0])
    db.session.commit()
    return ids


def test_keyset_pages_are_disjoint_and_cover_everything(english, login_as):
    ids = bulk_applications(english, 120, with_money=False)
    coordinator = login_as("coordinator@demo.test")
    url, pages = "/portfolio", []
    while url:
        from tests.system.test_sql_counts import count_statements  # noqa: PLC0415
        _count, statements = count_statements(coordinator, url)
        listing = [s for s in statements if "ORDER BY application.id DESC" in s]
        assert len(listing) == 1
        # Keyset: a later page starts below the last id shown (SQLite prints "OFFSET ?" with
        # every LIMIT; it is the WHERE that shows no rows are skipped by counting).
        assert ("application.id <" in listing[0]) == bool(pages), listing[0]
        html = coordinator.get(url).get_data(as_text=True)
        pages.append([int(row[0]) for row in body(tables(html)["applications-table"])])
        link = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = link.group(1).replace("&amp;", "&") if link else None
        assert len(pages) <= 3
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) and set(seen) == set(ids)
    assert seen == sorted(seen, reverse=True)
    # With a filter the next-page link keeps it.
    html = coordinator.get("/portfolio?state=submitted").get_data(as_text=True)
    link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert link is None  # 40 submitted: one page
    html = coordinator.get("/portfolio?state=draft").get_data(as_text=True)
    link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "state=draft" in link
    second = body(tables(coordinator.get(link).get_data(as_text=True))["applications-table"])
    assert len(second) == 30 and all(row[6] == "Draft" for row in second)


def count_statements(browser, url: str) -> tuple[int, list[str]]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = browser.get(url)
        response.get_data()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200, url
    return len(statements), statements


@pytest.mark.parametrize("url", ["/portfolio", "/portfolio?state=submitted", "/portfolio.csv"])
def test_number_of_statements_does_not_grow_with_the_applications(english, login_as, url):
    coordinator = login_as("coordinator@demo.test")
    bulk_applications(english, 5)
    few, _ = count_statements(coordinator, url)
    bulk_applications(english, 55)  # 60 in all
    many, statements = count_statements(coordinator, url)
    assert few == many, statements
    assert many <= 16, statements


def test_ten_thousand_applications_stay_fast(english, login_as):
    bulk_applications(english, 10_000)
    coordinator = login_as("coordinator@demo.test")
    coordinator.get("/portfolio")  # warm up (templates, workflows)
    started = time.perf_counter()
    html = coordinator.get("/portfolio").get_data(as_text=True)
    page_seconds = time.perf_counter() - started
    assert tables(html)["summary-table"][0] == ["Applications", "10,000"]
    assert len(body(tables(html)["applications-table"])) == 50
    started = time.perf_counter()
    html = coordinator.get("/portfolio?state=draft&after=5000").get_data(as_text=True)
    filtered_seconds = time.perf_counter() - started
    assert tables(html)["summary-table"][0] == ["Applications", "6,666"]
    started = time.perf_counter()
    rows = read_csv(coordinator.get("/portfolio.csv"))
    csv_seconds = time.perf_counter() - started
    assert len(rows) == 10_001
    # Generous bounds: a regression to loading every row per figure is far slower.
    assert page_seconds < 3 and filtered_seconds < 3 and csv_seconds < 10, (
        page_seconds, filtered_seconds, csv_seconds)


# --- the year -------------------------------------------------------------------------------
def test_year_is_the_deadlines_year_in_swedish_time(app):
    just_after_new_year = local(2027, 1, 1, 0, 30)     # 2026-12-31 23:30 UTC
    just_before = local(2026, 12, 31, 23, 59)           # 2026-12-31 22:59 UTC
    midsummer = local(2026, 6, 19, 23, 30)              # 21:30 UTC, summer time
    assert just_after_new_year.year == 2026
    for moment, year in ((just_after_new_year, 2027), (just_before, 2026), (midsummer, 2026)):
        assert db.session.scalar(select(stockholm_year(
            literal(moment, type_=Call.deadline_at.type)))) == year
        start, end = year_bounds(year)
        assert start <= moment < end


def test_an_application_decided_twice_is_one_row_with_its_latest_decision(english, login_as):
    """Rejected, sent again, granted: one application, one row, its latest decision counts."""
    world = english
    application = add_application(world.call, world.orgs["kalmar"], world.users["lead"],
                                  "granted", title="Andra försöket", withdrawn_requested=90_000,
                                  requested=80_000)
    first, second = db.session.scalars(select(Submission).where(
        Submission.application_id == application.id).order_by(Submission.number)).all()
    db.session.add(FunderDecision(application_id=application.id, submission_id=first.id,
                                  outcome="rejected", decision_date=date(2026, 3, 1)))
    db.session.flush()
    db.session.add(FunderDecision(application_id=application.id, submission_id=second.id,
                                  outcome="granted", granted_amount=70_000,
                                  decision_date=date(2026, 9, 1)))
    db.session.commit()
    coordinator = login_as("coordinator@demo.test")
    t = tables(coordinator.get("/portfolio").get_data(as_text=True))
    assert t["summary-table"][:4] == [["Applications", "1"], ["Requested", "SEK 80,000"],
                                      ["Granted", "SEK 70,000"], ["Success rate", "100%"]]
    assert [row[0] for row in body(t["applications-table"])] == [str(application.id)]
    assert body(t["applications-table"])[0][7:10] == ["SEK 80,000", "SEK 70,000", "Granted"]
    rows = read_csv(coordinator.get("/portfolio.csv"))
    assert len(rows) == 2 and rows[1][8:11] == ["80000", "70000", "Granted"]
