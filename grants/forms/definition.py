"""Form definitions (workflows/forms/*.yaml): sections and typed fields, labels in sv and en.

One definition drives the WTForms form, server validation, completeness, the page and the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grants.workflow.definition import LANGUAGES, Label
from grants.workflow.yamlsource import LocatedYaml, Problem, SourceInvalid, read_located_yaml

FIELD_TYPES = ("text", "longtext", "money")
PARTS = ("common", "partner_part")
TOP_KEYS = {"title", "version", "sections", "description"}
SECTION_KEYS = {"key", "title", "fields", "part", "description"}
FIELD_KEYS = {"id", "type", "label", "help", "required", "max_chars", "max_value"}
DEFAULT_TEXT_LIMIT = {"text": 200, "longtext": 4000}


@dataclass(frozen=True)
class FieldDef:
    id: str
    type: str
    label: Label
    help: Label | None
    required: bool
    max_chars: int | None = None
    max_value: int | None = None

    @property
    def is_text(self) -> bool:
        return self.type in ("text", "longtext")

    def char_limit(self, call_limit: int | None) -> int | None:
        """The tighter of the field's own limit and the call's limit per text field."""
        if not self.is_text:
            return None
        limits = [x for x in (self.max_chars or DEFAULT_TEXT_LIMIT[self.type], call_limit) if x]
        return min(limits) if limits else None


@dataclass(frozen=True)
class SectionDef:
    key: str
    title: Label
    part: str
    fields: tuple[FieldDef, ...]


@dataclass(frozen=True)
class FormDef:
    name: str
    title: Label
    version: int
    sections: tuple[SectionDef, ...]

    def section(self, key: str) -> SectionDef | None:
        return next((s for s in self.sections if s.key == key), None)


def _label(problems: list[Problem], src: LocatedYaml, value: Any, what: str, *path: Any,
           required: bool = True) -> Label | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        problems.append(src.problem(f"{what} needs text in Swedish and English, e.g. "
                                    f"{{sv: Bakgrund, en: Background}}.", *path))
        return Label("", "")
    for lang in LANGUAGES:
        if not isinstance(value.get(lang), str) or not value.get(lang).strip():
            problems.append(src.problem(f"{what} has no '{lang}' text: add {lang}: <text>.", *path))
    return Label(str(value.get("sv", "")), str(value.get("en", "")))


def check_form_source(src: LocatedYaml, name: str) -> FormDef:
    problems: list[Problem] = src.duplicate_key_problems()
    data = src.data
    if not isinstance(data, dict):
        raise SourceInvalid([src.problem("a form file must be a mapping with title, version "
                                         "and sections.")])
    for key in data:
        if key not in TOP_KEYS:
            problems.append(src.problem(f"unknown key '{key}' in the form. Allowed keys: "
                                        f"{', '.join(sorted(TOP_KEYS))}.", key))
    title = _label(problems, src, data.get("title"), "the form title", "title")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(src.problem("'version' must be a whole number ≥ 1.", "version"))
        version = 0
    sections: list[SectionDef] = []
    seen_sections: set[str] = set()
    seen_fields: set[str] = set()
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        problems.append(src.problem("'sections' must be a list of sections.", "sections"))
        raw_sections = []
    for sindex, sdata in enumerate(raw_sections):
        spath = ("sections", sindex)
        if not isinstance(sdata, dict):
            problems.append(src.problem("each section must be a mapping with key, title, fields.",
                                        *spath))
            continue
        for key in sdata:
            if key not in SECTION_KEYS:
                problems.append(src.problem(f"unknown key '{key}' in a section. Allowed keys: "
                                            f"{', '.join(sorted(SECTION_KEYS))}.", *spath, key))
        skey = sdata.get("key")
        if not isinstance(skey, str) or not skey.isidentifier():
            problems.append(src.problem("a section needs a 'key' made of letters, digits and _.",
                                        *spath))
            skey = f"section_{sindex}"
        elif skey in seen_sections:
            problems.append(src.problem(f"section key '{skey}' is used twice.", *spath, "key"))
        seen_sections.add(skey)
        stitle = _label(problems, src, sdata.get("title"), f"section '{skey}'", *spath, "title")
        part = sdata.get("part", "common")
        if part not in PARTS:
            problems.append(src.problem(f"'part' of section '{skey}' must be one of "
                                        f"{', '.join(PARTS)}.", *spath, "part"))
        fields: list[FieldDef] = []
        for findex, fdata in enumerate(sdata.get("fields") or []):
            fpath = spath + ("fields", findex)
            if not isinstance(fdata, dict):
                problems.append(src.problem("each field must be a mapping with id, type, label.",
                                            *fpath))
                continue
            for key in fdata:
                if key not in FIELD_KEYS:
                    problems.append(src.problem(f"unknown key '{key}' in a field. Allowed keys: "
                                                f"{', '.join(sorted(FIELD_KEYS))}.", *fpath, key))
            fid = fdata.get("id")
            if not isinstance(fid, str) or not fid.isidentifier():
                problems.append(src.problem("a field needs an 'id' made of letters, digits and _.",
                                            *fpath))
                fid = f"field_{sindex}_{findex}"
            elif fid in seen_fields:
                problems.append(src.problem(f"field id '{fid}' is used twice in this form.",
                                            *fpath, "id"))
            seen_fields.add(fid)
            ftype = fdata.get("type")
            if ftype not in FIELD_TYPES:
                problems.append(src.problem(f"field '{fid}' has unknown type '{ftype}'. Known "
                                            f"types: {', '.join(FIELD_TYPES)}.", *fpath, "type"))
            label = _label(problems, src, fdata.get("label"), f"field '{fid}'", *fpath, "label")
            help_ = _label(problems, src, fdata.get("help"), f"help of field '{fid}'",
                           *fpath, "help", required=False)
            for number_key in ("max_chars", "max_value"):
                value = fdata.get(number_key)
                if value is not None and (not isinstance(value, int) or value < 1):
                    problems.append(src.problem(f"'{number_key}' of field '{fid}' must be a "
                                                f"whole number ≥ 1.", *fpath, number_key))
            fields.append(FieldDef(fid, str(ftype), label, help_, bool(fdata.get("required")),
                                   fdata.get("max_chars"), fdata.get("max_value")))
        if not fields:
            problems.append(src.problem(f"section '{skey}' has no fields.", *spath))
        sections.append(SectionDef(skey, stitle, str(part), tuple(fields)))
    if problems:
        raise SourceInvalid(problems)
    return FormDef(name, title, version, tuple(sections))


def load_forms(directory: Path) -> dict[str, FormDef]:
    forms: dict[str, FormDef] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            src = read_located_yaml(path, display_name=f"workflows/forms/{path.name}")
            forms[path.stem] = check_form_source(src, path.stem)
        except SourceInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise SourceInvalid(problems)
    return forms
