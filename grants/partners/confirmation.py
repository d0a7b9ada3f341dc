"""Sign-off pinned to a version: what a partner confirms, and when a confirmation is void."""

from __future__ import annotations

from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.admin.models import AuditEvent
from grants.applications.errors import OperationRefused
from grants.applications.models import Application
from grants.applications.snapshot import fingerprint
from grants.db import db, utcnow
from grants.forms.definition import FormDef
from grants.notifications.mail import queue_email
from grants.partners.models import ApplicationPartner, PartnerConfirmation


def partner_fingerprint(application: Application, form: FormDef, answers: dict,
                        partner: ApplicationPartner) -> str:
    """SHA-256 of what this partner vouches for: the common sections, its own part and the
    whole budget with co-financing. Other partners' parts are not included, so their edits do
    not void this partner's confirmation."""
    from grants.applications.snapshot import budget_snapshot  # noqa: PLC0415
    common = {s.key: answers.get(s.key, {}) for s in form.sections if s.part == "common"}
    own = {s.key: answers.get(f"{s.key}@{partner.id}", {}) for s in form.sections
           if s.part == "partner_part"}
    return fingerprint({"title": application.title, "common": common, "own": own,
                        "organisation": partner.organisation_id,
                        "budget": budget_snapshot(application.id)})


def current_confirmation(partner_id: int) -> PartnerConfirmation | None:
    """The partner's latest confirmation, void or not (a void one means: confirm again)."""
    return db.session.scalars(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id == partner_id)
        .order_by(PartnerConfirmation.id.desc())).first()


def is_valid(confirmation: PartnerConfirmation | None, current_fingerprint: str) -> bool:
    return (confirmation is not None and confirmation.voided_at is None
            and confirmation.fingerprint == current_fingerprint)


def may_confirm(application, roles, actor, workflow, partner) -> bool:
    state = workflow.state(application.state)
    return (state is not None and "partner" in roles and partner.contact_user_id == actor.id
            and partner.status == "active"
            and "partner" in state.roles_editing("partner_part"))


def confirm(*, actor: User, application: Application, roles: set[str], workflow, form: FormDef,
            answers: dict, partner: ApplicationPartner, signatory_name: str,
            signatory_title: str) -> PartnerConfirmation:
    if not may_confirm(application, roles, actor, workflow, partner):
        raise OperationRefused(_("Only the partner's own contact can confirm, while the "
                                 "application is open for the partners."))
    previous = current_confirmation(partner.id)
    if previous is not None and previous.voided_at is None:
        previous.voided_at = utcnow()
    confirmation = PartnerConfirmation(
        partner_id=partner.id, fingerprint=partner_fingerprint(application, form, answers,
                                                               partner),
        confirmed_by_id=actor.id, signatory_name=signatory_name,
        signatory_title=signatory_title)
    db.session.add(confirmation)
    db.session.add(AuditEvent(actor_id=actor.id, action="partner.confirm",
                              object_type="application", object_id=application.id, before=None,
                              after={"organisation": partner.organisation.name,
                                     "signatory": signatory_name,
                                     "fingerprint": confirmation.fingerprint}))
    db.session.commit()
    return confirmation


def void_changed_confirmations(application: Application, form: FormDef, answers: dict,
                               partners: list[ApplicationPartner], actor: User) -> list[str]:
    """Called inside an operation that changed content (before its commit): confirmations whose
    fingerprint no longer matches are voided and the partner is told. Returns their names."""
    voided = []
    for partner in partners:
        confirmation = current_confirmation(partner.id)
        if confirmation is None or confirmation.voided_at is not None:
            continue
        if confirmation.fingerprint == partner_fingerprint(application, form, answers, partner):
            continue
        confirmation.voided_at = utcnow()
        voided.append(partner.organisation.name)
        db.session.add(AuditEvent(actor_id=actor.id, action="partner.confirmation_void",
                                  object_type="application", object_id=application.id,
                                  before={"fingerprint": confirmation.fingerprint}, after={
                                      "organisation": partner.organisation.name}))
        with force_locale(application.language):
            queue_email(partner.contact_email,
                        _("Confirm “%(title)s” again", title=application.title),
                        _("Hello %(name)s,\n\nThe application “%(title)s” has changed since "
                          "%(org)s confirmed it (changed by %(actor)s). Please read it again "
                          "and confirm the new version.\n", name=partner.contact_name,
                          title=application.title, org=partner.organisation.name,
                          actor=actor.name))
    return voided


def unconfirmed_problems(application: Application, form: FormDef, answers: dict,
                         partners: list[ApplicationPartner]) -> list[str]:
    problems = []
    for partner in partners:
        confirmation = current_confirmation(partner.id)
        if partner.status != "active":
            problems.append(_("Partner %(org)s has not accepted the invitation yet.",
                              org=partner.organisation.name))
        elif confirmation is None:
            problems.append(_("Partner %(org)s has not confirmed.", org=partner.organisation.name))
        elif not is_valid(confirmation, partner_fingerprint(application, form, answers, partner)):
            problems.append(_("Partner %(org)s must confirm again: the application has changed "
                              "since it confirmed.", org=partner.organisation.name))
    return problems
