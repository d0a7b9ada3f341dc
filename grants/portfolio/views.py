"""The portfolio page (/portfolio) and its CSV export (/portfolio.csv): for coordinators (all
applications) and steering group members (the applications of their groups' calls); 404 for
everyone else, as for anything that is not theirs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from grants.db import utcnow
from grants.labels import outcome_label
from grants.portfolio import queries, report
from grants.portfolio.forms import PortfolioFilterForm
from grants.portfolio.queries import Filters, Row, Scope

bp = Blueprint("portfolio", __name__)

CSV_DELIMITER = ";"          # what Excel expects with Swedish regional settings
# A cell starting with one of these is a formula to a spreadsheet: such text gets a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@bp.app_template_global("may_see_portfolio")
def may_see_portfolio() -> bool:
    """Whether the main menu shows "Portfolio" (one query per request at most)."""
    if "may_see_portfolio" not in g:
        g.may_see_portfolio = queries.may_see_portfolio(current_user)
    return g.may_see_portfolio


def _scope() -> Scope:
    if not may_see_portfolio():
        abort(404)
    return Scope.of(current_user)


def _filter_form(scope: Scope) -> PortfolioFilterForm:
    form = PortfolioFilterForm(request.args)
    form.set_choices(funders=queries.funder_choices(scope),
                     counties=queries.county_choices(),
                     years=queries.year_choices(scope),
                     states=list(report.state_labels().items()))
    form.validate()
    return form


def _after() -> int | None:
    """The keyset of the page: the rows with a smaller id than `after` (invalid: first page)."""
    return request.args.get("after", type=int)


def _page(scope: Scope, form: PortfolioFilterForm, status: int = 200):
    filters = form.filters()
    after = _after()
    portfolio = report.build(scope, filters, after)
    groups = [] if scope.everything else queries.steering_group_names(scope)
    return render_template("portfolio/index.html", form=form, filters=filters, after=after,
                           portfolio=portfolio, groups=groups,
                           state_labels=report.state_labels(),
                           outcome_label=outcome_label,
                           page_size=queries.PAGE_SIZE), status


@bp.get("/portfolio")
def index():
    scope = _scope()
    form = _filter_form(scope)
    return _page(scope, form, 400 if form.errors else 200)


def _text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_header() -> list[str]:
    return [_("ID"), _("Title"), _("Funder"), _("Call"), _("Year"), _("County"),
            _("Lead organisation"), _("State"), _("Requested (SEK)"), _("Granted (SEK)"),
            _("Decision"), _("Claimed (SEK)"), _("Paid out (SEK)"), _("Spent (SEK)"),
            _("Reports due"), _("Reports overdue"), _("Reports accepted")]


def _blank(value: int | None) -> int | str:
    return "" if value is None else value


def csv_text(rows: Iterator[Row], labels: dict[str, str]) -> str:
    """A BOM, the header, one line per application (a granted project's money and documents
    in the last columns, empty for the others). The rows come from the database in batches;
    the text is built in memory (about 150 bytes an application)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(csv_header())
    for row in rows:
        writer.writerow([row.id, _text(row.title), _text(row.funder), _text(row.call), row.year,
                         _text(row.county), _text(row.lead_organisation),
                         _text(labels.get(row.state, row.state)),
                         _blank(row.requested), _blank(row.granted),
                         outcome_label(row.outcome), _blank(row.claimed), _blank(row.paid),
                         _blank(row.spent), _blank(row.reports_due),
                         _blank(row.reports_overdue), _blank(row.reports_accepted)])
    return buffer.getvalue()


@bp.get("/portfolio.csv")
def export():
    scope = _scope()
    form = _filter_form(scope)
    if form.errors:
        return _page(scope, form, 400)
    filters: Filters = form.filters()
    labels = report.state_labels()
    projects = queries.granted_projects(scope, filters)
    response = Response(csv_text(projects.complete(queries.all_rows(scope, filters)), labels),
                        mimetype="text/csv")
    filename = f"portfolio-{utcnow().astimezone(queries.STOCKHOLM).date().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
