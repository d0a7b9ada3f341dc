"""Reads of an application's content that other features need: its saved answers, its
partners, and who may edit which section now. Nothing here changes state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application, SectionAnswer
from grants.budget.facts import budget_facts
from grants.db import db
from grants.formengine.definition import FormDef, apply_mirrors
from grants.partners.models import ApplicationPartner
from grants.workflow import engine
from grants.workflow.definition import Workflow


def load_answers(application_id: int) -> dict[str, dict[str, Any]]:
    """Saved values by instance key ('summary', or 'partner_role@12' for a partner's part)."""
    rows = db.session.scalars(select(SectionAnswer).where(
        SectionAnswer.application_id == application_id))
    return {row.instance_key: dict(row.data or {}) for row in rows}


def stated_answers(application_id: int, form: FormDef, answers: dict[str, dict[str, Any]],
                   partners: list) -> dict[str, dict[str, Any]]:
    """The answers as the application states them: figures a field mirrors from the budget
    read the budget's (`mirrors:`, docs/forms.md)."""
    return apply_mirrors(form, answers, budget_facts(application_id, partners),
                         [p.id for p in partners])


def section_answer(application_id: int, section_key: str,
                   partner_id: int | None = None) -> SectionAnswer | None:
    """The saved row of one section: a common section, or a partner's own part."""
    return db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == application_id, SectionAnswer.section_key == section_key,
        SectionAnswer.owner_key == (str(partner_id) if partner_id is not None else "")))


def current_partners(application_id: int) -> list[ApplicationPartner]:
    """The application's partners (not removed), in the order they were added."""
    return list(db.session.scalars(select(ApplicationPartner).where(
        ApplicationPartner.application_id == application_id,
        ApplicationPartner.status != "removed").order_by(ApplicationPartner.id)))


def may_edit_section(application: Application, roles: set[str], actor: User,
                     workflow: Workflow, section, partner: ApplicationPartner | None) -> bool:
    """The workflow's edit rules for this state, and for a partner's part: the lead, or that
    partner's own contact – never another partner."""
    if section.part not in engine.editable_parts(workflow, application.state, roles):
        return False
    if section.part != "partner_part":
        return partner is None
    if partner is None or partner.application_id != application.id or not partner.is_current:
        return False
    allowed = set(workflow.state(application.state).roles_editing("partner_part"))
    if "lead" in roles and "lead" in allowed:
        return True
    return "partner" in roles and "partner" in allowed and partner.contact_user_id == actor.id
