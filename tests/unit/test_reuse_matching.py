"""The matching rules of a copy (grants/reuse/matching.py, docs/reuse.md), without the app."""

from __future__ import annotations

import pytest

from grants.formengine.definition import Column, FieldDef, FormDef, Option, SectionDef
from grants.reuse import matching
from grants.workflow.definition import Label

L = Label("Fält", "Field")


def field(type_: str, **kwargs) -> FieldDef:
    return FieldDef(id="f", type=type_, label=L, **kwargs)


def carry(source: FieldDef, target: FieldDef, value, call_limit=None):
    return matching.carry_value(source, target, value, call_limit)


@pytest.mark.parametrize("source,target", [("text", "longtext"), ("longtext", "richtext"),
                                           ("richtext", "richtext"), ("longtext", "longtext")])
def test_texts_carry_between_text_kinds(source, target):
    assert carry(field(source), field(target), "Hej") == ("Hej", None)


def test_formatted_text_becomes_plain_in_a_plain_field():
    value, refusal = carry(field("richtext"), field("longtext"), "**Fet** och *kursiv*")
    assert (value, refusal) == ("Fet och kursiv", None)


def test_text_longer_than_the_target_allows_is_not_carried():
    _, refusal = carry(field("longtext"), field("longtext", max_chars=5), "sex tecken")
    assert (refusal.reason, refusal.params) == (matching.LENGTH, {"length": 10, "limit": 5})
    _, refusal = carry(field("longtext"), field("longtext"), "x" * 40, call_limit=30)
    assert refusal.reason == matching.LENGTH


def test_several_lines_do_not_go_into_a_one_line_field():
    assert carry(field("longtext"), field("text"), "a\nb")[1].reason == matching.LINES


def test_numbers_within_the_target_limits():
    assert carry(field("money"), field("integer", max_value=10), 7) == (7, None)
    assert carry(field("money"), field("money", max_value=10), 11)[1].reason == matching.LIMITS
    assert carry(field("integer"), field("integer", min_value=1), 0)[1].reason == \
        matching.LIMITS


def test_choices_only_when_the_target_offers_them():
    offered = (Option("a", L), Option("b", L))
    assert carry(field("choice"), field("choice", options=offered), "a") == ("a", None)
    assert carry(field("choice"), field("choice", options=offered), "c")[1].reason == \
        matching.OPTIONS
    assert carry(field("multichoice"), field("multichoice", options=offered), ["a", "b"]) == \
        (["a", "b"], None)
    assert carry(field("multichoice"), field("multichoice", options=offered),
                 ["a", "z"])[1].reason == matching.OPTIONS


def test_tables_need_the_source_columns_in_the_target():
    group = Column("group", "text", L)
    count = Column("count", "integer", L)
    rows = [{"group": "Äldre", "count": 3}]
    wider = field("table", columns=(group, count, Column("note", "text", L)))
    assert carry(field("table", columns=(group, count)), wider, rows) == (rows, None)
    narrower = field("table", columns=(group,))
    assert carry(field("table", columns=(group, count)), narrower, rows)[1].reason == \
        matching.COLUMNS
    retyped = field("table", columns=(group, Column("count", "text", L)))
    assert carry(field("table", columns=(group, count)), retyped, rows)[1].reason == \
        matching.COLUMNS
    few = field("table", columns=(group, count), max_rows=1)
    assert carry(field("table", columns=(group, count)), few, rows * 2)[1].reason == \
        matching.ROWS


def test_other_kinds_and_files_are_not_carried():
    assert carry(field("table"), field("longtext"), [])[1].reason == matching.KIND
    assert carry(field("date"), field("text"), "2027-01-01")[1].reason == matching.KIND
    assert carry(field("file"), field("file"), {"id": 1})[1].reason == matching.FILE


def test_sections_match_by_key_and_part_and_fields_by_id():
    summary = FieldDef(id="summary", type="longtext", label=Label("Sammanfattning", "Summary"))
    short = FieldDef(id="short", type="text", label=Label("Kortnamn", "Short name"))
    source = FormDef("a", L, 1, (SectionDef("summary", L, "common", (summary, short)),
                                 SectionDef("other", L, "common", (short,)),
                                 SectionDef("part", L, "partner_part", (summary,))))
    target = FormDef("b", L, 1, (SectionDef("summary", L, "common", (summary,)),
                                 SectionDef("part", L, "common", (summary,))))
    plans = matching.plan_sections(source, target, {
        "summary": {"summary": "S", "short": "K"}, "other": {"short": ""},
        "part@7": {"summary": "P"}}, [7], None)
    by_key = {p.instance_key: p for p in plans}
    assert set(by_key) == {"summary", "part@7"}                   # empty sections: nothing
    assert by_key["summary"].values == {"summary": "S"}
    assert by_key["summary"].status == matching.PARTLY
    assert [(n.label.sv, n.reason) for n in by_key["summary"].not_carried] == [
        ("Kortnamn", matching.MISSING)]
    # A partner's own part never becomes a common section.
    assert by_key["part@7"].status == matching.NOT_CARRIED
    assert by_key["part@7"].not_carried[0].reason == matching.SECTION_MISSING
