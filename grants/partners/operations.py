"""Adding, inviting and removing partner organisations on an application."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.queries import current_partners, load_answers
from grants.applications.snapshot import build_snapshot
from grants.applications.snapshot import fingerprint as content_fingerprint
from grants.audit import audit
from grants.db import db, utcnow
from grants.documents.rendering import add_render_job
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.jobs.models import Job
from grants.notifications.mail import absolute_url, queue_email
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import normalise
from grants.partners.models import ApplicationPartner, PartnerInvitation
from grants.processes import form_for
from grants.tokens import claim, find_valid, new_token
from grants.workflow import engine
from grants.workflow.definition import Workflow

INVITATION_DAYS = 7


def may_manage_partners(application: Application, roles: set[str], workflow: Workflow) -> bool:
    """The lead, while the common sections are editable in this state."""
    return "lead" in roles and "common" in engine.editable_parts(workflow, application.state,
                                                                  {"lead"})


def _event(actor: User, application: Application, action: str, after: dict) -> None:
    audit(actor_id=actor.id, action=action, object_type="application",
          object_id=application.id, before=None, after=after)
    # A partner added or removed while the steering group votes changes what they vote on
    # (and who has jäv): subscribers restart the round.
    db.session.flush()
    events.content_changed.send(application=application, actor=actor,
                                form=form_for(application), what="partners")


def _invite(actor: User, application: Application, partner: ApplicationPartner) -> None:
    token, digest = new_token()
    db.session.add(PartnerInvitation(partner_id=partner.id, email=partner.contact_email,
                                     token_hash=digest,
                                     expires_at=utcnow() + timedelta(days=INVITATION_DAYS)))
    link = absolute_url("partners.accept", token=token)
    with force_locale(application.language):
        queue_email(partner.contact_email,
                    _("Invitation to take part in “%(title)s”", title=application.title),
                    _("Hello %(name)s,\n\n%(lead)s at %(lead_org)s invites %(org)s to apply "
                      "together for “%(title)s” (%(funder)s).\n\nAccept the invitation here – "
                      "the link works once and for %(days)d days:\n%(link)s\n",
                      name=partner.contact_name, lead=actor.name,
                      lead_org=application.lead_organisation.name,
                      org=partner.organisation.name, title=application.title,
                      funder=application.call.funder.name, days=INVITATION_DAYS, link=link))


def add_partner(*, actor: User, application: Application, roles: set[str], workflow: Workflow,
                organisation_id: int | None, new_organisation: dict | None, contact_name: str,
                contact_email: str) -> ApplicationPartner:
    if not may_manage_partners(application, roles, workflow):
        raise OperationRefused(_("Partners can only be added by the project lead while the "
                                 "application is being written."))
    if new_organisation:
        try:
            number = normalise(new_organisation["org_number"])
        except ValueError:
            raise OperationRefused(_("Not a valid organisation number: check the digits (the "
                                     "last one is a check digit).")) from None
        organisation = db.session.scalar(select(Organisation).where(
            Organisation.org_number == number))
        if organisation is None:
            organisation = Organisation(name=new_organisation["name"], org_number=number,
                                        county=new_organisation["county"],
                                        kind=OrganisationKind(new_organisation["kind"]))
            db.session.add(organisation)
            db.session.flush()
    else:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise OperationRefused(_("Choose an organisation."))
    if organisation.id == application.lead_organisation_id:
        raise OperationRefused(_("%(org)s leads the application and cannot also be a partner.",
                                 org=organisation.name))
    partner = invite_partner(actor=actor, application=application, organisation=organisation,
                             contact_name=contact_name, contact_email=contact_email)
    db.session.commit()
    return partner


def invite_partner(*, actor: User, application: Application, organisation: Organisation,
                   contact_name: str, contact_email: str) -> ApplicationPartner:
    """The partner row (invited), its contact's invitation email and the audit row, in the
    caller's transaction (no commit): `add_partner`, and a copy of an application
    (grants/reuse) adding the partners it carries over."""
    partner = db.session.scalar(select(ApplicationPartner).where(
        ApplicationPartner.application_id == application.id,
        ApplicationPartner.organisation_id == organisation.id))
    if partner is not None and partner.is_current:
        raise OperationRefused(_("%(org)s is already a partner.", org=organisation.name))
    if partner is None:
        partner = ApplicationPartner(application_id=application.id,
                                     organisation_id=organisation.id)
        db.session.add(partner)
    partner.contact_name, partner.contact_email = contact_name, contact_email.strip().lower()
    partner.status, partner.contact_user_id = "invited", None
    db.session.flush()
    db.session.refresh(partner)
    _invite(actor, application, partner)
    _event(actor, application, "partner.add", {"organisation": organisation.name,
                                               "contact": partner.contact_email})
    return partner


def remove_partner(*, actor: User, application: Application, roles: set[str],
                   workflow: Workflow, partner: ApplicationPartner) -> None:
    if not may_manage_partners(application, roles, workflow):
        raise OperationRefused(_("Partners can only be removed by the project lead while the "
                                 "application is being written."))
    partner.status = "removed"  # its part is kept, and comes back if it is added again
    _event(actor, application, "partner.remove", {"organisation": partner.organisation.name})
    db.session.commit()


def change_contact(*, actor: User, application: Application, roles: set[str],
                   workflow: Workflow, partner: ApplicationPartner, contact_name: str,
                   contact_email: str) -> None:
    if not may_manage_partners(application, roles, workflow):
        raise OperationRefused(_("Only the project lead can change a partner's contact while "
                                 "the application is being written."))
    before = partner.contact_email
    partner.contact_name, partner.contact_email = contact_name, contact_email.strip().lower()
    partner.contact_user_id, partner.status = None, "invited"
    db.session.flush()
    _invite(actor, application, partner)
    _event(actor, application, "partner.contact", {"organisation": partner.organisation.name,
                                                   "from": before, "to": partner.contact_email})
    db.session.commit()


def find_invitation(token: str) -> PartnerInvitation | None:
    invitation = find_valid(PartnerInvitation, token)
    if invitation is None:
        return None
    partner = db.session.get(ApplicationPartner, invitation.partner_id)
    if partner is None or partner.status == "removed" or partner.contact_email != invitation.email:
        return None  # removed since, or the contact was changed: the old link is void
    return invitation


def accept_invitation(token: str, user: User) -> ApplicationPartner:
    """Tie `user` to the partner role the link was sent for (once)."""
    invitation = find_invitation(token)
    if invitation is None or not claim(PartnerInvitation, invitation):
        db.session.rollback()
        raise OperationRefused(_("This invitation link is not valid any more. Ask the project "
                                 "lead for a new one."))
    partner = db.session.get(ApplicationPartner, invitation.partner_id)
    partner.contact_user_id, partner.status = user.id, "active"
    if partner.organisation not in user.organisations:
        user.organisations.append(partner.organisation)
    application = db.session.get(Application, partner.application_id)
    _event(user, application, "partner.accept", {"organisation": partner.organisation.name,
                                                 "contact": user.email})
    db.session.commit()
    return partner


def create_account_and_accept(token: str, name: str, password: str) -> User:
    invitation = find_invitation(token)
    if invitation is None:
        raise OperationRefused(_("This invitation link is not valid any more. Ask the project "
                                 "lead for a new one."))
    if db.session.scalar(select(User.id).where(func.lower(User.email) == invitation.email)):
        raise OperationRefused(_("There is already an account for %(email)s: log in to accept.",
                                 email=invitation.email))
    user = User(email=invitation.email, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    accept_invitation(token, user)
    return user


def request_certificate(*, application: Application, actor: User, form: FormDef,
                        partner: ApplicationPartner, roles: set[str]) -> Job:
    """A job that renders the partner's co-financing certificate from the current version."""
    if not ({"lead", "coordinator"} & roles or partner.contact_user_id == actor.id):
        raise OperationRefused(_("Only the project lead or the partner's contact can make its "
                                 "certificate."))
    snapshot = build_snapshot(application, form, load_answers(application.id),
                              current_partners(application.id))
    doc_fingerprint = content_fingerprint({"snapshot": content_fingerprint(snapshot),
                                           "partner": partner.id, "kind": "certificate"})
    job = Job(kind="render_certificate", application_id=application.id,
              requested_by_id=actor.id, fingerprint=doc_fingerprint,
              payload={"kind": "certificate", "partner_id": partner.id,
                       "partner_name": partner.organisation.name, "snapshot": snapshot})
    add_render_job(job, "certificate")
    db.session.commit()
    return job
