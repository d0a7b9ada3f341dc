"""Budget arithmetic and the call's rules, as plain functions over plain data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

INDIRECT = "indirect"


@dataclass
class BudgetSummary:
    total_cost: int = 0
    direct_cost: int = 0
    indirect_cost: int = 0
    cofinancing: int = 0
    by_organisation: dict[str, dict[str, int]] = field(default_factory=dict)
    by_year: dict[int, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)

    @property
    def requested(self) -> int:
        """What is asked of the funder: total cost minus co-financing."""
        return self.total_cost - self.cofinancing

    @property
    def cofinancing_percent(self) -> float:
        return 100 * self.cofinancing / self.total_cost if self.total_cost else 0.0

    @property
    def indirect_percent(self) -> float:
        return 100 * self.indirect_cost / self.direct_cost if self.direct_cost else 0.0


def summarise(lines: Iterable[dict[str, Any]], cofinancing: Iterable[dict[str, Any]],
              indirect: frozenset[str] = frozenset({INDIRECT})) -> BudgetSummary:
    """Lines: {organisation, category, year, amount}; co-financing: {organisation, year,
    amount}. `indirect`: the categories that are indirect costs (the form's)."""
    summary = BudgetSummary()
    by_org: dict[str, dict[str, int]] = defaultdict(lambda: {"cost": 0, "cofinancing": 0})
    by_year: dict[int, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for line in lines:
        amount = int(line["amount"])
        summary.total_cost += amount
        if line["category"] in indirect:
            summary.indirect_cost += amount
        else:
            summary.direct_cost += amount
        by_org[line["organisation"]]["cost"] += amount
        by_year[int(line["year"])] += amount
        by_category[line["category"]] += amount
    for item in cofinancing:
        amount = int(item["amount"])
        summary.cofinancing += amount
        by_org[item["organisation"]]["cofinancing"] += amount
    summary.by_organisation = dict(by_org)
    summary.by_year = dict(sorted(by_year.items()))
    summary.by_category = dict(by_category)
    return summary


def rule_problems(summary: BudgetSummary, *, max_requested: int | None,
                  min_cofinancing_percent: int | None, max_indirect_percent: int | None,
                  money, gettext) -> list[str]:
    """The call's rules, each broken one as a message that names the numbers."""
    _ = gettext
    problems = []
    if max_requested is not None and summary.requested > max_requested:
        problems.append(_("The requested amount %(requested)s (total cost %(total)s minus "
                          "co-financing %(cofinancing)s) is more than the call's maximum "
                          "%(max)s.", requested=money(summary.requested),
                          total=money(summary.total_cost),
                          cofinancing=money(summary.cofinancing), max=money(max_requested)))
    if min_cofinancing_percent is not None and summary.total_cost and \
            summary.cofinancing_percent < min_cofinancing_percent:
        needed = -(-summary.total_cost * min_cofinancing_percent // 100)
        problems.append(_("Co-financing is %(cofinancing)s, %(share)s %% of the total cost "
                          "%(total)s; the call asks for at least %(min)d %% (%(needed)s).",
                          cofinancing=money(summary.cofinancing),
                          share=f"{summary.cofinancing_percent:.1f}".replace(".", ","),
                          total=money(summary.total_cost), min=min_cofinancing_percent,
                          needed=money(needed)))
    if max_indirect_percent is not None and summary.direct_cost and \
            summary.indirect_percent > max_indirect_percent:
        allowed = summary.direct_cost * max_indirect_percent // 100
        problems.append(_("Indirect costs are %(indirect)s, %(share)s %% of the direct costs "
                          "%(direct)s; the call allows at most %(max)d %% (%(allowed)s).",
                          indirect=money(summary.indirect_cost),
                          share=f"{summary.indirect_percent:.1f}".replace(".", ","),
                          direct=money(summary.direct_cost), max=max_indirect_percent,
                          allowed=money(allowed)))
    return problems
