"""The portfolio's figures, each one aggregate query (GROUP BY in the database: the page never
loads the applications themselves, only the 50 rows of the list it shows).

Every query starts from the same joined rows – application, its call, its lead organisation –
restricted to what the user may see (`Scope`) and to the chosen filters (`Filters`). Only
applications count (`parent_id IS NULL`): a project's reports and claims are documents of it,
reached from the project, never rows of their own here. An application's decision is its
latest one (an application sent again after a rejection has two).

The money of the granted projects in view (granted, claimed, paid, spent) is
`grants.reporting.queries.project_money`, a fixed number of queries for all of them; their
documents are counted due, overdue or accepted in one grouped query, each group's state read
from its workflow version's flags.

The year of an application is the year of its call's deadline in Swedish time
(`stockholm_year`): exact on PostgreSQL and SQLite (see docs/portfolio.md, "Year").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from grants.accounts.models import User
from grants.applications.models import Application
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.db import db, utcnow
from grants.organisations.models import Organisation
from grants.processes import workflow_for
from grants.reporting.queries import Money, project_money
from grants.steering.models import SteeringGroup, SteeringMember
from grants.submissions.models import FunderDecision, Submission

PAGE_SIZE = 50
CSV_BATCH = 500


# --- the year of a deadline in Swedish time ------------------------------------------------
class stockholm_year(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The calendar year of a UTC timestamp in Europe/Stockholm, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "stockholm_year"


@compiles(stockholm_year, "postgresql")
def _stockholm_year_pg(element, compiler, **kw):
    (column,) = element.clauses
    return ("CAST(EXTRACT(YEAR FROM (%s AT TIME ZONE 'Europe/Stockholm')) AS INTEGER)"  # noqa: UP031
            % compiler.process(column, **kw))


@compiles(stockholm_year, "sqlite")
def _stockholm_year_sqlite(element, compiler, **kw):
    # Stored as UTC text. Around New Year Sweden is always on UTC+1 (summer time never
    # reaches December or January), so "+1 hour" gives the Swedish year exactly.
    (column,) = element.clauses
    sql = "CAST(STRFTIME('%%Y', %s, '+1 hour') AS INTEGER)"  # SQL with %: kept as % formatting
    return sql % compiler.process(column, **kw)  # noqa: UP031


@compiles(stockholm_year)
def _stockholm_year_other(element, compiler, **kw):
    # Any other database: the UTC year (wrong only for 00:00–00:59 on 1 January, Swedish time).
    (column,) = element.clauses
    return "CAST(EXTRACT(YEAR FROM %s) AS INTEGER)" % compiler.process(column, **kw)  # noqa: UP031


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """1 January 00:00 of `year` and of the next year, Swedish time, as UTC moments: the year
    filter is a range on the deadline (it can use the index), equal to `stockholm_year`."""
    start = datetime(year, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    return start, end


# --- who sees what, and what they chose ----------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The applications a user's portfolio covers: all (coordinator), or those of calls whose
    steering group the user is a member of."""

    user_id: int
    everything: bool

    @classmethod
    def of(cls, user: User) -> Scope:
        return cls(user_id=user.id, everything=bool(user.is_coordinator))

    def restrict(self, statement):
        """`statement` (which has Call in its FROM) limited to the calls of the scope."""
        if self.everything:
            return statement
        my_groups = select(SteeringMember.group_id).where(SteeringMember.user_id == self.user_id)
        return statement.where(Call.steering_group_id.in_(my_groups))


def may_see_portfolio(user: User) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_coordinator:
        return True
    return db.session.scalar(select(select(SteeringMember.group_id).where(
        SteeringMember.user_id == user.id).exists())) or False


def steering_group_names(scope: Scope) -> list[str]:
    return list(db.session.scalars(select(SteeringGroup.name).join(
        SteeringMember, SteeringMember.group_id == SteeringGroup.id).where(
        SteeringMember.user_id == scope.user_id).order_by(SteeringGroup.name)))


@dataclass(frozen=True)
class Filters:
    funder_id: int | None = None
    county: str | None = None
    year: int | None = None
    state: str | None = None

    def as_args(self) -> dict[str, str]:
        """The query-string arguments that give these filters (for links)."""
        args = {"funder": self.funder_id, "county": self.county, "year": self.year,
                "state": self.state}
        return {key: str(value) for key, value in args.items() if value is not None}


def _joined(*columns):
    """SELECT columns FROM application JOIN funding_call JOIN organisation (the lead), the
    applications only (not the documents of their projects)."""
    return (select(*columns).select_from(Application)
            .join(Call, Call.id == Application.call_id)
            .join(Organisation, Organisation.id == Application.lead_organisation_id)
            .where(Application.parent_id.is_(None)))


