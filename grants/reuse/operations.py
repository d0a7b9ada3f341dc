"""Starting an application from an earlier one, and linking applications of one project to
several funders (docs/reuse.md). Each public function is one transaction and commits once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application, SectionAnswer
from grants.applications.operations import start_application
from grants.applications.queries import current_partners, load_answers
from grants.audit import audit
from grants.budget.models import BudgetLine, Cofinancing
from grants.budget.operations import load_budget
from grants.calls.models import Call
from grants.db import db
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.i18n import format_datetime_local
from grants.partners.models import ApplicationPartner
from grants.partners.operations import invite_partner
from grants.processes import form_for, get_form, get_workflow
from grants.reuse.matching import SectionPlan, label_dict, plan_sections
from grants.reuse.models import ApplicationLink, ProjectGroup
from grants.reuse.queries import link_of, may_copy

logger = logging.getLogger(__name__)
TITLE_MAX = 300  # application.title


@dataclass
class BudgetPlan:
    """The source's cost lines and co-financing rows, and the lines whose cost category the
    new form does not have (never carried)."""
    lines: list[BudgetLine]
    cofinancing: list[Cofinancing]
    unknown_category: list[BudgetLine]


@dataclass
class CopyPlan:
    """What a copy of `source` to `call` would carry over: per saved section, the partners
    (with their contacts) and the budget. The preview shows it; the copy follows it."""
    source: Application
    call: Call
    target_form: FormDef
    sections: list[SectionPlan]
    partners: list[ApplicationPartner]
    budget: BudgetPlan


def check_target(source: Application, call: Call | None) -> tuple[Any, FormDef]:
    """The target call's workflow and form, or a refusal that says what is wrong."""
    if call is None:
        raise OperationRefused(_("Choose the call to apply to."))
    if not call.is_open():
        raise OperationRefused(_("This call is not open for applications (deadline "
                                 "%(deadline)s).",
                                 deadline=format_datetime_local(call.deadline_at)))
    workflow, form = get_workflow(call.workflow_name), get_form(call.form_name)
    if workflow is None or form is None:
        raise OperationRefused(_("This call's workflow or form is missing; a coordinator must "
                                 "fix the call."))
    return workflow, form


def plan_copy(source: Application, call: Call | None) -> CopyPlan:
    """What copying `source` to `call` carries over (OperationRefused for a call that is not
    open or cannot be used)."""
    _workflow, target_form = check_target(source, call)
    source_form = form_for(source)
    if source_form is None:
        raise OperationRefused(_("The form of the earlier application can no longer be read; "
                                 "a coordinator must restore its file first."))
    partners = current_partners(source.id)
    sections = plan_sections(source_form, target_form, load_answers(source.id),
                             [p.id for p in partners], call.max_chars_per_field)
    lines, items = load_budget(source.id)
    known = {c.key for c in target_form.cost_categories}
    budget = BudgetPlan([line for line in lines if line.category in known], items,
                        [line for line in lines if line.category not in known])
    return CopyPlan(source, call, target_form, sections, partners, budget)


def copy_application(*, actor: User, source: Application, call: Call | None, title: str,
                     sections: set[str], partner_ids: set[int], budget: bool
                     ) -> tuple[Application, dict[str, Any]]:
    """A new application on `call`, led by the source's lead organisation, made by the same
    operation as any new one (`start_application`: its history, `application_created` and so
    its reminders), with the chosen sections (each a version-1 row), the chosen partners
    (invited, with their contacts, as adding a partner does) and the budget rows of the
    organisations that take part. Linked with the source in one project group. One commit;
    refused with nothing made."""
    if not may_copy(actor, source):
        raise OperationRefused(_("You can only start from an application of your own or of "
                                 "your organisation."))
    title = (title or "").strip()
    if not title:
        raise OperationRefused(_("Give the project a title."))
    if len(title) > TITLE_MAX:
        raise OperationRefused(_("The title may have at most %(max)d characters.",
                                 max=TITLE_MAX))
    plan = plan_copy(source, call)
    workflow, form = check_target(source, call)
    try:
        copy = start_application(actor=actor, call=call, organisation=source.lead_organisation,
                                 title=title, language=source.language, workflow=workflow,
                                 form=form)
        report = _carry(actor, plan, copy, sections, partner_ids, budget)
        _link(actor, source, copy, report)
        audit(actor_id=actor.id, action="application.copy", object_type="application",
              object_id=copy.id, before={"copied_from": source.id},
              after={"call": call.id, "title": title, "report": report})
        db.session.flush()
        events.content_changed.send(application=copy, actor=actor, form=form, what="copy")
    except OperationRefused:
        db.session.rollback()
        raise
    db.session.commit()
    logger.info("application %s copied from %s by user %s", copy.id, source.id, actor.id)
    return copy, report


