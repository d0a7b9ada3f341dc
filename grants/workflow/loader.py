"""Reads workflows/*.yaml into `Workflow` objects, reporting every problem with file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from grants.workflow.definition import (
    COMMENT_MODES,
    LANGUAGES,
    QUORUM_BASES,
    QUORUM_RULES,
    TIE_RULES,
    Label,
    Quorum,
    State,
    Transition,
    Workflow,
)
from grants.workflow.yamlsource import LocatedYaml, Problem, SourceInvalid, parse_located_yaml

TOP_KEYS = {"title", "version", "initial", "roles", "states", "transitions", "description"}
STATE_KEYS = {"label", "edit", "view", "terminal", "description", "milestone", "finished",
              "partner_input", "confirmation"}
# The state keys that are true or false (docs/workflows.md, "What a state means").
STATE_FLAGS = ("terminal", "finished", "partner_input", "confirmation")
MEANING_KEYS = {"milestone", "finished", "partner_input", "confirmation"}
MILESTONE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
TRANSITION_KEYS = {"name", "label", "from", "to", "by", "requires", "effects", "comment",
                   "description", "quorum"}
QUORUM_KEYS = {"rule", "n", "of", "otherwise", "tie"}

# Keys often mistyped, and what was meant: "form" for "from" reads as a valid English word.
_LIKELY = {"form": "from", "too": "to", "requries": "requires", "effect": "effects",
           "guards": "requires", "roles": "by", "lable": "label", "terminate": "terminal",
           "initital": "initial", "state": "states", "transition": "transitions"}


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    if key in _LIKELY and _LIKELY[key] in allowed:
        return f" Did you mean '{_LIKELY[key]}'?"
    return ""


class _Checker:
    def __init__(self, source: LocatedYaml, guards: set[str], effects: set[str]):
        self.src = source
        self.guards = guards
        self.effects = effects
        self.problems: list[Problem] = []

    def add(self, message: str, *path: Any) -> None:
        self.problems.append(self.src.problem(message, *path))

    def keys(self, mapping: dict, allowed: set[str], what: str, *path: Any) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(f"unknown key '{key}' in {what}.{_did_you_mean(str(key), allowed)} "
                         f"Allowed keys: {', '.join(sorted(allowed))}.", *path, key)

    def label(self, value: Any, what: str, *path: Any) -> Label:
        if not isinstance(value, dict):
            self.add(f"{what} needs a label in Swedish and English, e.g. "
                     f"label: {{sv: Utkast, en: Draft}}.", *path)
            return Label("", "")
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.add(f"{what} has no '{lang}' label: add {lang}: <text> to its label.", *path)
        for lang in value:
            if lang not in LANGUAGES:
                self.add(f"{what} has a label in unknown language '{lang}' (use sv and en).",
                         *path, lang)
        return Label(str(value.get("sv", "") or ""), str(value.get("en", "") or ""))

    def name_list(self, value: Any, what: str, *path: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(f"{what} must be a list of names, e.g. [lead, partner].", *path)
            return ()
        return tuple(value)

    def roles_known(self, names: tuple[str, ...], roles: set[str], what: str, *path: Any) -> None:
        for index, role in enumerate(names):
            if role not in roles:
                self.add(f"{what} names undefined role '{role}': add it to 'roles' at the top "
                         f"or use one of {', '.join(sorted(roles)) or '(none)'}.", *path, index)


    def quorum(self, value: Any, tname: str, *path: Any) -> Quorum | None:
        example = "quorum: {rule: majority, of: eligible, otherwise: request_changes}"
        if not isinstance(value, dict):
            self.add(f"'quorum' of transition '{tname}' must be a mapping, e.g. {example}.", *path)
            return None
        self.keys(value, QUORUM_KEYS, f"the quorum of transition '{tname}'", *path)
        rule = value.get("rule")
        if rule not in QUORUM_RULES:
            self.add(f"'quorum.rule' of transition '{tname}' must be one of "
                     f"{', '.join(QUORUM_RULES)}.", *path, "rule")
            return None
        n = value.get("n")
        if rule == "at_least":
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                self.add(f"'quorum.n' of transition '{tname}' must be a whole number ≥ 1 with "
                         f"rule at_least (how many must approve).", *path,
                         "n" if "n" in value else None)
                return None
        elif n is not None:
            self.add(f"'quorum.n' of transition '{tname}' is only used with rule at_least; "
                     f"remove it or change the rule.", *path, "n")
        of = value.get("of", "eligible")
        if of not in QUORUM_BASES:
            self.add(f"'quorum.of' of transition '{tname}' must be one of "
                     f"{', '.join(QUORUM_BASES)}.", *path, "of")
            of = "eligible"
        tie = value.get("tie", "changes")
        if tie not in TIE_RULES:
            self.add(f"'quorum.tie' of transition '{tname}' must be one of "
                     f"{', '.join(TIE_RULES)}.", *path, "tie")
            tie = "changes"
        elif tie == "chair" and rule != "majority":
            self.add(f"'quorum.tie: chair' of transition '{tname}' only applies to rule "
                     f"majority.", *path, "tie")
        otherwise = value.get("otherwise")
        if otherwise is not None and not isinstance(otherwise, str):
            self.add(f"'quorum.otherwise' of transition '{tname}' must name a transition.",
                     *path, "otherwise")
            otherwise = None
        return Quorum(rule=rule, n=n if rule == "at_least" else None, of=of,
                      otherwise=otherwise, tie=tie)

    def quorum_links(self, transition: Transition, transitions: dict[str, Transition],
                     raw: list) -> None:
        index = next((i for i, t in enumerate(raw)
                      if isinstance(t, dict) and t.get("name") == transition.name), None)
        path = ("transitions", index, "quorum", "otherwise")
        if transition.requires:
            self.add(f"transition '{transition.name}' has a quorum and 'requires': conditions "
                     f"are checked when the application is sent to the vote, so put them on "
                     f"the transition into '{transition.sources[0]}'.",
                     "transitions", index, "requires")
        otherwise = transition.quorum.otherwise
        if otherwise is None:
            self.add(f"the quorum of transition '{transition.name}' needs 'otherwise': the "
                     f"transition fired when the votes make approval impossible (e.g. "
                     f"request_changes).", "transitions", index, "quorum")
            return
        other = transitions.get(otherwise)
        if other is None:
            self.add(f"'quorum.otherwise' of transition '{transition.name}' names undefined "
                     f"transition '{otherwise}'.", *path)
        elif other.quorum is not None:
            self.add(f"'quorum.otherwise' of transition '{transition.name}' names "
                     f"'{otherwise}', which itself needs a quorum.", *path)
        else:
            missing = [s for s in transition.sources if s not in other.sources]
            if missing:
                self.add(f"'quorum.otherwise' of transition '{transition.name}' names "
                         f"'{otherwise}', which does not leave from {', '.join(missing)}.", *path)


def check_source(source: LocatedYaml, name: str, guards: set[str], effects: set[str]) -> Workflow:
    """Validate a parsed file; return the Workflow or raise SourceInvalid with every problem."""
    c = _Checker(source, guards, effects)
    data = source.data
    if not isinstance(data, dict):
        raise SourceInvalid([source.problem("a workflow file must be a mapping with title, "
                                            "version, initial, roles, states and transitions.")])
    c.keys(data, TOP_KEYS, "the workflow")
    c.problems.extend(source.duplicate_key_problems())

    title = c.label(data.get("title"), "the workflow title", "title")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.add("'version' must be a whole number ≥ 1; bump it whenever you change the file.",
              "version")
        version = 0
    roles = c.name_list(data.get("roles"), "'roles'", "roles")
    if not roles:
        c.add("'roles' must list the roles used in this workflow, e.g. [lead, partner, steering].",
              "roles")
    role_set = set(roles)

    raw_states = data.get("states")
    states: dict[str, State] = {}
    if not isinstance(raw_states, dict) or not raw_states:
        c.add("'states' must map each state name to its label and rules.", "states")
        raw_states = {}
    for sname, sdata in raw_states.items():
        path = ("states", sname)
        if not isinstance(sdata, dict):
            c.add(f"state '{sname}' must be a mapping with at least a label.", *path)
            continue
        c.keys(sdata, STATE_KEYS, f"state '{sname}'", *path)
        label = c.label(sdata.get("label"), f"state '{sname}'", *path, "label")
        edit_raw = sdata.get("edit") or {}
        edit: dict[str, tuple[str, ...]] = {}
        if not isinstance(edit_raw, dict):
            c.add(f"'edit' of state '{sname}' must map form parts to roles, e.g. "
                  f"{{common: [lead]}}.", *path, "edit")
        else:
            for part, who in edit_raw.items():
                names = c.name_list(who, f"'edit.{part}' of state '{sname}'", *path, "edit", part)
                c.roles_known(names, role_set, f"'edit.{part}' of state '{sname}'",
                              *path, "edit", part)
                edit[str(part)] = names
        view = c.name_list(sdata.get("view"), f"'view' of state '{sname}'", *path, "view")
        c.roles_known(view, role_set, f"'view' of state '{sname}'", *path, "view")
        flags = {}
        for key in STATE_FLAGS:
            flags[key] = sdata.get(key, False)
            if not isinstance(flags[key], bool):
                c.add(f"'{key}' of state '{sname}' must be true or false.", *path, key)
                flags[key] = False
        milestone = sdata.get("milestone")
        if milestone is not None and (not isinstance(milestone, str)
                                      or not MILESTONE_NAME.match(milestone)):
            c.add(f"'milestone' of state '{sname}' must name a milestone in lower-case letters, "
                  f"digits and _, e.g. milestone: steering_meeting.", *path, "milestone")
            milestone = None
        if flags["partner_input"] and "partner" not in edit.get("partner_part", ()):
            c.add(f"state '{sname}' has 'partner_input: true' but partners do not edit their "
                  f"part in it: add partner to 'edit.partner_part' or drop the key.",
                  *path, "partner_input")
        if flags["confirmation"] and flags["terminal"]:
            c.add(f"state '{sname}' is terminal and cannot also offer the partners' "
                  f"confirmation: drop 'confirmation: true' or 'terminal: true'.",
                  *path, "confirmation")
        states[str(sname)] = State(str(sname), label, edit, view or tuple(roles),
                                   flags["terminal"], milestone=milestone,
                                   finished=flags["finished"],
                                   partner_input=flags["partner_input"],
                                   confirmation=flags["confirmation"])

    initial = data.get("initial")
    if initial is None:
        c.add("'initial' is missing: name the state new applications start in.")
    elif initial not in states:
        c.add(f"'initial' names '{initial}', which is not a state. Define it under 'states' "
              f"or use one of {', '.join(states) or '(none)'}.", "initial")

    raw_transitions = data.get("transitions")
    transitions: dict[str, Transition] = {}
    if not isinstance(raw_transitions, list):
        c.add("'transitions' must be a list of transitions (each with name, from, to, by).",
              "transitions")
        raw_transitions = []
    for index, tdata in enumerate(raw_transitions):
        path = ("transitions", index)
        if not isinstance(tdata, dict):
            c.add("each transition must be a mapping with name, label, from, to and by.", *path)
            continue
        c.keys(tdata, TRANSITION_KEYS, f"transition {tdata.get('name', index + 1)!s}", *path)
        tname = tdata.get("name")
        if not isinstance(tname, str) or not tname:
            c.add("a transition has no 'name'.", *path)
            tname = f"#{index + 1}"
        elif tname in transitions:
            c.add(f"transition name '{tname}' is used twice: names must be unique.", *path, "name")
        label = c.label(tdata.get("label"), f"transition '{tname}'", *path, "label")
        sources = c.name_list(tdata.get("from"), f"'from' of transition '{tname}'", *path, "from")
        if not sources and "from" not in tdata:
            c.add(f"transition '{tname}' has no 'from': list the states it leaves.", *path)
        for sindex, source_state in enumerate(sources):
            if source_state not in states:
                c.add(f"transition '{tname}' leaves from undefined state '{source_state}'.",
                      *path, "from", sindex)
            elif states[source_state].terminal:
                c.add(f"transition '{tname}' leaves terminal state '{source_state}': a terminal "
                      f"state is final. Remove it from 'from' or drop 'terminal: true'.",
                      *path, "from", sindex)
        target = tdata.get("to")
        if not isinstance(target, str):
            c.add(f"transition '{tname}' has no 'to': name the state it leads to.", *path)
            target = ""
        elif target not in states:
            c.add(f"transition '{tname}' leads to undefined state '{target}'.", *path, "to")
        by = c.name_list(tdata.get("by"), f"'by' of transition '{tname}'", *path, "by")
        if not by:
            c.add(f"transition '{tname}' has no 'by': list the roles that may fire it.", *path)
        c.roles_known(by, role_set, f"'by' of transition '{tname}'", *path, "by")
        requires = c.name_list(tdata.get("requires"), f"'requires' of '{tname}'", *path, "requires")
        for gindex, guard in enumerate(requires):
            if guard not in guards:
                c.add(f"transition '{tname}' requires unknown guard '{guard}'. Known guards: "
                      f"{', '.join(sorted(guards))}.", *path, "requires", gindex)
        effects_ = c.name_list(tdata.get("effects"), f"'effects' of '{tname}'", *path, "effects")
        for eindex, effect in enumerate(effects_):
            if effect not in effects:
                c.add(f"transition '{tname}' has unknown effect '{effect}'. Known effects: "
                      f"{', '.join(sorted(effects))}.", *path, "effects", eindex)
        comment = tdata.get("comment", "optional")
        if comment not in COMMENT_MODES:
            c.add(f"'comment' of transition '{tname}' must be one of "
                  f"{', '.join(COMMENT_MODES)}.", *path, "comment")
            comment = "optional"
        quorum = c.quorum(tdata["quorum"], tname, *path, "quorum") if "quorum" in tdata else None
        if tname not in transitions:
            transitions[tname] = Transition(tname, label, sources, target, by, requires, effects_,
                                            comment, quorum)

    for transition in transitions.values():
        if transition.quorum is not None:
            c.quorum_links(transition, transitions, raw_transitions)
    for sname in states:
        decided = [t.name for t in transitions.values() if t.quorum and sname in t.sources]
        if len(decided) > 1:
            c.add(f"state '{sname}' has more than one transition with a quorum "
                  f"({', '.join(decided)}): a steering group votes on one decision at a time.",
                  "states", sname)

    # Graph checks: reachability and dead ends.
    if initial in states:
        reachable = {initial}
        frontier = [initial]
        while frontier:
            current = frontier.pop()
            for t in transitions.values():
                if current in t.sources and t.target in states and t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        for sname in states:
            if sname not in reachable:
                c.add(f"state '{sname}' cannot be reached from the initial state '{initial}': "
                      f"add a transition into it or remove it.", "states", sname)
    for sname, state in states.items():
        if not state.terminal and not any(sname in t.sources for t in transitions.values()):
            c.add(f"state '{sname}' has no way out: add a transition from it or mark it "
                  f"'terminal: true'.", "states", sname)

    if c.problems:
        raise SourceInvalid(c.problems)
    if not any(isinstance(sdata, dict) and MEANING_KEYS & set(sdata)
               for sdata in raw_states.values()):
        states = _derived_meaning(states, transitions)
    return Workflow(name=name, title=title, version=version, initial=str(initial),
                    roles=roles, states=states, transitions=transitions)


def _derived_meaning(states: dict[str, State],
                     transitions: dict[str, Transition]) -> dict[str, State]:
    """For a version written before states said what they mean (one stored in the database
    that applications still follow): read it from the file's structure, never from state
    names. Partners write and confirm where they edit their part; a state left by a
    steering vote is the steering meeting; what the copy of record is made on the way into,
    and every terminal state, is finished."""
    voted = {s for t in transitions.values() if t.quorum for s in t.sources}
    frozen = {t.target for t in transitions.values() if "render_final_pdf" in t.effects}
    result = {}
    for sname, state in states.items():
        partners = "partner" in state.roles_editing("partner_part")
        result[sname] = replace(state, partner_input=partners, confirmation=partners,
                                milestone="steering_meeting" if sname in voted else None,
                                finished=sname in frozen)
    return result


def load_workflow_file(path: Path, guards: set[str], effects: set[str],
                       display_name: str | None = None) -> Workflow:
    name = display_name or f"workflows/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceInvalid([Problem(name, None, f"cannot read the file ({exc}).")]) from exc
    return load_workflow_text(text, path.stem, guards, effects, display_name=name, path=path)


def load_workflow_text(text: str, name: str, guards: set[str], effects: set[str], *,
                       display_name: str, path: Path | None = None) -> Workflow:
    """Validate workflow YAML given as text (a file, or a version stored in the database)."""
    workflow = check_source(parse_located_yaml(text, display_name), name, guards, effects)
    return Workflow(**{**workflow.__dict__, "source": path, "source_text": text})


def load_workflows(directory: Path, guards: set[str], effects: set[str]) -> dict[str, Workflow]:
    """Every workflows/*.yaml; raises SourceInvalid with the problems of all files together."""
    workflows: dict[str, Workflow] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            workflows[path.stem] = load_workflow_file(path, guards, effects)
        except SourceInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise SourceInvalid(problems)
    return workflows
