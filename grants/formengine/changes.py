"""What moving an application from one form version to another changes: sections and fields
added, removed, moved or retyped, and the answers that would no longer be part of the form.
Pure Python: compares two FormDefs and the saved answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grants.formengine.definition import FieldDef, FormDef, SectionDef, is_empty, removed_values


@dataclass(frozen=True)
class FieldChange:
    section: SectionDef
    field: FieldDef
    # For a changed field: its definition in the old version (type or section differ).
    old_section: SectionDef | None = None
    old_field: FieldDef | None = None


@dataclass(frozen=True)
class DroppedAnswer:
    """A saved answer the new version no longer asks for (kept in the database, shown under
    "No longer part of the form", never sent to the funder)."""
    key: str                       # the section instance it is stored under
    section: SectionDef | None     # in the old version
    field: FieldDef | None         # in the old version
    field_id: str
    value: Any


@dataclass(frozen=True)
class FormChanges:
    sections_added: list[SectionDef] = field(default_factory=list)
    sections_removed: list[SectionDef] = field(default_factory=list)
    fields_added: list[FieldChange] = field(default_factory=list)
    fields_removed: list[FieldChange] = field(default_factory=list)
    fields_retyped: list[FieldChange] = field(default_factory=list)
    fields_moved: list[FieldChange] = field(default_factory=list)
    dropped: list[DroppedAnswer] = field(default_factory=list)
    # Answers kept whose field changed type: to check, they may no longer be valid.
    retyped_answers: list[DroppedAnswer] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.sections_added or self.sections_removed or self.fields_added
                    or self.fields_removed or self.fields_retyped or self.fields_moved)

    def summary(self) -> dict[str, list[str]]:
        """Keys and ids only, for the audit log."""
        return {"sections_added": [s.key for s in self.sections_added],
                "sections_removed": [s.key for s in self.sections_removed],
                "fields_added": [c.field.id for c in self.fields_added],
                "fields_removed": [c.field.id for c in self.fields_removed],
                "fields_retyped": [c.field.id for c in self.fields_retyped],
                "fields_moved": [c.field.id for c in self.fields_moved],
                "answers_no_longer_in_form": [f"{d.key}.{d.field_id}" for d in self.dropped]}


def _fields(form: FormDef) -> dict[str, tuple[SectionDef, FieldDef]]:
    return {f.id: (s, f) for s in form.sections for f in s.fields}


def compare_forms(old: FormDef, new: FormDef, answers: dict[str, dict[str, Any]]
                  ) -> FormChanges:
    """What moving from `old` to `new` adds and removes, and which of `answers` (by section
    instance) the new version no longer asks for."""
    old_sections = {s.key: s for s in old.sections}
    new_sections = {s.key: s for s in new.sections}
    old_fields, new_fields = _fields(old), _fields(new)
    changes = FormChanges(
        sections_added=[s for s in new.sections if s.key not in old_sections],
        sections_removed=[s for s in old.sections if s.key not in new_sections])
    for field_id, (section, new_field) in new_fields.items():
        if field_id not in old_fields:
            changes.fields_added.append(FieldChange(section, new_field))
            continue
        old_section, old_field = old_fields[field_id]
        change = FieldChange(section, new_field, old_section, old_field)
        if old_field.type != new_field.type:
            changes.fields_retyped.append(change)
        if old_section.key != section.key:
            changes.fields_moved.append(change)
    changes.fields_removed.extend(FieldChange(s, f) for field_id, (s, f) in old_fields.items()
                                  if field_id not in new_fields)
    already = {(r["section"], r["id"]) for r in removed_values(old, answers)}
    for item in removed_values(new, answers):
        if (item["section"], item["id"]) in already:
            continue
        section = old_sections.get(item["section"].split("@", 1)[0])
        known = old_fields.get(item["id"])
        changes.dropped.append(DroppedAnswer(
            item["section"], section, known[1] if known else None, item["id"], item["value"]))
    retyped = {c.field.id: c for c in changes.fields_retyped}
    for key in sorted(answers):
        for field_id, value in sorted(answers[key].items()):
            change = retyped.get(field_id)
            if change is not None and not is_empty(value) \
                    and key.split("@", 1)[0] == change.section.key:
                changes.retyped_answers.append(DroppedAnswer(
                    key, change.old_section, change.old_field, field_id, value))
    return changes
