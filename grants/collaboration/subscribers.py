"""What working together does when something else happens (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.collaboration.revisions import TOUCHES, keep_revisions


@events.content_changed.connect(order=5)
def keep_the_new_version(*, application, actor, form, what) -> None:
    """Every save keeps a version: the targets the change touched that now differ from their
    last kept version get a new revision, in the change's own transaction."""
    if what in TOUCHES:
        keep_revisions(application, actor.id if actor is not None else None, [TOUCHES[what]])
