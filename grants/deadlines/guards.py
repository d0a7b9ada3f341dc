"""The deadlines' guard that workflow files name."""

from __future__ import annotations

from grants.applications.context import TransitionContext
from grants.deadlines.operations import deadline_problems
from grants.workflow.registry import guards


@guards.register("before_deadline")
def before_deadline(ctx: TransitionContext) -> list[str]:
    """The application's effective deadline (a coordinator's extension, else the call's) has
    not passed; the message names it in Swedish time."""
    return deadline_problems(ctx.application)
