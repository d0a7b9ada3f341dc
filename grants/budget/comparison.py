"""Budget against actual: a document's figures (a report's actual costs and co-financing)
compared with its baseline's (the budget it reports on: the application's, or the approved
revised budget), per organisation, cost category and year, with the variance; and the rules
a report's form sets for them (`actuals:`, docs/reporting.md), as messages with the numbers.

Any document with a baseline gets the comparison; nothing here asks what kind it is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from grants.formengine.definition import ActualsRules


@dataclass
class Figures:
    """Budgeted, reported in earlier documents of the same kind (earlier periods), and in this
    one; `actual` is what has been reported so far."""
    budget: int = 0
    earlier: int = 0
    current: int = 0

    @property
    def actual(self) -> int:
        return self.earlier + self.current

    @property
    def variance(self) -> int:
        return self.actual - self.budget

    @property
    def percent(self) -> float | None:
        """The variance as a share of the budget (None: nothing was budgeted)."""
        return 100 * self.variance / self.budget if self.budget else None

    def beyond(self, limit: int | None) -> bool:
        """Deviates by more than `limit` per cent either way (anything spent on what had no
        budget counts as beyond)."""
        if limit is None or self.variance == 0:
            return False
        percent = self.percent
        return percent is None or abs(percent) > limit


@dataclass
class OrganisationFigures:
    organisation_id: int
    name: str
    # (category, year) -> figures, and per category over the years
    cells: dict[tuple[str, int], Figures] = field(default_factory=dict)
    categories: dict[str, Figures] = field(default_factory=dict)
    costs: Figures = field(default_factory=Figures)
    cofinancing: Figures = field(default_factory=Figures)

    @property
    def cofinancing_below_pledge(self) -> bool:
        return self.cofinancing.actual < self.cofinancing.budget

    @property
    def has_actuals(self) -> bool:
        """Has entered figures in this document."""
        return bool(self.costs.current or self.cofinancing.current)


@dataclass
class Comparison:
    organisations: list[OrganisationFigures]
    years: list[int]
    costs: Figures
    cofinancing: Figures
    categories: dict[str, Figures]

    def organisation(self, organisation_id: int) -> OrganisationFigures | None:
        return next((o for o in self.organisations if o.organisation_id == organisation_id),
                    None)


def compare(*, organisations: Iterable[tuple[int, str]], baseline_lines, actual_lines,
            baseline_cofinancing, actual_cofinancing, earlier_lines=(),
            earlier_cofinancing=()) -> Comparison:
    """Lines: objects with organisation_id, category, year, amount; co-financing rows with
    organisation_id, amount. `organisations`: (id, name) in the order to show them; figures of
    other organisations are left out (a partner who sees only its own)."""
    orgs = {oid: OrganisationFigures(oid, name) for oid, name in organisations}
    years: set[int] = set()
    totals, cofinancing = Figures(), Figures()
    categories: dict[str, Figures] = defaultdict(Figures)
    for lines, side in ((baseline_lines, "budget"), (earlier_lines, "earlier"),
                        (actual_lines, "current")):
        for line in lines:
            org = orgs.get(line.organisation_id)
            if org is None:
                continue
            key = (str(line.category), int(line.year))
            years.add(key[1])
            for figures in (org.cells.setdefault(key, Figures()),
                            org.categories.setdefault(key[0], Figures()), org.costs, totals,
                            categories[key[0]]):
                setattr(figures, side, getattr(figures, side) + int(line.amount))
    for items, side in ((baseline_cofinancing, "budget"), (earlier_cofinancing, "earlier"),
                        (actual_cofinancing, "current")):
        for item in items:
            org = orgs.get(item.organisation_id)
            if org is None:
                continue
            for figures in (org.cofinancing, cofinancing):
                setattr(figures, side, getattr(figures, side) + int(item.amount))
    return Comparison(list(orgs.values()), sorted(years), totals, cofinancing,
                      dict(categories))


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}".replace(".", ",").replace("-", "−")


def needs_explanation(comparison: Comparison, rules: ActualsRules
                      ) -> list[tuple[OrganisationFigures, str, Figures]]:
    """(organisation, category, figures) whose deviation the rules ask to be explained."""
    limit = rules.explain_deviation_above_percent
    if limit is None:
        return []
    return [(org, category, figures) for org in comparison.organisations
            for category, figures in org.categories.items() if figures.beyond(limit)]


def actual_problems(comparison: Comparison, rules: ActualsRules, explained: set[tuple[int, str]],
                    *, money: Callable[[int], str], category: Callable[[str], str], gettext
                    ) -> tuple[list[str], list[str]]:
    """(what refuses, what is only flagged): a deviation above the rule's limit without a
    written explanation; co-financing below the pledge (refused or flagged, as the rule
    says). Each message names the organisation and the numbers."""
    _ = gettext
    refused, flagged = [], []
    for org, key, figures in needs_explanation(comparison, rules):
        if (org.organisation_id, key) in explained:
            continue
        refused.append(_(
            "%(organisation)s, %(category)s: the actual cost %(actual)s differs from the "
            "budget %(budget)s by %(percent)s %%; above %(limit)d %% a written explanation is "
            "needed.", organisation=org.name, category=category(key),
            actual=money(figures.actual), budget=money(figures.budget),
            percent=percent_text(figures.percent),
            limit=rules.explain_deviation_above_percent))
    for org in comparison.organisations:
        if rules.cofinancing_below_pledge and org.cofinancing_below_pledge:
            message = _("%(organisation)s: the actual co-financing %(actual)s is below the "
                        "pledged %(pledged)s (%(missing)s less).", organisation=org.name,
                        actual=money(org.cofinancing.actual),
                        pledged=money(org.cofinancing.budget),
                        missing=money(org.cofinancing.budget - org.cofinancing.actual))
            (refused if rules.cofinancing_below_pledge == "refuse" else flagged).append(message)
    return refused, flagged
