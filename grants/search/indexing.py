"""What the index holds of an application, and keeping it so (inside the caller's
transaction: the subscribers call `index_application` before the operation's commit)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select

from grants.applications.models import Application
from grants.applications.queries import current_partners, load_answers
from grants.calls.models import Call
from grants.db import db
from grants.formengine.definition import FieldDef, FormDef
from grants.formengine.richtext import render_markdown
from grants.partners.models import ApplicationPartner
from grants.processes import form_for
from grants.search.models import SearchDocument
from grants.submissions.models import FunderDecision

# The marks a snippet's matches come back between (never part of indexed text: removed).
MARK_START = "\x02"
MARK_STOP = "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


def clean(text: Any) -> str:
    """Plain text as it can be indexed: no control characters (the snippet marks among
    them), runs of spaces folded."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", str(text))).strip()


def markdown_text(text: str) -> str:
    """The words of formatted text without its Markdown: rendered and sanitised (as on the
    page), then the tags dropped."""
    return html.unescape(_TAG.sub(" ", str(render_markdown(text))))


def _labels(label) -> list[str]:
    """Both languages of an option's label (a search in either finds it)."""
    if label is None:
        return []
    return list(dict.fromkeys([label.sv, label.en]))


def _option_words(options, value) -> list[str]:
    for option in options:
        if option.value == value:
            return _labels(option.label)
    return [str(value)]


def field_text(form_field: FieldDef, value: Any) -> list[str]:
    """The words of one answer: text, formatted text, choices by their labels, table cells.
    Figures, dates, yes/no and files are not searched."""
    if value in (None, "", [], {}):
        return []
    kind = form_field.type
    if kind in ("text", "longtext"):
        return [str(value)]
    if kind == "richtext":
        return [markdown_text(str(value))]
    if kind == "choice":
        return _option_words(form_field.options, value)
    if kind == "multichoice" and isinstance(value, list):
        return [word for item in value for word in _option_words(form_field.options, item)]
    if kind == "table" and isinstance(value, list):
        words: list[str] = []
        for row in value:
            if not isinstance(row, dict):
                continue
            for column in form_field.columns:
                cell = row.get(column.id)
                if cell in (None, ""):
                    continue
                if column.type == "text":
                    words.append(str(cell))
                elif column.type == "choice":
                    words.extend(_option_words(column.options, cell))
        return words
    return []


def sections_text(form: FormDef | None, answers: dict[str, dict[str, Any]]) -> str:
    """The text of every saved section, in the order of the form (a partner's own part after
    its section)."""
    if form is None:
        return ""
    parts: list[str] = []
    for section in form.sections:
        keys = [key for key in answers if key == section.key or
                key.startswith(f"{section.key}@")]
        for key in sorted(keys, key=lambda k: (k != section.key, k)):
            values = answers.get(key) or {}
            for form_field in section.fields:
                parts.extend(field_text(form_field, values.get(form_field.id)))
    return "\n".join(clean(part) for part in parts if clean(part))


def _join(items: Iterable[str]) -> str:
    return " · ".join(dict.fromkeys(clean(item) for item in items if item and clean(item)))


def compose(*, title: str, organisations: Iterable[str], call_title: str, funder_name: str,
            funder_short_name: str, references: Iterable[str], application_id: int,
            form: FormDef | None, answers: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The three texts of an index row, from what they are made of (no database: the
    migration that creates the index fills it with this too)."""
    meta = _join([*organisations, call_title, funder_name, funder_short_name, *references,
                  str(application_id)])
    return {"title": clean(title), "meta": meta, "body": sections_text(form, answers)}


def document_for(application: Application) -> dict[str, str]:
    """The three texts of an application's index row. A project's document also carries the
    funder's reference of the grant that started the project."""
    partners = current_partners(application.id)
    references = db.session.scalars(
        select(FunderDecision.funder_reference).where(
            FunderDecision.application_id.in_(
                [application.id, *([application.parent_id] if application.parent_id else [])]),
            FunderDecision.funder_reference != "").order_by(FunderDecision.id)).all()
    call = application.call
    return compose(
        title=application.title,
        organisations=[application.lead_organisation.name,
                       *(partner.organisation.name for partner in partners)],
        call_title=call.title, funder_name=call.funder.name,
        funder_short_name=call.funder.short_name, references=references,
        application_id=application.id, form=form_for(application),
        answers=load_answers(application.id))


def index_application(application: Application) -> None:
    """Write the application's index row now (in the caller's transaction; flushed)."""
    texts = document_for(application)
    row = db.session.get(SearchDocument, application.id)
    if row is None:
        db.session.add(SearchDocument(application_id=application.id, **texts))
    elif (row.title, row.meta, row.body) != (texts["title"], texts["meta"], texts["body"]):
        row.title, row.meta, row.body = texts["title"], texts["meta"], texts["body"]
    db.session.flush()


def applications_naming(kind: str, object_id: int) -> list[Application]:
    """The applications whose index row holds the name of this call, funder or organisation
    (as lead organisation or partner)."""
    if kind == "call":
        where = Application.call_id == object_id
    elif kind == "funder":
        where = Application.call_id.in_(select(Call.id).where(Call.funder_id == object_id))
    elif kind == "organisation":
        where = or_(Application.lead_organisation_id == object_id, Application.id.in_(
            select(ApplicationPartner.application_id).where(
                ApplicationPartner.organisation_id == object_id)))
    else:
        return []
    return list(db.session.scalars(select(Application).where(where).order_by(Application.id)))


def rebuild_index(batch: int = 200) -> int:
    """Empty the index and index every application again (the caller commits). Returns how
    many were indexed."""
    db.session.execute(delete(SearchDocument))
    count, last = 0, 0
    while True:
        applications = db.session.scalars(select(Application).where(Application.id > last)
                                          .order_by(Application.id).limit(batch)).all()
        if not applications:
            return count
        for application in applications:
            index_application(application)
            count += 1
        last = applications[-1].id
        db.session.expire_all()
