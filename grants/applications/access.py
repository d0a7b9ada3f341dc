"""Who is what on an application, and the one loader every application view uses."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from sqlalchemy import exists, or_, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.calls.models import Call
from grants.db import db
from grants.partners.models import ApplicationPartner, Signatory
from grants.steering.models import SteeringMember
from grants.workflow import engine
from grants.workflow.definition import Workflow


def roles_for(user: User, application: Application) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    roles: set[str] = set()
    if application.lead_user_id == user.id:
        roles.add("lead")
    if user.is_coordinator:
        roles.add("coordinator")
    if db.session.scalar(select(exists().where(
            ApplicationPartner.application_id == application.id,
            ApplicationPartner.contact_user_id == user.id,
            ApplicationPartner.status == "active"))):
        roles.add("partner")
    if db.session.scalar(select(exists().where(
            Signatory.application_id == application.id, Signatory.user_id == user.id))):
        roles.add("signatory")  # reads the application and confirms for its organisation
    group_id = application.call.steering_group_id
    if group_id is not None and db.session.scalar(select(exists().where(
            SteeringMember.group_id == group_id, SteeringMember.user_id == user.id))):
        roles.add("steering")
    return roles


def users_in_role(application: Application, role: str) -> list[User]:
    """The active users who hold `role` on the application (the reverse of `roles_for`): the
    lead, the active partners' contacts, the coordinators, the members of the call's steering
    group. A role the app does not know: nobody."""
    if role == "lead":
        users = [application.lead_user]
    elif role == "partner":
        users = list(db.session.scalars(select(User).join(
            ApplicationPartner, ApplicationPartner.contact_user_id == User.id).where(
            ApplicationPartner.application_id == application.id,
            ApplicationPartner.status == "active").order_by(ApplicationPartner.id)))
    elif role == "coordinator":
        users = list(db.session.scalars(select(User).where(User.is_coordinator.is_(True))
                                        .order_by(User.id)))
    elif role == "steering" and application.call.steering_group_id is not None:
        users = list(db.session.scalars(select(User).join(
            SteeringMember, SteeringMember.user_id == User.id).where(
            SteeringMember.group_id == application.call.steering_group_id).order_by(User.id)))
    else:
        users = []
    return [user for user in users if user is not None and user.is_active_account]


def visible_applications_filter(user: User):
    """A WHERE clause: the applications `user` takes part in (for lists and dashboards)."""
    if user.is_coordinator:
        return Application.id.is_not(None)
    steering_calls = (select(Call.id).join(SteeringMember,
                                           SteeringMember.group_id == Call.steering_group_id)
                      .where(SteeringMember.user_id == user.id))
    partner_of = (select(ApplicationPartner.application_id)
                  .where(ApplicationPartner.contact_user_id == user.id,
                         ApplicationPartner.status == "active"))
    signs_for = select(Signatory.application_id).where(Signatory.user_id == user.id)
    return or_(Application.lead_user_id == user.id, Application.call_id.in_(steering_calls),
               Application.id.in_(partner_of), Application.id.in_(signs_for))


def _viewing_roles(user: User, application: Application, roles: set[str]) -> set[str]:
    """An authorised signatory sees the application where the organisation it signs for
    does: the lead's view for the lead organisation's signatory, the partners' for a
    partner's (only to see it: `roles` stay what they are)."""
    if "signatory" not in roles:
        return roles
    organisations = set(db.session.scalars(select(Signatory.organisation_id).where(
        Signatory.application_id == application.id, Signatory.user_id == user.id)))
    seen = set(roles)
    if application.lead_organisation_id in organisations:
        seen.add("lead")
    if organisations - {application.lead_organisation_id}:
        seen.add("partner")
    return seen


def may_view(user: User, application: Application, roles: set[str], workflow_for) -> bool:
    """Whether `user`, with `roles` on the application, may see it in its current state."""
    workflow: Workflow | None = workflow_for(application)
    return bool(roles) and (workflow is None or engine.may_view(
        workflow, application.state, _viewing_roles(user, application, roles)))


def load_application(application_id: int, user: User, workflow_for) -> tuple[Application, set[str]]:
    """The application and the user's roles on it; 404 alike for missing and not-yours."""
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    roles = roles_for(user, application)
    if not may_view(user, application, roles, workflow_for):
        abort(404)
    return application, roles


# Hooks (application, user) -> True when the user, a member of the call's steering group, takes
# no part in the group's work on this application (jäv): approvals registers the declared and the
# automatic recusals. The steering group's comment threads are kept from such a member.
RECUSALS: list[Callable[[Application, User], bool]] = []


def recusal_check(hook: Callable[[Application, User], bool]):
    RECUSALS.append(hook)
    return hook


def is_recused(application: Application, user: User) -> bool:
    return any(hook(application, user) for hook in RECUSALS)
