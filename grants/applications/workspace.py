"""The application's workspace: the header every tab shares (title, state, whose turn it is
and what is yours to do now) and the tabs, each a page of its own with its own URL.

Whose turn it is comes from the workflow file and from the features: the transitions the last
move opened (the people whose roles may fire them), the confirmations now open (each
organisation's authorised signatory), and what other features register with `whose_turn` (the
steering group's open vote). Nothing here names a state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.applications.access import users_in_role
from grants.applications.turns import last_record, opened
from grants.i18n import pick_label
from grants.labels import role_label
from grants.workflow import engine
from grants.workflow.definition import Workflow


@dataclass(frozen=True)
class Tab:
    name: str
    label: object  # a lazy string
    endpoint: str


# In the order they are shown. Every tab is always there (consistent navigation, WCAG 3.2.3);
# a tab with nothing yet says so.
TABS: tuple[Tab, ...] = (
    Tab("overview", _l("Overview"), "applications.show"),
    Tab("sections", _l("Sections"), "applications.sections"),
    Tab("partners", _l("Partners"), "partners.index"),
    Tab("budget", _l("Budget"), "budget.index"),
    Tab("decision", _l("Submission and decision"), "applications.decision"),
    Tab("project", _l("Project"), "reporting.project"),
    Tab("documents", _l("Documents"), "applications.documents"),
    Tab("history", _l("History"), "applications.history"),
)


def tab_url(application_id: int, tab: str, anchor: str | None = None) -> str:
    """Where a tab of the application lives (with an anchor inside it)."""
    endpoint = next(t.endpoint for t in TABS if t.name == tab)
    return url_for(endpoint, application_id=application_id, _anchor=anchor)


# Parts of the one long page the application had before its tabs, by the anchor old links
# and bookmarks use, and the tab that holds each now.
MOVED_ANCHORS = {"decision": "decision", "submissions": "decision", "delivery": "decision",
                 "documents": "documents", "history": "history", "partners": "partners",
                 "confirmations": "partners", "signatories": "partners",
                 "sections": "sections", "confirm-": "partners", "section-": "sections"}


def moved_anchors(application_id: int) -> dict[str, str]:
    """Anchor (or anchor prefix, ending in "-") -> the URL of the tab that holds it now."""
    return {anchor: tab_url(application_id, tab) for anchor, tab in MOVED_ANCHORS.items()}


@dataclass(frozen=True)
class TurnLine:
    """One thing that is someone's to do now: who (names, with their role), what, whether it
    is the reader's, and where the one who does it acts."""
    who: str
    what: str
    mine: bool = False
    link: str | None = None

    @property
    def elsewhere(self) -> bool:
        """The reader's, and done on another part of the workspace than the overview's
        transition buttons (a confirmation, a vote, the funder's decision)."""
        return self.mine and bool(self.link) and not self.link.endswith("#actions")


# Hooks (application, roles, workflow) -> [TurnLine]: what a feature knows is someone's turn
# (the steering group's open vote).
WHOSE_TURN: list[Callable] = []


def whose_turn(hook: Callable):
    WHOSE_TURN.append(hook)
    return hook


# Hooks (workflow, state, roles) -> names of the transitions a feature's panel offers with a
# form of its own on the decision tab (the funder's decision); the page's generic transition
# buttons leave those out.
OWN_FORM_TRANSITIONS: list[Callable[[Workflow, str, set[str]], set[str]]] = []


def own_form_transitions(hook: Callable[[Workflow, str, set[str]], set[str]]):
    OWN_FORM_TRANSITIONS.append(hook)
    return hook


def own_form_names(workflow: Workflow, state: str, roles) -> set[str]:
    return {name for hook in OWN_FORM_TRANSITIONS for name in hook(workflow, state, set(roles))}


def names(users, limit: int = 3) -> str:
    """"Anna Berg, Per Holm and 4 more" – people by name, a long list shortened."""
    listed = [u.name for u in users]
    if len(listed) <= limit:
        return ", ".join(listed)
    return _("%(names)s and %(n)d more", names=", ".join(listed[:limit]),
             n=len(listed) - limit)


def transition_turns(application, roles, workflow) -> list[TurnLine]:
    """The transitions the last move opened (or, when it opened none, every one out of the
    state), each with the people who may make it; not those that undo the last move or end the
    application without a decision (withdrawing it)."""
    state = application.state
    record = last_record(application.id)
    came_from = record.from_state if record and record.from_state else ""
    candidates = opened(workflow, state, came_from)
    if not candidates:
        candidates = [t for t in workflow.transitions_from(state) if t.quorum is None]
    # Undoing the last move (back to where the application came from) is never anybody's turn.
    candidates = [t for t in candidates if t.target != came_from or t.target == state]
    all_roles = {role for t in candidates for role in t.by}
    by_form = own_form_names(workflow, state, all_roles)
    # Ending the application other than by a decision (withdrawing it) is open to its lead
    # nearly everywhere, and never anybody's turn.
    candidates = [t for t in candidates if t.name in by_form
                  or not (workflow.state(t.target) and workflow.state(t.target).terminal)]
    mine = {t.name for t in engine.available_transitions(workflow, state, roles)}
    holders = {role: users_in_role(application, role)
               for role in {role for t in candidates for role in t.by}}
    lines = []
    for transition in candidates:
        people = []
        for role in transition.by:
            users = holders[role]
            if users:
                people.append(_("%(names)s (%(role)s)", names=names(users),
                                role=role_label(role)))
        if not people:
            continue
        is_mine = transition.name in mine
        anchor = "actions" if transition.name not in by_form else None
        link = tab_url(application.id, "decision" if transition.name in by_form
                       else "overview", anchor) if is_mine else None
        lines.append(TurnLine("; ".join(people), pick_label(transition.label), is_mine, link))
    return lines


def confirmation_turns(application, confirmations: dict) -> list[TurnLine]:
    """The confirmations open now and not given (or no longer valid), each with its
    organisation's authorised signatory."""
    lines = []
    for key, state in confirmations.items():
        partner = state["partner"]
        if not state["open"] or state["valid"] or (partner is not None
                                                    and partner.status != "active"):
            continue
        organisation = state["organisation"].name
        signatory = state["signatory"]
        who = _("%(name)s (authorised signatory, %(organisation)s)", name=signatory.name,
                organisation=organisation) if signatory is not None else \
            _("%(organisation)s (no authorised signatory named yet)",
              organisation=organisation)
        what = _("Confirm participation and co-financing for %(organisation)s",
                 organisation=organisation)
        lines.append(TurnLine(who, what, state["may_confirm"],
                              tab_url(application.id, "partners", f"confirm-{key}")
                              if state["may_confirm"] else None))
    return lines


def turn_lines(application, roles, workflow, confirmations: dict) -> list[TurnLine]:
    """Everything that is someone's to do now, the reader's first."""
    if not workflow.states or workflow.state(application.state) is None:
        return []
    lines = transition_turns(application, roles, workflow)
    lines += confirmation_turns(application, confirmations)
    for hook in WHOSE_TURN:
        lines += hook(application, roles, workflow)
    return sorted(lines, key=lambda line: not line.mine)

