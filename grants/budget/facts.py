"""What the budget says about facts a form may state too (`mirrors:` in a form file): the
amount requested, the total cost, the co-financing, each partner's own cost and co-financing,
and the years the costs fall in."""

from __future__ import annotations

from grants.budget.models import BudgetLine, Cofinancing
from grants.budget.operations import budget_summary, load_budget
from grants.formengine.definition import Facts


def facts_of(lines: list[BudgetLine], items: list[Cofinancing], partners: list) -> Facts:
    """The facts by partner id (None: the whole application). Nothing is known before the
    budget has its first cost line."""
    if not lines:
        return {}
    summary = budget_summary(lines, items)
    years = [line.year for line in lines]
    facts: Facts = {None: {"budget.requested": summary.requested,
                           "budget.total_cost": summary.total_cost,
                           "budget.cofinancing": summary.cofinancing,
                           "budget.first_year": min(years), "budget.last_year": max(years)}}
    for partner in partners:
        org = partner.organisation_id
        own_lines = [line for line in lines if line.organisation_id == org]
        facts[partner.id] = {
            "budget.own_cost": sum(line.amount for line in own_lines),
            "budget.own_cofinancing": sum(item.amount for item in items
                                          if item.organisation_id == org)}
        if own_lines:
            facts[partner.id].update({"budget.first_year": min(l.year for l in own_lines),
                                      "budget.last_year": max(l.year for l in own_lines)})
    return facts


def budget_facts(application_id: int, partners: list) -> Facts:
    return facts_of(*load_budget(application_id), partners)
