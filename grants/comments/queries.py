"""Who sees which comment thread, the parts of an application a thread can be on, and the reads
of the pages. Nothing here changes state.

A thread's audience is a set of roles on the application: "team" is the lead, the partners'
contacts, the authorised signatories and the coordinators; "steering" is the team and the
members of the call's steering group, except a member who is recused (jäv). A thread on a part
of the application is seen by those who see that part today: the common sections, the budget
and every current partner's part (the sections tab shows them all to everyone on the
application); a thread on a part no longer there (a removed partner's) by the lead and the
coordinators only."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications import queries as application_queries
from grants.applications.access import is_recused, may_view, roles_for, users_in_role
from grants.applications.models import Application, instance_key
from grants.comments.models import (
    BUDGET,
    OPEN,
    STEERING,
    TEAM,
    Comment,
    CommentMention,
    CommentThread,
)
from grants.db import db
from grants.formengine.definition import FormDef, SectionDef
from grants.i18n import pick_label
from grants.partners.models import ApplicationPartner, Signatory
from grants.processes import form_for, workflow_for

TEAM_ROLES = frozenset({"lead", "partner", "signatory", "coordinator"})
# Who sees the threads on a part that is no longer on the application, and may resolve any.
OVERSEERS = frozenset({"lead", "coordinator"})
MAX_CHARS = 5000


@dataclass(frozen=True)
class Target:
    """A part of the application a thread can be on."""

    key: str                          # "summary", "partner_role@12" or "budget"
    section: SectionDef | None = None
    partner: ApplicationPartner | None = None

    @property
    def label(self) -> str:
        """In the reader's language."""
        if self.key == BUDGET:
            return _("Budget and co-financing")
        if self.section is None:
            return _("%(part)s (no longer part of the application)", part=self.key)
        title = pick_label(self.section.title)
        return f"{title} – {self.partner.organisation.name}" if self.partner else title

    @property
    def anchor(self) -> str:
        """The element of the sections tab (or the budget tab) the part is shown in."""
        return "section-" + self.key.replace("@", "-") if self.key != BUDGET else ""


def targets_of(form_def: FormDef, partners: list[ApplicationPartner]) -> dict[str, Target]:
    """Every part a thread can be on now, in the order of the sections tab, then the budget."""
    targets: dict[str, Target] = {}
    by_id = {p.id: p for p in partners if p.is_current}
    for section in form_def.sections:
        if section.part == "partner_part":
            for partner in by_id.values():
                key = instance_key(section.key, partner.id)
                targets[key] = Target(key, section, partner)
        else:
            targets[section.key] = Target(section.key, section)
    targets[BUDGET] = Target(BUDGET)
    return targets


def target_of(key: str, targets: dict[str, Target], form_def: FormDef | None) -> Target:
    """The part a thread is on, also when it is no longer on the application."""
    if key in targets:
        return targets[key]
    section_key = key.split("@", 1)[0]
    section = form_def.section(section_key) if form_def is not None else None
    partner = None
    if "@" in key and key.split("@", 1)[1].isdigit():
        partner = db.session.get(ApplicationPartner, int(key.split("@", 1)[1]))
    return Target(key, section, partner) if section is not None and (
        partner is not None or "@" not in key) else Target(key)


def audiences_for(application: Application, user: User, roles: set[str]) -> set[str]:
    """The audiences whose threads `user` sees on the application."""
    if roles & TEAM_ROLES:
        return {TEAM, STEERING}
    if "steering" in roles and not is_recused(application, user):
        return {STEERING}
    return set()


def sees_target(key: str, targets: dict[str, Target], roles: set[str]) -> bool:
    return key in targets or bool(roles & OVERSEERS)


def may_see(thread: CommentThread, application: Application, user: User, roles: set[str],
            targets: dict[str, Target]) -> bool:
    return (thread.application_id == application.id
            and thread.audience in audiences_for(application, user, roles)
            and sees_target(thread.target, targets, roles))


def may_resolve(thread: CommentThread, user: User, roles: set[str]) -> bool:
    """The lead, a coordinator and whoever started the thread resolve and reopen it."""
    return bool(roles & OVERSEERS) or thread.created_by_id == user.id


def audience_choices(application: Application, user: User, roles: set[str]) -> list[str]:
    """The audiences `user` may start a thread for: a team member chooses when the call has a
    steering group; a steering member writes to the steering group's threads only."""
    if roles & TEAM_ROLES:
        return [TEAM, STEERING] if application.call.steering_group_id is not None else [TEAM]
    return [STEERING] if STEERING in audiences_for(application, user, roles) else []


