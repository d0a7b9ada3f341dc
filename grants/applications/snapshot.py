"""A plain, canonical picture of an application's content, and its SHA-256 fingerprint.

PDFs and the JSON export are made from a snapshot (never from live rows), so the same content
always gives the same document, and a document can be matched to the exact version it shows.
The snapshot carries the form's labels and options too, so it reads on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grants.applications.models import Application
from grants.budget.actuals import document_comparison, explanations
from grants.budget.facts import facts_of
from grants.budget.models import BudgetLine, Cofinancing
from grants.budget.operations import budget_summary, load_budget
from grants.canonical import canonical_json, fingerprint  # noqa: F401 - the snapshot's own terms
from grants.db import db
from grants.formengine.definition import (
    DEFAULT_COST_CATEGORIES,
    FieldDef,
    FormDef,
    apply_mirrors,
    field_is_shown,
    removed_values,
    section_instances,
)
from grants.processes import form_for

SNAPSHOT_SCHEMA = 3

# Parts of a submission's copy of record that features contribute, by key: e.g. the steering
# group's decided rounds ("approvals", from approvals) and the partners' valid confirmations
# ("confirmations", from partners). Each is called with the application and its partners and
# returns plain data. The content snapshot (and its fingerprint) does not include them.
RECORD_PARTS: dict[str, Callable[[Application, list], Any]] = {}


def record_part(key: str):
    """Register a feature's part of the copy of record (see RECORD_PARTS)."""
    def decorator(function: Callable[[Application, list], Any]):
        RECORD_PARTS[key] = function
        return function
    return decorator


def record_parts(application: Application, partners: list) -> dict[str, Any]:
    return {key: part(application, partners) for key, part in sorted(RECORD_PARTS.items())}


# Parts of the JSON export (`/applications/ID/export.json`) that features add beside the
# snapshot, by key: e.g. the comment threads the reader may see ("comments", from comments).
# Each is called with the application, the reader and the reader's roles and returns plain
# data. They are never part of the snapshot, its fingerprint, the PDF or the copy of record.
EXPORT_PARTS: dict[str, Callable[[Application, Any, set], Any]] = {}


def export_part(key: str):
    """Register a feature's part of the JSON export (see EXPORT_PARTS)."""
    def decorator(function: Callable[[Application, Any, set], Any]):
        EXPORT_PARTS[key] = function
        return function
    return decorator


def export_parts(application: Application, reader, roles: set) -> dict[str, Any]:
    return {key: part(application, reader, roles) for key, part in sorted(EXPORT_PARTS.items())}


def _label(label) -> dict[str, str] | None:
    return {"sv": label.sv, "en": label.en} if label is not None else None


def _options(options) -> list[dict[str, Any]]:
    return [{"value": o.value, "label": _label(o.label)} for o in options]


def field_snapshot(form_field: FieldDef, value: Any, shown: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"id": form_field.id, "type": form_field.type,
                            "label": _label(form_field.label), "value": value, "shown": shown}
    if form_field.options:
        data["options"] = _options(form_field.options)
    if form_field.columns:
        data["columns"] = [{"id": c.id, "type": c.type, "label": _label(c.label),
                            "options": _options(c.options)} for c in form_field.columns]
    return data


def budget_snapshot(application_id: int, form: FormDef | None = None) -> dict[str, Any]:
    """The budget as plain data; indirect costs by the form's categories (the application's
    form when not given)."""
    if form is None:
        form = form_for(db.session.get(Application, application_id))
    return budget_snapshot_of(*load_budget(application_id), form)


def budget_rows(lines: list[BudgetLine], items: list[Cofinancing]) -> dict[str, Any]:
    """The budget's cost lines and co-financing rows as plain data (without the totals)."""
    return {
        "lines": [{"organisation": l.organisation.name, "category": str(l.category),
                   "year": l.year, "description": l.description, "amount": l.amount}
                  for l in lines],
        "cofinancing": [{"organisation": c.organisation.name, "kind": str(c.kind),
                         "source": str(c.source), "year": c.year,
                         "description": c.description, "amount": c.amount} for c in items],
    }


def budget_snapshot_of(lines: list[BudgetLine], items: list[Cofinancing], form: FormDef
                       ) -> dict[str, Any]:
    summary = budget_summary(lines, items, form)
    return {
        **budget_rows(lines, items),
        "total_cost": summary.total_cost, "cofinancing_total": summary.cofinancing,
        "requested": summary.requested, "direct_cost": summary.direct_cost,
        "indirect_cost": summary.indirect_cost,
        "by_organisation": summary.by_organisation,
        "by_year": {str(year): amount for year, amount in summary.by_year.items()},
    }


