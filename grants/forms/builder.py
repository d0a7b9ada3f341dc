"""Builds WTForms forms from form definitions: one definition, no field described twice."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.forms.definition import FieldDef, SectionDef
from grants.forms.fields import KronorField
from grants.i18n import pick_label


class SectionFormBase(FlaskForm):
    version = HiddenField()


def _field(defn: FieldDef, call_limit: int | None, max_amount: int | None, locale: str):
    label = pick_label(defn.label, locale)
    description = pick_label(defn.help, locale) if defn.help else ""
    validators: list[Any] = []
    limit = defn.char_limit(call_limit)
    if defn.type == "money":
        validators.append(InputRequired(message=_l("Fill in this field.")) if defn.required
                          else Optional())
        limits = [x for x in (defn.max_value, max_amount) if x]
        return KronorField(label, validators=validators, description=description,
                           max_value=min(limits) if limits else None)
    validators.append(DataRequired(message=_l("Fill in this field.")) if defn.required
                      else Optional())
    if limit:
        validators.append(Length(max=limit, message=_l(
            "At most %(max)d characters are allowed; the text has %(length)d.")))
    render_kw: dict[str, Any] = {"data-max-chars": limit} if limit else {}
    if defn.type == "longtext":
        render_kw["rows"] = 8
        return TextAreaField(label, validators=validators, description=description,
                             render_kw=render_kw, filters=[_strip])
    return StringField(label, validators=validators, description=description,
                       render_kw=render_kw, filters=[_strip])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def section_form_class(section: SectionDef, *, call_limit: int | None, max_amount: int | None,
                       locale: str) -> type[SectionFormBase]:
    attrs = {f.id: _field(f, call_limit, max_amount, locale) for f in section.fields}
    return type(f"Section_{section.key}", (SectionFormBase,), attrs)


def values_from_form(section: SectionDef, form: SectionFormBase) -> dict[str, Any]:
    return {f.id: form[f.id].data for f in section.fields}
