"""What a copy of an application can carry over to another call's form (docs/reuse.md).

A saved value is carried over when the target form has a section with the same key (and the
same part: common, or a partner's own part) holding a field with the same id, of a compatible
type, and the value fits the target field's rules. Everything else with a value is listed,
by its label, with the reason. Pure: no database, no request."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import nh3

from grants.formengine.definition import FieldDef, FormDef, SectionDef, is_empty
from grants.formengine.richtext import render_markdown
from grants.workflow.definition import Label

# Section statuses.
CARRIED, PARTLY, NOT_CARRIED = "carried", "partly", "not_carried"
# Why a value is not carried over (shown translated by grants/reuse/views.py `reason_text`).
MISSING = "missing"          # the new form has no such field in a section of that key
KIND = "kind"                # a different kind of field
LENGTH = "length"            # longer than the new field allows
LINES = "lines"              # several lines for a one-line field
LIMITS = "limits"            # a number outside the new field's limits
OPTIONS = "options"          # a choice the new field does not offer
COLUMNS = "columns"          # a table whose columns the new table lacks
ROWS = "rows"                # more rows than the new table allows
FILE = "file"                # uploads are not copied
SECTION_MISSING = "section_missing"  # the new form has no section of that key

TEXTS = ("text", "longtext", "richtext")
NUMBERS = ("integer", "money")


@dataclass
class NotCarried:
    label: Label
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"label": label_dict(self.label), "reason": self.reason, "params": self.params}


@dataclass
class SectionPlan:
    """One saved section instance of the source and what of it the target form takes."""
    instance_key: str
    section_key: str
    title: Label
    partner_id: int | None          # the source partner whose own part it is
    values: dict[str, Any]          # what is carried over, by the target field's id
    not_carried: list[NotCarried]

    @property
    def status(self) -> str:
        if not self.values:
            return NOT_CARRIED
        return PARTLY if self.not_carried else CARRIED


def label_dict(label: Label) -> dict[str, str]:
    return {"sv": label.sv, "en": label.en}


def plain_text(markdown: str) -> str:
    """Formatted text (Markdown) as plain text: what it reads, without the marks."""
    rendered = str(render_markdown(markdown))
    rendered = rendered.replace("</p>", "</p>\n").replace("<li>", "<li>- ")
    text = html.unescape(nh3.clean(rendered, tags=set()))
    lines = [line.rstrip() for line in text.strip().splitlines()]
    # One blank line between paragraphs, none inside a list.
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def carry_value(source: FieldDef, target: FieldDef, value: Any, call_limit: int | None
                ) -> tuple[Any, NotCarried | None]:
    """The value as the target field stores it, or why it cannot."""
    def refused(reason: str, **params) -> tuple[None, NotCarried]:
        return None, NotCarried(source.label, reason, params)

    if source.type == "file" or target.type == "file":
        return refused(FILE)
    if source.type in TEXTS and target.type in TEXTS:
        text = str(value)
        if source.type == "richtext" and target.type != "richtext":
            text = plain_text(text)
        if target.type == "text" and "\n" in text.strip():
            return refused(LINES)
        limit = target.char_limit(call_limit)
        if limit is not None and len(text) > limit:
            return refused(LENGTH, length=len(text), limit=limit)
        return text, None
    if source.type in NUMBERS and target.type in NUMBERS:
        if not isinstance(value, int) or isinstance(value, bool):
            return refused(KIND)
        if (target.min_value is not None and value < target.min_value) or (
                target.max_value is not None and value > target.max_value):
            return refused(LIMITS)
        return value, None
    if source.type != target.type:
        return refused(KIND)
    if target.type in ("date", "yesno"):
        return value, None
    offered = {o.value for o in target.options}
    if target.type == "choice":
        return (value, None) if value in offered else refused(OPTIONS)
    if target.type == "multichoice":
        values = value if isinstance(value, list) else [value]
        return (list(values), None) if set(values) <= offered else refused(OPTIONS)
    if target.type == "table":
        return _carry_table(source, target, value)
    return refused(KIND)


def _carry_table(source: FieldDef, target: FieldDef, rows: Any
                 ) -> tuple[Any, NotCarried | None]:
    """Carried when every column of the source table is in the target table with the same
    type (and a choice's values among its options), and the rows fit its maximum."""
    columns = {c.id: c for c in target.columns}
    for column in source.columns:
        found = columns.get(column.id)
        if found is None or found.type != column.type:
            return None, NotCarried(source.label, COLUMNS)
        if found.type == "choice":
            offered = {o.value for o in found.options}
            if any(row.get(column.id) not in offered and not is_empty(row.get(column.id))
                   for row in rows or []):
                return None, NotCarried(source.label, OPTIONS)
    rows = [dict(row) for row in rows or []]
    if len(rows) > target.max_rows:
        return None, NotCarried(source.label, ROWS, {"rows": len(rows),
                                                      "limit": target.max_rows})
    return rows, None


def plan_section(source_section: SectionDef, target: FormDef, data: dict[str, Any],
                 instance_key: str, partner_id: int | None, call_limit: int | None
                 ) -> SectionPlan:
    target_section = target.section(source_section.key)
    if target_section is not None and target_section.part != source_section.part:
        target_section = None
    plan = SectionPlan(instance_key, source_section.key, source_section.title, partner_id, {},
                       [])
    for source_field in source_section.fields:
        value = data.get(source_field.id)
        if is_empty(value) or source_field.is_filled_in:
            continue
        if target_section is None:
            plan.not_carried.append(NotCarried(source_field.label, SECTION_MISSING))
            continue
        target_field = next((f for f in target_section.fields if f.id == source_field.id), None)
        if target_field is None or target_field.is_filled_in:
            plan.not_carried.append(NotCarried(source_field.label, MISSING))
            continue
        carried, refusal = carry_value(source_field, target_field, value, call_limit)
        if refusal is not None:
            plan.not_carried.append(refusal)
        else:
            plan.values[target_field.id] = carried
    return plan


def plan_sections(source: FormDef, target: FormDef, answers: dict[str, dict[str, Any]],
                  partner_ids: list[int], call_limit: int | None) -> list[SectionPlan]:
    """Each saved section instance of the source with a value: what the target takes. Values
    of fields no longer in the source form stay behind (they are not part of it)."""
    plans = []
    for section in source.sections:
        owners = partner_ids if section.part == "partner_part" else [None]
        for partner_id in owners:
            key = section.key if partner_id is None else f"{section.key}@{partner_id}"
            data = answers.get(key) or {}
            if not any(not is_empty(data.get(f.id)) and not f.is_filled_in
                       for f in section.fields):
                continue
            plans.append(plan_section(section, target, data, key, partner_id, call_limit))
    return plans
