"""What the applications feature does when something else happens (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.applications.turns import tell_whose_turn


@events.state_entered.connect(order=200)
def tell_whose_turn_it_is(*, application, workflow, form, actor, from_state) -> None:
    """After the state's own subscribers (a vote round tells its voters first, order 100):
    the people who can act next, the partners whose confirmation is due, and the lead."""
    tell_whose_turn(application, workflow, form, actor, from_state)
