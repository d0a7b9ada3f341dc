"""Every validation rule of workflow files: the message names the file, the line and the fix."""

import textwrap

import pytest

from grants.workflow.loader import check_source
from grants.workflow.yamlsource import SourceInvalid, parse_located_yaml

GUARDS = {"form_complete", "before_deadline"}
EFFECTS = {"render_final_pdf"}

BASE = textwrap.dedent("""\
    title: {sv: Test, en: Test}
    version: 1
    initial: draft
    roles: [lead, steering]
    states:
      draft:
        label: {sv: Utkast, en: Draft}
        edit: {common: [lead]}
        view: [lead, steering]
      review:
        label: {sv: Granskning, en: Review}
      done:
        label: {sv: Klar, en: Done}
        terminal: true
    transitions:
      - name: send
        label: {sv: Skicka, en: Send}
        from: [draft]
        to: review
        by: [lead]
        requires: [form_complete]
      - name: approve
        label: {sv: Godkänn, en: Approve}
        from: [review]
        to: done
        by: [steering]
        effects: [render_final_pdf]
      - name: back
        label: {sv: Tillbaka, en: Back}
        from: [review]
        to: draft
        by: [steering]
        comment: required
    """)


def problems_of(text: str) -> list[str]:
    with pytest.raises(SourceInvalid) as raised:
        check_source(parse_located_yaml(text, "workflows/test.yaml"), "test", GUARDS, EFFECTS)
    return [str(p) for p in raised.value.problems]


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(fragment, index + 1)
    return text[:index].count("\n") + 1


def test_the_base_file_is_valid():
    workflow = check_source(parse_located_yaml(BASE, "workflows/test.yaml"), "test", GUARDS,
                            EFFECTS)
    assert set(workflow.states) == {"draft", "review", "done"}


CASES = [
    ("yaml syntax", lambda t: t.replace("roles: [lead, steering]", "roles: [lead, steering"),
     "YAML syntax error", None),
    ("unknown key", lambda t: t.replace("    from: [review]\n    to: done",
                                        "    form: [review]\n    to: done"),
     "unknown key 'form' in transition approve. Did you mean 'from'?", "form: [review]"),
    ("missing initial", lambda t: t.replace("initial: draft\n", ""),
     "'initial' is missing: name the state new applications start in.", None),
    ("initial not a state", lambda t: t.replace("initial: draft", "initial: drafting"),
     "'initial' names 'drafting', which is not a state", "initial: drafting"),
    ("from undefined state", lambda t: t.replace("from: [draft]", "from: [draf]"),
     "transition 'send' leaves from undefined state 'draf'", "from: [draf]"),
    ("to undefined state", lambda t: t.replace("to: done", "to: finished"),
     "transition 'approve' leads to undefined state 'finished'", "to: finished"),
    ("undefined role in by", lambda t: t.replace("by: [lead]", "by: [leader]"),
     "'by' of transition 'send' names undefined role 'leader'", "by: [leader]"),
    ("undefined role in edit", lambda t: t.replace("edit: {common: [lead]}",
                                                   "edit: {common: [partner]}"),
     "'edit.common' of state 'draft' names undefined role 'partner'", "edit: {common: [partner]}"),
    ("undefined role in view", lambda t: t.replace("view: [lead, steering]",
                                                   "view: [lead, board]"),
     "'view' of state 'draft' names undefined role 'board'", "view: [lead, board]"),
    ("unknown guard", lambda t: t.replace("requires: [form_complete]",
                                          "requires: [form_completed]"),
     "transition 'send' requires unknown guard 'form_completed'", "requires: [form_completed]"),
    ("unknown effect", lambda t: t.replace("effects: [render_final_pdf]",
                                           "effects: [render_pdf_final]"),
     "transition 'approve' has unknown effect 'render_pdf_final'", "effects: [render_pdf_final]"),
    ("duplicate transition", lambda t: t.replace("name: back", "name: send"),
     "transition name 'send' is used twice", ("name: send", 2)),
    ("unreachable state", lambda t: t.replace("  done:\n", "  archived:\n    label: "
                                              "{sv: Arkiv, en: Archive}\n    terminal: true\n"
                                              "  done:\n"),
     "state 'archived' cannot be reached from the initial state 'draft'", "archived:"),
    ("dead end", lambda t: t.replace("    terminal: true\n", ""),
     "state 'done' has no way out: add a transition from it or mark it 'terminal: true'",
     "  done:"),
    ("leaving a terminal state", lambda t: t.replace("from: [review]\n    to: draft",
                                                     "from: [review, done]\n    to: draft"),
     "transition 'back' leaves terminal state 'done'", "from: [review, done]"),
    ("missing sv label", lambda t: t.replace("label: {sv: Granskning, en: Review}",
                                             "label: {en: Review}"),
     "state 'review' has no 'sv' label", "label: {en: Review}"),
    ("missing en label", lambda t: t.replace("label: {sv: Godkänn, en: Approve}",
                                             "label: {sv: Godkänn}"),
     "transition 'approve' has no 'en' label", "label: {sv: Godkänn}"),
    # What a state means (milestone, finished, partner_input, confirmation).
    ("unknown state key", lambda t: t.replace("    label: {sv: Granskning, en: Review}\n",
                                              "    label: {sv: Granskning, en: Review}\n"
                                              "    milestones: steering_meeting\n"),
     "unknown key 'milestones' in state 'review'", "milestones: steering_meeting"),
    ("flag not a boolean", lambda t: t.replace("    label: {sv: Granskning, en: Review}\n",
                                               "    label: {sv: Granskning, en: Review}\n"
                                               "    finished: yes please\n"),
     "'finished' of state 'review' must be true or false.", "finished: yes please"),
    ("confirmation not a boolean", lambda t: t.replace(
        "    label: {sv: Granskning, en: Review}\n",
        "    label: {sv: Granskning, en: Review}\n    confirmation: 1\n"),
     "'confirmation' of state 'review' must be true or false.", "confirmation: 1"),
    ("milestone not a name", lambda t: t.replace("    label: {sv: Granskning, en: Review}\n",
                                                 "    label: {sv: Granskning, en: Review}\n"
                                                 "    milestone: [steering]\n"),
     "'milestone' of state 'review' must name a milestone", "milestone: [steering]"),
    ("milestone with capitals", lambda t: t.replace(
        "    label: {sv: Granskning, en: Review}\n",
        "    label: {sv: Granskning, en: Review}\n    milestone: Steering Meeting\n"),
     "'milestone' of state 'review' must name a milestone", "milestone: Steering Meeting"),
    ("partner input where partners do not write", lambda t: t.replace(
        "    label: {sv: Granskning, en: Review}\n",
        "    label: {sv: Granskning, en: Review}\n    partner_input: true\n"),
     "state 'review' has 'partner_input: true' but partners do not edit their part",
     "partner_input: true"),
    ("confirmation in a terminal state", lambda t: t.replace(
        "    label: {sv: Klar, en: Done}\n", "    label: {sv: Klar, en: Done}\n"
        "    confirmation: true\n"),
     "state 'done' is terminal and cannot also offer the partners' confirmation",
     "confirmation: true"),
]