def _carry(actor: User, plan: CopyPlan, copy: Application, chosen_sections: set[str],
           partner_ids: set[int], budget: bool) -> dict[str, Any]:
    """The copy's partners, sections and budget; gives the report of what was carried."""
    carried_sections: list[dict] = []
    not_carried: list[dict] = []
    new_partner: dict[int, ApplicationPartner] = {}
    for partner in plan.partners:
        if partner.id in partner_ids:
            new_partner[partner.id] = invite_partner(
                actor=actor, application=copy, organisation=partner.organisation,
                contact_name=partner.contact_name, contact_email=partner.contact_email)
    for section in plan.sections:
        where = {"section": label_dict(section.title)}
        if section.partner_id is not None:
            owner = next(p for p in plan.partners if p.id == section.partner_id)
            where["partner"] = owner.organisation.name
            if section.partner_id not in new_partner:
                not_carried.append({**where, "label": None, "reason": "partner",
                                    "params": {}})
                continue
        elif section.values and section.instance_key not in chosen_sections:
            not_carried.append({**where, "label": None, "reason": "unchosen", "params": {}})
            continue
        not_carried.extend({**where, **item.as_dict()} for item in section.not_carried)
        if not section.values:
            continue
        target = new_partner.get(section.partner_id) if section.partner_id else None
        db.session.add(SectionAnswer(
            application_id=copy.id, section_key=section.section_key, data=dict(section.values),
            version=1, updated_by_id=actor.id,
            owner_key=str(target.id) if target is not None else "",
            partner_id=target.id if target is not None else None))
        carried_sections.append({**where, "status": section.status})
    organisations = {copy.lead_organisation_id} | {
        p.organisation_id for p in new_partner.values()}
    lines = cofinancing = 0
    if budget:
        for line in plan.budget.lines:
            if line.organisation_id in organisations:
                db.session.add(BudgetLine(application_id=copy.id,
                                          organisation_id=line.organisation_id,
                                          category=line.category, year=line.year,
                                          description=line.description, amount=line.amount,
                                          updated_by_id=actor.id))
                lines += 1
        for item in plan.budget.cofinancing:
            if item.organisation_id in organisations:
                db.session.add(Cofinancing(application_id=copy.id,
                                           organisation_id=item.organisation_id,
                                           kind=item.kind, source=item.source, year=item.year,
                                           description=item.description, amount=item.amount,
                                           hours=item.hours, hourly_rate=item.hourly_rate,
                                           updated_by_id=actor.id))
                cofinancing += 1
        for line in plan.budget.unknown_category:
            if line.organisation_id in organisations:
                not_carried.append({"section": None, "label": None, "reason": "category",
                                    "params": {"category": line.category,
                                               "description": line.description,
                                               "organisation": line.organisation.name}})
    return {"source_id": plan.source.id, "source_title": plan.source.title,
            "sections": carried_sections, "not_carried": not_carried,
            "partners": [p.organisation.name for p in new_partner.values()],
            "budget_lines": lines, "cofinancing": cofinancing}


def _group_for(application: Application, actor: User) -> ProjectGroup:
    link = link_of(application.id)
    if link is not None:
        return db.session.get(ProjectGroup, link.group_id)
    group = ProjectGroup()
    db.session.add(group)
    db.session.flush()
    db.session.add(ApplicationLink(application_id=application.id, group_id=group.id,
                                   linked_by_id=actor.id))
    return group


def _link(actor: User, source: Application, copy: Application, report: dict) -> None:
    group = _group_for(source, actor)
    db.session.add(ApplicationLink(application_id=copy.id, group_id=group.id,
                                   copied_from_id=source.id, copy_report=report,
                                   linked_by_id=actor.id))
    db.session.flush()


def link_applications(*, actor: User, application: Application, other: Application | None
                      ) -> None:
    """Put two applications of the user's (or their organisation's) in one project group: the
    other's whole group joins this one's."""
    if other is None or not may_copy(actor, other) or not may_copy(actor, application):
        raise OperationRefused(_("Choose an application of your own or of your organisation."))
    if other.id == application.id:
        raise OperationRefused(_("An application cannot be linked with itself."))
    group = _group_for(application, actor)
    theirs = link_of(other.id)
    if theirs is not None and theirs.group_id == group.id:
        raise OperationRefused(_("“%(title)s” is already linked with this application.",
                                 title=other.title))
    if theirs is None:
        db.session.add(ApplicationLink(application_id=other.id, group_id=group.id,
                                       linked_by_id=actor.id))
    else:
        old_group = theirs.group_id
        for member in db.session.scalars(select(ApplicationLink).where(
                ApplicationLink.group_id == old_group)):
            member.group_id = group.id
        db.session.flush()
        db.session.delete(db.session.get(ProjectGroup, old_group))
    audit(actor_id=actor.id, action="application.link", object_type="application",
          object_id=application.id, before=None, after={"linked_with": other.id})
    db.session.commit()


def unlink_application(*, actor: User, application: Application) -> None:
    """Take the application out of its project group (a group left with one application is
    removed: it shows nothing)."""
    if not may_copy(actor, application):
        raise OperationRefused(_("Only the project lead's organisation can unlink the "
                                 "application."))
    link = link_of(application.id)
    if link is None:
        raise OperationRefused(_("This application is not linked with any other."))
    group_id = link.group_id
    db.session.delete(link)
    db.session.flush()
    rest = list(db.session.scalars(select(ApplicationLink).where(
        ApplicationLink.group_id == group_id)))
    if len(rest) <= 1:
        for member in rest:
            db.session.delete(member)
        db.session.flush()
        db.session.delete(db.session.get(ProjectGroup, group_id))
    audit(actor_id=actor.id, action="application.unlink", object_type="application",
          object_id=application.id, before={"group": group_id}, after=None)
    db.session.commit()

