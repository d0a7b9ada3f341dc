"""Deadlines of applications: the effective deadline, milestones, who still owes something,
reminder rows kept in line with the milestones, and a coordinator's extension.

`schedule_reminders` works inside the caller's transaction (no commit); the reminders reach
RQ's scheduler only after that transaction commits. `extend_deadline` is one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application, TransitionRecord
from grants.applications.queries import current_partners, load_answers
from grants.audit import audit
from grants.calls.models import MILESTONE_DAY_DEFAULTS, Call
from grants.db import db, utcnow
from grants.deadlines.milestones import (
    DAYS_FIELDS,
    Milestone,
    compute_milestones,
    is_passed,
    reminder_time,
)
from grants.deadlines.models import Reminder, ReminderStatus
from grants.errors import FieldsRefused, OperationRefused
from grants.formengine.definition import DEADLINE_MILESTONE, DEFAULT_MILESTONES, MilestoneDef
from grants.i18n import format_datetime_local
from grants.jobs.queue import reminder_rq_job_id, schedule_after_commit, unschedule_after_commit
from grants.partners.confirmation import confirmation_status, current_confirmations
from grants.processes import form_for, workflow_for
from grants.workflow.definition import Workflow

logger = logging.getLogger(__name__)

REMINDER_JOB = "grants.deadlines.reminders.run_reminder"
# The milestone a workflow's states name (`milestone: steering_meeting`) when the steering
# group meets on the application; a workflow that names it in no state has no such meeting.
STEERING_MILESTONE = "steering_meeting"


# --- the deadline and the milestones --------------------------------------------------------
def effective_deadline(application: Application) -> datetime:
    """The coordinator's extension for this document if there is one, else its own due date
    (a report's), else the call's deadline."""
    return application.deadline_extended_to or application.own_deadline


def milestone_days(call: Call, milestones: tuple[MilestoneDef, ...] = DEFAULT_MILESTONES
                   ) -> dict[str, int]:
    """Days before the deadline of each milestone: the call's own setting for the milestones a
    call sets (partner input, steering meeting, signatures; the defaults for a call not yet
    saved), the form's `days_before` for the others."""
    days = {m.key: m.days_before for m in milestones}
    for key, column in DAYS_FIELDS.items():
        value = getattr(call, column)
        days[key] = MILESTONE_DAY_DEFAULTS[column] if value is None else value
    return days


def milestone_definitions(application: Application) -> tuple[MilestoneDef, ...]:
    """The milestones of the application's form (`milestones:`; today's three by default)."""
    form = form_for(application)
    return form.milestones if form is not None else DEFAULT_MILESTONES


def reminder_days(call: Call) -> int:
    value = call.reminder_days_before
    return MILESTONE_DAY_DEFAULTS["reminder_days_before"] if value is None else value


def is_finished(application: Application, workflow: Workflow | None) -> bool:
    """In a state the workflow marks `finished: true` (submitted) or terminal (decided,
    withdrawn, stopped): nobody owes anything any more."""
    state = workflow.state(application.state) if workflow is not None else None
    return state is not None and state.is_finished


def partner_input_states(workflow: Workflow | None) -> frozenset[str]:
    """The states the workflow marks `partner_input: true`: partners write their own part."""
    if workflow is None:
        return frozenset()
    return workflow.states_where("partner_input")


def before_milestone_states(workflow: Workflow | None, milestone: str) -> frozenset[str]:
    """The states an application is in before it (again) reaches a state that corresponds to
    `milestone` (the file's `milestone:` key): those reachable from the initial state without
    passing the last such state on the way, finished states excepted. A milestone state from
    which another one lies ahead (a concept vote before the full application's vote) is
    passed on the way; after changes are requested it is before the milestone again."""
    if workflow is None:
        return frozenset()
    targets = workflow.milestone_states(milestone)
    if not targets:
        return frozenset()

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [t.target for t in workflow.transitions_from(start)]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(t.target for t in workflow.transitions_from(name))
        return seen

    passable = {name for name in targets if (reachable(name) & targets) - {name}}
    seen, todo = set(), [workflow.initial]
    while todo:
        name = todo.pop()
        if name in seen or (name in targets and name not in passable):
            continue
        seen.add(name)
        todo.extend(t.target for t in workflow.transitions_from(name))
    return frozenset(name for name in seen - targets
                     if workflow.state(name) is not None and not workflow.state(name).is_finished)


def before_steering_states(workflow: Workflow | None) -> frozenset[str]:
    """`before_milestone_states` of the steering group's meeting."""
    return before_milestone_states(workflow, STEERING_MILESTONE)


def milestone_keys(workflow: Workflow | None,
                   milestones: tuple[MilestoneDef, ...] = DEFAULT_MILESTONES) -> tuple[str, ...]:
    """The milestones that apply to applications of this workflow, the deadline last: one
    that reminds partners only where the workflow has partner input states, one that
    `needs_state` only where a state names it (the steering meeting by default)."""
    keys = [m.key for m in milestones]
    if workflow is not None and workflow.states:
        keys = [m.key for m in milestones
                if not (m.remind == "partners" and not partner_input_states(workflow))
                and not (m.needs_state and not workflow.milestone_states(m.key))]
    return (*keys, DEADLINE_MILESTONE)


def application_milestones(application: Application,
                           workflow: Workflow | None = None) -> list[Milestone]:
    workflow = workflow if workflow is not None else workflow_for(application)
    milestones = milestone_definitions(application)
    return compute_milestones(effective_deadline(application),
                              milestone_days(application.call, milestones),
                              milestone_keys(workflow, milestones),
                              {m.key: m.label for m in milestones if m.label is not None})


def deadline_problems(application: Application, now: datetime | None = None) -> list[str]:
    """For the `before_deadline` guard: empty before the effective deadline, else why not."""
    now = now or utcnow()
    deadline = effective_deadline(application)
    if not is_passed(deadline, now):
        return []
    if application.deadline_extended_to is not None:
        return [_("The extended deadline for this application passed on %(deadline)s (the "
                  "call closed on %(call_deadline)s).",
                  deadline=format_datetime_local(deadline),
                  call_deadline=format_datetime_local(application.own_deadline))]
    if application.due_at is not None:
        return [_("It was due on %(deadline)s.", deadline=format_datetime_local(deadline))]
    return [_("The call closed on %(deadline)s.", deadline=format_datetime_local(deadline))]


# --- who still owes something ---------------------------------------------------------------
@dataclass(frozen=True)
class Debtor:
    """Someone who still owes something for a milestone; `user` is None for a partner who has
    not accepted the invitation yet (shown on the page, but has no account to remind)."""
    name: str
    user: User | None


def who_owes(application: Application, milestone: str,
             workflow: Workflow | None = None) -> list[Debtor]:
    """Who still owes something for `milestone` now, as the form's milestone says
    (`remind`):

    partners  the contacts of partners that have not confirmed the current version, while
              the application is in a state with `partner_input: true` (partner input);
    lead      the project lead, until the application reaches a state whose `milestone:`
              names it (the steering meeting), or, if no state does, until it is finished
              (signatures, the deadline)."""
    workflow = workflow if workflow is not None else workflow_for(application)
    if is_finished(application, workflow):
        return []
    lead = Debtor(application.lead_user.name, application.lead_user)
    definition = next((m for m in milestone_definitions(application) if m.key == milestone),
                      None)
    if definition is not None and definition.remind == "partners":
        if application.state not in partner_input_states(workflow):
            return []
        return _partners_owing(application)
    if workflow is not None and workflow.milestone_states(milestone):
        return [lead] if application.state in before_milestone_states(workflow, milestone) \
            else []
    return [lead]


def reminds_partners(application: Application, milestone: str) -> bool:
    """The form's milestone reminds partners (each in its organisation's name)."""
    return any(m.key == milestone and m.remind == "partners"
               for m in milestone_definitions(application))


def _partners_owing(application: Application) -> list[Debtor]:
    form = form_for(application)
    answers = load_answers(application.id)
    partners = current_partners(application.id)
    status = confirmation_status(application, form, answers, partners) if form is not None \
        else {}
    latest = current_confirmations(p.id for p in partners) if form is None else {}
    owing = []
    for partner in partners:
        name = f"{partner.contact_name} ({partner.organisation.name})"
        if partner.status != "active":
            owing.append(Debtor(name, None))
            continue
        if form is not None:
            confirmed = status[partner.id][1]
        else:  # the form file is gone: trust a confirmation that was not voided
            confirmation = latest.get(partner.id)
            confirmed = confirmation is not None and confirmation.voided_at is None
        if not confirmed:
            owing.append(Debtor(name, partner.contact_user))
    return owing


# --- reminders ------------------------------------------------------------------------------
def schedule_reminders(application: Application, *, now: datetime | None = None,
                       push: bool = True) -> list[Reminder]:
    """Bring the application's reminder rows in line with its milestones, in the caller's
    transaction: a row per milestone still ahead (its reminder due at `reminder_time`, or at
    once when that has passed but the milestone has not), pending rows that no longer match
    cancelled, nothing for a finished application. A row already sent for the same moment is
    not sent again. With `push`, new rows go to RQ's scheduler and cancelled ones leave it
    once the transaction commits (without, the worker's start-up sweep schedules them).
    Returns the rows that are scheduled."""
    now = now or utcnow()
    workflow = workflow_for(application)
    wanted: dict[tuple[str, datetime], Milestone] = {}
    if not is_finished(application, workflow):
        days = reminder_days(application.call)
        for milestone in application_milestones(application, workflow):
            if not is_passed(milestone.at, now):
                wanted[(milestone.key, reminder_time(milestone.at, days))] = milestone
    existing = db.session.scalars(select(Reminder).where(
        Reminder.application_id == application.id).order_by(Reminder.id)).all()
    by_identity = {(row.milestone, row.send_at): row for row in existing}
    session = db.session()
    app = current_app._get_current_object()
    for row in existing:
        if row.status == ReminderStatus.scheduled and (row.milestone, row.send_at) not in wanted:
            row.status = ReminderStatus.cancelled
            if push:
                unschedule_after_commit(session, reminder_rq_job_id(app, row.id))
    scheduled, to_push = [], []
    for (key, send_at), milestone in wanted.items():
        row = by_identity.get((key, send_at))
        if row is None:
            row = Reminder(application_id=application.id, milestone=key,
                           milestone_at=milestone.at, send_at=send_at,
                           status=ReminderStatus.scheduled, recipients=[])
            db.session.add(row)
            to_push.append(row)
        elif row.status == ReminderStatus.sent:
            continue  # this very reminder went out already: never twice
        elif row.status == ReminderStatus.cancelled:
            row.status = ReminderStatus.scheduled
            to_push.append(row)
        row.milestone_at = milestone.at
        scheduled.append(row)
    db.session.flush()
    if push:
        for row in to_push:
            schedule_after_commit(session, row.send_at, REMINDER_JOB, row.id,
                                  rq_id=reminder_rq_job_id(app, row.id))
    return scheduled


def schedule_call_reminders(call: Call, *, now: datetime | None = None) -> None:
    """After a call's deadline or milestone days change: every application of it, again."""
    for application in db.session.scalars(select(Application).where(
            Application.call_id == call.id).order_by(Application.id)):
        schedule_reminders(application, now=now)


# --- extension --------------------------------------------------------------------------------
def extend_deadline(*, application: Application, actor: User, new_deadline: datetime,
                    reason: str, now: datetime | None = None) -> TransitionRecord:
    """A coordinator gives this one application a later deadline than the call's. Recorded in
    the history (reason and new deadline); its reminders are scheduled anew. One commit."""
    now = now or utcnow()
    if not actor.is_coordinator:
        raise OperationRefused(_("Only a coordinator can extend an application's deadline."))
    if is_finished(application, workflow_for(application)):
        raise OperationRefused(_("The application has been submitted or closed; its deadline "
                                 "can no longer be extended."))
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the deadline is extended.")
        raise FieldsRefused(message, field_errors={"reason": [message]})
    if new_deadline.tzinfo is None:
        raise ValueError("naive datetime given to extend_deadline")
    call_deadline = application.own_deadline
    if new_deadline <= call_deadline:
        message = _("The new deadline must be later than the call's deadline, %(deadline)s.",
                    deadline=format_datetime_local(call_deadline))
        raise FieldsRefused(message, field_errors={"new_deadline": [message]})
    if new_deadline <= now:
        message = _("The new deadline must be in the future.")
        raise FieldsRefused(message, field_errors={"new_deadline": [message]})
    previous = effective_deadline(application)
    application.deadline_extended_to = new_deadline
    with force_locale(application.language or "sv"):
        comment = _("New deadline: %(deadline)s (was %(previous)s). Reason: %(reason)s",
                    deadline=format_datetime_local(new_deadline),
                    previous=format_datetime_local(previous), reason=reason)
    record = TransitionRecord(application_id=application.id, transition="extend_deadline",
                              from_state=application.state, to_state=application.state,
                              actor_id=actor.id, comment=comment)
    db.session.add(record)
    db.session.flush()
    audit("deadline.extend", actor=actor, object_type="application", object_id=application.id,
          before={"deadline": previous.isoformat()},
          after={"deadline": new_deadline.isoformat(), "reason": reason})
    schedule_reminders(application, now=now)
    db.session.commit()
    logger.info("application %s: deadline extended to %s by user %s", application.id,
                new_deadline.isoformat(), actor.id)
    return record