def _latest_decisions():
    """Per application (or document), the id of its latest funder decision: joined through
    this, a row with several decisions stays one row."""
    return (select(FunderDecision.application_id.label("application_id"),
                   func.max(FunderDecision.id).label("decision_id"))
            .group_by(FunderDecision.application_id).subquery("latest_decision"))


def _with_decision(statement, row=Application):
    """`statement` outer-joined with the latest FunderDecision of `row`."""
    latest = _latest_decisions()
    return (statement.outerjoin(latest, latest.c.application_id == row.id)
            .outerjoin(FunderDecision, FunderDecision.id == latest.c.decision_id))


def _restricted(statement, scope: Scope, filters: Filters):
    statement = scope.restrict(statement)
    if filters.funder_id is not None:
        statement = statement.where(Call.funder_id == filters.funder_id)
    if filters.county is not None:
        statement = statement.where(Organisation.county == filters.county)
    if filters.year is not None:
        start, end = year_bounds(filters.year)
        statement = statement.where(Call.deadline_at >= start, Call.deadline_at < end)
    if filters.state is not None:
        statement = statement.where(Application.state == filters.state)
    return statement


def _requested_amount():
    """The current submission's requested amount (the latest one not withdrawn, as
    grants.submissions.operations.current_submission), correlated to the application row."""
    return (select(Submission.requested_amount)
            .where(Submission.application_id == Application.id,
                   Submission.status == "current")
            .order_by(Submission.number.desc()).limit(1)
            .correlate(Application).scalar_subquery())


def _int(value) -> int:
    return int(value or 0)  # PostgreSQL sums bigint as numeric (Decimal)


# --- choices for the filters ---------------------------------------------------------------
def funder_choices(scope: Scope) -> list[tuple[int, str, str]]:
    """(id, short name, name) of the funders with calls in the scope."""
    rows = db.session.execute(
        select(Funder.id, Funder.short_name, Funder.name).where(
            Funder.id.in_(scope.restrict(select(Call.funder_id))))
        .order_by(Funder.short_name, Funder.id))
    return [(row.id, row.short_name, row.name) for row in rows]


def county_choices() -> list[str]:
    return [county for county in db.session.scalars(
        select(Organisation.county).distinct().order_by(Organisation.county)) if county]


def year_choices(scope: Scope) -> list[int]:
    """The years of the deadlines of the calls in the scope, latest first."""
    years = db.session.scalars(scope.restrict(
        select(stockholm_year(Call.deadline_at)).distinct()))
    return sorted((int(year) for year in years if year is not None), reverse=True)


# --- the figures ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    key: object
    label: str
    count: int


def by_state(scope: Scope, filters: Filters) -> dict[str, int]:
    rows = db.session.execute(_restricted(
        _joined(Application.state, func.count(Application.id)), scope, filters)
        .group_by(Application.state))
    return {state: int(count) for state, count in rows}


def by_funder(scope: Scope, filters: Filters) -> list[Count]:
    rows = db.session.execute(_restricted(
        _joined(Funder.id, Funder.short_name, func.count(Application.id))
        .join(Funder, Funder.id == Call.funder_id), scope, filters)
        .group_by(Funder.id, Funder.short_name).order_by(Funder.short_name, Funder.id))
    return [Count(funder_id, short_name, int(count)) for funder_id, short_name, count in rows]


def by_county(scope: Scope, filters: Filters) -> list[Count]:
    rows = db.session.execute(_restricted(
        _joined(Organisation.county, func.count(Application.id)), scope, filters)
        .group_by(Organisation.county).order_by(Organisation.county))
    return [Count(county, county, int(count)) for county, count in rows]


def by_year(scope: Scope, filters: Filters) -> list[Count]:
    year = stockholm_year(Call.deadline_at).label("year")
    inner = _restricted(_joined(year, Application.id.label("application_id")),
                        scope, filters).subquery("portfolio_years")
    rows = db.session.execute(select(inner.c.year, func.count(inner.c.application_id))
                              .group_by(inner.c.year).order_by(inner.c.year))
    return [Count(int(y), str(int(y)), int(count)) for y, count in rows]


@dataclass(frozen=True)
class FunderYear:
    """Requested and granted money and the funder's decisions, for one funder and year."""

    funder_id: int
    funder: str
    year: int
    applications: int
    requested: int        # sum of the current submissions' requested amounts
    granted: int          # sum of granted amounts (decisions "granted")
    granted_count: int
    rejected_count: int

    @property
    def decided(self) -> int:
        return self.granted_count + self.rejected_count

    @property
    def success_rate(self) -> float | None:
        """Granted decisions / (granted + rejected); None without decisions."""
        return self.granted_count / self.decided if self.decided else None

    @property
    def label(self) -> str:
        return f"{self.funder} {self.year}"


