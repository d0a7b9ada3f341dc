"""The partners' guards that workflow files name: every partner has confirmed this version
(`partners_confirmed`); the lead organisation's signatory has signed it (`lead_signed`)."""

from __future__ import annotations

from grants.applications.context import TransitionContext
from grants.partners.confirmation import LEAD_GUARD, unconfirmed_problems, unsigned_lead_problems
from grants.workflow.registry import guards

# Guards that need the partners' confirmations: a transition requiring one of them makes the
# confirmation due (applications/turns.py tells the partners).
CONFIRMATION_GUARDS = frozenset({"partners_confirmed"})


@guards.register("partners_confirmed")
def partners_confirmed(ctx: TransitionContext) -> list[str]:
    return unconfirmed_problems(ctx.application, ctx.form, ctx.answers, ctx.partners)


@guards.register(LEAD_GUARD)
def lead_signed(ctx: TransitionContext) -> list[str]:
    """The lead organisation's authorised signatory has signed this very version."""
    return unsigned_lead_problems(ctx.application, ctx.form, ctx.answers)
