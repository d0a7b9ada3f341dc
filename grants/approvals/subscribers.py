"""What the steering group's rounds do when something else happens (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.approvals.operations import on_state_entered, restart_round_if_changed


@events.content_changed.connect(order=20)
def restart_the_round_when_content_changed(*, application, actor, form, what: str) -> None:
    """Votes cast on an older version are void: the open round restarts on the new one. Runs
    after the partners' confirmations are settled (order 20 > 10)."""
    restart_round_if_changed(application, form, actor)


@events.state_entered.connect
def open_a_round_when_voting_starts(*, application, workflow, form, actor, from_state) -> None:
    on_state_entered(application, workflow, form, actor)
