"""What the portfolio page shows, built from the aggregate queries: the key figures, one chart
and one table per figure, the money of the granted projects (per funder with a chart, per
county and per year) and one page of the application list."""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.numbers import format_percent
from flask_babel import gettext as _
from markupsafe import Markup

from grants.i18n import current_locale, format_money, format_number, pick_label
from grants.portfolio import queries
from grants.portfolio.charts import (
    BLUE,
    GREEN,
    ORANGE,
    PURPLE,
    Bar,
    ChartRow,
    Series,
    bar_chart,
)
from grants.portfolio.queries import Filters, FunderYear, MoneyGroup, Projects, Row, Scope
from grants.processes import plans, workflows

NO_RATE = "–"
WIDE = 800  # the charts with a table under them (the others share the width with theirs)


def _document_workflows() -> set[str]:
    """The workflows the reporting plans run their documents on (not applications')."""
    return {planned.workflow for plan in plans().values()
            for planned in (*plan.documents, *filter(None, [plan.revised_budget]))}


def state_labels() -> dict[str, str]:
    """Every state name of the applications' workflows, in the workflows' order (by file name,
    then as each file lists its states), with the label of the first workflow that has it.
    The workflows only reporting plans name (their documents') are left out: the portfolio
    lists applications."""
    labels: dict[str, str] = {}
    documents = _document_workflows()
    for name in sorted(workflows()):
        if name in documents:
            continue
        for state in workflows()[name].states.values():
            labels.setdefault(state.name, pick_label(state.label))
    return labels


def format_rate(rate: float | None) -> str:
    if rate is None:
        return NO_RATE
    return format_percent(rate, locale="en_GB" if current_locale() == "en" else "sv_SE")


@dataclass
class Cell:
    text: str
    numeric: bool = False
    header: bool = False  # a row header (th scope="row")


@dataclass
class Figure:
    """One figure: its heading, its chart and the table with the same numbers."""

    key: str
    heading: str
    chart: Markup                            # empty: a table alone
    columns: list[tuple[str, bool]]          # (heading, numeric)
    rows: list[list[Cell]]
    total: list[Cell] | None = None
    wide: bool = False                       # the table goes under the chart, not beside it
    note: str = ""


@dataclass
class Portfolio:
    total: int
    requested: int
    granted: int
    granted_count: int
    decided: int
    projects: MoneyGroup | None = None       # the granted projects' totals
    figures: list[Figure] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    next_after: int | None = None

    @property
    def success_rate(self) -> str:
        return format_rate(self.granted_count / self.decided if self.decided else None)


def _count_figure(key: str, heading: str, column: str, counts: list[tuple[str, int]],
                  note: str = "") -> Figure:
    chart = bar_chart(
        f"chart-{key}", heading,
        _("Bar chart of the number of applications; the same numbers are in the table "
          "beside it."),
        [ChartRow(label, (Bar(count, format_number(count)),)) for label, count in counts],
        [Series(_("Applications"), BLUE)])
    rows = [[Cell(label, header=True), Cell(format_number(count), numeric=True)]
            for label, count in counts]
    total = [Cell(_("Total"), header=True),
             Cell(format_number(sum(count for _label, count in counts)), numeric=True)]
    return Figure(key, heading, chart, [(column, False), (_("Applications"), True)], rows,
                  total, note=note)


