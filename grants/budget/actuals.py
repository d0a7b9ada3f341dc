"""A document's figures against its baseline, read from the database: the comparison the
budget tab shows, whose figures a reader may see, the written explanations of deviations, and
what the `actuals_within_rules` guard refuses (docs/reporting.md).

Checks that need to know more than the budget (the project's grant) are registered by the
feature that knows it (`@figure_check`, reporting), so this module never imports it."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.budget.comparison import Comparison, actual_problems, compare
from grants.budget.models import BudgetLine, Cofinancing, VarianceExplanation
from grants.budget.operations import budget_summary, load_budget
from grants.budget.totals import BudgetSummary
from grants.db import db
from grants.formengine.definition import FormDef
from grants.i18n import format_money
from grants.labels import category_label

# (document, its form, its budget summary) -> (refused, flagged) messages
FigureCheck = Callable[[Application, FormDef, BudgetSummary], tuple[list[str], list[str]]]
_FIGURE_CHECKS: list[FigureCheck] = []

SEES_ALL = {"lead", "coordinator", "steering"}


def figure_check(function: FigureCheck) -> FigureCheck:
    """Register a check of a document's figures (it answers for documents it concerns)."""
    if function not in _FIGURE_CHECKS:
        _FIGURE_CHECKS.append(function)
    return function


def visible_organisations(document: Application, form: FormDef | None, roles: set[str],
                          actor: User, partners: list) -> set[int] | None:
    """Whose figures this reader sees on the document: everyone's (None), or – where the
    form says partners see their own only (`actuals: {partners_see: own}`) and the reader is
    only a partner – the organisations the reader belongs to or is the contact of."""
    if form is None or form.actuals.partners_see != "own" or SEES_ALL & roles:
        return None
    own = set(actor.organisation_ids) if actor.is_authenticated else set()
    own |= {p.organisation_id for p in partners if p.contact_user_id == actor.id}
    return own


def _earlier_documents(document: Application) -> list[int]:
    """Earlier documents of the same kind in the same project (the periods before)."""
    if document.parent_id is None or document.sequence is None:
        return []
    return list(db.session.scalars(select(Application.id).where(
        Application.parent_id == document.parent_id, Application.kind == document.kind,
        Application.sequence < document.sequence)))


def document_comparison(document: Application, partners: list,
                        visible: set[int] | None = None,
                        lines=None, items=None) -> Comparison | None:
    """The document's figures against its baseline (None: it has none)."""
    if document.baseline_id is None:
        return None
    organisations = [(document.lead_organisation_id, document.lead_organisation.name)] + [
        (p.organisation_id, p.organisation.name) for p in partners]
    if visible is not None:
        organisations = [o for o in organisations if o[0] in visible]
    base_lines, base_items = load_budget(document.baseline_id)
    if lines is None or items is None:
        lines, items = load_budget(document.id)
    earlier = _earlier_documents(document)
    earlier_lines = list(db.session.scalars(select(BudgetLine).where(
        BudgetLine.application_id.in_(earlier)))) if earlier else []
    earlier_items = list(db.session.scalars(select(Cofinancing).where(
        Cofinancing.application_id.in_(earlier)))) if earlier else []
    return compare(organisations=organisations, baseline_lines=base_lines, actual_lines=lines,
                   baseline_cofinancing=base_items, actual_cofinancing=items,
                   earlier_lines=earlier_lines, earlier_cofinancing=earlier_items)


def explanations(document_id: int) -> dict[tuple[int, str], VarianceExplanation]:
    return {(e.organisation_id, e.category): e for e in db.session.scalars(
        select(VarianceExplanation).where(VarianceExplanation.application_id == document_id))}


def figure_problems(document: Application, form: FormDef, partners: list,
                    comparison: Comparison | None = None, summary: BudgetSummary | None = None
                    ) -> tuple[list[str], list[str]]:
    """(what refuses a transition guarded by `actuals_within_rules`, what is only flagged)."""
    if summary is None:
        summary = budget_summary(*load_budget(document.id), form)
    refused, flagged = [], []
    if comparison is None:
        comparison = document_comparison(document, partners)
    if comparison is not None:
        explained = {key for key, e in explanations(document.id).items() if e.text.strip()}
        r, f = actual_problems(comparison, form.actuals, explained, money=format_money,
                               category=lambda key: category_label(key, form.cost_categories),
                               gettext=_)
        refused += r
        flagged += f
    for check in _FIGURE_CHECKS:
        r, f = check(document, form, summary)
        refused += r
        flagged += f
    return refused, flagged
