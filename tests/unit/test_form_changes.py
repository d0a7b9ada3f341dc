"""What moving from one form version to another adds, removes and leaves behind."""

from grants.formengine.changes import compare_forms
from grants.formengine.definition import load_form_text

OLD = """\
title: {sv: Test, en: Test}
version: 1
sections:
  - key: plan
    title: {sv: Plan, en: Plan}
    fields:
      - {id: aims, type: text, label: {sv: Mål, en: Aims}}
      - {id: budget_note, type: text, label: {sv: Not, en: Note}}
      - {id: participants, type: text, label: {sv: Deltagare, en: Participants}}
  - key: own
    title: {sv: Egen del, en: Own part}
    part: partner_part
    fields:
      - {id: role, type: text, label: {sv: Roll, en: Role}}
  - key: extra
    title: {sv: Extra, en: Extra}
    fields:
      - {id: extra, type: text, label: {sv: Extra, en: Extra}}
"""

NEW = """\
title: {sv: Test, en: Test}
version: 2
sections:
  - key: plan
    title: {sv: Plan, en: Plan}
    fields:
      - {id: aims, type: text, label: {sv: Mål, en: Aims}}
      - {id: participants, type: integer, label: {sv: Deltagare, en: Participants}}
  - key: own
    title: {sv: Egen del, en: Own part}
    part: partner_part
    fields:
      - {id: contribution, type: money, required: true, label: {sv: Insats, en: Contribution}}
  - key: money
    title: {sv: Pengar, en: Money}
    fields:
      - {id: budget_note, type: text, label: {sv: Not, en: Note}}
"""


def test_compare_forms_lists_what_is_added_removed_changed_and_left_behind():
    old, new = load_form_text(OLD, "t", "old"), load_form_text(NEW, "t", "new")
    answers = {"plan": {"aims": "Läsa", "budget_note": "Se bilaga", "participants": "40"},
               "own@7": {"role": "Värd"}, "own@8": {"role": ""},
               "extra": {"extra": "Gammalt", "ancient": "redan borttaget"}}
    changes = compare_forms(old, new, answers)
    assert [s.key for s in changes.sections_added] == ["money"]
    assert [s.key for s in changes.sections_removed] == ["extra"]
    assert [(c.section.key, c.field.id) for c in changes.fields_added] == [("own", "contribution")]
    assert sorted(c.field.id for c in changes.fields_removed) == ["extra", "role"]
    assert [(c.field.id, c.old_field.type, c.field.type) for c in changes.fields_retyped] == [
        ("participants", "text", "integer")]
    assert [(c.field.id, c.old_section.key, c.section.key) for c in changes.fields_moved] == [
        ("budget_note", "plan", "money")]
    # Answers the new version no longer shows: the moved field's answer (stored under its old
    # section), the removed field of partner 7 (partner 8's is empty), the removed section.
    # The answer already outside the old version is not news.
    assert [(d.key, d.field_id, d.value) for d in changes.dropped] == [
        ("extra", "extra", "Gammalt"), ("own@7", "role", "Värd"),
        ("plan", "budget_note", "Se bilaga")]
    assert changes.dropped[1].field.label.en == "Role"
    assert [(d.key, d.field_id) for d in changes.retyped_answers] == [("plan", "participants")]
    assert not changes.is_empty
    assert changes.summary()["answers_no_longer_in_form"] == [
        "extra.extra", "own@7.role", "plan.budget_note"]


def test_the_same_form_changes_nothing():
    old = load_form_text(OLD, "t", "old")
    changes = compare_forms(old, old, {"plan": {"aims": "x"}})
    assert changes.is_empty and not changes.dropped and not changes.retyped_answers
