"""Reporting's parts that workflow files and the budget name: the effect that makes a sent
revised budget the project's baseline, and the checks of a document's figures against the
project's grant (registered with the budget's `figure_check`)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from grants.applications.context import TransitionContext
from grants.applications.models import Application
from grants.budget.actuals import figure_check
from grants.budget.totals import BudgetSummary
from grants.db import db
from grants.formengine.definition import FormDef
from grants.i18n import format_money
from grants.reporting.operations import adopt_as_baseline
from grants.reporting.queries import grant_of
from grants.submissions.models import Submission
from grants.workflow.registry import effects


@effects.register("adopt_as_baseline")
def adopt_as_baseline_effect(ctx: TransitionContext) -> None:
    """The document becomes the budget the project's documents not yet submitted are
    compared with (the revised budget, when it is sent to the funder)."""
    adopt_as_baseline(ctx.application)


def _earlier_claims(document: Application) -> int:
    """What the current submissions of the project's earlier documents of the same kind
    asked for."""
    if document.parent_id is None or document.sequence is None:
        return 0
    earlier = select(Application.id).where(Application.parent_id == document.parent_id,
                                           Application.kind == document.kind,
                                           Application.sequence < document.sequence)
    # int(): PostgreSQL sums to a Decimal.
    return int(db.session.scalar(select(func.coalesce(func.sum(Submission.requested_amount), 0))
                                 .where(Submission.application_id.in_(earlier),
                                        Submission.status == "current")) or 0)


@figure_check
def within_the_grant(document: Application, form: FormDef, summary: BudgetSummary
                     ) -> tuple[list[str], list[str]]:
    """What the document asks of the funder stays within the project's grant: a revised
    budget on its own (`within_grant`), a payment claim with the claims before it
    (`claims_payment`)."""
    rules = form.actuals
    if not (rules.claims_payment or rules.within_grant) or document.parent_id is None:
        return [], []
    grant = grant_of(document.parent_id)
    if grant is None or grant.granted_amount is None:
        return [], []
    granted = grant.granted_amount
    if rules.claims_payment:
        earlier = _earlier_claims(document)
        if earlier + summary.requested > granted:
            return [_("This claim of %(claim)s and the earlier claims of %(earlier)s come to "
                      "%(total)s, more than the grant of %(grant)s.",
                      claim=format_money(summary.requested), earlier=format_money(earlier),
                      total=format_money(earlier + summary.requested),
                      grant=format_money(granted))], []
    elif summary.requested > granted:
        return [_("The budget asks %(requested)s of the funder (total cost %(total)s minus "
                  "co-financing %(cofinancing)s), more than the grant of %(grant)s.",
                  requested=format_money(summary.requested),
                  total=format_money(summary.total_cost),
                  cofinancing=format_money(summary.cofinancing),
                  grant=format_money(granted))], []
    return [], []


@figure_check
def costs_balance_financing(document: Application, form: FormDef, summary: BudgetSummary
                            ) -> tuple[list[str], list[str]]:
    """The actual costs equal the financing: the grant plus the actual co-financing
    (`costs_balance_financing`, Kulturrådet's final report)."""
    if not form.actuals.costs_balance_financing or document.parent_id is None:
        return [], []
    grant = grant_of(document.parent_id)
    if grant is None or grant.granted_amount is None:
        return [], []
    financing = grant.granted_amount + summary.cofinancing
    if summary.total_cost != financing:
        return [_("The actual costs %(costs)s do not balance the financing %(financing)s (the "
                  "grant %(grant)s plus the actual co-financing %(cofinancing)s): a "
                  "difference of %(difference)s.", costs=format_money(summary.total_cost),
                  financing=format_money(financing), grant=format_money(grant.granted_amount),
                  cofinancing=format_money(summary.cofinancing),
                  difference=format_money(abs(summary.total_cost - financing)))], []
    return [], []
