"""Whose turn it is after a transition, read from the workflow: the people who may fire one of
the transitions the move opened (their roles, resolved to this application's people), the
partners whose confirmation such a transition requires, and the lead. No state is named here.

Transitions decided by a steering group's vote are left out: the round that opens tells its
voters (approvals). Whoever made the transition is not told, nor anyone the same transaction has
already told about this application."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.access import users_in_role
from grants.applications.models import Application, TransitionRecord
from grants.applications.queries import current_partners, load_answers
from grants.db import db
from grants.formengine.definition import FormDef
from grants.i18n import pick_label
from grants.notifications.notify import already_told, notify
from grants.partners.confirmation import confirmation_status
from grants.partners.guards import CONFIRMATION_GUARDS
from grants.workflow.definition import Transition, Workflow

TURN, CONFIRMATION_DUE, STATE_CHANGED = "turn", "confirmation_due", "state_changed"


@dataclass
class Turn:
    user: User
    kind: str
    transitions: list[Transition] = field(default_factory=list)


def opened(workflow: Workflow, state: str, from_state: str) -> list[Transition]:
    """The transitions entering `state` opened: those leaving it that did not already leave
    `from_state` (so "withdraw", open nearly everywhere, is nobody's new turn), without those
    a steering group's vote decides."""
    before = {t.name for t in workflow.transitions_from(from_state)} if from_state != state \
        else {t.name for t in workflow.transitions_from(state)}
    return [t for t in workflow.transitions_from(state)
            if t.quorum is None and t.name not in before]


def whose_turn(application: Application, workflow: Workflow, form: FormDef,
               from_state: str) -> dict[int, Turn]:
    """Per user id: what is now theirs to do on the application, in its current state."""
    open_now = opened(workflow, application.state, from_state)
    turns: dict[int, Turn] = {}
    for transition in open_now:
        for role in transition.by:
            for user in users_in_role(application, role):
                turn = turns.setdefault(user.id, Turn(user, TURN))
                if transition not in turn.transitions:
                    turn.transitions.append(transition)
    if any(set(t.requires) & CONFIRMATION_GUARDS for t in open_now):
        partners = [p for p in current_partners(application.id)
                    if p.status == "active" and p.contact_user is not None]
        status = confirmation_status(application, form, load_answers(application.id), partners)
        for partner in partners:
            if not status[partner.id][1]:
                turn = turns.setdefault(partner.contact_user_id, Turn(partner.contact_user, TURN))
                turn.kind = CONFIRMATION_DUE
    lead = application.lead_user
    if lead is not None and lead.id not in turns:
        turns[lead.id] = Turn(lead, STATE_CHANGED)
    return turns


def tell_whose_turn(application: Application, workflow: Workflow, form: FormDef,
                    actor: User, from_state: str) -> None:
    """Notify everyone `whose_turn` names, each in their own language."""
    record = last_record(application.id)
    for turn in whose_turn(application, workflow, form, from_state).values():
        if turn.user.id == actor.id or already_told(turn.user.id, application.id):
            continue
        notify([turn.user], turn.kind, _builder(application, workflow, actor, record, turn),
               application_id=application.id, endpoint="applications.show")


def last_record(application_id: int) -> TransitionRecord | None:
    """The history row of the transition just made (flushed before `state_entered`)."""
    return db.session.scalar(select(TransitionRecord).where(
        TransitionRecord.application_id == application_id)
        .order_by(TransitionRecord.id.desc()).limit(1))


def _builder(application: Application, workflow: Workflow, actor: User,
             record: TransitionRecord | None, turn: Turn):
    def build() -> tuple[str, str]:
        state = workflow.state(application.state)
        state_label = pick_label(state.label) if state is not None else application.state
        made = workflow.transitions.get(record.transition) if record is not None else None
        title = application.title
        lines = [_("The application “%(title)s” (%(organisation)s) is now in state "
                   "“%(state)s”.", title=title,
                   organisation=application.lead_organisation.name, state=state_label)]
        if made is not None:
            lines.append(_("%(actor)s: “%(transition)s”.", actor=actor.name,
                           transition=pick_label(made.label)))
        if record is not None and record.comment:
            lines.append(_("Comment: %(comment)s", comment=record.comment))
        if turn.kind == CONFIRMATION_DUE:
            subject = _("Confirm your part: %(title)s", title=title)
            lines.append(_("Your organisation's confirmation is now due: read the application, "
                           "fill in your organisation's part and confirm it."))
        elif turn.kind == TURN:
            subject = _("Your turn: %(title)s is “%(state)s”", title=title, state=state_label)
            lines.append(_("You can now: %(actions)s.", actions=", ".join(
                "“" + pick_label(t.label) + "”" for t in turn.transitions)))
        else:
            subject = _("%(title)s: %(state)s", title=title, state=state_label)
        return subject, "\n\n".join(lines)
    return build
