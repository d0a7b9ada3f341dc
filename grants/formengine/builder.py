"""Builds WTForms forms from form definitions, and converts between form data and the JSON
values stored per section. One definition, no field described twice."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import FieldList, Form, FormField, HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.formengine.base import AppForm
from grants.formengine.definition import Column, FieldDef, SectionDef
from grants.formengine.fields import (
    ChoiceField,
    IsoDateField,
    KronorField,
    MultiChoiceField,
    WholeNumberField,
)
from grants.i18n import pick_label


class SectionFormBase(AppForm):
    version = HiddenField()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _required(defn_required: bool, *, text: bool = False):
    if not defn_required:
        return Optional()
    message = _l("Fill in this field.")
    return DataRequired(message=message) if text else InputRequired(message=message)


def _choices(options, locale: str) -> list[SelectChoice]:
    return [SelectChoice(o.value, pick_label(o.label, locale)) for o in options]


DEFAULT_CELL_LIMIT = 1000


def _column_field(column: Column, locale: str):
    label = pick_label(column.label, locale)
    # Cells are checked per row in `values_from_form` (an empty row is simply dropped).
    if column.type == "integer":
        return WholeNumberField(label, validators=[Optional()])
    if column.type == "money":
        return KronorField(label, validators=[Optional()])
    if column.type == "date":
        return IsoDateField(label, validators=[Optional()])
    if column.type == "choice":
        field = ChoiceField(label, choices=[SelectChoice("", "–")] + _choices(column.options,
                                                                                locale),
                            validators=[Optional()])
        return field
    # Every cell has a limit: its own, or DEFAULT_CELL_LIMIT (no paste of megabytes).
    validators: list[Any] = [Optional(), Length(
        max=column.max_chars or DEFAULT_CELL_LIMIT,
        message=_l("At most %(max)d characters are allowed; the text has %(length)d."))]
    return StringField(label, validators=validators, filters=[_strip])


def row_form_class(defn: FieldDef, locale: str) -> type[Form]:
    return type(f"Row_{defn.id}", (Form,), {c.id: _column_field(c, locale) for c in defn.columns})


def _field(defn: FieldDef, call_limit: int | None, max_amount: int | None, locale: str):
    label = pick_label(defn.label, locale)
    description = pick_label(defn.help, locale) if defn.help else ""
    kind = defn.type
    if defn.is_filled_in:  # shown from the budget; what is posted is never stored
        return KronorField(label, validators=[Optional()], description=description)
    if kind == "money":
        limits = [x for x in (defn.max_value, max_amount) if x]
        return KronorField(label, validators=[_required(defn.required)], description=description,
                           min_value=defn.min_value, max_value=min(limits) if limits else None)
    if kind == "integer":
        return WholeNumberField(label, validators=[_required(defn.required)],
                                description=description, min_value=defn.min_value,
                                max_value=defn.max_value)
    if kind == "date":
        return IsoDateField(label, validators=[_required(defn.required)], description=description)
    if kind == "choice":
        return ChoiceField(label, choices=_choices(defn.options, locale),
                           validators=[_required(defn.required)], description=description)
    if kind == "multichoice":
        validators = [InputRequired(message=_l("Choose at least one."))] if defn.required \
            else [Optional()]
        return MultiChoiceField(label, choices=_choices(defn.options, locale),
                                validators=validators, description=description)
    if kind == "yesno":
        return ChoiceField(label, choices=[SelectChoice("yes", str(_l("Yes"))),
                                           SelectChoice("no", str(_l("No")))],
                           validators=[_required(defn.required)], description=description)
    if kind == "table":
        return FieldList(FormField(row_form_class(defn, locale)), label=label,
                         description=description, min_entries=max(defn.min_rows, 1),
                         max_entries=defn.max_rows)
    if kind == "file":
        return FileField(label, description=description,
                         render_kw={"accept": ",".join(f".{k}" for k in defn.accept)})
    validators: list[Any] = [_required(defn.required, text=True)]
    limit = defn.char_limit(call_limit)
    if limit:
        validators.append(Length(max=limit, message=_l(
            "At most %(max)d characters are allowed; the text has %(length)d.")))
    render_kw: dict[str, Any] = {"data-max-chars": limit} if limit else {}
    if kind in ("longtext", "richtext"):
        render_kw["rows"] = 10 if kind == "richtext" else 8
        if kind == "richtext":
            render_kw["data-richtext"] = "markdown"
        return TextAreaField(label, validators=validators, description=description,
                             render_kw=render_kw, filters=[_strip])
    return StringField(label, validators=validators, description=description,
                       render_kw=render_kw, filters=[_strip])


def section_form_class(section: SectionDef, *, call_limit: int | None, max_amount: int | None,
                       locale: str) -> type[SectionFormBase]:
    attrs = {f.id: _field(f, call_limit, max_amount, locale) for f in section.fields}
    return type(f"Section_{section.key}", (SectionFormBase,), attrs)


def form_data_from_values(section: SectionDef, saved: dict[str, Any]) -> dict[str, Any]:
    """Stored JSON values → data to prefill the WTForms form."""
    data: dict[str, Any] = {}
    for f in section.fields:
        value = saved.get(f.id)
        if value is None or f.type == "file":
            continue
        if f.type == "date":
            data[f.id] = date.fromisoformat(value)
        elif f.type == "yesno":
            data[f.id] = "yes" if value else "no"
        elif f.type == "table":
            data[f.id] = [{c.id: (date.fromisoformat(row[c.id]) if c.type == "date" and
                                  row.get(c.id) else row.get(c.id)) for c in f.columns}
                          for row in value]
        else:
            data[f.id] = value
    return data


def _cell(column: Column, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def values_from_form(section: SectionDef, form: SectionFormBase) -> dict[str, Any]:
    """Validated form → JSON-able values (file fields give the uploaded FileStorage or None;
    the operation stores it)."""
    values: dict[str, Any] = {}
    for f in section.fields:
        data = form[f.id].data
        if f.is_filled_in:
            values[f.id] = None
        elif f.type == "date":
            values[f.id] = data.isoformat() if data else None
        elif f.type == "yesno":
            values[f.id] = None if data in (None, "") else data == "yes"
        elif f.type == "choice":
            values[f.id] = data or None
        elif f.type == "multichoice":
            values[f.id] = list(data or [])
        elif f.type == "table":
            rows = []
            for row in data or []:
                cells = {c.id: _cell(c, row.get(c.id)) for c in f.columns}
                if any(v not in (None, "") for v in cells.values()):
                    rows.append(cells)
            values[f.id] = rows
        elif f.type == "file":
            values[f.id] = data if getattr(data, "filename", "") else None
        else:
            values[f.id] = data
    return values


def table_row_problems(defn: FieldDef, rows: list[dict[str, Any]], locale: str) -> list[str]:
    """Messages for rows that miss a required cell, and for too few or too many rows."""
    problems = []
    for index, row in enumerate(rows, start=1):
        for column in defn.columns:
            if column.required and row.get(column.id) in (None, ""):
                problems.append(_("Row %(row)d: fill in “%(column)s”.", row=index,
                                  column=pick_label(column.label, locale)))
    if len(rows) < defn.min_rows:
        problems.append(_("At least %(num)d rows are needed.", num=defn.min_rows))
    if len(rows) > defn.max_rows:
        problems.append(_("At most %(num)d rows are allowed.", num=defn.max_rows))
    return problems


def _submitted_value(defn: FieldDef, form: SectionFormBase) -> Any:
    data = form[defn.id].data
    if defn.type == "yesno":
        return None if data in (None, "") else data == "yes"
    return data


def relax_hidden_fields(form: SectionFormBase, section: SectionDef, form_def,
                        answers: dict[str, dict[str, Any]], key: str | None = None) -> set[str]:
    """Ids of this section's conditional fields that do not apply now (judged from what was
    just submitted, or saved answers for fields in other sections); their 'required' rule is
    lifted so a hidden field never blocks a save."""
    hidden: set[str] = set()
    in_section = {f.id: f for f in section.fields}
    for defn in section.fields:
        condition = defn.show_when
        if condition is None:
            continue
        if condition.field in in_section:
            value = _submitted_value(in_section[condition.field], form)
        else:
            other = form_def.section_of(condition.field)
            value = answers.get(other.key, {}).get(condition.field) if other else None
        if not condition.holds(value):
            hidden.add(defn.id)
            form[defn.id].validators = [Optional()]
            form[defn.id].flags.required = False
    return hidden
