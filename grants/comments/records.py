"""Comments in the application's history and in its JSON export – never in its snapshot, PDF
or copy of record. Every thread, reply, resolve and reopen is an audited row filed under the
application; the history shows a reader only the rows of threads they see, and the export
carries the threads the reader sees under "comments", beside the snapshot."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.applications.audit_text import event_subject, value_words
from grants.applications.page import history_filter
from grants.applications.snapshot import export_part
from grants.comments.models import STEERING, TEAM
from grants.comments.queries import (
    audiences_for,
    load_targets,
    sees_target,
    target_of,
    visible_threads,
)
from grants.formengine.definition import FormDef
from grants.processes import form_for

AUDIENCE_LABELS = {TEAM: _l("The team"), STEERING: _l("The team and the steering group")}


def audience_label(audience: str) -> str:
    return str(AUDIENCE_LABELS.get(audience, audience))


@value_words("application", "audience")
def _audience_words(value) -> str:
    return audience_label(str(value))


@value_words("application", "status")
def _status_words(value) -> str:
    return {"open": _("open"), "resolved": _("resolved")}.get(str(value), str(value))


@event_subject("comment.")
def _subject(stored: dict, form: FormDef | None) -> tuple[str, set[str]]:
    """The part the thread is on, by its name."""
    target = target_of(str(stored.get("target", "")), {}, form)
    return target.label, {"thread", "target"}


@history_filter
def _only_threads_one_sees(application, roles, reader, events: list) -> list:
    if not any(e.action.startswith("comment.") for e in events):
        return events
    audiences = audiences_for(application, reader, roles)
    targets = load_targets(application)
    return [e for e in events if not e.action.startswith("comment.") or (
        (e.after or {}).get("audience") in audiences
        and sees_target(str((e.after or {}).get("target")), targets, roles))]


@export_part("comments")
def _exported_threads(application, reader, roles) -> list[dict]:
    form_def = form_for(application)
    targets = load_targets(application, form_def)
    return [{
        "id": view.thread.id, "target": view.thread.target, "part": view.target.label,
        "audience": view.thread.audience, "status": view.thread.status,
        "started_by": view.thread.created_by.name if view.thread.created_by else None,
        "started_at": view.thread.created_at.isoformat(),
        "resolved_by": view.thread.resolved_by.name if view.thread.resolved_by else None,
        "resolved_at": view.thread.resolved_at.isoformat() if view.thread.resolved_at else None,
        "comments": [{
            "author": c.author.name if c.author else None, "body": c.body,
            "created_at": c.created_at.isoformat(),
            "edited_at": c.edited_at.isoformat() if c.edited_at else None,
            "mentions": [u.name for u in view.mentions.get(c.id, [])],
        } for c in view.comments],
    } for view in visible_threads(application, reader, roles, targets, form_def)]
