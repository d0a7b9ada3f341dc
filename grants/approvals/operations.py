"""The steering group's decisions: rounds, votes, declared jäv, and firing the decided
transition exactly once. Every public function is one transaction (the callers inside other
operations – `on_state_entered`, `restart_round_if_changed` – run in the caller's)."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from grants.accounts.models import User
from grants.applications.context import TransitionContext
from grants.applications.models import Application, TransitionRecord
from grants.applications.operations import apply_transition
from grants.applications.queries import current_partners, load_answers
from grants.applications.snapshot import build_snapshot, fingerprint, record_part
from grants.approvals.minutes import minutes_data, record_minutes_job
from grants.approvals.models import Recusal, Vote, VoteRound
from grants.approvals.rounds import SteeringVote, load_steering_vote, next_round_number, open_round
from grants.audit import audit
from grants.collaboration.shown import keep_shown
from grants.db import db, utcnow
from grants.errors import FieldsRefused, OperationRefused, StaleState
from grants.formengine.definition import FormDef
from grants.labels import vote_label
from grants.notifications.notify import notify
from grants.processes import workflow_for
from grants.workflow import engine
from grants.workflow.definition import Workflow
from grants.workflow.quorum import APPROVED, CHANGES, CHOICES, REJECTED, TOO_FEW

logger = logging.getLogger(__name__)

MAX_COMMENT = 4000


def content_snapshot(application: Application, form: FormDef) -> dict[str, Any]:
    """What the members vote on: every field, partner and budget line."""
    return build_snapshot(application, form, load_answers(application.id),
                          current_partners(application.id))


def content_fingerprint(application: Application, form: FormDef) -> str:
    """SHA-256 of what the members vote on (`content_snapshot`)."""
    return fingerprint(content_snapshot(application, form))


# --- inside other operations' transactions ----------------------------------------------------
def on_state_entered(application: Application, workflow: Workflow, form: FormDef | None,
                     actor: User) -> VoteRound | None:
    """The application just changed state: a round still open ends, and a new one opens when
    the new state is decided by the steering group's vote (members are told)."""
    for stale in db.session.scalars(select(VoteRound).where(
            VoteRound.application_id == application.id, VoteRound.status == "open")):
        stale.status, stale.closed_at = "closed", utcnow()
    transition = engine.decision_transition(workflow, application.state)
    if transition is None or form is None:
        return None
    round_ = VoteRound(application_id=application.id,
                           number=next_round_number(application.id),
                           group_id=application.call.steering_group_id,
                           transition=transition.name, state=application.state,
                           state_version=application.state_version,
                           fingerprint=content_fingerprint(application, form))
    db.session.add(round_)
    db.session.flush()
    steering_vote = load_steering_vote(application, workflow, round_)
    _notify_awaiting(steering_vote, [m.user for m in steering_vote.eligible])
    _settle(steering_vote, workflow, form, actor)
    return round_


def restart_round_if_changed(application: Application, form: FormDef | None,
                             actor: User) -> VoteRound | None:
    """Content changed while a round is open: votes cast on the old version are void, the round
    restarts on the new version (recorded in the history), and the members are told."""
    round_ = open_round(application.id)
    if round_ is None or form is None:
        return None
    # Rows changed by bulk UPDATEs in this transaction must be read again, not from the
    # session's identity map.
    db.session.flush()
    db.session.expire_all()
    current = content_fingerprint(application, form)
    if current == round_.fingerprint:
        return round_
    votes = db.session.scalars(select(Vote).where(Vote.round_id == round_.id)).all()
    if not votes:
        round_.fingerprint = current  # nobody has voted yet: they simply see the new version
        return round_
    round_.status, round_.closed_at = "voided", utcnow()
    db.session.flush()
    fresh = VoteRound(application_id=application.id, number=next_round_number(application.id),
                          group_id=round_.group_id, transition=round_.transition,
                          state=round_.state, state_version=round_.state_version,
                          fingerprint=current)
    db.session.add(fresh)
    db.session.add(TransitionRecord(
        application_id=application.id, transition="votes_voided", from_state=application.state,
        to_state=application.state, actor_id=actor.id,
        comment=_("The application was changed after voting began: %(count)d vote(s) of round "
                  "%(number)d are void and voting starts again.", count=len(votes),
                  number=round_.number)))
    db.session.flush()
    audit(actor_id=actor.id, action="steering.round_voided", object_type="application",
          object_id=application.id,
          before={"round": round_.number, "fingerprint": round_.fingerprint,
                  "votes": [{"user": v.user_id, "choice": v.choice}
                            for v in sorted(votes, key=lambda v: v.user_id)]},
          after={"round": fresh.number, "fingerprint": current})
    steering_vote = load_steering_vote(application, workflow_for(application), fresh)
    if steering_vote is not None:
        voters = {v.user_id for v in votes}
        _notify_revote(steering_vote,
                       [m.user for m in steering_vote.eligible if m.user.id in voters])
    return fresh


