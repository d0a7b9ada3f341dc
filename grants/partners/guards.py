"""The partners' guard that workflow files name: every partner has confirmed this version."""

from __future__ import annotations

from grants.applications.context import TransitionContext
from grants.partners.confirmation import unconfirmed_problems
from grants.workflow.registry import guards

# Guards that need the partners' confirmations: a transition requiring one of them makes the
# confirmation due (applications/turns.py tells the partners).
CONFIRMATION_GUARDS = frozenset({"partners_confirmed"})


@guards.register("partners_confirmed")
def partners_confirmed(ctx: TransitionContext) -> list[str]:
    return unconfirmed_problems(ctx.application, ctx.form, ctx.answers, ctx.partners)
