"""Property-based tests of the engine over randomly generated valid workflows."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.workflow import engine
from grants.workflow.loader import check_source
from grants.workflow.yamlsource import parse_located_yaml

ROLES = ["lead", "partner", "steering", "coordinator"]


@st.composite
def workflows(draw):
    count = draw(st.integers(min_value=2, max_value=7))
    names = [f"s{i}" for i in range(count)]
    terminal = {n for n in names[1:] if draw(st.booleans())}
    if not terminal:
        terminal = {names[-1]}
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4, unique=True))
    transitions = []

    def add(source, target):
        transitions.append({
            "name": f"t{len(transitions)}", "label": {"sv": f"Steg {len(transitions)}",
                                                      "en": f"Step {len(transitions)}"},
            "from": [source], "to": target,
            "by": draw(st.lists(st.sampled_from(roles), min_size=1, unique=True))})

    non_terminal = [n for n in names if n not in terminal]
    # Every state reachable: an edge into it from some earlier non-terminal state.
    for index, name in enumerate(names[1:], start=1):
        sources = [n for n in names[:index] if n not in terminal]
        add(draw(st.sampled_from(sources or [names[0]])), name)
    # Every non-terminal state has a way out; add some random extra edges.
    for name in non_terminal:
        if not any(name in t["from"] for t in transitions):
            add(name, draw(st.sampled_from([n for n in names if n != name])))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        add(draw(st.sampled_from(non_terminal)), draw(st.sampled_from(names)))
    data = {
        "title": {"sv": "Slump", "en": "Random"}, "version": 1, "initial": names[0],
        "roles": roles,
        "states": {n: {"label": {"sv": n, "en": n}, "terminal": n in terminal} for n in names},
        "transitions": transitions,
    }
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return check_source(parse_located_yaml(text, "random.yaml"), "random", set(), set())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow=workflows(), data=st.data())
def test_random_actors_never_break_the_rules(workflow, data):
    state = workflow.initial
    history: list[tuple[str, str]] = []
    names = list(workflow.transitions)
    for _ in range(data.draw(st.integers(min_value=0, max_value=25))):
        roles = set(data.draw(st.lists(st.sampled_from(ROLES), max_size=2)))
        name = data.draw(st.sampled_from(names))
        transition = workflow.transitions[name]
        was_terminal = workflow.states[state].terminal
        try:
            new_state = engine.apply_transition(workflow, state, name, roles)
        except engine.TransitionRefused as refused:
            if refused.reason == "forbidden":
                assert not roles & set(transition.by)
            else:
                assert refused.reason == "wrong_state"
                assert was_terminal or state not in transition.sources
            continue
        # Fired: the role was given the transition, and a terminal state was not left.
        assert roles & set(transition.by)
        assert not was_terminal
        assert state in transition.sources
        history.append((state, name))
        state = new_state
        assert state in workflow.states
        available = engine.available_transitions(workflow, state, set(ROLES))
        if workflow.states[state].terminal:
            assert available == []
    assert engine.replay(workflow, history) == state


@settings(max_examples=100, deadline=None)
@given(workflow=workflows())
def test_generated_workflows_are_fully_reachable(workflow):
    reachable, frontier = {workflow.initial}, [workflow.initial]
    while frontier:
        current = frontier.pop()
        for t in workflow.transitions_from(current):
            if t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    assert reachable == set(workflow.states)