def _money_figure(funder_years: list[FunderYear]) -> Figure:
    heading = _("Requested and granted per funder and year")
    requested, granted = _("Requested"), _("Granted")
    chart = bar_chart(
        "chart-amounts", heading,
        _("Bar chart of the amounts in kronor, two bars per funder and year: %(requested)s "
          "(blue) and %(granted)s (orange); the same numbers are in the table under it.",
          requested=requested, granted=granted),
        [ChartRow(fy.label, (
            Bar(fy.requested, _("Requested: %(amount)s", amount=format_money(fy.requested))),
            Bar(fy.granted, _("Granted: %(amount)s", amount=format_money(fy.granted)))))
         for fy in funder_years],
        [Series(requested, BLUE), Series(granted, ORANGE)], width=WIDE)
    rows = [[Cell(fy.funder, header=True), Cell(str(fy.year)),
             Cell(format_number(fy.applications), True), Cell(format_money(fy.requested), True),
             Cell(format_money(fy.granted), True)] for fy in funder_years]
    total = [Cell(_("Total"), header=True), Cell(""),
             Cell(format_number(sum(fy.applications for fy in funder_years)), True),
             Cell(format_money(sum(fy.requested for fy in funder_years)), True),
             Cell(format_money(sum(fy.granted for fy in funder_years)), True)]
    return Figure("amounts", heading, chart,
                  [(_("Funder"), False), (_("Year"), False), (_("Applications"), True),
                   (requested, True), (granted, True)], rows, total, wide=True,
                  note=_("Requested: the amount in each application's current submission. "
                         "Granted: the amount in the funder's decisions to grant."))


def _rate_text(fy: FunderYear) -> str:
    if not fy.decided:
        return NO_RATE
    return _("%(rate)s (%(granted)d of %(decided)d)", rate=format_rate(fy.success_rate),
             granted=fy.granted_count, decided=fy.decided)


def _rate_figure(funder_years: list[FunderYear]) -> Figure:
    heading = _("Success rate per funder and year")
    chart = bar_chart(
        "chart-success", heading,
        _("Bar chart of the share of the funder's decisions that granted money, from 0 to 100 "
          "percent; “–” where there is no decision yet. The same numbers are in the table "
          "under it."),
        [ChartRow(fy.label, (Bar(None if fy.success_rate is None else fy.success_rate * 100,
                                 _rate_text(fy)),)) for fy in funder_years],
        [Series(_("Success rate"), GREEN)], max_value=100, width=WIDE)
    rows = [[Cell(fy.funder, header=True), Cell(str(fy.year)),
             Cell(format_number(fy.granted_count), True),
             Cell(format_number(fy.rejected_count), True),
             Cell(format_rate(fy.success_rate), True)] for fy in funder_years]
    granted = sum(fy.granted_count for fy in funder_years)
    rejected = sum(fy.rejected_count for fy in funder_years)
    total = [Cell(_("Total"), header=True), Cell(""), Cell(format_number(granted), True),
             Cell(format_number(rejected), True),
             Cell(format_rate(granted / (granted + rejected) if granted + rejected else None),
                  True)]
    return Figure("success", heading, chart,
                  [(_("Funder"), False), (_("Year"), False), (_("Granted decisions"), True),
                   (_("Rejected decisions"), True), (_("Success rate"), True)], rows, total,
                  wide=True,
                  note=_("Success rate: granted decisions divided by all decisions (granted "
                         "and rejected). Applications without a decision do not count."))


def _money_columns() -> list[tuple[str, bool]]:
    return [(_("Projects"), True), (_("Granted"), True), (_("Claimed"), True),
            (_("Paid out"), True), (_("Spent"), True), (_("Reports due"), True),
            (_("Reports overdue"), True), (_("Reports accepted"), True)]


def _money_cells(group: MoneyGroup) -> list[Cell]:
    money, reports = group.money, group.reports
    return [Cell(format_number(group.projects), True), Cell(format_money(money.granted), True),
            Cell(format_money(money.claimed), True), Cell(format_money(money.paid), True),
            Cell(format_money(money.spent), True), Cell(format_number(reports.due), True),
            Cell(format_number(reports.overdue), True),
            Cell(format_number(reports.accepted), True)]


def _money_note() -> str:
    return _("Granted projects only. Granted: the funder's grant. Claimed: what the project's "
             "payment claims as sent ask for. Paid out: what the funder's answers to them "
             "paid. Spent: the actual costs the project has reported so far. Reports: the "
             "project's reports and payment claims – due (not yet sent, due later), overdue "
             "(not yet sent, the due date passed) and accepted by the funder.")


