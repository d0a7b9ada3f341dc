from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("sv", "en")
COMMENT_MODES = ("required", "optional", "none")
QUORUM_RULES = ("majority", "all", "at_least")
QUORUM_BASES = ("eligible", "members")
TIE_RULES = ("changes", "chair")


@dataclass(frozen=True)
class Label:
    sv: str
    en: str

    def get(self, locale: str | None) -> str:
        return self.en if (locale or "sv").startswith("en") else self.sv


@dataclass(frozen=True)
class State:
    name: str
    label: Label
    edit: dict[str, tuple[str, ...]] = field(default_factory=dict)
    view: tuple[str, ...] = ()
    terminal: bool = False
    # What the features need to know about a state, from the file (never its name in code):
    # the milestone it corresponds to (the steering group's meeting: `steering_meeting`),
    # whether nothing is owed any more (finished), whether partners write their parts
    # (partner_input) and whether the partners' confirmation is offered and due (confirmation).
    milestone: str | None = None
    finished: bool = False
    partner_input: bool = False
    confirmation: bool = False

    @property
    def is_finished(self) -> bool:
        """Nothing is owed any more: the file says so, and every terminal state is."""
        return self.finished or self.terminal

    def roles_editing(self, part: str) -> tuple[str, ...]:
        return self.edit.get(part, ())


@dataclass(frozen=True)
class Quorum:
    """A transition decided by a steering group's votes instead of one person.

    rule      majority: more than half of `of` approve; all: every one of `of` approves;
              at_least: at least `n` approve.
    of        eligible (members not recused) or members (the whole group: recused members
              cannot vote but count in the base).
    otherwise the transition fired when approval has become impossible (back to the lead).
    tie       with `majority`, when every eligible member has voted and exactly half approve:
              "changes" (no majority) or "chair" (the chair's vote decides).
    """

    rule: str
    n: int | None = None
    of: str = "eligible"
    otherwise: str | None = None
    tie: str = "changes"


@dataclass(frozen=True)
class Transition:
    name: str
    label: Label
    sources: tuple[str, ...]
    target: str
    by: tuple[str, ...]
    requires: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    comment: str = "optional"
    quorum: Quorum | None = None

    @property
    def comment_required(self) -> bool:
        return self.comment == "required"


@dataclass(frozen=True)
class Workflow:
    name: str
    title: Label
    version: int
    initial: str
    roles: tuple[str, ...]
    states: dict[str, State]
    transitions: dict[str, Transition]
    source: Path | None = None
    source_text: str = ""

    def state(self, name: str) -> State | None:
        return self.states.get(name)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def states_where(self, key: str) -> frozenset[str]:
        """The names of the states whose flag `key` (finished, partner_input, confirmation)
        is set in the file; `finished` includes every terminal state."""
        if key == "finished":
            return frozenset(n for n, s in self.states.items() if s.is_finished)
        return frozenset(n for n, s in self.states.items() if getattr(s, key))

    def milestone_states(self, milestone: str) -> frozenset[str]:
        """The states that correspond to `milestone` (the file's `milestone:` key)."""
        return frozenset(n for n, s in self.states.items() if s.milestone == milestone)

    def milestones(self) -> frozenset[str]:
        """Every milestone some state of this workflow corresponds to."""
        return frozenset(s.milestone for s in self.states.values() if s.milestone)

    @classmethod
    def unavailable(cls, name: str) -> Workflow:
        """Stands in for a workflow version that can no longer be loaded: no states, so
        nothing can be edited or fired until a coordinator moves the application."""
        return cls(name=name, title=Label(name, name), version=0, initial="", roles=(),
                   states={}, transitions={})
