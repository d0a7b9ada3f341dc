"""The budget page: cost lines and co-financing per organisation, totals, the call's rules."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from grants.applications.page import load_application_page, workspace_context
from grants.applications.queries import current_partners
from grants.budget import actuals, operations
from grants.budget.comparison import actual_problems, needs_explanation, percent_text
from grants.budget.forms import BudgetLineForm, CofinancingForm, DeleteForm, ExplanationForm
from grants.budget.models import BudgetLine, Cofinancing, CofinancingKind, CofinancingSource
from grants.budget.totals import rule_problems
from grants.errors import OperationRefused
from grants.i18n import format_money
from grants.labels import category_label, cofinancing_label

bp = Blueprint("budget", __name__)


def _load(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    partners = current_partners(application.id)
    allowed = operations.editable_organisations(application, roles, current_user, workflow,
                                                partners)
    return application, roles, workflow, partners, allowed, form_def


def _years(application) -> list[int]:
    """The years a cost may fall in: those of the period the document covers (a report), else
    five from this year or the call's."""
    if application.period_start is not None and application.period_end is not None:
        return list(range(application.period_start.year, application.period_end.year + 1))
    start = max(date.today().year, application.call.deadline_at.year)
    return list(range(start, start + 5))


def _prepare(forms, application, partners, allowed, form_def):
    organisations = [application.lead_organisation] + [p.organisation for p in partners]
    choices = [SelectChoice(o.id, o.name) for o in organisations if o.id in allowed]
    for form in forms:
        form.organisation_id.choices = choices
        form.year.choices = [SelectChoice(y, str(y)) for y in _years(application)]
    # The application's form's cost categories (`cost_categories:`, today's by default).
    forms[0].category.choices = [SelectChoice(c.key, category_label(c.key,
                                                                    form_def.cost_categories))
                                 for c in form_def.cost_categories]
    forms[1].kind.choices = [SelectChoice(k.value, cofinancing_label(k.value))
                             for k in CofinancingKind]
    forms[1].source.choices = [SelectChoice(s.value, cofinancing_label(s.value))
                               for s in CofinancingSource]
    return organisations


def _names_guard(workflow, guard: str) -> bool:
    return any(guard in t.requires for t in workflow.transitions.values())


def _page(application, roles, workflow, partners, allowed, form_def, line_form, cofin_form,
          status=200, explanation_forms=None):
    """The budget tab of the document's workspace: its figures, and where it has a baseline
    (a report: the budget it reports on) the figures against that budget, with the rules of
    the form (`actuals:`). A partner who may see only its own figures sees only those."""
    organisations = _prepare([line_form, cofin_form], application, partners, allowed, form_def)
    lines, items = operations.load_budget(application.id)
    visible = actuals.visible_organisations(application, form_def, roles, current_user,
                                            partners)
    if visible is not None:
        organisations = [o for o in organisations if o.id in visible]
        lines = [line for line in lines if line.organisation_id in visible]
        items = [item for item in items if item.organisation_id in visible]
    summary = operations.budget_summary(lines, items, form_def)
    call = application.call
    problems = rule_problems(summary, max_requested=call.max_requested_amount,
                             min_cofinancing_percent=call.min_cofinancing_percent,
                             max_indirect_percent=call.max_indirect_percent,
                             money=format_money, gettext=_) if _names_guard(
        workflow, "budget_within_rules") else []
    comparison = actuals.document_comparison(application, partners, visible, lines, items)
    refused, flagged = [], []
    if _names_guard(workflow, "actuals_within_rules"):
        if visible is None:
            refused, flagged = actuals.figure_problems(application, form_def, partners,
                                                       comparison, summary)
        elif comparison is not None:
            refused, flagged = actual_problems(
                comparison, form_def.actuals, _explained(application.id), money=format_money,
                category=lambda key: category_label(key, form_def.cost_categories), gettext=_)
    explained = actuals.explanations(application.id)
    to_explain = []
    if comparison is not None:
        forms_given = explanation_forms or {}
        for org, key, figures in needs_explanation(comparison, form_def.actuals):
            given = explained.get((org.organisation_id, key))
            form = forms_given.get((org.organisation_id, key)) or ExplanationForm(
                formdata=None, prefix=f"explain-{org.organisation_id}-{key}",
                organisation_id=org.organisation_id, category=key,
                text=given.text if given else "")
            form.text.label.text = _("Explanation: %(organisation)s, %(category)s",
                                     organisation=org.name,
                                     category=category_label(key, form_def.cost_categories))
            to_explain.append({"organisation": org, "category": key, "figures": figures,
                               "explanation": given, "form": form,
                               "editable": org.organisation_id in allowed})
    return render_template("budget/index.html",
                           **workspace_context(application, roles, workflow, form_def, "budget",
                                               partners=partners),
                           organisations=organisations, lines=lines, items=items,
                           summary=summary, problems=problems, allowed=allowed,
                           line_form=line_form, cofin_form=cofin_form,
                           delete_form=DeleteForm(), categories=form_def.cost_categories,
                           used_categories=_used_categories(form_def, summary),
                           comparison=comparison, refused=refused, flagged=flagged,
                           to_explain=to_explain, explained=explained,
                           only_own=visible is not None, percent_text=percent_text), status


