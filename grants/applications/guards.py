"""Guards and effects that workflow files name. A guard returns the list of what is missing
(empty: passes); an effect runs inside the transition's transaction and may record jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from grants.accounts.models import User
from grants.applications.models import Application
from grants.db import utcnow
from grants.forms.definition import FormDef, field_is_shown, is_empty, section_instances
from grants.i18n import format_datetime_local, pick_label
from grants.workflow.definition import Workflow
from grants.workflow.registry import effects, guards


@dataclass
class TransitionContext:
    application: Application
    actor: User
    workflow: Workflow
    form: FormDef
    answers: dict[str, dict[str, Any]]
    comment: str = ""
    partners: list = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def missing_fields(form: FormDef, answers: dict[str, dict[str, Any]],
                   partner_ids: list[int] | None = None) -> list[tuple[str, str]]:
    """(instance key, field id) of every required field (that applies) without a value, and of
    tables with fewer rows than they need – in common sections and in each partner's part."""
    missing = []
    for section, _partner_id, key in section_instances(form, partner_ids or []):
        values = answers.get(key, {})
        for form_field in section.fields:
            if not field_is_shown(form, form_field, answers, key):
                continue
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
    return problems


@guards.register("before_deadline")
def before_deadline(ctx: TransitionContext) -> list[str]:
    call = ctx.application.call
    if utcnow() >= call.deadline_at:
        return [_("The call closed on %(deadline)s.",
                  deadline=format_datetime_local(call.deadline_at))]
    return []


@guards.register("budget_within_rules")
def budget_within_rules(ctx: TransitionContext) -> list[str]:
    from grants.budget.operations import budget_summary, load_budget  # noqa: PLC0415
    from grants.budget.totals import rule_problems  # noqa: PLC0415
    from grants.i18n import format_money  # noqa: PLC0415
    call = ctx.application.call
    return rule_problems(budget_summary(*load_budget(ctx.application.id)),
                         max_requested=call.max_requested_amount,
                         min_cofinancing_percent=call.min_cofinancing_percent,
                         max_indirect_percent=call.max_indirect_percent,
                         money=format_money, gettext=_)


@guards.register("partners_confirmed")
def partners_confirmed(ctx: TransitionContext) -> list[str]:
    from grants.partners.confirmation import unconfirmed_problems  # noqa: PLC0415
    return unconfirmed_problems(ctx.application, ctx.form, ctx.answers, ctx.partners)


@effects.register("render_final_pdf")
def render_final_pdf(ctx: TransitionContext) -> None:
    from grants.applications.operations import record_render_job  # noqa: PLC0415
    ctx.notes["final_job"] = record_render_job(ctx.application, ctx.form, ctx.answers,
                                               ctx.actor, kind="final", partners=ctx.partners)
