"""A plain, canonical picture of an application's content, and its SHA-256 fingerprint.

PDFs are rendered from a snapshot (never from live rows), so the same content always gives the
same document, and a PDF can be matched to the exact version it shows."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from grants.applications.models import Application
from grants.forms.definition import FormDef

SNAPSHOT_SCHEMA = 1


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def build_snapshot(application: Application, form: FormDef,
                   answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`answers` maps section key → saved field values."""
    call = application.call
    sections = []
    for section in form.sections:
        values = answers.get(section.key, {})
        sections.append({
            "key": section.key,
            "title": {"sv": section.title.sv, "en": section.title.en},
            "fields": [{
                "id": field.id,
                "type": field.type,
                "label": {"sv": field.label.sv, "en": field.label.en},
                "value": values.get(field.id),
            } for field in section.fields],
        })
    requested = next((f["value"] for s in sections for f in s["fields"]
                      if f["id"] == "requested_amount"), None)
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
                       "slug": call.funder.slug},
        },
        "form": {"name": form.name, "version": form.version},
        "sections": sections,
    }