def _explained(application_id: int) -> set[tuple[int, str]]:
    return {key for key, e in actuals.explanations(application_id).items() if e.text.strip()}


def _used_categories(form_def, summary) -> list[str]:
    """The categories with costs, the form's first, then any the form no longer has."""
    keys = [c.key for c in form_def.cost_categories]
    return ([k for k in keys if summary.by_category.get(k)]
            + sorted(k for k in summary.by_category if k not in keys))


@bp.get("/applications/<int:application_id>/budget")
def index(application_id: int):
    application, roles, workflow, partners, allowed, form_def = _load(application_id)
    return _page(application, roles, workflow, partners, allowed, form_def,
                 BudgetLineForm(prefix="line"), CofinancingForm(prefix="cofin"))


@bp.post("/applications/<int:application_id>/budget/lines")
def add_line(application_id: int):
    return _add_item(application_id, cofinancing=False)


@bp.post("/applications/<int:application_id>/budget/cofinancing")
def add_cofinancing(application_id: int):
    return _add_item(application_id, cofinancing=True)


def _add_item(application_id: int, *, cofinancing: bool):
    """A cost line or a co-financing row: the form posted, the other one shown empty."""
    application, roles, workflow, partners, allowed, form_def = _load(application_id)
    if not allowed:
        abort(403)
    if cofinancing:
        lines, cofin = BudgetLineForm(prefix="line", formdata=None), CofinancingForm(prefix="cofin")
        form, add, anchor = cofin, operations.add_cofinancing, "cofinancing"
        done = _("The co-financing was added.")
    else:
        lines, cofin = BudgetLineForm(prefix="line"), CofinancingForm(prefix="cofin", formdata=None)
        form, add, anchor = lines, operations.add_line, "costs"
        done = _("The cost was added.")
    _prepare([lines, cofin], application, partners, allowed, form_def)
    if form.validate_on_submit():
        try:
            add(actor=current_user, application=application, allowed=allowed, data=form.data)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            flash(done, "success")
            return redirect(url_for(".index", application_id=application.id, _anchor=anchor),
                            303)
    return _page(application, roles, workflow, partners, allowed, form_def, lines, cofin, 422)


@bp.post("/applications/<int:application_id>/budget/explanations")
def explain(application_id: int):
    """A written explanation of a deviation from the budget, by whoever may change that
    organisation's figures now."""
    application, roles, workflow, partners, allowed, form_def = _load(application_id)
    if not allowed:
        abort(403)
    # Each explanation's form has its own prefix (its ids stay unique on the page).
    prefix = next((k[:-len("-text")] for k in request.form if k.endswith("-text")), None)
    form = ExplanationForm(prefix=prefix or "explain")
    if prefix is None or not form.validate_on_submit():
        abort(400)
    try:
        operations.save_explanation(actor=current_user, application=application,
                                    allowed=allowed, organisation_id=form.organisation_id.data,
                                    category=form.category.data, text=form.text.data or "")
    except OperationRefused as refused:
        form.form_errors.append(refused.message)
        key = (form.organisation_id.data, form.category.data)
        return _page(application, roles, workflow, partners, allowed, form_def,
                     BudgetLineForm(prefix="line", formdata=None),
                     CofinancingForm(prefix="cofin", formdata=None), 422,
                     explanation_forms={key: form})
    flash(_("The explanation was saved."), "success")
    return redirect(url_for(".index", application_id=application.id, _anchor="actuals"), 303)


@bp.post("/applications/<int:application_id>/budget/<kind>/<int:item_id>/delete")
def delete(application_id: int, kind: str, item_id: int):
    application, _roles, _workflow, _partners, allowed, _form = _load(application_id)
    model = {"lines": BudgetLine, "cofinancing": Cofinancing}.get(kind)
    if model is None or not DeleteForm().validate_on_submit():
        abort(404 if model is None else 400)
    try:
        operations.delete_item(actor=current_user, application=application, allowed=allowed,
                               model=model, item_id=item_id)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The row was removed."), "success")
    return redirect(url_for(".index", application_id=application.id), 303)
