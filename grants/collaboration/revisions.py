"""Every version kept: after each change of an application's content, the sections, budget or
partner list that now differ from their last kept version get a new revision (in the same
transaction as the change, through `content_changed`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from grants.applications.models import Application, SectionAnswer, instance_key
from grants.applications.queries import current_partners
from grants.applications.snapshot import budget_rows
from grants.budget.operations import load_budget
from grants.collaboration.models import BUDGET, PARTNERS, ContentRevision
from grants.db import db

# Which targets a change of each kind (`content_changed`'s `what`) may have touched.
SECTIONS = "sections"
TOUCHES = {"section": SECTIONS, "form": SECTIONS, "budget": BUDGET, "partners": PARTNERS}


def budget_picture(application_id: int) -> dict[str, Any]:
    """The budget's cost lines and co-financing rows as plain data (as in the snapshot)."""
    return budget_rows(*load_budget(application_id))


def partners_picture(application_id: int) -> dict[str, Any]:
    """The partners taking part, with their contacts (as in the snapshot)."""
    return {"partners": [{"id": p.id, "name": p.organisation.name, "status": p.status,
                          "contact": {"name": p.contact_name, "email": p.contact_email}}
                         for p in current_partners(application_id)]}


def latest_revisions(application_id: int, targets=None) -> dict[str, ContentRevision]:
    """The last kept revision of each target (of the `targets` given, or all), one query."""
    newest = select(func.max(ContentRevision.id)).where(
        ContentRevision.application_id == application_id).group_by(ContentRevision.target)
    if targets is not None:
        newest = newest.where(ContentRevision.target.in_(list(targets)))
    return {r.target: r for r in db.session.scalars(select(ContentRevision).where(
        ContentRevision.id.in_(newest)))}


def current_pictures(application_id: int, kind: str) -> dict[str, dict[str, Any]]:
    """What each target of `kind` says now."""
    if kind == BUDGET:
        return {BUDGET: budget_picture(application_id)}
    if kind == PARTNERS:
        return {PARTNERS: partners_picture(application_id)}
    # Read again: saves are compare-and-set UPDATEs the session's identity map did not see.
    rows = db.session.scalars(select(SectionAnswer).where(
        SectionAnswer.application_id == application_id)
        .execution_options(populate_existing=True))
    return {instance_key(r.section_key, r.partner_id): dict(r.data or {}) for r in rows}


def keep_revisions(application: Application, actor_id: int | None, kinds,
                   restored_from: dict[str, int] | None = None) -> list[ContentRevision]:
    """A new revision of each target of `kinds` whose content differs from its last kept one
    (the first change of a target keeps its first revision). Called inside the operation's
    transaction; returns the new revisions."""
    kept = []
    for kind in kinds:
        now = current_pictures(application.id, kind)
        latest = latest_revisions(application.id, None if kind == SECTIONS else now)
        for target, data in now.items():
            last = latest.get(target)
            if last is not None and last.data == data:
                continue
            revision = ContentRevision(
                application_id=application.id, target=target,
                number=(last.number + 1) if last is not None else 1, data=data,
                saved_by_id=actor_id,
                restored_from=(restored_from or {}).get(target))
            db.session.add(revision)
            kept.append(revision)
    if kept:
        db.session.flush()
    return kept


def revisions_of(application_id: int, target: str) -> list[ContentRevision]:
    """Every kept version of one target, newest first."""
    return list(db.session.scalars(select(ContentRevision).where(
        ContentRevision.application_id == application_id, ContentRevision.target == target)
        .order_by(ContentRevision.number.desc())))


def revision(application_id: int, target: str, number: int) -> ContentRevision | None:
    return db.session.scalar(select(ContentRevision).where(
        ContentRevision.application_id == application_id, ContentRevision.target == target,
        ContentRevision.number == number))
