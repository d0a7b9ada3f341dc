"""The domain events the features exchange.

An operation sends an event after it has changed its rows (flushed) and before its single
commit; every subscriber runs synchronously, inside that same transaction, so the change and
everything the subscribers do commit together or not at all. The sender never imports the
subscribers: each feature connects its own, in its own folder (`subscribers.py`), and
`grants.features` imports them all at start-up.

Subscribers run in a fixed order: by `order` (lower first), then in the order they were
connected. Order matters where one subscriber's work feeds another's (the partners'
confirmations are voided before the steering group's round compares fingerprints).

This is a small ordered hook list rather than blinker's signals, because blinker promises no
order among receivers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Subscriber = Callable[..., None]


@dataclass
class Event:
    name: str
    doc: str
    _subscribers: list[tuple[int, int, Subscriber]] = field(default_factory=list, repr=False)

    def connect(self, function: Subscriber | None = None, *, order: int = 100):
        """Subscribe `function` (usable as `@event.connect` or `@event.connect(order=10)`).
        Connecting the same function twice keeps one subscription."""
        def decorator(fn: Subscriber) -> Subscriber:
            if all(existing is not fn for _o, _n, existing in self._subscribers):
                self._subscribers.append((order, len(self._subscribers), fn))
                self._subscribers.sort(key=lambda item: (item[0], item[1]))
            return fn
        return decorator(function) if function is not None else decorator

    def disconnect(self, function: Subscriber) -> None:
        self._subscribers = [s for s in self._subscribers if s[2] is not function]

    @property
    def subscribers(self) -> list[Subscriber]:
        return [fn for _order, _n, fn in self._subscribers]

    def send(self, **payload: Any) -> None:
        """Call every subscriber with the payload as keyword arguments, in order. An exception
        propagates to the sender, whose transaction then rolls back as a whole."""
        for fn in self.subscribers:
            fn(**payload)


application_created = Event("application_created", """\
Sent by `applications.operations.create_application` after the new application (its first
history row and pinned workflow) is flushed.
Carries: application (Application), actor (User).""")

content_changed = Event("content_changed", """\
Sent whenever what an application says changes: a section saved or the application moved to
the current version of its form (`applications`), a budget line or co-financing row added,
changed or removed (`budget`), a partner added, removed or given a new contact (`partners`).
Sent after the change is flushed, before the commit.
Carries: application (Application), actor (User), form (FormDef: the version the application
now uses), what ("section", "form", "budget" or "partners").
Subscribers compare fingerprints: partners' confirmations of changed content are voided
(order 10), and a steering group's open round restarts when what it votes on changed (order 20).""")

state_entered = Event("state_entered", """\
Sent when an application has entered a state: after a transition (its history row, the
compare-and-set of the state and the transition's effects) and after a coordinator moved it onto
the current workflow version. Sent before the commit.
Carries: application (Application), workflow (Workflow), form (FormDef), actor (User),
from_state (str).
Subscribers: approvals opens a round when the new state is decided by vote; applications
(order 200) tells whose turn it is (applications/turns.py).""")

submission_frozen = Event("submission_frozen", """\
Sent by `submissions.operations.freeze_submission` (the `render_final_pdf` effect) once the
submission's snapshot and SHA-256 are stored and its archival render job is recorded.
Carries: submission (Submission), application (Application), actor (User).""")

submission_archived = Event("submission_archived", """\
Sent by the archival job when a submission's archival PDF/A and reading copy are stored (in the
job's transaction, before its commit), the first time only.
Carries: submission (Submission).
Subscribers: delivery starts sending the copy of record to the funder (once per submission).""")

call_deadlines_changed = Event("call_deadlines_changed", """\
Sent by `admin.operations.save_call` when a call's deadline or milestones were created or
changed. Carries: call (Call).
Subscribers: deadlines rewrites the reminders of every application of the call.""")

ALL_EVENTS = (application_created, content_changed, state_entered, submission_frozen,
              submission_archived, call_deadlines_changed)

decision_recorded = Event("decision_recorded", """\
Sent by `submissions.operations.record_decision` when the funder's answer to a submission is
recorded (flushed), before the transition it fires and the single commit.
Carries: application (Application), decision (FunderDecision), submission (Submission or
None), actor (User).
Subscribers: reporting starts the project of a grant (its revised budget and reports).""")

reference_renamed = Event("reference_renamed", """\
Sent by the administration (`admin.operations`) when a saved call's title, a funder's name or
short name, or an organisation's name changed, after the flush and before the commit.
Carries: kind ("call", "funder" or "organisation"), object_id (int).
Subscribers: search rewrites the index rows of the applications that name it.""")
