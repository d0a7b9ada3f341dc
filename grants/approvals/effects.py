"""The approvals' effect that workflow files name: telling everyone involved, the steering
group included, that the application reached its new state (used on submission)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.context import TransitionContext
from grants.db import db
from grants.i18n import pick_label
from grants.notifications.notify import notify
from grants.steering.models import SteeringMember
from grants.workflow.registry import effects


@effects.register("notify_everyone_involved")
def notify_everyone_involved(ctx: TransitionContext) -> None:
    """Tell the lead, every partner's contact, the steering group and the coordinators that
    the application has reached its new state (used on submission)."""
    application = ctx.application
    people = [application.lead_user] + [p.contact_user for p in ctx.partners
                                        if p.contact_user is not None]
    group_id = application.call.steering_group_id
    if group_id is not None:
        people += [m.user for m in db.session.scalars(select(SteeringMember).where(
            SteeringMember.group_id == group_id))]
    people += list(db.session.scalars(select(User).where(User.is_coordinator.is_(True))))
    state = ctx.workflow.state(application.state)

    def build():
        label = pick_label(state.label) if state else application.state
        return (_("%(title)s: %(state)s", title=application.title, state=label),
                _("The application “%(title)s” (%(organisation)s) is now in state "
                  "“%(state)s”. Thank you, everyone who took part.", title=application.title,
                  organisation=application.lead_organisation.name, state=label))
    notify(people, "state_" + application.state, build, application_id=application.id,
           endpoint="applications.show", category="decision")
