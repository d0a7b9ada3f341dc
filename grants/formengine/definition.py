"""Form definitions (workflows/forms/*.yaml): sections and typed fields, labels in sv and en.

One definition drives the WTForms form, server validation, completeness, the page, the PDF and
the JSON export: no field is described twice. Format: docs/forms.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grants.workflow.definition import LANGUAGES, Label
from grants.workflow.yamlsource import (
    LocatedYaml,
    Problem,
    SourceChecker,
    SourceInvalid,
    parse_located_yaml,
)

FIELD_TYPES = ("text", "longtext", "richtext", "integer", "money", "date", "choice",
               "multichoice", "yesno", "table", "file")
COLUMN_TYPES = ("text", "integer", "money", "date", "choice")
TEXT_TYPES = ("text", "longtext", "richtext")
PARTS = ("common", "partner_part")
TOP_KEYS = {"title", "version", "sections", "description", "cost_categories", "milestones",
            "actuals"}
SECTION_KEYS = {"key", "title", "fields", "part", "description", "help"}
FIELD_KEYS = {"id", "type", "label", "help", "required", "max_chars", "min_value", "max_value",
              "options", "columns", "min_rows", "max_rows", "show_when", "accept", "mirrors"}
COLUMN_KEYS = {"id", "type", "label", "required", "options", "max_chars"}
OPTION_KEYS = {"value", "label"}
CONDITION_KEYS = {"field", "equals", "in"}
MIRROR_KEYS = {"value", "mode"}
MIRROR_MODES = ("filled", "checked")
# Facts the budget computes that a form field may state too (`mirrors:`), by name: what kind
# of value each is, and in which part of the form it belongs ("common", "partner_part" or
# None: either). "money" facts are amounts; "year" facts bound a date field's year.
MIRROR_FACTS: dict[str, tuple[str, str | None]] = {
    "budget.requested": ("money", "common"),
    "budget.total_cost": ("money", "common"),
    "budget.cofinancing": ("money", "common"),
    "budget.own_cost": ("money", "partner_part"),
    "budget.own_cofinancing": ("money", "partner_part"),
    "budget.first_year": ("year", None),
    "budget.last_year": ("year", None),
}
FILE_KINDS = ("pdf", "docx", "xlsx", "odt", "png", "jpg")
DEFAULT_TEXT_LIMIT = {"text": 200, "longtext": 4000, "richtext": 8000}


@dataclass(frozen=True)
class Option:
    value: str
    label: Label


@dataclass(frozen=True)
class Column:
    id: str
    type: str
    label: Label
    required: bool = False
    options: tuple[Option, ...] = ()
    max_chars: int | None = None


@dataclass(frozen=True)
class Condition:
    """Show a field only when another field has one of these values."""
    field: str
    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        if isinstance(value, list):
            return any(v in self.values for v in value)
        return value in self.values


@dataclass(frozen=True)
class Mirror:
    """The field states a fact the budget computes. "filled": shown filled in from the budget
    and read-only (what is typed is never stored); "checked": typed, and refused by
    `form_complete`, with both numbers, while it disagrees with the budget."""
    fact: str
    mode: str = "filled"

    @property
    def kind(self) -> str:
        return MIRROR_FACTS[self.fact][0]


@dataclass(frozen=True)
class FieldDef:
    id: str
    type: str
    label: Label
    help: Label | None = None
    required: bool = False
    max_chars: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    options: tuple[Option, ...] = ()
    columns: tuple[Column, ...] = ()
    min_rows: int = 0
    max_rows: int = 50
    show_when: Condition | None = None
    accept: tuple[str, ...] = FILE_KINDS
    mirrors: Mirror | None = None

    @property
    def is_filled_in(self) -> bool:
        """Shown filled in from the budget, not typed."""
        return self.mirrors is not None and self.mirrors.mode == "filled"

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    def char_limit(self, call_limit: int | None) -> int | None:
        """The tighter of the field's own limit and the call's limit per text field."""
        if not self.is_text:
            return None
        limits = [x for x in (self.max_chars or DEFAULT_TEXT_LIMIT[self.type], call_limit) if x]
        return min(limits) if limits else None

    def option_label(self, value: Any) -> Label | None:
        return next((o.label for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class SectionDef:
    key: str
    title: Label
    part: str
    fields: tuple[FieldDef, ...]
    help: Label | None = None


@dataclass(frozen=True)
class CostCategoryDef:
    """A budget cost category: its key (stored on each cost line), its label (None: the
    app's translated label of a default category) and whether it is an indirect cost (the
    call's maximum indirect share counts these)."""
    key: str
    label: Label | None = None
    indirect: bool = False


# Today's categories: what a form without `cost_categories:` uses.
DEFAULT_COST_CATEGORIES = tuple(
    CostCategoryDef(key, indirect=key == "indirect") for key in
    ("personnel", "travel", "external_services", "equipment", "premises", "other", "indirect"))
MILESTONE_REMINDS = ("partners", "lead")


@dataclass(frozen=True)
class MilestoneDef:
    """An internal milestone before the call's deadline (docs/deadlines.md).

    days_before  calendar days before the deadline (the call's own setting wins for the
                 three milestones a call can set: partner_input, steering_meeting, signatures)
    remind       partners: the partners that have not confirmed, while the workflow's state
                 has `partner_input: true`; lead: the project lead, until the application
                 reaches a state whose `milestone:` names it (or is finished)
    needs_state  applies only to workflows with a state whose `milestone:` names it
    label        None: the app's translated label of a default milestone"""
    key: str
    days_before: int
    remind: str = "lead"
    needs_state: bool = False
    label: Label | None = None


# Today's milestones, in the order they fall due (the deadline itself always comes last).
DEFAULT_MILESTONES = (
    MilestoneDef("partner_input", 21, "partners"),
    MilestoneDef("steering_meeting", 14, "lead", needs_state=True),
    MilestoneDef("signatures", 7, "lead"),
)
DEADLINE_MILESTONE = "deadline"

ACTUALS_KEYS = {"partners_see", "explain_deviation_above_percent", "cofinancing_below_pledge",
                "claims_payment", "within_grant", "costs_balance_financing"}
PARTNERS_SEE = ("all", "own")
BELOW_PLEDGE = ("warn", "refuse", "ignore")


@dataclass(frozen=True)
class ActualsRules:
    """What a form whose budget states actual figures asks of them (`actuals:`,
    docs/reporting.md); checked by the `actuals_within_rules` guard against the document's
    baseline (the budget it reports on) and the project's grant."""
    partners_see: str = "all"                           # "own": a partner sees its own only
    explain_deviation_above_percent: int | None = None  # above: a written explanation
    cofinancing_below_pledge: str | None = None         # "warn": flagged; "refuse"
    claims_payment: bool = False        # asks to be paid: counted as claimed; all claims ≤ grant
    within_grant: bool = False          # what it asks of the funder ≤ the grant
    costs_balance_financing: bool = False               # costs = grant + co-financing


@dataclass(frozen=True)
class FormDef:
    name: str
    title: Label
    version: int
    sections: tuple[SectionDef, ...]
    source_text: str = field(default="", compare=False)
    cost_categories: tuple[CostCategoryDef, ...] = DEFAULT_COST_CATEGORIES
    milestones: tuple[MilestoneDef, ...] = DEFAULT_MILESTONES
    actuals: ActualsRules = ActualsRules()

    def cost_category(self, key: str) -> CostCategoryDef | None:
        return next((c for c in self.cost_categories if c.key == key), None)

    @property
    def indirect_categories(self) -> frozenset[str]:
        return frozenset(c.key for c in self.cost_categories if c.indirect)

    def section(self, key: str) -> SectionDef | None:
        return next((s for s in self.sections if s.key == key), None)

    def field(self, field_id: str) -> FieldDef | None:
        return next((f for s in self.sections for f in s.fields if f.id == field_id), None)

    def section_of(self, field_id: str) -> SectionDef | None:
        return next((s for s in self.sections if any(f.id == field_id for f in s.fields)), None)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def section_instances(form: FormDef, partner_ids: list[int]
                      ) -> list[tuple[SectionDef, int | None, str]]:
    """Every section as filled in: common sections once, partner sections once per partner.
    Gives (section, partner id or None, the key its answers are stored under)."""
    instances = []
    for section in form.sections:
        if section.part == "partner_part":
            instances.extend((section, pid, f"{section.key}@{pid}") for pid in partner_ids)
        else:
            instances.append((section, None, section.key))
    return instances


def field_is_shown(form: FormDef, form_field: FieldDef, answers: dict[str, dict[str, Any]],
                   key: str | None = None) -> bool:
    """Whether a conditional field applies, given all saved answers (by instance key). A
    condition on a field of the same section reads that same instance (the same partner's
    part); otherwise it reads the common section."""
    condition = form_field.show_when
    if condition is None:
        return True
    section = form.section_of(condition.field)
    if section is None:
        return False
    own = form.section_of(form_field.id)
    instance = key if (key and own is not None and own.key == section.key) else section.key
    return condition.holds(answers.get(instance, {}).get(condition.field))


def removed_values(form: FormDef, answers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Saved values of fields (or whole sections) no longer in the form: kept, never dropped."""
    known = {s.key: {f.id for f in s.fields} for s in form.sections}
    removed = []
    for key in sorted(answers):
        section_key = key.split("@", 1)[0]
        for field_id, value in sorted(answers[key].items()):
            if field_id not in known.get(section_key, set()) and not is_empty(value):
                removed.append({"section": key, "id": field_id, "value": value})
    return removed


Facts = dict[Any, dict[str, int]]  # partner id (None: the common part) → fact → value


def _fact(facts: Facts, partner_id: int | None, name: str) -> int | None:
    own = facts.get(partner_id, {}) if partner_id is not None else {}
    return own.get(name, facts.get(None, {}).get(name))


def apply_mirrors(form: FormDef, answers: dict[str, dict[str, Any]], facts: Facts,
                  partner_ids: list[int]) -> dict[str, dict[str, Any]]:
    """The answers as the application states them: a field that mirrors an amount reads the
    budget's figure (always when filled in; when checked, once the budget has it), so a
    page, a snapshot or a PDF never shows two different values for one fact."""
    stated = {key: dict(values) for key, values in answers.items()}
    for section, partner_id, key in section_instances(form, partner_ids):
        for form_field in section.fields:
            mirror = form_field.mirrors
            if mirror is None or mirror.kind != "money":
                continue
            computed = _fact(facts, partner_id, mirror.fact)
            if computed is not None or mirror.mode == "filled":
                stated.setdefault(key, {})[form_field.id] = computed
    return stated


@dataclass(frozen=True)
class Disagreement:
    key: str             # the section instance
    field: FieldDef
    stated: Any          # what the form says
    computed: int        # what the budget says


def mirror_disagreements(form: FormDef, answers: dict[str, dict[str, Any]], facts: Facts,
                         partner_ids: list[int]) -> list[Disagreement]:
    """Checked fields whose typed value disagrees with the budget: another amount, or a
    project period the budget's years fall outside."""
    found = []
    for section, partner_id, key in section_instances(form, partner_ids):
        for form_field in section.fields:
            mirror = form_field.mirrors
            if mirror is None or mirror.mode != "checked" or \
                    not field_is_shown(form, form_field, answers, key):
                continue
            computed = _fact(facts, partner_id, mirror.fact)
            stated = answers.get(key, {}).get(form_field.id)
            if computed is None or is_empty(stated):
                continue
            if mirror.kind == "money":
                wrong = int(stated) != computed
            else:
                year = int(str(stated)[:4])
                wrong = computed < year if mirror.fact == "budget.first_year" else computed > year
            if wrong:
                found.append(Disagreement(key, form_field, stated, computed))
    return found


class _Checker(SourceChecker):

    def label(self, value: Any, what: str, *path: Any, required: bool = True) -> Label | None:
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            self.add(f"{what} needs text in Swedish and English, e.g. "
                     f"{{sv: Bakgrund, en: Background}}.", *path)
            return Label("", "")
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.add(f"{what} has no '{lang}' text: add {lang}: <text>.", *path)
        for lang in value:
            if lang not in LANGUAGES:
                self.add(f"{what} has text in unknown language '{lang}' (use sv and en).",
                         *path, lang)
        return Label(str(value.get("sv", "") or ""), str(value.get("en", "") or ""))

    def whole(self, value: Any, what: str, *path: Any, minimum: int = 0) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.add(f"{what} must be a whole number ≥ {minimum}.", *path)
            return None
        return value

    def options(self, raw: Any, what: str, *path: Any) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not raw:
            self.add(f"{what} needs 'options': a list of {{value, label}}.", *path)
            return ()
        result, seen = [], set()
        for index, item in enumerate(raw):
            if not isinstance(item, dict):
                self.add(f"option {index + 1} of {what} must be a mapping with value and label.",
                         *path, index)
                continue
            self.keys(item, OPTION_KEYS, f"an option of {what}", *path, index)
            value = item.get("value")
            if not isinstance(value, str) or not value:
                self.add(f"option {index + 1} of {what} needs a 'value' (text).", *path, index)
                continue
            if value in seen:
                self.add(f"option value '{value}' is used twice in {what}.", *path, index)
            seen.add(value)
            result.append(Option(value, self.label(item.get("label"), f"option '{value}' of {what}",
                                                   *path, index, "label")))
        return tuple(result)


def _check_field(c: _Checker, fdata: dict, fpath: tuple, fallback_id: str) -> FieldDef:
    c.keys(fdata, FIELD_KEYS, "a field", *fpath)
    fid = fdata.get("id")
    if not isinstance(fid, str) or not fid.isidentifier():
        c.add("a field needs an 'id' made of letters, digits and _.", *fpath)
        fid = fallback_id
    ftype = fdata.get("type")
    if ftype not in FIELD_TYPES:
        c.add(f"field '{fid}' has unknown type '{ftype}'. Known types: "
              f"{', '.join(FIELD_TYPES)}.", *fpath, "type")
        ftype = "text"
    what = f"field '{fid}'"
    label = c.label(fdata.get("label"), what, *fpath, "label")
    help_ = c.label(fdata.get("help"), f"help of {what}", *fpath, "help", required=False)
    max_chars = c.whole(fdata.get("max_chars"), f"'max_chars' of {what}", *fpath, "max_chars",
                        minimum=1)
    min_value = c.whole(fdata.get("min_value"), f"'min_value' of {what}", *fpath, "min_value")
    max_value = c.whole(fdata.get("max_value"), f"'max_value' of {what}", *fpath, "max_value",
                        minimum=1)
    options: tuple[Option, ...] = ()
    if ftype in ("choice", "multichoice"):
        options = c.options(fdata.get("options"), what, *fpath, "options")
    columns: list[Column] = []
    min_rows = c.whole(fdata.get("min_rows"), f"'min_rows' of {what}", *fpath, "min_rows") or 0
    max_rows = c.whole(fdata.get("max_rows"), f"'max_rows' of {what}", *fpath, "max_rows",
                       minimum=1) or 50
    if ftype == "table":
        raw_columns = fdata.get("columns")
        if not isinstance(raw_columns, list) or not raw_columns:
            c.add(f"{what} is a table and needs 'columns'.", *fpath, "columns")
            raw_columns = []
        seen: set[str] = set()
        for cindex, cdata in enumerate(raw_columns):
            cpath = fpath + ("columns", cindex)
            if not isinstance(cdata, dict):
                c.add(f"column {cindex + 1} of {what} must be a mapping.", *cpath)
                continue
            c.keys(cdata, COLUMN_KEYS, f"a column of {what}", *cpath)
            cid = cdata.get("id")
            if not isinstance(cid, str) or not cid.isidentifier():
                c.add(f"column {cindex + 1} of {what} needs an 'id'.", *cpath)
                cid = f"col{cindex}"
            elif cid in seen:
                c.add(f"column id '{cid}' is used twice in {what}.", *cpath, "id")
            seen.add(cid)
            ctype = cdata.get("type", "text")
            if ctype not in COLUMN_TYPES:
                c.add(f"column '{cid}' of {what} has unknown type '{ctype}'. Column types: "
                      f"{', '.join(COLUMN_TYPES)}.", *cpath, "type")
                ctype = "text"
            columns.append(Column(
                cid, ctype, c.label(cdata.get("label"), f"column '{cid}' of {what}", *cpath,
                                    "label"),
                bool(cdata.get("required")),
                c.options(cdata.get("options"), f"column '{cid}'", *cpath, "options")
                if ctype == "choice" else (),
                c.whole(cdata.get("max_chars"), f"'max_chars' of column '{cid}'", *cpath,
                        "max_chars", minimum=1)))
        if min_rows > max_rows:
            c.add(f"'min_rows' of {what} is larger than 'max_rows'.", *fpath, "min_rows")
    accept = FILE_KINDS
    if ftype == "file" and fdata.get("accept") is not None:
        raw_accept = fdata.get("accept")
        if not isinstance(raw_accept, list) or not all(k in FILE_KINDS for k in raw_accept):
            c.add(f"'accept' of {what} must list file kinds among {', '.join(FILE_KINDS)}.",
                  *fpath, "accept")
        else:
            accept = tuple(raw_accept)
    condition = None
    raw_condition = fdata.get("show_when")
    if raw_condition is not None:
        if not isinstance(raw_condition, dict) or "field" not in raw_condition or not (
                "equals" in raw_condition or "in" in raw_condition):
            c.add(f"'show_when' of {what} must name a field and a value, e.g. "
                  f"{{field: has_partners, equals: true}}.", *fpath, "show_when")
        else:
            c.keys(raw_condition, CONDITION_KEYS, f"'show_when' of {what}", *fpath, "show_when")
            values = raw_condition.get("in", [raw_condition.get("equals")])
            condition = Condition(str(raw_condition["field"]),
                                  tuple(values if isinstance(values, list) else [values]))
    mirror = _check_mirror(c, fdata.get("mirrors"), str(ftype), what, fpath)
    return FieldDef(fid, str(ftype), label, help_, bool(fdata.get("required")), max_chars,
                    min_value, max_value, options, tuple(columns), min_rows, max_rows, condition,
                    accept, mirror)


def _check_mirror(c: _Checker, raw: Any, ftype: str, what: str, fpath: tuple
                  ) -> Mirror | None:
    """`mirrors: budget.requested` (filled in) or `mirrors: {value: …, mode: checked}`."""
    if raw is None:
        return None
    path = fpath + ("mirrors",)
    if isinstance(raw, str):
        raw = {"value": raw}
    if not isinstance(raw, dict):
        c.add(f"'mirrors' of {what} must name a fact, e.g. mirrors: budget.requested, or "
              f"{{value: budget.requested, mode: checked}}.", *path)
        return None
    c.keys(raw, MIRROR_KEYS, f"'mirrors' of {what}", *path)
    fact, mode = raw.get("value"), raw.get("mode", "filled")
    if fact not in MIRROR_FACTS:
        c.add(f"'mirrors' of {what} names '{fact}', which the budget does not compute. Facts: "
              f"{', '.join(MIRROR_FACTS)}.", *path)
        return None
    if mode not in MIRROR_MODES:
        c.add(f"'mode' of 'mirrors' of {what} must be one of {', '.join(MIRROR_MODES)}.",
              *path, "mode")
        return None
    kind = MIRROR_FACTS[fact][0]
    if kind == "money" and ftype not in ("money", "integer"):
        c.add(f"{what} mirrors the amount '{fact}' and must be of type money.", *path)
        return None
    if kind == "year":
        if ftype != "date":
            c.add(f"{what} mirrors '{fact}' (a year of the budget) and must be of type date.",
                  *path)
            return None
        if mode != "checked":
            c.add(f"{what} cannot be filled in from '{fact}' (a year, not a date): use "
                  f"{{value: {fact}, mode: checked}}.", *path)
            return None
    return Mirror(str(fact), str(mode))


def check_form_source(src: LocatedYaml, name: str, text: str = "") -> FormDef:
    c = _Checker(src)
    data = src.data
    if not isinstance(data, dict):
        raise SourceInvalid([src.problem("a form file must be a mapping with title, version "
                                         "and sections.")])
    c.keys(data, TOP_KEYS, "the form")
    title = c.label(data.get("title"), "the form title", "title")
    version = c.whole(data.get("version"), "'version'", "version", minimum=1)
    if version is None:
        if "version" not in data:
            c.add("'version' is missing: give the form a version number and bump it on change.")
        version = 0
    sections: list[SectionDef] = []
    seen_sections: set[str] = set()
    field_paths: dict[str, tuple] = {}
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        c.add("'sections' must be a list of sections.", "sections")
        raw_sections = []
    for sindex, sdata in enumerate(raw_sections):
        spath = ("sections", sindex)
        if not isinstance(sdata, dict):
            c.add("each section must be a mapping with key, title and fields.", *spath)
            continue
        c.keys(sdata, SECTION_KEYS, "a section", *spath)
        skey = sdata.get("key")
        if not isinstance(skey, str) or not skey.isidentifier():
            c.add("a section needs a 'key' made of letters, digits and _.", *spath)
            skey = f"section_{sindex}"
        elif skey in seen_sections:
            c.add(f"section key '{skey}' is used twice.", *spath, "key")
        seen_sections.add(skey)
        stitle = c.label(sdata.get("title"), f"section '{skey}'", *spath, "title")
        shelp = c.label(sdata.get("help"), f"help of section '{skey}'", *spath, "help",
                        required=False)
        part = sdata.get("part", "common")
        if part not in PARTS:
            c.add(f"'part' of section '{skey}' must be one of {', '.join(PARTS)}.", *spath, "part")
            part = "common"
        fields: list[FieldDef] = []
        raw_fields = sdata.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            c.add(f"section '{skey}' has no fields.", *spath)
            raw_fields = []
        for findex, fdata in enumerate(raw_fields):
            fpath = spath + ("fields", findex)
            if not isinstance(fdata, dict):
                c.add("each field must be a mapping with id, type and label.", *fpath)
                continue
            form_field = _check_field(c, fdata, fpath, f"field_{sindex}_{findex}")
            if form_field.id in field_paths:
                c.add(f"field id '{form_field.id}' is used twice in this form; ids must be "
                      f"unique across all sections.", *fpath, "id")
            field_paths.setdefault(form_field.id, fpath)
            fields.append(form_field)
        sections.append(SectionDef(skey, stitle, str(part), tuple(fields), shelp))
    all_fields = {f.id: f for s in sections for f in s.fields}
    for section in sections:
        for form_field in section.fields:
            mirror = form_field.mirrors
            wanted = MIRROR_FACTS[mirror.fact][1] if mirror else None
            if wanted is not None and wanted != section.part:
                where = "a partner_part section" if wanted == "partner_part" else \
                    "a common section"
                c.add(f"field '{form_field.id}' mirrors '{mirror.fact}', which belongs in "
                      f"{where}.", *field_paths.get(form_field.id, ()), "mirrors")
            condition = form_field.show_when
            if condition is None:
                continue
            path = field_paths.get(form_field.id, ()) + ("show_when",)
            target = all_fields.get(condition.field)
            if target is None:
                c.add(f"'show_when' of field '{form_field.id}' names field '{condition.field}', "
                      f"which is not in this form.", *path)
            elif target.id == form_field.id:
                c.add(f"field '{form_field.id}' cannot depend on itself.", *path)
            elif target.type in ("choice", "multichoice") and not all(
                    any(o.value == v for o in target.options) for v in condition.values):
                c.add(f"'show_when' of field '{form_field.id}' names a value that field "
                      f"'{target.id}' does not offer.", *path)
    cost_categories = _check_cost_categories(c, data)
    milestones = _check_milestones(c, data)
    actuals = _check_actuals(c, data)
    if c.problems:
        raise SourceInvalid(c.problems)
    return FormDef(name, title, version, tuple(sections), source_text=text,
                   cost_categories=cost_categories, milestones=milestones, actuals=actuals)


def _check_actuals(c: _Checker, data: dict) -> ActualsRules:
    raw = data.get("actuals")
    if raw is None:
        return ActualsRules()
    if not isinstance(raw, dict):
        c.add("'actuals' must be a mapping of rules, e.g. {explain_deviation_above_percent: "
              "15}.", "actuals")
        return ActualsRules()
    c.keys(raw, ACTUALS_KEYS, "'actuals'", "actuals")
    partners_see = raw.get("partners_see", "all")
    if partners_see not in PARTNERS_SEE:
        c.add(f"'partners_see' must be one of {', '.join(PARTNERS_SEE)}.", "actuals",
              "partners_see")
        partners_see = "all"
    below = raw.get("cofinancing_below_pledge", "ignore")
    if below not in BELOW_PLEDGE:
        c.add(f"'cofinancing_below_pledge' must be one of {', '.join(BELOW_PLEDGE)}.",
              "actuals", "cofinancing_below_pledge")
    below = None if below not in ("warn", "refuse") else below
    percent = raw.get("explain_deviation_above_percent")
    if percent is not None:
        percent = c.whole(percent, "'explain_deviation_above_percent'", "actuals",
                          "explain_deviation_above_percent")
        if percent is not None and percent > 1000:
            c.add("'explain_deviation_above_percent' must be at most 1000.", "actuals",
                  "explain_deviation_above_percent")
    flags = {}
    for key in ("claims_payment", "within_grant", "costs_balance_financing"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            c.add(f"'{key}' must be true or false.", "actuals", key)
            value = False
        flags[key] = value
    return ActualsRules(partners_see=partners_see, explain_deviation_above_percent=percent,
                        cofinancing_below_pledge=below, **flags)


# --- the budget's cost categories and the milestones, per form ------------------------------
CATEGORY_KEYS = {"key", "label", "indirect"}
MILESTONE_KEYS = {"key", "days_before", "remind", "needs_state", "label"}
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
# The cost line's column holds at most this many characters.
MAX_CATEGORY_KEY = 30


def _check_cost_categories(c: _Checker, data: dict) -> tuple[CostCategoryDef, ...]:
    """`cost_categories:` a list of {key, label: {sv, en}, indirect: true/false}; without
    it, today's categories."""
    raw = data.get("cost_categories")
    if raw is None:
        return DEFAULT_COST_CATEGORIES
    example = "- {key: personnel, label: {sv: Personal, en: Personnel}}"
    if not isinstance(raw, list) or not raw:
        c.add(f"'cost_categories' must be a list of categories, e.g. {example}.",
              "cost_categories")
        return DEFAULT_COST_CATEGORIES
    result, seen = [], set()
    for index, item in enumerate(raw):
        path = ("cost_categories", index)
        if not isinstance(item, dict):
            c.add(f"cost category {index + 1} must be a mapping, e.g. {example}.", *path)
            continue
        c.keys(item, CATEGORY_KEYS, "a cost category", *path)
        key = item.get("key")
        if not isinstance(key, str) or not _NAME.match(key) or len(key) > MAX_CATEGORY_KEY:
            c.add(f"cost category {index + 1} needs a 'key' of lower-case letters, digits and _ "
                  f"(at most {MAX_CATEGORY_KEY} characters).", *path)
            continue
        if key in seen:
            c.add(f"cost category '{key}' is listed twice.", *path, "key")
        seen.add(key)
        label = c.label(item.get("label"), f"cost category '{key}'", *path, "label")
        indirect = item.get("indirect", False)
        if not isinstance(indirect, bool):
            c.add(f"'indirect' of cost category '{key}' must be true or false.",
                  *path, "indirect")
            indirect = False
        result.append(CostCategoryDef(key, label, indirect))
    return tuple(result)


def _check_milestones(c: _Checker, data: dict) -> tuple[MilestoneDef, ...]:
    """`milestones:` a list of {key, days_before, remind, needs_state, label}; without it,
    today's three (the deadline is always the last milestone and is not listed)."""
    raw = data.get("milestones")
    if raw is None:
        return DEFAULT_MILESTONES
    example = "- {key: signatures, days_before: 7, remind: lead}"
    if not isinstance(raw, list):
        c.add(f"'milestones' must be a list of milestones, e.g. {example}.", "milestones")
        return DEFAULT_MILESTONES
    defaults = {m.key: m for m in DEFAULT_MILESTONES}
    result, seen = [], set()
    for index, item in enumerate(raw):
        path = ("milestones", index)
        if not isinstance(item, dict):
            c.add(f"milestone {index + 1} must be a mapping, e.g. {example}.", *path)
            continue
        c.keys(item, MILESTONE_KEYS, "a milestone", *path)
        key = item.get("key")
        if not isinstance(key, str) or not _NAME.match(key) or len(key) > MAX_CATEGORY_KEY:
            c.add(f"milestone {index + 1} needs a 'key' of lower-case letters, digits and _ "
                  f"(at most {MAX_CATEGORY_KEY} characters).", *path)
            continue
        if key == DEADLINE_MILESTONE:
            c.add("the deadline is always the last milestone: do not list it.", *path, "key")
            continue
        if key in seen:
            c.add(f"milestone '{key}' is listed twice.", *path, "key")
        seen.add(key)
        default = defaults.get(key)
        days = item.get("days_before", default.days_before if default else None)
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            c.add(f"'days_before' of milestone '{key}' must be a whole number from 0 to 365 "
                  f"(days before the deadline).", *path,
                  "days_before" if "days_before" in item else None)
            days = 0
        remind = item.get("remind", default.remind if default else "lead")
        if remind not in MILESTONE_REMINDS:
            c.add(f"'remind' of milestone '{key}' must be one of "
                  f"{', '.join(MILESTONE_REMINDS)}.", *path, "remind")
            remind = "lead"
        needs_state = item.get("needs_state", default.needs_state if default else False)
        if not isinstance(needs_state, bool):
            c.add(f"'needs_state' of milestone '{key}' must be true or false.",
                  *path, "needs_state")
            needs_state = False
        if "label" in item or default is None:
            label = c.label(item.get("label"), f"milestone '{key}'", *path, "label")
        else:
            label = None
        result.append(MilestoneDef(key, days, remind, needs_state, label))
    return tuple(result)


def load_form_text(text: str, name: str, display_name: str) -> FormDef:
    return check_form_source(parse_located_yaml(text, display_name), name, text)


def load_form_file(path: Path, display_name: str | None = None) -> FormDef:
    name = display_name or f"workflows/forms/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceInvalid([Problem(name, None, f"cannot read the file ({exc}).")]) from exc
    return load_form_text(text, path.stem, name)


def load_forms(directory: Path) -> dict[str, FormDef]:
    forms: dict[str, FormDef] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            forms[path.stem] = load_form_file(path)
        except SourceInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise SourceInvalid(problems)
    return forms
