"""What a webhook says: a small JSON body a registry system needs (no secrets, no personal
data): the event, the application's id, title and reference, links, amounts."""

from __future__ import annotations

import json
import uuid
from typing import Any

from grants.applications.models import Application
from grants.db import utcnow
from grants.notifications.mail import absolute_url
from grants.submissions.models import FunderDecision, Submission


def new_event_id() -> str:
    return str(uuid.uuid4())


def _application_part(application: Application, submission: Submission | None) -> dict:
    reference = None
    if submission is not None:
        reference = ((submission.snapshot or {}).get("submission") or {}).get("reference") \
            or f"{application.id}-{submission.number}"
    return {
        "id": application.id,
        "kind": application.kind,
        "title": application.title,
        "reference": reference,
        "parent_id": application.parent_id,
        "call_id": application.call_id,
        "links": {
            "page": absolute_url("applications.show", application_id=application.id),
            "export": absolute_url("applications.export_json", application_id=application.id),
        },
    }


def event_body(event_type: str, event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": event_type,
            "occurred_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}


def submitted(application: Application, submission: Submission) -> dict[str, Any]:
    return {
        "application": _application_part(application, submission),
        "submission": {"number": submission.number, "sha256": submission.sha256,
                       "submitted_at": submission.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                       if submission.submitted_at else None,
                       "requested_amount": submission.requested_amount},
    }


def decided(application: Application, decision: FunderDecision,
            submission: Submission | None) -> dict[str, Any]:
    return {
        "application": _application_part(application, submission),
        "decision": {"outcome": decision.outcome, "granted_amount": decision.granted_amount,
                     "paid_amount": decision.paid_amount,
                     "funder_reference": decision.funder_reference,
                     "decision_date": decision.decision_date.isoformat()
                     if decision.decision_date else None,
                     "project_start": decision.project_start.isoformat()
                     if decision.project_start else None,
                     "project_end": decision.project_end.isoformat()
                     if decision.project_end else None},
    }


def encode(body: dict[str, Any]) -> str:
    """The exact text that is signed and sent (UTF-8, compact, keys sorted)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