def people_on(application: Application) -> list[User]:
    """Everyone one may mention: the lead, the active partners' contacts, the authorised
    signatories, the steering group's members and the coordinators (active accounts)."""
    people: dict[int, User] = {}
    for role in ("lead", "partner"):
        for user in users_in_role(application, role):
            people.setdefault(user.id, user)
    for user in db.session.scalars(select(User).join(Signatory, Signatory.user_id == User.id)
                                   .where(Signatory.application_id == application.id)
                                   .order_by(User.id)):
        if user.is_active_account:
            people.setdefault(user.id, user)
    for role in ("steering", "coordinator"):
        for user in users_in_role(application, role):
            people.setdefault(user.id, user)
    return list(people.values())


def who_sees(application: Application, audience: str, target_key: str,
             targets: dict[str, Target], people: list[User]) -> set[int]:
    """The ids of those among `people` who see a thread for `audience` on `target_key`."""
    seeing = set()
    for person in people:
        roles = roles_for(person, application)
        if not may_view(person, application, roles, workflow_for):
            continue
        if audience in audiences_for(application, person, roles) \
                and sees_target(target_key, targets, roles):
            seeing.add(person.id)
    return seeing


def mentionable(application: Application) -> dict[str, list[User]]:
    """Per audience, the people on the application who see its threads (and so may be
    mentioned in them), by name."""
    seeing: dict[str, list[User]] = {TEAM: [], STEERING: []}
    for person in sorted(people_on(application), key=lambda u: u.name):
        roles = roles_for(person, application)
        if may_view(person, application, roles, workflow_for):
            for audience in sorted(audiences_for(application, person, roles)):
                seeing[audience].append(person)
    return seeing


def open_counts(application: Application, user: User, roles: set[str]) -> dict[str, int]:
    """Per part: the number of open threads the user sees (one query)."""
    audiences = audiences_for(application, user, roles)
    if not audiences:
        return {}
    return dict(db.session.execute(
        select(CommentThread.target, func.count()).where(
            CommentThread.application_id == application.id, CommentThread.status == OPEN,
            CommentThread.audience.in_(sorted(audiences)))
        .group_by(CommentThread.target)).all())


@dataclass
class ThreadView:
    thread: CommentThread
    target: Target
    comments: list[Comment]
    mentions: dict[int, list[User]]     # per comment id


def visible_threads(application: Application, user: User, roles: set[str],
                    targets: dict[str, Target], form_def: FormDef | None,
                    target_key: str | None = None) -> list[ThreadView]:
    """The threads the user sees (on one part, or all), open ones first, each with its
    comments and whom they mention; a fixed number of queries."""
    audiences = audiences_for(application, user, roles)
    if not audiences:
        return []
    query = select(CommentThread).where(CommentThread.application_id == application.id,
                                        CommentThread.audience.in_(sorted(audiences)))
    if target_key is not None:
        query = query.where(CommentThread.target == target_key)
    threads = [t for t in db.session.scalars(query.order_by(CommentThread.id))
               if sees_target(t.target, targets, roles)]
    if not threads:
        return []
    comments: dict[int, list[Comment]] = {t.id: [] for t in threads}
    for comment in db.session.scalars(select(Comment).where(
            Comment.thread_id.in_(list(comments))).order_by(Comment.id)):
        comments[comment.thread_id].append(comment)
    mentions: dict[int, list[User]] = {}
    for comment_id, mentioned in db.session.execute(
            select(CommentMention.comment_id, User).join(User, User.id == CommentMention.user_id)
            .join(Comment, Comment.id == CommentMention.comment_id)
            .where(Comment.thread_id.in_(list(comments))).order_by(User.name)).all():
        mentions.setdefault(comment_id, []).append(mentioned)
    order = list(targets)
    views = [ThreadView(t, target_of(t.target, targets, form_def), comments[t.id], mentions)
             for t in threads]
    views.sort(key=lambda v: (not v.thread.is_open,
                              order.index(v.thread.target) if v.thread.target in order
                              else len(order), v.thread.id))
    return views


def load_targets(application: Application, form_def: FormDef | None = None
                 ) -> dict[str, Target]:
    form_def = form_def or form_for(application)
    return targets_of(form_def, application_queries.current_partners(application.id))
