"""Reads of the reuse feature: what a user may copy, to which calls, and the applications of
the same project at other funders that a viewer may see. Nothing here changes state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from grants.accounts.models import User
from grants.applications.access import visible_applications_filter
from grants.applications.models import Application
from grants.calls.models import Call
from grants.db import db, utcnow
from grants.reuse.models import ApplicationLink
from grants.submissions.models import FunderDecision

# What the panel names as the funder's answer to an application.
DECIDED = ("granted", "rejected")


def copyable_filter(user: User):
    """A WHERE clause: the applications `user` may start a new one from – those they may see
    that are their own or led by their organisation (an application, not a report)."""
    own_organisations = sorted(user.organisation_ids) or [-1]
    return and_(visible_applications_filter(user), Application.kind == "application",
                or_(Application.lead_user_id == user.id,
                    Application.lead_organisation_id.in_(own_organisations)))


def may_copy(user: User, application: Application) -> bool:
    """For an application the user may see (loaded by `load_application_page`)."""
    return application.kind == "application" and (
        application.lead_user_id == user.id
        or application.lead_organisation_id in user.organisation_ids)


def copyable_applications(user: User) -> list[Application]:
    return list(db.session.scalars(select(Application).where(copyable_filter(user))
                                   .order_by(Application.updated_at.desc(), Application.id)))


def open_calls() -> list[Call]:
    """Calls taking applications now (opened, deadline in the future), the soonest first."""
    now = utcnow()
    return list(db.session.scalars(select(Call).where(Call.opens_at <= now,
                                                      Call.deadline_at > now)
                                   .order_by(Call.deadline_at, Call.id)))


def link_of(application_id: int) -> ApplicationLink | None:
    return db.session.get(ApplicationLink, application_id)


@dataclass
class LinkedApplication:
    application: Application
    decision: FunderDecision | None


def linked_applications(application: Application, viewer: User) -> list[LinkedApplication]:
    """The other applications of the project group that `viewer` may see (the same rule as
    the lists of the overview: `visible_applications_filter`), each with the funder's latest
    decision when there is one. Three statements however many there are."""
    link = link_of(application.id)
    if link is None:
        return []
    others = list(db.session.scalars(
        select(Application).join(ApplicationLink,
                                 ApplicationLink.application_id == Application.id)
        .where(ApplicationLink.group_id == link.group_id, Application.id != application.id,
               visible_applications_filter(viewer))
        .order_by(Application.created_at, Application.id)))
    if not others:
        return []
    decisions: dict[int, FunderDecision] = {}
    for decision in db.session.scalars(select(FunderDecision).where(
            FunderDecision.application_id.in_([a.id for a in others]),
            FunderDecision.outcome.in_(DECIDED)).order_by(FunderDecision.id)):
        decisions[decision.application_id] = decision  # the latest wins
    return [LinkedApplication(a, decisions.get(a.id)) for a in others]
