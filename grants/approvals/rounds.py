"""The state of a steering group's decision on one application, read from the database:
who may vote, who is recused and why, the votes of the current round, and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.access import recusal_check
from grants.applications.models import Application
from grants.approvals.models import Recusal, Vote, VoteRound
from grants.db import db
from grants.partners.models import ApplicationPartner
from grants.steering.models import SteeringGroup, SteeringMember
from grants.workflow import engine
from grants.workflow.definition import Quorum, Transition, Workflow
from grants.workflow.quorum import APPROVE, CHANGES, Tally, outcome, required_approvals


@dataclass
class MemberStatus:
    user: User
    is_chair: bool
    organisations: list[str]
    recused: bool = False
    recusal_reason: str = ""
    recusal_declared: bool = False     # declared by the member (else automatic)
    vote: Vote | None = None


@dataclass
class SteeringVote:
    """Everything the page, the vote and the minutes need to know about one decision."""

    application: Application
    transition: Transition
    group: SteeringGroup | None
    round: VoteRound | None
    members: list[MemberStatus] = field(default_factory=list)

    @property
    def quorum(self) -> Quorum:
        return self.transition.quorum

    @property
    def eligible(self) -> list[MemberStatus]:
        return [m for m in self.members if not m.recused]

    @property
    def recused(self) -> list[MemberStatus]:
        return [m for m in self.members if m.recused]

    def member(self, user_id: int) -> MemberStatus | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    @property
    def tally(self) -> Tally:
        votes = [m.vote for m in self.eligible if m.vote is not None]
        chair = next((m for m in self.eligible if m.is_chair), None)
        return Tally(members=len(self.members), eligible=len(self.eligible),
                     approve=sum(v.choice == APPROVE for v in votes),
                     changes=sum(v.choice == CHANGES for v in votes),
                     abstain=sum(v.choice == "abstain" for v in votes),
                     chair_vote=chair.vote.choice if chair and chair.vote else None,
                     chair_eligible=chair is not None)

    @property
    def outcome(self) -> str:
        return outcome(self.quorum, self.tally)

    @property
    def needed(self) -> int:
        return required_approvals(self.quorum, self.tally)


def decision_transition(workflow: Workflow | None, application: Application) -> Transition | None:
    if workflow is None:
        return None
    return engine.decision_transition(workflow, application.state)


def open_round(application_id: int) -> VoteRound | None:
    return db.session.scalar(select(VoteRound).where(
        VoteRound.application_id == application_id, VoteRound.status == "open")
        .order_by(VoteRound.id.desc()).limit(1))


def next_round_number(application_id: int) -> int:
    return (db.session.scalar(select(func.max(VoteRound.number)).where(
        VoteRound.application_id == application_id)) or 0) + 1


def involved_organisations(application: Application) -> dict[int, str]:
    """The lead organisation and every partner organisation still on the application."""
    orgs = {application.lead_organisation_id: application.lead_organisation.name}
    for partner in db.session.scalars(select(ApplicationPartner).where(
            ApplicationPartner.application_id == application.id,
            ApplicationPartner.status != "removed")):
        orgs.setdefault(partner.organisation_id, partner.organisation.name)
    return orgs


def automatic_recusal(user: User, application: Application,
                      involved: dict[int, str]) -> str:
    """Why a member is recused without declaring it ('' when not): they work for the lead or
    for a partner organisation (förvaltningslagen 16 § 1–2: an interest in the matter)."""
    for org in user.organisations:
        if org.id == application.lead_organisation_id:
            return _("Works for the lead organisation, %(organisation)s.",
                     organisation=org.name)
        if org.id in involved:
            return _("Works for the partner organisation %(organisation)s.",
                     organisation=org.name)
    return ""


@recusal_check
def is_recused_member(application: Application, user: User) -> bool:
    """Whether the member has declared jäv for the application, or is recused without
    declaring it (works for the lead or a partner organisation)."""
    declared = db.session.scalar(select(func.count()).select_from(Recusal).where(
        Recusal.application_id == application.id, Recusal.user_id == user.id))
    return bool(declared) or bool(automatic_recusal(user, application,
                                                    involved_organisations(application)))


def load_steering_vote(application: Application, workflow: Workflow | None,
                  round_: VoteRound | None = None) -> SteeringVote | None:
    """The decision the application awaits in its current state, or None."""
    transition = decision_transition(workflow, application)
    if transition is None:
        return None
    group_id = application.call.steering_group_id
    group = db.session.get(SteeringGroup, group_id) if group_id else None
    round_ = round_ or open_round(application.id)
    if group is None:
        return SteeringVote(application=application, transition=transition, group=None,
                        round=round_)
    involved = involved_organisations(application)
    declared = {r.user_id: r for r in db.session.scalars(select(Recusal).where(
        Recusal.application_id == application.id))}
    votes = {}
    if round_ is not None:
        votes = {v.user_id: v for v in db.session.scalars(
            select(Vote).where(Vote.round_id == round_.id)
            .execution_options(populate_existing=True))}
    return _decision(application, transition, group, round_, _memberships([group.id]),
                     involved, declared, votes)


def _memberships(group_ids) -> list[SteeringMember]:
    """The active members of these groups, by name, with their users and organisations."""
    return list(db.session.scalars(
        select(SteeringMember).join(User, User.id == SteeringMember.user_id)
        .where(SteeringMember.group_id.in_(group_ids), User.is_active_account.is_(True))
        .order_by(User.name)))


def _decision(application: Application, transition: Transition, group: SteeringGroup,
              round_: VoteRound | None, memberships: list[SteeringMember],
              involved: dict[int, str], declared: dict[int, Recusal],
              votes: dict[int, Vote]) -> SteeringVote:
    steering_vote = SteeringVote(application=application, transition=transition, group=group,
                        round=round_)
    for membership in memberships:
        if membership.group_id != group.id:
            continue
        user = membership.user
        status = MemberStatus(user=user, is_chair=membership.is_chair,
                              organisations=[o.name for o in user.organisations])
        reason = automatic_recusal(user, application, involved)
        if user.id in declared:
            status.recused, status.recusal_declared = True, True
            status.recusal_reason = declared[user.id].reason
        elif reason:
            status.recused, status.recusal_reason = True, reason
        status.vote = None if status.recused else votes.get(user.id)
        steering_vote.members.append(status)
    return steering_vote


def awaiting_my_vote(user: User, workflow_for) -> list[SteeringVote]:
    """Open rounds where `user` is an eligible member who has not voted yet. The same few
    queries however many rounds are open (each loaded for all rounds at once)."""
    rounds = db.session.scalars(
        select(VoteRound).join(SteeringMember,
                                   SteeringMember.group_id == VoteRound.group_id)
        .where(VoteRound.status == "open", SteeringMember.user_id == user.id)
        .order_by(VoteRound.opened_at)).all()
    if not rounds:
        return []
    application_ids = {r.application_id for r in rounds}
    applications = {a.id: a for a in db.session.scalars(
        select(Application).where(Application.id.in_(application_ids)))}
    group_ids = {a.call.steering_group_id for a in applications.values()
                 if a.call.steering_group_id is not None}
    groups = {g.id: g for g in db.session.scalars(
        select(SteeringGroup).where(SteeringGroup.id.in_(group_ids)))} if group_ids else {}
    memberships = _memberships(group_ids) if group_ids else []
    involved: dict[int, dict[int, str]] = {
        a.id: {a.lead_organisation_id: a.lead_organisation.name}
        for a in applications.values()}
    for partner in db.session.scalars(select(ApplicationPartner).where(
            ApplicationPartner.application_id.in_(application_ids),
            ApplicationPartner.status != "removed")):
        involved[partner.application_id].setdefault(partner.organisation_id,
                                                    partner.organisation.name)
    declared: dict[int, dict[int, Recusal]] = {}
    for recusal in db.session.scalars(select(Recusal).where(
            Recusal.application_id.in_(application_ids))):
        declared.setdefault(recusal.application_id, {})[recusal.user_id] = recusal
    votes: dict[int, dict[int, Vote]] = {}
    for vote in db.session.scalars(select(Vote).where(Vote.round_id.in_([r.id for r in rounds]))
                                   .execution_options(populate_existing=True)):
        votes.setdefault(vote.round_id, {})[vote.user_id] = vote
    waiting = []
    for round_ in rounds:
        application = applications[round_.application_id]
        transition = decision_transition(workflow_for(application), application)
        group = groups.get(application.call.steering_group_id)
        if transition is None or group is None:
            continue
        steering_vote = _decision(application, transition, group, round_, memberships,
                             involved[application.id], declared.get(application.id, {}),
                             votes.get(round_.id, {}))
        me = steering_vote.member(user.id)
        if me is not None and not me.recused and me.vote is None:
            waiting.append(steering_vote)
    return waiting
