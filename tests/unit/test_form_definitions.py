"""Form files: every validation rule names file and line."""

import textwrap

import pytest

from grants.formengine.definition import load_form_text
from grants.workflow.yamlsource import SourceInvalid

BASE = textwrap.dedent("""\
    title: {sv: Test, en: Test}
    version: 1
    sections:
      - key: one
        title: {sv: Ett, en: One}
        fields:
          - id: kind
            type: choice
            label: {sv: Sort, en: Kind}
            options:
              - {value: a, label: {sv: A, en: A}}
              - {value: b, label: {sv: B, en: B}}
          - id: details
            type: longtext
            label: {sv: Detaljer, en: Details}
            show_when: {field: kind, equals: b}
      - key: two
        title: {sv: Två, en: Two}
        fields:
          - id: rows
            type: table
            label: {sv: Rader, en: Rows}
            columns:
              - {id: name, type: text, label: {sv: Namn, en: Name}}
    """)


def problems_of(text):
    with pytest.raises(SourceInvalid) as raised:
        load_form_text(text, "test", "workflows/forms/test.yaml")
    return [str(p) for p in raised.value.problems]


def line_of(text, fragment, occurrence=1):
    index = -1
    for _ in range(occurrence):
        index = text.index(fragment, index + 1)
    return text[:index].count("\n") + 1


def test_base_form_is_valid():
    form = load_form_text(BASE, "test", "x")
    assert [f.id for s in form.sections for f in s.fields] == ["kind", "details", "rows"]


CASES = [
    ("yaml syntax", lambda t: t.replace("title: {sv: Ett, en: One}", "title: {sv: Ett, en: One"),
     "YAML syntax error", None),
    ("unknown key", lambda t: t.replace("      - id: details\n        type: longtext",
                                        "      - id: details\n        typ: longtext"),
     "unknown key 'typ' in a field", "typ: longtext"),
    ("unknown field type", lambda t: t.replace("type: longtext", "type: essay"),
     "field 'details' has unknown type 'essay'", "type: essay"),
    ("unknown column type", lambda t: t.replace("{id: name, type: text,", "{id: name, type: blob,"),
     "column 'name' of field 'rows' has unknown type 'blob'", "{id: name, type: blob,"),
    ("duplicate id", lambda t: t.replace("- id: rows", "- id: kind"),
     "field id 'kind' is used twice in this form", ("- id: kind", 2)),
    ("condition on a missing field", lambda t: t.replace("{field: kind, equals: b}",
                                                         "{field: sort, equals: b}"),
     "'show_when' of field 'details' names field 'sort', which is not in this form",
     "show_when: {field: sort"),
    ("condition on a value not offered", lambda t: t.replace("equals: b}", "equals: c}"),
     "names a value that field 'kind' does not offer", "show_when"),
    ("missing label language", lambda t: t.replace("label: {sv: Detaljer, en: Details}",
                                                   "label: {sv: Detaljer}"),
     "field 'details' has no 'en' text", "label: {sv: Detaljer}"),
    ("choice without options", lambda t: t.replace(
        "        options:\n          - {value: a, label: {sv: A, en: A}}\n"
        "          - {value: b, label: {sv: B, en: B}}\n", "").replace(
        "show_when: {field: kind, equals: b}", "show_when: {field: kind, in: []}"),
     "field 'kind' needs 'options'", "- id: kind"),
    ("table without columns", lambda t: t.replace(
        "        columns:\n          - {id: name, type: text, label: {sv: Namn, en: Name}}\n",
        ""), "field 'rows' is a table and needs 'columns'", "- id: rows"),
    ("mirror of a fact the budget does not compute", lambda t: t.replace(
        "        type: longtext\n", "        type: money\n        mirrors: budget.wishes\n"),
     "names 'budget.wishes', which the budget does not compute", "mirrors: budget.wishes"),
    ("mirror of an amount on a text field", lambda t: t.replace(
        "        type: longtext\n", "        type: longtext\n        mirrors: budget.requested\n"),
     "mirrors the amount 'budget.requested' and must be of type money",
     "mirrors: budget.requested"),
    ("a year cannot be filled in", lambda t: t.replace(
        "        type: longtext\n", "        type: date\n        mirrors: budget.first_year\n"),
     "cannot be filled in from 'budget.first_year'", "mirrors: budget.first_year"),
    ("an unknown mirror mode", lambda t: t.replace(
        "        type: longtext\n",
        "        type: money\n        mirrors: {value: budget.requested, mode: guessed}\n"),
     "'mode' of 'mirrors' of field 'details' must be one of filled, checked",
     "mirrors: {value: budget.requested, mode: guessed}"),
    ("a partner's own figure in a common section", lambda t: t.replace(
        "        type: longtext\n", "        type: money\n        mirrors: budget.own_cost\n"),
     "mirrors 'budget.own_cost', which belongs in a partner_part section",
     "mirrors: budget.own_cost"),
]


def test_a_mirror_is_read_with_its_mode():
    form = load_form_text(BASE.replace("        type: longtext\n", "        type: money\n"
                                       "        mirrors: budget.requested\n"), "test", "x")
    details = form.field("details")
    assert details.mirrors.fact == "budget.requested" and details.is_filled_in
    checked = load_form_text(BASE.replace(
        "        type: longtext\n",
        "        type: date\n        mirrors: {value: budget.last_year, mode: checked}\n"),
        "test", "x").field("details")
    assert checked.mirrors.mode == "checked" and not checked.is_filled_in