# --- the members' actions ----------------------------------------------------------------------
def cast_vote(*, application: Application, actor: User, workflow: Workflow, form: FormDef,
              round_id: int, choice: str, comment: str, shown_fingerprint: str) -> Vote:
    """Record (or change) a member's vote on the version they were shown; when the votes meet
    the quorum rule – or make approval impossible – fire the transition, exactly once."""
    comment = (comment or "").strip()
    if choice not in CHOICES:
        raise FieldsRefused(_("Nothing was recorded: choose how you vote."),
                            field_errors={"choice": [_("Choose approve, request changes or "
                                                       "abstain.")]})
    if choice == CHANGES and not comment:
        raise FieldsRefused(_("Nothing was recorded: say what should change."),
                            field_errors={"comment": [_("A request for changes needs a "
                                                        "comment saying what should change.")]})
    if len(comment) > MAX_COMMENT:
        raise FieldsRefused(_("Nothing was recorded: the comment is too long."),
                            field_errors={"comment": [_("At most %(max)d characters.",
                                                        max=MAX_COMMENT)]})
    round_ = _locked_round(application, round_id)
    steering_vote = load_steering_vote(application, workflow, round_)
    _member_who_may_vote(steering_vote, actor)
    if shown_fingerprint != round_.fingerprint:
        db.session.rollback()
        raise StaleState(_("The application changed after you opened it. The page now shows "
                           "the current version: read it and vote again."))
    vote = db.session.scalar(select(Vote).where(Vote.round_id == round_.id,
                                                Vote.user_id == actor.id))
    before = None
    if vote is None:
        vote = Vote(round_id=round_.id, user_id=actor.id, choice=choice, comment=comment,
                    fingerprint=shown_fingerprint, cast_at=utcnow())
        db.session.add(vote)
    else:
        before = {"round": round_.number, "choice": vote.choice, "comment": vote.comment}
        vote.choice, vote.comment, vote.cast_at = choice, comment, utcnow()
        vote.changed_count = (vote.changed_count or 0) + 1
    audit(actor_id=actor.id, action="steering.vote",
          object_type="application", object_id=application.id, before=before,
          after={"round": round_.number, "choice": choice,
                 "comment": comment})
    db.session.flush()
    # What the member voted on, kept for "what changed since you voted" in a later round.
    shown = content_snapshot(application, form)
    if fingerprint(shown) == round_.fingerprint:
        keep_shown(application.id, round_.fingerprint, shown)
    _settle(load_steering_vote(application, workflow, round_), workflow, form, actor)
    db.session.commit()
    logger.info("application %s round %s: user %s voted %s", application.id, round_.number,
                actor.id, choice)
    return vote


