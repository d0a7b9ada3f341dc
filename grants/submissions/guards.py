"""The submissions' guards and effects that workflow files name: freezing the copy of record,
withdrawing it, and the funder's recorded decision."""

from __future__ import annotations

from flask_babel import gettext as _

from grants.applications.context import TransitionContext
from grants.submissions.operations import current_decision, freeze_submission
from grants.submissions.operations import withdraw_submission as withdraw
from grants.workflow.registry import effects, guards


@effects.register("render_final_pdf")
def render_final_pdf(ctx: TransitionContext) -> None:
    """Freeze the submission (snapshot + SHA-256) and record the job that renders its archival
    PDF/A and reading copy from that snapshot only."""
    freeze_submission(ctx)


@effects.register("withdraw_submission")
def withdraw_submission(ctx: TransitionContext) -> None:
    """The current submission stops counting (kept with its PDF and delivery log)."""
    withdraw(ctx)


@guards.register("resubmission_allowed")
def resubmission_allowed(ctx: TransitionContext) -> list[str]:
    if not ctx.application.call.allow_resubmission:
        return [_("The call does not allow withdrawing a submission to submit it again.")]
    return []


def _decision_recorded(ctx: TransitionContext, outcome: str) -> list[str]:
    decision = current_decision(ctx.application.id)
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


@guards.register("acceptance_recorded")
def acceptance_recorded(ctx: TransitionContext) -> list[str]:
    return _decision_recorded(ctx, "accepted")


@guards.register("return_recorded")
def return_recorded(ctx: TransitionContext) -> list[str]:
    return _decision_recorded(ctx, "returned")
