"""The application's own guard (`form_complete`). Guards and effects are registered by name
(grants.workflow.registry) by the feature they belong to – budget, partners, deadlines,
submissions, approvals – each in its own folder. A guard returns the list of what is missing
(empty: passes); an effect runs inside the transition's transaction and may record jobs."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from grants.applications.context import TransitionContext
from grants.formengine.definition import FormDef, field_is_shown, is_empty, section_instances
from grants.i18n import pick_label
from grants.workflow.registry import guards


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