@pytest.mark.parametrize("mutate, message, where", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_form_rule_names_file_and_line(mutate, message, where):
    text = mutate(BASE)
    assert text != BASE
    problems = problems_of(text)
    matching = [p for p in problems if message in p]
    assert matching, problems
    assert matching[0].startswith("workflows/forms/test.yaml:")
    if where is not None:
        fragment, occurrence = where if isinstance(where, tuple) else (where, 1)
        expected = line_of(text, fragment, occurrence)
        assert matching[0].startswith(f"workflows/forms/test.yaml:{expected}:"), (matching, expected)


# --- cost categories and milestones per form ----------------------------------------------
CATEGORIES = BASE + textwrap.dedent("""\
    cost_categories:
      - {key: salaries, label: {sv: Löner, en: Salaries}}
      - {key: overhead, label: {sv: Omkostnader, en: Overhead}, indirect: true}
    milestones:
      - {key: partner_input, days_before: 28}
      - {key: board_meeting, days_before: 10, remind: lead, needs_state: true,
         label: {sv: Styrelsemöte, en: Board meeting}}
    """)


def test_cost_categories_and_milestones_are_read_from_the_form():
    form = load_form_text(CATEGORIES, "test", "x")
    assert [c.key for c in form.cost_categories] == ["salaries", "overhead"]
    assert form.indirect_categories == {"overhead"}
    assert form.cost_category("salaries").label.sv == "Löner"
    assert form.cost_category("personnel") is None
    partner, board = form.milestones
    assert (partner.key, partner.days_before, partner.remind, partner.label) == (
        "partner_input", 28, "partners", None)  # a default milestone keeps its other settings
    assert (board.days_before, board.remind, board.needs_state, board.label.en) == (
        10, "lead", True, "Board meeting")


def test_without_the_keys_a_form_has_todays_categories_and_milestones():
    form = load_form_text(BASE, "test", "x")
    assert [c.key for c in form.cost_categories] == [
        "personnel", "travel", "external_services", "equipment", "premises", "other",
        "indirect"]
    assert form.indirect_categories == {"indirect"}
    assert [(m.key, m.days_before, m.remind) for m in form.milestones] == [
        ("partner_input", 21, "partners"), ("steering_meeting", 14, "lead"),
        ("signatures", 7, "lead")]


SETTING_CASES = [
    ("categories not a list", lambda t: t.replace(
        "cost_categories:\n  - {key: salaries, label: {sv: Löner, en: Salaries}}\n"
        "  - {key: overhead, label: {sv: Omkostnader, en: Overhead}, indirect: true}\n",
        "cost_categories: salaries\n"),
     "'cost_categories' must be a list of categories", "cost_categories: salaries"),
    ("category key", lambda t: t.replace("{key: salaries,", "{key: Löner 2027,"),
     "cost category 1 needs a 'key' of lower-case letters", "{key: Löner 2027,"),
    ("category twice", lambda t: t.replace("{key: overhead,", "{key: salaries,"),
     "cost category 'salaries' is listed twice", ("{key: salaries,", 2)),
    ("category label", lambda t: t.replace("label: {sv: Löner, en: Salaries}",
                                           "label: {sv: Löner}"),
     "cost category 'salaries' has no 'en' text", "label: {sv: Löner}"),
    ("indirect not a boolean", lambda t: t.replace("indirect: true", "indirect: 10"),
     "'indirect' of cost category 'overhead' must be true or false", "indirect: 10"),
    ("unknown category key", lambda t: t.replace("indirect: true}", "indirect: true, vat: 25}"),
     "unknown key 'vat' in a cost category", "vat: 25"),
    ("days not a number", lambda t: t.replace("days_before: 28", "days_before: four weeks"),
     "'days_before' of milestone 'partner_input' must be a whole number from 0 to 365",
     "days_before: four weeks"),
    ("days too many", lambda t: t.replace("days_before: 10", "days_before: 400"),
     "'days_before' of milestone 'board_meeting' must be a whole number", "days_before: 400"),
    ("remind whom", lambda t: t.replace("remind: lead", "remind: everyone"),
     "'remind' of milestone 'board_meeting' must be one of partners, lead",
     "remind: everyone"),
    ("needs_state not a boolean", lambda t: t.replace("needs_state: true",
                                                      "needs_state: maybe"),
     "'needs_state' of milestone 'board_meeting' must be true or false", "needs_state: maybe"),
    ("own milestone without a label", lambda t: t.replace(
        ",\n     label: {sv: Styrelsemöte, en: Board meeting}}", "}"),
     "milestone 'board_meeting' needs text in Swedish and English", "- {key: board_meeting"),
    ("the deadline listed", lambda t: t.replace("{key: partner_input,", "{key: deadline,"),
     "the deadline is always the last milestone: do not list it", "{key: deadline,"),
    ("milestone twice", lambda t: t.replace("{key: board_meeting,", "{key: partner_input,"),
     "milestone 'partner_input' is listed twice", ("{key: partner_input,", 2)),
    ("unknown milestone key", lambda t: t.replace("days_before: 28}",
                                                  "days_before: 28, who: partners}"),
     "unknown key 'who' in a milestone", "who: partners"),
]


@pytest.mark.parametrize("mutate, message, where", [c[1:] for c in SETTING_CASES],
                         ids=[c[0] for c in SETTING_CASES])
def test_each_setting_rule_names_file_and_line(mutate, message, where):
    text = mutate(CATEGORIES)
    assert text != CATEGORIES
    matching = [p for p in problems_of(text) if message in p]
    assert matching, problems_of(text)
    fragment, occurrence = where if isinstance(where, tuple) else (where, 1)
    expected = line_of(text, fragment, occurrence)
    assert matching[0].startswith(f"workflows/forms/test.yaml:{expected}:"), (matching, expected)
