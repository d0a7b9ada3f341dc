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
