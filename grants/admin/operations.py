"""Coordinator operations. Each is one transaction and writes an audit row (before/after)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from grants import events
from grants.accounts.models import User
from grants.audit import audit
from grants.calls.models import (
    DEFAULT_SUBJECT_FORMAT,
    MILESTONE_DAY_DEFAULTS,
    STOCKHOLM,
    Call,
    Funder,
)
from grants.db import db
from grants.errors import OperationRefused
from grants.notifications.mail import absolute_url, queue_email
from grants.notifications.models import Invitation
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import normalise
from grants.processes import get_form, get_plan, get_workflow, pin_form, pin_workflow
from grants.steering.models import SteeringGroup, SteeringMember
from grants.tokens import new_token, utcnow

INVITATION_DAYS = 7


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def snapshot_of(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise OperationRefused(_("Only a coordinator may do this."))


FUNDER_FIELDS = ["name", "short_name", "slug", "submission_email", "pdf_template",
                 "delivery_method", "email_subject_format", "portal_url"]
# What a blank field of the funder form stores (None for the others).
FUNDER_BLANKS = {"pdf_template": "", "delivery_method": "email",
                 "email_subject_format": DEFAULT_SUBJECT_FORMAT}
CALL_FIELDS = ["funder_id", "title", "description", "opens_at", "deadline_at", "workflow_name",
               "form_name", "form_version", "reporting_plan", "steering_group_id",
               "max_chars_per_field",
               "max_requested_amount", "min_cofinancing_percent", "max_indirect_percent",
               "allow_resubmission", "submission_email", *MILESTONE_DAY_DEFAULTS]
# A change to any of these moves the milestones of the call's applications.
DEADLINE_FIELDS = ["deadline_at", *MILESTONE_DAY_DEFAULTS]
ORG_FIELDS = ["name", "org_number", "county", "kind"]


def _unique_taken(model, column, value, exclude_id) -> bool:
    query = select(model.id).where(func.lower(column) == str(value).lower())
    if exclude_id:
        query = query.where(model.id != exclude_id)
    return db.session.scalar(query) is not None


def save_funder(actor: User, funder: Funder | None, data: dict[str, Any]) -> Funder:
    _require_coordinator(actor)
    if _unique_taken(Funder, Funder.slug, data["slug"], funder.id if funder else None):
        raise OperationRefused(_("Another funder already has the identifier “%(slug)s”.",
                                 slug=data["slug"]))
    before = snapshot_of(funder, FUNDER_FIELDS) if funder else None
    funder = funder or Funder()
    for name in FUNDER_FIELDS:
        setattr(funder, name, data.get(name) or FUNDER_BLANKS.get(name))
    db.session.add(funder)
    db.session.flush()
    after = snapshot_of(funder, FUNDER_FIELDS)
    audit("funder.update" if before else "funder.create", actor=actor,
          object_type="funder", object_id=funder.id, before=before, after=after)
    if before is not None and any(before.get(n) != after.get(n) for n in ("name", "short_name")):
        events.reference_renamed.send(kind="funder", object_id=funder.id)
    db.session.commit()
    return funder


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=STOCKHOLM) if local.tzinfo is None else local


def save_call(actor: User, call: Call | None, data: dict[str, Any]) -> Call:
    _require_coordinator(actor)
    workflow = get_workflow(data["workflow_name"])
    form = get_form(data["form_name"])
    if workflow is None or form is None:
        raise OperationRefused(_("Choose a workflow and a form that exist."))
    before = snapshot_of(call, CALL_FIELDS) if call else None
    call = call or Call()
    for name in CALL_FIELDS:
        if name in data:
            setattr(call, name, data[name])
    call.opens_at = _aware(data["opens_at"])
    call.deadline_at = _aware(data["deadline_at"])
    call.steering_group_id = data.get("steering_group_id") or None
    call.reporting_plan = data.get("reporting_plan") or None
    if call.reporting_plan is not None and get_plan(call.reporting_plan) is None:
        raise OperationRefused(_("Choose a reporting plan that exists."))
    call.submission_email = data.get("submission_email") or None
    for name, default in MILESTONE_DAY_DEFAULTS.items():
        if getattr(call, name) is None:  # left blank
            setattr(call, name, default)
    if before is None or before.get("form_name") != call.form_name:
        call.form_version = pin_form(form)  # the form version the call opens with (stored)
    db.session.add(call)
    pin_workflow(workflow)
    db.session.flush()
    after = snapshot_of(call, CALL_FIELDS)
    audit("call.update" if before else "call.create", actor=actor,
          object_type="call", object_id=call.id,
          before=before, after=after)
    if before is not None and any(before[name] != after[name] for name in DEADLINE_FIELDS):
        events.call_deadlines_changed.send(call=call)
    if before is not None and any(before.get(n) != after.get(n) for n in ("title", "funder_id")):
        events.reference_renamed.send(kind="call", object_id=call.id)
    db.session.commit()
    return call


def save_organisation(actor: User, org: Organisation | None, data: dict[str, Any]) -> Organisation:
    _require_coordinator(actor)
    number = normalise(data["org_number"])
    taken = db.session.scalar(select(Organisation.id).where(Organisation.org_number == number))
    if taken and (org is None or taken != org.id):
        raise OperationRefused(_("An organisation with number %(number)s is already registered.",
                                 number=number))
    before = snapshot_of(org, ORG_FIELDS) if org else None
    org = org or Organisation()
    org.name, org.org_number, org.county = data["name"], number, data["county"]
    org.kind = OrganisationKind(data["kind"])
    db.session.add(org)
    db.session.flush()
    after = snapshot_of(org, ORG_FIELDS)
    audit("organisation.update" if before else "organisation.create", actor=actor,
          object_type="organisation", object_id=org.id, before=before, after=after)
    if before is not None and before.get("name") != after.get("name"):
        events.reference_renamed.send(kind="organisation", object_id=org.id)
    db.session.commit()
    return org


def _user_state(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "is_coordinator": user.is_coordinator,
            "is_active": user.is_active_account,
            "organisations": sorted(o.id for o in user.organisations)}


def invite_user(actor: User, *, email: str, name: str, organisation_ids: list[int],
                is_coordinator: bool, locale: str) -> User:
    """Create the account (no password yet) and email a single-use link valid for 7 days."""
    _require_coordinator(actor)
    email = email.strip().lower()
    if _unique_taken(User, User.email, email, None):
        raise OperationRefused(_("There is already an account for %(email)s.", email=email))
    user = User(email=email, name=name, is_coordinator=is_coordinator, locale=locale)
    user.set_password(secrets.token_urlsafe(32))  # unusable until the invitation is accepted
    user.organisations = list(db.session.scalars(select(Organisation).where(
        Organisation.id.in_(organisation_ids))))
    db.session.add(user)
    db.session.flush()
    token, token_hash = new_token()
    db.session.add(Invitation(user_id=user.id, token_hash=token_hash,
                              expires_at=utcnow() + timedelta(days=INVITATION_DAYS)))
    link = absolute_url("accounts.accept_invitation", token=token)
    with force_locale(locale):
        queue_email(email, _("Invitation to Grants"), _(
            "Hello %(name)s,\n\n%(inviter)s has invited you to Grants, where joint funding "
            "applications are written and approved.\n\nChoose your password here (the link "
            "works once and for %(days)d days):\n%(link)s\n", name=name, inviter=actor.name,
            days=INVITATION_DAYS, link=link))
    audit("user.invite", actor=actor,
          object_type="user", object_id=user.id,
          before=None, after=_user_state(user))
    db.session.commit()
    return user


def update_user(actor: User, user: User, *, organisation_ids: list[int], is_coordinator: bool,
                is_active: bool) -> User:
    _require_coordinator(actor)
    if user.id == actor.id and (not is_coordinator or not is_active):
        raise OperationRefused(_("You cannot remove your own coordinator role or deactivate "
                                 "yourself; ask another coordinator."))
    before = _user_state(user)
    user.organisations = list(db.session.scalars(select(Organisation).where(
        Organisation.id.in_(organisation_ids))))
    user.is_coordinator = is_coordinator
    if user.is_active_account and not is_active:
        user.session_generation += 1  # logs the user out everywhere
    user.is_active_account = is_active
    after = _user_state(user)
    audit("user.update", actor=actor,
          object_type="user", object_id=user.id,
          before=before, after=after)
    db.session.commit()
    return user


def save_steering_group(actor: User, group: SteeringGroup | None, *, name: str,
                        member_ids: list[int], chair_id: int | None) -> SteeringGroup:
    _require_coordinator(actor)
    if _unique_taken(SteeringGroup, SteeringGroup.name, name, group.id if group else None):
        raise OperationRefused(_("There is already a steering group called “%(name)s”.",
                                 name=name))
    if group is not None:
        current = db.session.scalars(select(SteeringMember).where(
            SteeringMember.group_id == group.id)).all()
        before = {"name": group.name, "members": sorted(m.user_id for m in current),
                  "chair": next((m.user_id for m in current if m.is_chair), None)}
        for member in current:
            db.session.delete(member)
        db.session.flush()
    else:
        before = None
        group = SteeringGroup()
    group.name = name
    db.session.add(group)
    db.session.flush()
    for user_id in sorted(set(member_ids)):
        db.session.add(SteeringMember(group_id=group.id, user_id=user_id,
                                      is_chair=user_id == chair_id))
    audit("steering_group.update" if before else "steering_group.create", actor=actor,
          object_type="steering_group", object_id=group.id,
          before=before, after={"name": name, "members": sorted(set(member_ids)),
                                "chair": chair_id or None})
    db.session.commit()
    return group
