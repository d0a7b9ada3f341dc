"""Authorised signatories (firmatecknare): each organisation on an application – the lead
organisation and every partner – names the person who confirms for it. Only that person can.

The lead names the lead organisation's signatory and, while it manages the partners, theirs
too; a partner's contact names its own organisation's. The signatory is an existing account of
that organisation, or a new person, who gets an account and an invitation by email (the
accounts' single-use link to choose a password). Naming another signatory is recorded in the
history; an invitation the replaced person has not accepted is void. A confirmation already
given stays valid: it was given by the signatory at the time."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.operations import (
    add_invited_user,
    find_user_by_email,
    has_pending_invitation,
    pending_invitations,
    void_pending_invitations,
)
from grants.applications.models import Application
from grants.audit import audit
from grants.db import db
from grants.errors import FieldsRefused, OperationRefused
from grants.notifications.mail import absolute_url, queue_email
from grants.organisations.models import Organisation, organisation_member
from grants.partners.models import ApplicationPartner, Signatory
from grants.workflow.definition import Workflow


def signatory_of(application_id: int, organisation_id: int) -> Signatory | None:
    return db.session.scalar(select(Signatory).where(
        Signatory.application_id == application_id,
        Signatory.organisation_id == organisation_id))


def signatories_of(application_id: int) -> dict[int, Signatory]:
    """The application's signatories, by organisation id."""
    return {s.organisation_id: s for s in db.session.scalars(select(Signatory).where(
        Signatory.application_id == application_id))}


def signed_organisations(user: User, application_id: int) -> set[int]:
    """The organisations `user` is the authorised signatory of on this application."""
    return set(db.session.scalars(select(Signatory.organisation_id).where(
        Signatory.application_id == application_id, Signatory.user_id == user.id)))


def is_pending(signatory: Signatory) -> bool:
    """Invited and not yet logged in (the password is not chosen)."""
    return has_pending_invitation(signatory.user_id)


def pending_user_ids(user_ids) -> set[int]:
    """Of these accounts, those invited that have not chosen their password yet (one query)."""
    return pending_invitations(list(user_ids))


def may_name_signatory(application: Application, roles: set[str], actor: User,
                       workflow: Workflow, partner: ApplicationPartner | None) -> bool:
    """The lead names the lead organisation's signatory; a partner's is named by its own
    contact, or by the lead. Not once the application has reached a final state."""
    state = workflow.state(application.state)
    if state is None or state.terminal:
        return False
    if partner is None:
        return "lead" in roles
    if partner.status == "removed":
        return False
    return "lead" in roles or ("partner" in roles and partner.contact_user_id == actor.id)


def candidates(organisation: Organisation) -> list[User]:
    """The accounts that can be chosen as the organisation's signatory: its active members."""
    return candidates_of([organisation.id]).get(organisation.id, [])


def candidates_of(organisation_ids) -> dict[int, list[User]]:
    """`candidates` of several organisations, by organisation id, in one query."""
    found: dict[int, list[User]] = {}
    ids = list(organisation_ids)
    if not ids:
        return found
    for organisation_id, user in db.session.execute(
            select(organisation_member.c.organisation_id, User)
            .join(organisation_member, organisation_member.c.user_id == User.id)
            .where(organisation_member.c.organisation_id.in_(ids),
                   User.is_active_account.is_(True))
            .execution_options(populate_existing=False)):
        found.setdefault(organisation_id, []).append(user)
    for users in found.values():
        users.sort(key=lambda u: u.name.casefold())
    return found


def name_signatory(*, actor: User, application: Application, roles: set[str],
                   workflow: Workflow, partner: ApplicationPartner | None, user_id: int | None,
                   name: str, email: str, title: str) -> Signatory:
    """Name the organisation's signatory (the lead organisation's when `partner` is None):
    the member `user_id`, or – with `user_id` None – a new person, invited by email."""
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    if not may_name_signatory(application, roles, actor, workflow, partner):
        raise OperationRefused(_("Only the project lead or the organisation's own contact can "
                                 "name its authorised signatory."))
    link = None
    if user_id:
        person = db.session.get(User, user_id)
        if person is None or person not in candidates(organisation):
            raise FieldsRefused(_("The signatory was not changed: check the fields marked "
                                  "below."), field_errors={"user_id": [_(
                                      "Choose a person of %(org)s.", org=organisation.name)]})
    else:
        email = (email or "").strip().lower()
        existing = find_user_by_email(email)
        if existing is not None and existing in candidates(organisation):
            person = existing
        elif existing is not None:
            raise FieldsRefused(_("The signatory was not changed: check the fields marked "
                                  "below."), field_errors={"email": [_(
                                      "There is already an account for %(email)s, but not at "
                                      "%(org)s. Ask your coordinator to add it to %(org)s.",
                                      email=email, org=organisation.name)]})
        else:
            person, link = add_invited_user(email=email, name=name, organisations=[organisation],
                                            locale=application.language)
    signatory = signatory_of(application.id, organisation.id)
    before = None
    if signatory is None:
        signatory = Signatory(application_id=application.id, organisation_id=organisation.id)
        db.session.add(signatory)
    else:
        before = _record(signatory)
        if signatory.user_id != person.id and is_pending(signatory):
            void_pending_invitations(signatory.user_id)  # replaced before accepting
    signatory.user_id, signatory.name, signatory.email = person.id, person.name, person.email
    signatory.title, signatory.named_by_id = title, actor.id
    db.session.flush()
    audit("signatory.change" if before else "signatory.name", actor=actor,
          object_type="application", object_id=application.id, before=before,
          after=_record(signatory))
    _tell(actor, application, signatory, link)
    db.session.commit()
    return signatory


def _record(signatory: Signatory) -> dict:
    return {"organisation": signatory.organisation.name, "user_id": signatory.user_id,
            "name": signatory.name, "email": signatory.email, "title": signatory.title}


def _tell(actor: User, application: Application, signatory: Signatory, link: str | None) -> None:
    """Email the signatory: a new person gets the link to choose a password."""
    page = absolute_url("applications.show", application_id=application.id)
    with force_locale(application.language):
        text = _("Hello %(name)s,\n\n%(actor)s has named you the authorised signatory "
                 "(firmatecknare) of %(org)s, as %(title)s, for the application “%(app)s” "
                 "(%(funder)s). You will be asked to read and confirm the version that is "
                 "sent.\n", name=signatory.name, actor=actor.name,
                 org=signatory.organisation.name, title=signatory.title,
                 app=application.title, funder=application.call.funder.name)
        if link is not None:
            text += _("\nChoose your password here – the link works once and for 7 days:\n"
                      "%(link)s\n", link=link)
        text += _("\nThe application: %(page)s\n", page=page)
        queue_email(signatory.email, _("You sign for %(org)s: “%(app)s”",
                                       org=signatory.organisation.name, app=application.title),
                    text)