def build_snapshot(application: Application, form: FormDef,
                   answers: dict[str, dict[str, Any]], partners: list | None = None
                   ) -> dict[str, Any]:
    """`answers` maps instance key → saved field values; `partners` are the current partners
    (each fills in its own copy of the partner sections)."""
    call = application.call
    partners = partners or []
    by_id = {p.id: p for p in partners}
    lines, items = load_budget(application.id)
    # A field that mirrors a figure of the budget states the budget's figure (docs/forms.md).
    answers = apply_mirrors(form, answers, facts_of(lines, items, partners), list(by_id))
    sections, attachments = [], []
    for section, partner_id, key in section_instances(form, [p.id for p in partners]):
        values = answers.get(key, {})
        fields = []
        for form_field in section.fields:
            shown = field_is_shown(form, form_field, answers, key)
            value = values.get(form_field.id)
            fields.append(field_snapshot(form_field, value, shown))
            if form_field.type == "file" and value and shown:
                attachments.append(dict(value, field=form_field.id,
                                        label=_label(form_field.label)))
        entry = {"key": section.key, "title": _label(section.title), "part": section.part,
                 "fields": fields}
        if partner_id is not None:
            entry["partner"] = {"id": partner_id,
                                "name": by_id[partner_id].organisation.name}
        sections.append(entry)
    budget = budget_snapshot_of(lines, items, form)
    # With a budget, what is asked of the funder is total cost minus co-financing; without
    # one, what the field that states it (`mirrors: budget.requested`) says.
    requested = budget["requested"] if budget["lines"] else next(
        (answers.get(key, {}).get(f.id) for section, _pid, key in
         section_instances(form, list(by_id)) for f in section.fields
         if f.mirrors is not None and f.mirrors.fact == "budget.requested"), None)
    return {
        "schema": SNAPSHOT_SCHEMA,
        "application": {
            "id": application.id,
            "title": application.title,
            "language": application.language,
            "lead_organisation": {
                "name": application.lead_organisation.name,
                "org_number": application.lead_organisation.org_number,
                "county": application.lead_organisation.county,
            },
            "project_lead": {"name": application.lead_user.name,
                             "email": application.lead_user.email},
            "requested_amount": requested,
        },
        "call": {
            "id": call.id,
            "title": call.title,
            "deadline_at": call.deadline_at.isoformat(),
            "funder": {"name": call.funder.name, "short_name": call.funder.short_name,
                       "slug": call.funder.slug, "pdf_template": call.funder.pdf_template},
        },
        "form": {"name": form.name, "version": form.version},
        "partners": [{
            "id": p.id, "name": p.organisation.name, "org_number": p.organisation.org_number,
            "county": p.organisation.county, "kind": p.organisation.kind.value,
            "contact": {"name": p.contact_name, "email": p.contact_email},
            "status": p.status,
        } for p in partners],
        "sections": sections,
        "attachments": attachments,
        "budget": budget,
        "removed_fields": removed_values(form, answers),
        **_cost_category_labels(form),
        **_document_part(application),
        **_comparison_part(application, partners, lines, items),
    }


def _document_part(application: Application) -> dict[str, Any]:
    """What kind of document of a project this is (nothing for an application)."""
    if not application.kind_label:
        return {}
    return {"document": {
        "kind": application.kind, "label": dict(application.kind_label),
        "sequence": application.sequence, "project_id": application.parent_id,
        "period_start": application.period_start.isoformat()
        if application.period_start else None,
        "period_end": application.period_end.isoformat() if application.period_end else None,
        "due_at": application.due_at.isoformat() if application.due_at else None}}


def _comparison_part(application: Application, partners: list, lines, items
                     ) -> dict[str, Any]:
    """Budget against actual, as shown and confirmed (a document with a baseline)."""
    comparison = document_comparison(application, partners, None, lines, items)
    if comparison is None:
        return {}
    explained = explanations(application.id)
    organisations = []
    for org in comparison.organisations:
        organisations.append({
            "name": org.name,
            "rows": [{"category": category, "year": year, "budget": f.budget,
                      "earlier": f.earlier, "current": f.current, "variance": f.variance}
                     for (category, year), f in sorted(org.cells.items())],
            "costs": {"budget": org.costs.budget, "earlier": org.costs.earlier,
                      "current": org.costs.current, "variance": org.costs.variance},
            "cofinancing": {"budget": org.cofinancing.budget,
                            "earlier": org.cofinancing.earlier,
                            "current": org.cofinancing.current,
                            "variance": org.cofinancing.variance},
            "explanations": [{"category": category, "text": e.text}
                             for (oid, category), e in sorted(explained.items())
                             if oid == org.organisation_id and e.text.strip()],
        })
    return {"comparison": {"baseline_id": application.baseline_id,
                           "organisations": organisations}}


def _cost_category_labels(form: FormDef) -> dict[str, Any]:
    """A form with its own cost categories: their labels, so the copy of record reads on its
    own. Today's categories add nothing (their labels are the app's), which keeps the
    snapshots of forms without `cost_categories:` as they were."""
    if form.cost_categories == DEFAULT_COST_CATEGORIES:
        return {}
    return {"cost_categories": {c.key: _label(c.label) if c.label else {"sv": c.key,
                                                                        "en": c.key}
                                for c in form.cost_categories}}
