"""The budget's guard that workflow files name: the call's rules, with the numbers."""

from __future__ import annotations

from flask_babel import gettext as _

from grants.applications.context import TransitionContext
from grants.budget.actuals import figure_problems
from grants.budget.operations import budget_summary, load_budget
from grants.budget.totals import rule_problems
from grants.i18n import format_money
from grants.workflow.registry import guards


@guards.register("budget_within_rules")
def budget_within_rules(ctx: TransitionContext) -> list[str]:
    call = ctx.application.call
    return rule_problems(budget_summary(*load_budget(ctx.application.id), ctx.form),
                         max_requested=call.max_requested_amount,
                         min_cofinancing_percent=call.min_cofinancing_percent,
                         max_indirect_percent=call.max_indirect_percent,
                         money=format_money, gettext=_)


@guards.register("actuals_within_rules")
def actuals_within_rules(ctx: TransitionContext) -> list[str]:
    """The rules the document's form sets for its actual figures (`actuals:`): deviations
    explained, co-financing at least as pledged where the form refuses less, and what the
    features check through `figure_check` (the claim within the grant)."""
    refused, _flagged = figure_problems(ctx.application, ctx.form, ctx.partners)
    return refused