def _project_money_figure(groups: list[MoneyGroup], total: MoneyGroup) -> Figure:
    heading = _("The money of the granted projects per funder")
    names = [_("Granted"), _("Claimed"), _("Paid out"), _("Spent")]
    chart = bar_chart(
        "chart-project-money", heading,
        _("Bar chart of the amounts in kronor, four bars per funder: %(granted)s (blue), "
          "%(claimed)s (orange), %(paid)s (green) and %(spent)s (purple); the same numbers are "
          "in the table under it.", granted=names[0], claimed=names[1], paid=names[2],
          spent=names[3]),
        [ChartRow(group.label, (
            Bar(group.money.granted,
                _("Granted: %(amount)s", amount=format_money(group.money.granted))),
            Bar(group.money.claimed,
                _("Claimed: %(amount)s", amount=format_money(group.money.claimed))),
            Bar(group.money.paid,
                _("Paid out: %(amount)s", amount=format_money(group.money.paid))),
            Bar(group.money.spent,
                _("Spent: %(amount)s", amount=format_money(group.money.spent)))))
         for group in groups],
        [Series(names[0], BLUE), Series(names[1], ORANGE), Series(names[2], GREEN),
         Series(names[3], PURPLE)], width=WIDE)
    return Figure("project-money", heading, chart,
                  [(_("Funder"), False), *_money_columns()],
                  [[Cell(group.label, header=True), *_money_cells(group)] for group in groups],
                  [Cell(_("Total"), header=True), *_money_cells(total)], wide=True,
                  note=_money_note())


def _project_money_table(key: str, heading: str, column: str, groups: list[MoneyGroup],
                         total: MoneyGroup, note: str = "") -> Figure:
    """The same money per county or year, as a table (the chart is the funders')."""
    return Figure(key, heading, Markup(""), [(column, False), *_money_columns()],
                  [[Cell(group.label, header=True), *_money_cells(group)] for group in groups],
                  [Cell(_("Total"), header=True), *_money_cells(total)], wide=True, note=note)


def _project_figures(projects: Projects) -> list[Figure]:
    total = projects.total()
    return [
        _project_money_figure(projects.group("funder"), total),
        _project_money_table("project-money-county",
                             _("The money of the granted projects per county"), _("County"),
                             projects.group("county"), total),
        _project_money_table("project-money-year",
                             _("The money of the granted projects per year"), _("Year"),
                             projects.group("year"), total,
                             note=_("The year of the call's deadline, in Swedish time.")),
    ]


def build(scope: Scope, filters: Filters, after: int | None) -> Portfolio:
    labels = state_labels()
    states = queries.by_state(scope, filters)
    total = sum(states.values())
    ordered = sorted(states.items(), key=lambda item: (
        list(labels).index(item[0]) if item[0] in labels else len(labels), item[0]))
    funder_years = queries.by_funder_and_year(scope, filters)
    portfolio = Portfolio(total=total,
                          requested=sum(fy.requested for fy in funder_years),
                          granted=sum(fy.granted for fy in funder_years),
                          granted_count=sum(fy.granted_count for fy in funder_years),
                          decided=sum(fy.decided for fy in funder_years))
    if total:
        portfolio.figures = [
            _count_figure("state", _("Applications by state"), _("State"),
                          [(labels.get(state, state), count) for state, count in ordered]),
            _count_figure("funder", _("Applications by funder"), _("Funder"),
                          [(c.label, c.count) for c in queries.by_funder(scope, filters)]),
            _count_figure("county", _("Applications by county"), _("County"),
                          [(c.label, c.count) for c in queries.by_county(scope, filters)]),
            _count_figure("year", _("Applications by year"), _("Year"),
                          [(c.label, c.count) for c in queries.by_year(scope, filters)],
                          note=_("The year of the call's deadline, in Swedish time.")),
            _money_figure(funder_years),
            _rate_figure(funder_years),
        ]
    projects = queries.granted_projects(scope, filters)
    if projects.keys:
        portfolio.projects = projects.total()
        portfolio.figures += _project_figures(projects)
    rows, portfolio.next_after = queries.application_page(scope, filters, after)
    portfolio.rows = list(projects.complete(rows))
    return portfolio
