"""Guards and effects that workflow files name. A guard returns the list of what is missing
(empty: passes); an effect runs inside the transition's transaction and may record jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from grants.accounts.models import User
from grants.applications.models import Application
from grants.forms.definition import FormDef, field_is_shown, is_empty, section_instances
from grants.i18n import pick_label
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
    """The application's effective deadline (a coordinator's extension, else the call's) has
    not passed; the message names it in Swedish time."""
    from grants.deadlines.operations import deadline_problems  # noqa: PLC0415
    return deadline_problems(ctx.application)


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
    """Freeze the submission (snapshot + SHA-256) and record the job that renders its archival
    PDF/A and reading copy from that snapshot only."""
    from grants.submissions.operations import freeze_submission  # noqa: PLC0415
    freeze_submission(ctx)


@effects.register("withdraw_submission")
def withdraw_submission(ctx: TransitionContext) -> None:
    """The current submission stops counting (kept with its PDF and delivery log)."""
    from grants.submissions.operations import withdraw_submission as withdraw  # noqa: PLC0415
    withdraw(ctx)


@guards.register("resubmission_allowed")
def resubmission_allowed(ctx: TransitionContext) -> list[str]:
    if not ctx.application.call.allow_resubmission:
        return [_("The call does not allow withdrawing a submission to submit it again.")]
    return []


def _decision_recorded(ctx: TransitionContext, outcome: str) -> list[str]:
    from sqlalchemy import select  # noqa: PLC0415
    from grants.db import db  # noqa: PLC0415
    from grants.submissions.models import FunderDecision  # noqa: PLC0415
    decision = db.session.scalar(select(FunderDecision).where(
        FunderDecision.application_id == ctx.application.id))
    if decision is None or decision.outcome != outcome:
        return [_("Record the funder's decision with the decision form (amount, date, "
                  "reference and letter).")]
    return []


@guards.register("grant_recorded")
def grant_recorded(ctx: TransitionContext) -> list[str]:
    return _decision_recorded(ctx, "granted")


@guards.register("rejection_recorded")
def rejection_recorded(ctx: TransitionContext) -> list[str]:
    return _decision_recorded(ctx, "rejected")


@effects.register("notify_everyone_involved")
def notify_everyone_involved(ctx: TransitionContext) -> None:
    """Tell the lead, every partner's contact, the steering group and the coordinators that
    the application has reached its new state (used on submission)."""
    from sqlalchemy import select  # noqa: PLC0415
    from grants.approvals.models import SteeringMember  # noqa: PLC0415
    from grants.db import db  # noqa: PLC0415
    from grants.notifications.notify import notify  # noqa: PLC0415
    application = ctx.application
    people = [application.lead_user] + [p.contact_user for p in ctx.partners
                                        if p.contact_user is not None]
    group_id = application.call.steering_group_id
    if group_id is not None:
        people += [m.user for m in db.session.scalars(select(SteeringMember).where(
            SteeringMember.group_id == group_id))]
    people += list(db.session.scalars(select(User).where(User.is_coordinator.is_(True))))
    state = ctx.workflow.state(application.state)

    def build():
        label = pick_label(state.label) if state else application.state
        return (_("%(title)s: %(state)s", title=application.title, state=label),
                _("The application “%(title)s” (%(organisation)s) is now in state "
                  "“%(state)s”. Thank you, everyone who took part.", title=application.title,
                  organisation=application.lead_organisation.name, state=label))
    notify(people, "state_" + application.state, build, application_id=application.id,
           endpoint="applications.show")
