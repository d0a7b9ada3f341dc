"""Answers what an actor may do and applies transitions to plain state values."""

from __future__ import annotations

from collections.abc import Iterable

from grants.workflow.definition import Transition, Workflow


class TransitionRefused(Exception):
    """A transition may not be fired. `reason` is a stable code, `detail` plain data for
    the message the caller shows."""

    def __init__(self, reason: str, **detail):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def available_transitions(workflow: Workflow, state: str, roles: Iterable[str]) -> list[Transition]:
    """The transitions these roles may fire from `state` (guards not yet checked)."""
    roles = set(roles)
    return [t for t in workflow.transitions_from(state)
            if t.quorum is None and roles.intersection(t.by)]


def decision_transition(workflow: Workflow, state: str) -> Transition | None:
    """The transition out of `state` that the steering group decides by vote, if any."""
    return next((t for t in workflow.transitions_from(state) if t.quorum is not None), None)


def check_transition(workflow: Workflow, state: str, name: str, roles: Iterable[str],
                     comment: str = "", *, by_votes: bool = False) -> Transition:
    """Return the transition if these roles may fire it from `state`; raise otherwise.
    A transition with a quorum is fired only by the votes (`by_votes`), never by one person."""
    transition = workflow.transitions.get(name)
    if transition is None:
        raise TransitionRefused("unknown_transition", transition=name)
    current = workflow.state(state)
    if current is None:
        raise TransitionRefused("unknown_state", state=state)
    if current.terminal or state not in transition.sources:
        raise TransitionRefused("wrong_state", transition=name, state=state)
    if transition.quorum is not None and not by_votes:
        raise TransitionRefused("needs_votes", transition=name)
    if not by_votes and not set(roles).intersection(transition.by):
        raise TransitionRefused("forbidden", transition=name)
    if transition.comment_required and not (comment or "").strip():
        raise TransitionRefused("comment_required", transition=name)
    return transition


def apply_transition(workflow: Workflow, state: str, name: str, roles: Iterable[str],
                     comment: str = "") -> str:
    """The state after firing `name` from `state`."""
    return check_transition(workflow, state, name, roles, comment).target


def replay(workflow: Workflow, steps: Iterable[tuple[str, str]]) -> str:
    """Replay recorded (from_state, transition) pairs from the initial state; return the end
    state. Raises TransitionRefused when the history is inconsistent."""
    state = workflow.initial
    for from_state, name in steps:
        if from_state != state:
            raise TransitionRefused("history_mismatch", expected=state, recorded=from_state)
        transition = workflow.transitions.get(name)
        if transition is None or state not in transition.sources:
            raise TransitionRefused("wrong_state", transition=name, state=state)
        state = transition.target
    return state


def editable_parts(workflow: Workflow, state: str, roles: Iterable[str]) -> set[str]:
    """Which parts of the form ('common', 'partner_part', ...) these roles may edit now."""
    current = workflow.state(state)
    if current is None:
        return set()
    roles = set(roles)
    return {part for part, allowed in current.edit.items() if roles.intersection(allowed)}


def may_view(workflow: Workflow, state: str, roles: Iterable[str]) -> bool:
    current = workflow.state(state)
    if current is None:
        # A state that no longer exists in the file: those involved still see the application.
        return bool(set(roles))
    return bool(set(roles).intersection(current.view))