def by_funder_and_year(scope: Scope, filters: Filters) -> list[FunderYear]:
    """One query: per funder and year, the applications, requested and granted amounts and
    the decisions."""
    inner = _restricted(_with_decision(
        _joined(Call.funder_id.label("funder_id"),
                stockholm_year(Call.deadline_at).label("year"),
                Application.id.label("application_id"),
                _requested_amount().label("requested"),
                FunderDecision.outcome.label("outcome"),
                FunderDecision.granted_amount.label("granted_amount"))),
        scope, filters).subquery("portfolio_amounts")
    granted = inner.c.outcome == "granted"
    rows = db.session.execute(
        select(inner.c.funder_id, Funder.short_name, inner.c.year,
               func.count(inner.c.application_id).label("applications"),
               func.sum(inner.c.requested).label("requested"),
               func.sum(case((granted, inner.c.granted_amount), else_=0)).label("granted"),
               func.sum(case((granted, 1), else_=0)).label("granted_count"),
               func.sum(case((inner.c.outcome == "rejected", 1), else_=0))
               .label("rejected_count"))
        .join(Funder, Funder.id == inner.c.funder_id)
        .group_by(inner.c.funder_id, Funder.short_name, inner.c.year)
        .order_by(Funder.short_name, inner.c.funder_id, inner.c.year))
    return [FunderYear(funder_id=row.funder_id, funder=row.short_name, year=int(row.year),
                       applications=int(row.applications),
                       requested=_int(row.requested), granted=_int(row.granted),
                       granted_count=_int(row.granted_count),
                       rejected_count=_int(row.rejected_count)) for row in rows]


# --- the applications themselves: one page, or all of them for the CSV -------------------
@dataclass(frozen=True)
class Row:
    id: int
    title: str
    funder: str
    call: str
    year: int
    county: str
    lead_organisation: str
    state: str
    requested: int | None
    granted: int | None
    outcome: str | None
    # A granted project's money and documents (None for an application without a project).
    claimed: int | None = None
    paid: int | None = None
    spent: int | None = None
    reports_due: int | None = None
    reports_overdue: int | None = None
    reports_accepted: int | None = None


def _rows_statement(scope: Scope, filters: Filters):
    return _restricted(_with_decision(
        _joined(Application.id, Application.title, Funder.short_name.label("funder"),
                Call.title.label("call"), stockholm_year(Call.deadline_at).label("year"),
                Organisation.county, Organisation.name.label("lead_organisation"),
                Application.state, _requested_amount().label("requested"),
                FunderDecision.outcome, FunderDecision.granted_amount)
        .join(Funder, Funder.id == Call.funder_id)),
        scope, filters).order_by(Application.id.desc())


def _row(raw) -> Row:
    granted = raw.granted_amount if raw.outcome == "granted" else None
    return Row(id=raw.id, title=raw.title, funder=raw.funder, call=raw.call,
               year=int(raw.year), county=raw.county, lead_organisation=raw.lead_organisation,
               state=raw.state, requested=None if raw.requested is None else int(raw.requested),
               granted=None if granted is None else int(granted), outcome=raw.outcome)


def application_page(scope: Scope, filters: Filters, after: int | None = None,
                     size: int = PAGE_SIZE) -> tuple[list[Row], int | None]:
    """One page of applications, newest id first, by keyset: the rows with id < `after`.
    Returns the rows and the `after` of the next page (None on the last page)."""
    statement = _rows_statement(scope, filters)
    if after is not None:
        statement = statement.where(Application.id < after)
    rows = [_row(raw) for raw in db.session.execute(statement.limit(size + 1))]
    if len(rows) > size:
        return rows[:size], rows[size - 1].id
    return rows, None


def all_rows(scope: Scope, filters: Filters) -> Iterator[Row]:
    """Every application in the portfolio, fetched in batches (a server-side cursor on
    PostgreSQL), for the CSV export."""
    result = db.session.execute(_rows_statement(scope, filters)
                                .execution_options(yield_per=CSV_BATCH))
    for raw in result:
        yield _row(raw)


# --- the granted projects: their money and their documents ---------------------------------
@dataclass
class Reports:
    """A project's documents (reports, claims) by where they stand: `due` not finished and
    due later, `overdue` not finished and due already, `accepted` in a terminal state with
    the funder's answer "accepted"."""

    due: int = 0
    overdue: int = 0
    accepted: int = 0

    def add(self, other: Reports) -> None:
        self.due += other.due
        self.overdue += other.overdue
        self.accepted += other.accepted


def _add_money(total: Money, money: Money) -> None:
    total.granted += money.granted
    total.claimed += money.claimed
    total.paid += money.paid
    total.spent += money.spent


@dataclass(frozen=True)
class ProjectKey:
    """A granted project in view and what the figures group it by."""

    id: int
    funder_id: int
    funder: str
    county: str | None
    year: int