@pytest.mark.parametrize("mutate, message, where", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_rule_names_file_line_and_fix(mutate, message, where):
    text = mutate(BASE)
    assert text != BASE
    problems = problems_of(text)
    matching = [p for p in problems if message in p]
    assert matching, problems
    assert matching[0].startswith("workflows/test.yaml:")
    if where is not None:
        fragment, occurrence = where if isinstance(where, tuple) else (where, 1)
        assert matching[0].startswith(f"workflows/test.yaml:{line_of(text, fragment, occurrence)}:"), \
            (matching[0], line_of(text, fragment, occurrence))
    else:
        assert message in problems[0]


def test_every_problem_of_a_file_is_reported_in_one_run():
    text = (BASE.replace("by: [lead]", "by: [leader]").replace("to: done", "to: finished")
            .replace("label: {sv: Klar, en: Done}", "label: {sv: Klar}"))
    problems = problems_of(text)
    assert any("undefined role 'leader'" in p for p in problems)
    assert any("undefined state 'finished'" in p for p in problems)
    assert any("state 'done' has no 'en' label" in p for p in problems)


MEANING = (BASE.replace("roles: [lead, steering]", "roles: [lead, partner, steering]")
           .replace("    edit: {common: [lead]}\n",
                    "    edit: {common: [lead], partner_part: [partner]}\n"
                    "    partner_input: true\n")
           .replace("    label: {sv: Granskning, en: Review}\n",
                    "    label: {sv: Granskning, en: Review}\n"
                    "    milestone: steering_meeting\n    confirmation: true\n"
                    "    finished: false\n"))


def test_states_say_what_they_mean():
    workflow = check_source(parse_located_yaml(MEANING, "workflows/test.yaml"), "test", GUARDS,
                            EFFECTS)
    assert workflow.states_where("partner_input") == {"draft"}
    assert workflow.states_where("confirmation") == {"review"}
    assert workflow.milestone_states("steering_meeting") == {"review"}
    assert workflow.milestones() == {"steering_meeting"}
    assert workflow.states_where("finished") == {"done"}  # terminal counts as finished
    assert not workflow.state("draft").confirmation and workflow.state("draft").milestone is None


def test_a_version_without_the_keys_reads_them_from_its_structure():
    """Versions stored before the keys existed keep working: partners write and confirm
    where they edit their part, a voted state is the steering meeting, the state the copy of
    record is made on the way into is finished – read from the structure, never the names."""
    text = (BASE.replace("roles: [lead, steering]", "roles: [lead, partner, steering]")
            .replace("    edit: {common: [lead]}\n",
                     "    edit: {common: [lead], partner_part: [partner]}\n")
            .replace("    effects: [render_final_pdf]\n", "")
            .replace("    by: [lead]\n    requires: [form_complete]\n",
                     "    by: [lead]\n    requires: [form_complete]\n"
                     "    effects: [render_final_pdf]\n"))
    workflow = check_source(parse_located_yaml(text, "workflows/test.yaml"), "test", GUARDS,
                            EFFECTS)
    assert workflow.states_where("partner_input") == {"draft"}
    assert workflow.states_where("confirmation") == {"draft"}
    assert workflow.states_where("finished") == {"review", "done"}
    # One key anywhere: the file speaks for itself and nothing is derived.
    explicit = text.replace("    label: {sv: Klar, en: Done}\n",
                            "    label: {sv: Klar, en: Done}\n    finished: true\n")
    workflow = check_source(parse_located_yaml(explicit, "workflows/test.yaml"), "test",
                            GUARDS, EFFECTS)
    assert workflow.states_where("confirmation") == frozenset()
    assert workflow.states_where("finished") == {"done"}
