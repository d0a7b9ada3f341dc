"""What partners' sign-off does when something else happens (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.applications.queries import current_partners, load_answers
from grants.partners.confirmation import void_changed_confirmations


@events.content_changed.connect(order=10)
def void_confirmations_of_changed_content(*, application, actor, form, what: str) -> None:
    """A confirmation vouches for the common sections, the partner's own part and the budget:
    when one of those changed, it is void and the partner is told (a changed partner list
    changes none of them)."""
    if what == "partners" or form is None:
        return
    void_changed_confirmations(application, form, load_answers(application.id),
                               current_partners(application.id), actor)