def declare_recusal(*, application: Application, actor: User, workflow: Workflow,
                    form: FormDef, reason: str) -> Recusal:
    """A member declares jäv: from now on they cannot vote on this application and do not
    count towards the quorum; a vote they cast in the open round no longer counts."""
    reason = (reason or "").strip()
    if not reason:
        raise FieldsRefused(_("Nothing was recorded: give the reason for your jäv."),
                            field_errors={"reason": [_("Say why you have a conflict of "
                                                       "interest (it goes into the minutes).")]})
    if len(reason) > MAX_COMMENT:
        raise FieldsRefused(_("Nothing was recorded: the reason is too long."),
                            field_errors={"reason": [_("At most %(max)d characters.",
                                                       max=MAX_COMMENT)]})
    round_ = open_round(application.id)
    if round_ is None:
        raise OperationRefused(_("The application awaits no decision by the steering group "
                                 "now."))
    round_ = _locked_round(application, round_.id)
    steering_vote = load_steering_vote(application, workflow, round_)
    member = steering_vote.member(actor.id) if steering_vote else None
    if member is None:
        raise OperationRefused(_("You are not a member of the steering group that decides on "
                                 "this application."))
    if member.recused:
        raise OperationRefused(_("You are already recused from this application."))
    recusal = Recusal(application_id=application.id, user_id=actor.id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(recusal)
    except IntegrityError:
        db.session.rollback()
        raise OperationRefused(_("You are already recused from this application.")) from None
    audit(actor_id=actor.id, action="steering.recusal",
          object_type="application", object_id=application.id, before=None,
          after={"reason": reason})
    db.session.flush()
    _settle(load_steering_vote(application, workflow, round_), workflow, form, actor)
    db.session.commit()
    return recusal


def _locked_round(application: Application, round_id: int) -> VoteRound:
    """Serialise everything that decides: touch the application row on the round's state
    version (a row lock on PostgreSQL, the write lock on SQLite), then re-read the round. Two
    last votes arriving together are counted one after the other, so exactly one fires."""
    round_ = db.session.get(VoteRound, round_id)
    if round_ is None or round_.application_id != application.id:
        raise StaleState(_("This round of voting no longer exists. The page now shows the "
                           "current state."))
    locked = db.session.execute(
        update(Application).where(Application.id == application.id,
                                  Application.state_version == round_.state_version)
        .values(updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not locked:
        db.session.rollback()
        raise StaleState(_("The steering group has already decided, or the application has "
                           "moved on. The page now shows the current state."))
    db.session.refresh(round_)
    if round_.status != "open":
        db.session.rollback()
        if round_.status == "voided":
            raise StaleState(_("The application was changed, so voting has started again. "
                               "Read the current version and vote again."))
        raise StaleState(_("The steering group has already decided. The page now shows the "
                           "decision."))
    return round_


def _member_who_may_vote(steering_vote: SteeringVote | None, actor: User):
    member = steering_vote.member(actor.id) if steering_vote else None
    if member is None:
        db.session.rollback()
        raise OperationRefused(_("You are not a member of the steering group that decides on "
                                 "this application."))
    if member.recused:
        db.session.rollback()
        raise OperationRefused(_("You are recused from this application and cannot vote. "
                                 "Reason: %(reason)s", reason=member.recusal_reason))
    return member


# --- deciding ----------------------------------------------------------------------------------
def _settle(steering_vote: SteeringVote | None, workflow: Workflow, form: FormDef,
            actor: User) -> None:
    """Fire the decided transition when the rule is met or approval has become impossible;
    tell the coordinators once when too few members may vote."""
    if steering_vote is None or steering_vote.round is None or steering_vote.group is None:
        return
    result = steering_vote.outcome
    if result == TOO_FEW:
        if steering_vote.round.too_few_notified_at is None:
            steering_vote.round.too_few_notified_at = utcnow()
            _notify_too_few(steering_vote)
        return
    if result not in (APPROVED, REJECTED):
        return
    transition = steering_vote.transition if result == APPROVED else \
        workflow.transitions[steering_vote.quorum.otherwise]
    comment = _decision_comment(steering_vote, result)
    round_ = steering_vote.round
    round_.status, round_.outcome, round_.closed_at = "decided", result, utcnow()
    round_.minutes = minutes_data(steering_vote, result, transition)
    db.session.flush()
    application = steering_vote.application
    engine.check_transition(workflow, application.state, transition.name, set(), comment,
                            by_votes=True)
    ctx = TransitionContext(application=application, actor=actor, workflow=workflow, form=form,
                            answers=load_answers(application.id), comment=comment,
                            partners=current_partners(application.id))
    # The decision's own message first: the transition's "whose turn" notices then leave out
    # the lead, who has just been told.
    _notify_decided(steering_vote, result, comment)
    record = apply_transition(application=application, transition=transition, actor=actor,
                              comment=comment, expected_state_version=round_.state_version,
                              ctx=ctx)
    round_.decision_record_id = record.id
    record_minutes_job(application, round_)


def _decision_comment(steering_vote: SteeringVote, result: str) -> str:
    tally = steering_vote.tally
    summary = _("Decided by the steering group %(group)s: %(approve)d approved, %(changes)d "
                "requested changes, %(abstain)d abstained, %(recused)d recused.",
                group=steering_vote.group.name, approve=tally.approve, changes=tally.changes,
                abstain=tally.abstain, recused=len(steering_vote.recused))
    if result == APPROVED:
        comments = [f"– {m.user.name} ({vote_label(m.vote.choice).lower()}): {m.vote.comment}"
                    for m in steering_vote.eligible if m.vote is not None and m.vote.comment]
        return "\n".join([summary] + comments)
    comments = [f"– {m.user.name}: {m.vote.comment}" for m in steering_vote.eligible
                if m.vote is not None and m.vote.choice == CHANGES and m.vote.comment]
    return "\n".join([summary, _("Changes requested:")] + comments)


# --- telling people ----------------------------------------------------------------------------
def _notify_awaiting(steering_vote: SteeringVote, users: list[User]) -> None:
    application = steering_vote.application

    def build():
        return (_("Your decision is awaited: %(title)s", title=application.title),
                _("The application “%(title)s” (%(organisation)s) awaits the steering group's "
                  "decision. Read it and vote.", title=application.title,
                  organisation=application.lead_organisation.name))
    notify(users, "vote_awaited", build, application_id=application.id,
           endpoint="applications.show")


def _notify_revote(steering_vote: SteeringVote, users: list[User]) -> None:
    application = steering_vote.application

    def build():
        return (_("Vote again: %(title)s was changed", title=application.title),
                _("The application “%(title)s” was changed after you voted, so your vote no "
                  "longer counts. Read the new version and vote again.",
                  title=application.title))
    notify(users, "vote_voided", build, application_id=application.id,
           endpoint="applications.show")


def _notify_too_few(steering_vote: SteeringVote) -> None:
    application = steering_vote.application
    coordinators = db.session.scalars(select(User).where(User.is_coordinator.is_(True),
                                                         User.is_active_account.is_(True)))

    def build():
        return (_("Too few members may decide on %(title)s", title=application.title),
                _("Because of jäv, only %(eligible)d member(s) of %(group)s may vote on "
                  "“%(title)s”, and %(needed)d approval(s) are needed. Add members to the "
                  "group or return the application.", eligible=len(steering_vote.eligible),
                  group=steering_vote.group.name, title=application.title,
                  needed=steering_vote.needed))
    notify(coordinators, "too_few_eligible", build, application_id=application.id,
           endpoint="applications.show")


def _notify_decided(steering_vote: SteeringVote, result: str, comment: str) -> None:
    application = steering_vote.application

    def build():
        if result == APPROVED:
            return (_("Approved by the steering group: %(title)s", title=application.title),
                    _("The steering group %(group)s approved “%(title)s”. You can now submit "
                      "it to the funder.", group=steering_vote.group.name, title=application.title))
        return (_("Changes requested: %(title)s", title=application.title),
                _("The steering group %(group)s asks for changes to “%(title)s”:\n\n"
                  "%(comments)s", group=steering_vote.group.name, title=application.title,
                  comments=comment))
    notify([application.lead_user], "decision_" + result, build, application_id=application.id,
           endpoint="applications.show")


@record_part("approvals")
def decided_rounds(application: Application, partners: list) -> list[dict[str, Any]]:
    """Every decided steering-group round, as its minutes recorded it: part of a submission's
    copy of record."""
    rounds = db.session.scalars(select(VoteRound).where(
        VoteRound.application_id == application.id, VoteRound.status == "decided")
        .order_by(VoteRound.number))
    return [{"round": r.number, "outcome": r.outcome, "group": r.minutes.get("group"),
             "decided_at": r.minutes.get("decided_at"), "fingerprint": r.fingerprint,
             "rule": r.minutes.get("rule"), "tally": r.minutes.get("tally"),
             "members": r.minutes.get("members")} for r in rounds if r.minutes]