@dataclass
class MoneyGroup:
    """The granted projects of one funder, county or year: their money and documents."""

    key: object
    label: str
    projects: int = 0
    money: Money = field(default_factory=Money)
    reports: Reports = field(default_factory=Reports)


GROUPINGS = {
    "funder": (lambda p: p.funder_id, lambda p: p.funder, lambda g: (g.label, g.key)),
    "county": (lambda p: p.county, lambda p: p.county or "", lambda g: g.label),
    "year": (lambda p: p.year, lambda p: str(p.year), lambda g: g.key),
}


@dataclass
class Projects:
    """The granted projects in view, with the money and the documents of each."""

    keys: list[ProjectKey]
    money: dict[int, Money]
    reports: dict[int, Reports]

    def group(self, by: str) -> list[MoneyGroup]:
        """Per funder, county or year (as the application figures group them)."""
        key_of, label_of, order = GROUPINGS[by]
        groups: dict[object, MoneyGroup] = {}
        for project in self.keys:
            group = groups.setdefault(key_of(project),
                                      MoneyGroup(key_of(project), label_of(project)))
            self._add(group, project.id)
        return sorted(groups.values(), key=order)

    def total(self) -> MoneyGroup:
        total = MoneyGroup(None, "")
        for project in self.keys:
            self._add(total, project.id)
        return total

    def _add(self, group: MoneyGroup, project_id: int) -> None:
        group.projects += 1
        _add_money(group.money, self.money.get(project_id, Money()))
        group.reports.add(self.reports.get(project_id, Reports()))

    def complete(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows with their project's money and documents (those of granted projects)."""
        for row in rows:
            money = self.money.get(row.id)
            if money is None:
                yield row
                continue
            reports = self.reports.get(row.id, Reports())
            yield replace(row, claimed=money.claimed, paid=money.paid, spent=money.spent,
                          reports_due=reports.due, reports_overdue=reports.overdue,
                          reports_accepted=reports.accepted)


@dataclass(frozen=True)
class _Pinned:
    """What `workflow_for` reads of a document: the workflow version it runs on."""

    workflow_name: str
    workflow_version: int


def _granted():
    return (select(FunderDecision.id).where(FunderDecision.application_id == Application.id,
                                            FunderDecision.outcome == "granted")
            .correlate(Application).exists())


def _report_counts(scope: Scope, filters: Filters, now: datetime) -> dict[int, Reports]:
    """One grouped query: the documents of the projects in view, by project, workflow
    version, state, whether their due date has passed and the funder's latest answer; each
    group's state is then read from its workflow version (once per version)."""
    document = aliased(Application, name="document")
    roots = _restricted(_joined(Application.id), scope, filters)
    # The due date: the coordinator's extension if there is one, else the document's own.
    due = func.coalesce(document.deadline_extended_to, document.due_at)
    timing = case((due.is_(None), 0), (due < now, 2), else_=1).label("timing")
    statement = _with_decision(
        select(document.parent_id, document.workflow_name, document.workflow_version,
               document.state, timing, FunderDecision.outcome, func.count(document.id))
        .select_from(document), document).where(document.parent_id.in_(roots))
    statement = statement.group_by(document.parent_id, document.workflow_name,
                                   document.workflow_version, document.state, timing,
                                   FunderDecision.outcome)
    workflows: dict[tuple[str, int], object] = {}
    counts: dict[int, Reports] = {}
    for root, name, version, state_name, when, outcome, count in db.session.execute(statement):
        if (name, version) not in workflows:
            workflows[(name, version)] = workflow_for(_Pinned(name, version))
        workflow = workflows[(name, version)]
        state = workflow.state(state_name) if workflow is not None else None
        reports = counts.setdefault(root, Reports())
        if state is None or not state.is_finished:
            if when == 1:
                reports.due += int(count)
            elif when == 2:
                reports.overdue += int(count)
        elif state.terminal and outcome == "accepted":
            reports.accepted += int(count)
    return counts


def granted_projects(scope: Scope, filters: Filters, now: datetime | None = None) -> Projects:
    """The granted projects in view with their money and documents: one query for the
    projects, `project_money`'s few for their money, one for their documents."""
    keys = [ProjectKey(row.id, row.funder_id, row.short_name, row.county, int(row.year))
            for row in db.session.execute(_restricted(
                _joined(Application.id, Call.funder_id, Funder.short_name, Organisation.county,
                        stockholm_year(Call.deadline_at).label("year"))
                .join(Funder, Funder.id == Call.funder_id).where(_granted()),
                scope, filters).order_by(Application.id))]
    if not keys:
        return Projects([], {}, {})
    money = project_money([key.id for key in keys])
    return Projects(keys, money, _report_counts(scope, filters, now or utcnow()))
