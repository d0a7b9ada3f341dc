"""The application's own guard (`form_complete`). Guards and effects are registered by name
(grants.workflow.registry) by the feature they belong to – budget, partners, deadlines,
submissions, approvals – each in its own folder. A guard returns the list of what is missing
(empty: passes); an effect runs inside the transition's transaction and may record jobs."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from grants.applications.context import TransitionContext
from grants.budget.facts import budget_facts
from grants.formengine.definition import (
    Disagreement,
    Facts,
    FormDef,
    field_is_shown,
    is_empty,
    mirror_disagreements,
    section_instances,
)
from grants.i18n import format_money, pick_label
from grants.workflow.registry import guards


def missing_fields(form: FormDef, answers: dict[str, dict[str, Any]],
                   partner_ids: list[int] | None = None) -> list[tuple[str, str]]:
    """(instance key, field id) of every required field (that applies) without a value, and of
    tables with fewer rows than they need – in common sections and in each partner's part."""
    missing = []
    for section, _partner_id, key in section_instances(form, partner_ids or []):
        values = answers.get(key, {})
        for form_field in section.fields:
            if form_field.is_filled_in or not field_is_shown(form, form_field, answers, key):
                continue  # a figure filled in from the budget is the budget's to complete
            value = values.get(form_field.id)
            if isinstance(value, str):
                value = value.strip()
            if form_field.type == "table":
                if len(value or []) < max(form_field.min_rows, 1 if form_field.required else 0):
                    missing.append((key, form_field.id))
            elif form_field.required and is_empty(value):
                missing.append((key, form_field.id))
    return missing


@guards.register("form_complete")
def form_complete(ctx: TransitionContext) -> list[str]:
    problems = []
    names = {p.id: p.organisation.name for p in ctx.partners}
    for key, field_id in missing_fields(ctx.form, ctx.answers, [p.id for p in ctx.partners]):
        section_key, _sep, partner_id = key.partition("@")
        section = ctx.form.section(section_key)
        form_field = next(f for f in section.fields if f.id == field_id)
        title = pick_label(section.title)
        if partner_id:
            title = f"{title} ({names.get(int(partner_id), '?')})"
        problems.append(_("%(section)s: “%(field)s” is not filled in.",
                          section=title, field=pick_label(form_field.label)))
    facts = budget_facts(ctx.application.id, ctx.partners)
    return problems + fact_problems(ctx.form, ctx.answers, facts, names)


def _instance_title(form: FormDef, key: str, names: dict[int, str]) -> str:
    section_key, _sep, partner_id = key.partition("@")
    title = pick_label(form.section(section_key).title)
    return f"{title} ({names.get(int(partner_id), '?')})" if partner_id else title


def _stated(disagreement: Disagreement) -> str:
    if disagreement.field.mirrors.kind == "money":
        return format_money(disagreement.stated)
    return str(disagreement.stated)


def disagreement_message(form: FormDef, disagreement: Disagreement,
                         names: dict[int, str]) -> str:
    """Both figures, and which one to correct."""
    title = _instance_title(form, disagreement.key, names)
    label = pick_label(disagreement.field.label)
    fact = disagreement.field.mirrors.fact
    if fact == "budget.first_year":
        return _("%(section)s: “%(field)s” is %(date)s, but the budget has costs in "
                 "%(year)d, before that year. Correct the date or the budget.",
                 section=title, field=label, date=_stated(disagreement),
                 year=disagreement.computed)
    if fact == "budget.last_year":
        return _("%(section)s: “%(field)s” is %(date)s, but the budget has costs in "
                 "%(year)d, after that year. Correct the date or the budget.",
                 section=title, field=label, date=_stated(disagreement),
                 year=disagreement.computed)
    return _("%(section)s: “%(field)s” says %(stated)s, but the budget gives %(computed)s. "
             "Correct the field or the budget so that both say the same.",
             section=title, field=label, stated=_stated(disagreement),
             computed=format_money(disagreement.computed))


def fact_problems(form: FormDef, answers: dict[str, dict[str, Any]], facts: Facts,
                  names: dict[int, str]) -> list[str]:
    """What stops one fact from having one value: a figure filled in from a budget that has
    no cost lines yet, and a typed figure that disagrees with the budget."""
    problems = []
    if not facts:
        for section, _partner_id, key in section_instances(form, list(names)):
            for form_field in section.fields:
                if form_field.is_filled_in and form_field.required and \
                        field_is_shown(form, form_field, answers, key):
                    problems.append(_("%(section)s: “%(field)s” is taken from the budget, "
                                      "which has no cost lines yet.",
                                      section=_instance_title(form, key, names),
                                      field=pick_label(form_field.label)))
    return problems + [disagreement_message(form, d, names)
                       for d in mirror_disagreements(form, answers, facts, list(names))]
