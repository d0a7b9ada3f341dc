"""Starting a granted project: the documents its call's reporting plan asks for, made when the
grant is recorded (inside that transaction, `decision_recorded`), and the revised budget
becoming the baseline of the reports. A document is made like an application: its workflow
and form version pinned, its first history row, the application's partners, their contacts
and signatories carried over, `application_created` sent (its reminders are scheduled)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select, update

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application, TransitionRecord
from grants.applications.queries import current_partners
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import STOCKHOLM
from grants.db import db
from grants.partners.models import ApplicationPartner, Signatory
from grants.processes import get_form, get_plan, get_workflow, pin_form, pin_workflow
from grants.submissions.models import FunderDecision, Submission
from grants.workflow.plans import PlannedDocument, schedule

logger = logging.getLogger(__name__)


def due_at(day: date) -> datetime:
    """A due date is met until the end of that day, Swedish time."""
    return datetime.combine(day, time(23, 59), tzinfo=STOCKHOLM)


def start_project(*, application: Application, decision: FunderDecision,
                  submission: Submission | None, actor: User) -> list[Application]:
    """The documents the plan asks of a project granted by `decision` (none when the call has
    no plan, the decision starts no project, or they exist already: idempotent)."""
    plan = get_plan(application.call.reporting_plan)
    if plan is None or decision.project_start is None or decision.project_end is None:
        return []
    if db.session.scalar(select(exists().where(Application.parent_id == application.id))):
        return []
    made: list[Application] = []
    requested = submission.requested_amount if submission is not None else None
    if plan.revised_budget is not None and requested and decision.granted_amount is not None \
            and decision.granted_amount < requested:
        revised = _new_document(application, plan.revised_budget, None,
                                decision.project_start, decision.project_end,
                                decision.decision_date + timedelta(
                                    days=plan.revised_budget.due.days_after_end or 0), actor)
        _copy_budget(application.id, revised.id, actor)
        made.append(revised)
    scheduled = schedule(plan, decision.project_start, decision.project_end)
    counts: dict[str, int] = {}
    for item in scheduled:
        counts[item.planned.kind] = counts.get(item.planned.kind, 0) + 1
    for item in scheduled:
        numbered = counts[item.planned.kind] > 1
        made.append(_new_document(application, item.planned,
                                  item.sequence if numbered else None, item.period_start,
                                  item.period_end, item.due, actor))
    for document in made:
        events.application_created.send(application=document, actor=actor)
    logger.info("application %s: project started with %d documents", application.id,
                len(made))
    return made


def _new_document(application: Application, planned: PlannedDocument, sequence: int | None,
                  start: date, end: date, due: date, actor: User) -> Application:
    workflow, form = get_workflow(planned.workflow), get_form(planned.form)
    # The project's title; what kind of document it is shows beside it (`document_label`).
    document = Application(
        call_id=application.call_id, lead_organisation_id=application.lead_organisation_id,
        lead_user_id=application.lead_user_id, title=application.title,
        language=application.language, workflow_name=workflow.name,
        workflow_version=workflow.version, form_name=form.name, state=workflow.initial,
        kind=planned.kind, kind_label={"sv": planned.label.sv, "en": planned.label.en},
        parent_id=application.id, baseline_id=application.id,
        sequence=sequence if sequence else None, period_start=start, period_end=end,
        due_at=due_at(due))
    db.session.add(document)
    pin_workflow(workflow)
    document.form_version = pin_form(form)
    db.session.flush()
    db.session.add(TransitionRecord(application_id=document.id, transition="create",
                                    from_state="", to_state=workflow.initial, actor_id=actor.id))
    for partner in current_partners(application.id):
        db.session.add(ApplicationPartner(
            application_id=document.id, organisation_id=partner.organisation_id,
            contact_name=partner.contact_name, contact_email=partner.contact_email,
            contact_user_id=partner.contact_user_id, status=partner.status))
    for signatory in db.session.scalars(select(Signatory).where(
            Signatory.application_id == application.id)):
        db.session.add(Signatory(
            application_id=document.id, organisation_id=signatory.organisation_id,
            user_id=signatory.user_id, name=signatory.name, email=signatory.email,
            title=signatory.title, named_by_id=signatory.named_by_id))
    db.session.flush()
    return document


def _copy_budget(source_id: int, target_id: int, actor: User) -> None:
    """The revised budget starts as the application's budget, to be revised."""
    for line in db.session.scalars(select(BudgetLine).where(
            BudgetLine.application_id == source_id)):
        db.session.add(BudgetLine(application_id=target_id, organisation_id=line.organisation_id,
                                  year=line.year, description=line.description,
                                  amount=line.amount, category=line.category,
                                  updated_by_id=actor.id))
    for item in db.session.scalars(select(Cofinancing).where(
            Cofinancing.application_id == source_id)):
        db.session.add(Cofinancing(application_id=target_id, organisation_id=item.organisation_id,
                                   year=item.year, description=item.description,
                                   amount=item.amount, kind=item.kind, source=item.source,
                                   hours=item.hours, hourly_rate=item.hourly_rate,
                                   updated_by_id=actor.id))


def adopt_as_baseline(document: Application) -> int:
    """`document` (the revised budget, sent to the funder) becomes the budget the project's
    other documents not yet submitted are compared with. Returns how many changed."""
    if document.parent_id is None:
        return 0
    submitted = select(Submission.application_id).where(Submission.status == "current")
    result = db.session.execute(update(Application).where(
        Application.parent_id == document.parent_id, Application.id != document.id,
        Application.id.not_in(submitted)).values(baseline_id=document.id)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
