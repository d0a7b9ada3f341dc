"""Sign-off pinned to a version: what a partner confirms, and when a confirmation is void."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.queries import current_partners
from grants.applications.snapshot import (
    budget_snapshot,
    build_snapshot,
    fingerprint,
    record_part,
)
from grants.audit import audit
from grants.collaboration.shown import keep_shown
from grants.db import db, utcnow
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.i18n import pick_label
from grants.notifications.mail import queue_email
from grants.notifications.notify import notify
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from grants.partners.signatories import signatories_of, signatory_of
from grants.workflow.definition import Workflow

# The guard a workflow names on a transition that needs the lead organisation's signature.
LEAD_GUARD = "lead_signed"

# The parts of what a partner vouches for, in the order the confirmation page names them.
PARTS = ("common", "own", "budget")


def vouched_content(application: Application, form: FormDef, answers: dict,
                    partner: ApplicationPartner | None, budget: dict | None = None) -> dict:
    """What an organisation's signatory vouches for: the common sections, its own part and
    the whole budget with co-financing (`partner` None: the lead organisation, whose own part
    is its costs and co-financing in the budget). Other partners' parts are not included, so
    their edits do not void this organisation's confirmation. `budget`: the application's
    budget snapshot when the caller has it (one for all partners), else read now."""
    common = {s.key: answers.get(s.key, {}) for s in form.sections if s.part == "common"}
    own = {} if partner is None else {
        s.key: answers.get(f"{s.key}@{partner.id}", {}) for s in form.sections
        if s.part == "partner_part"}
    return {"title": application.title, "common": common, "own": own,
            "organisation": partner.organisation_id if partner is not None
            else application.lead_organisation_id,
            "budget": budget if budget is not None else budget_snapshot(application.id)}


def partner_fingerprint(application: Application, form: FormDef, answers: dict,
                        partner: ApplicationPartner | None, budget: dict | None = None) -> str:
    """SHA-256 of what this organisation vouches for (`vouched_content`)."""
    return fingerprint(vouched_content(application, form, answers, partner, budget))


def part_fingerprints(content: dict) -> dict[str, str]:
    """A SHA-256 of each part of the vouched content, to tell which part changed."""
    return {"common": fingerprint({"title": content["title"], "common": content["common"]}),
            "own": fingerprint({"own": content["own"], "organisation": content["organisation"]}),
            "budget": fingerprint(content["budget"])}


def shown_version(content: dict) -> tuple[str, str]:
    """(fingerprint, parts) that the confirmation form carries back: the version the
    signatory was shown, and its parts' fingerprints as "common:…,own:…,budget:…"."""
    parts = part_fingerprints(content)
    return fingerprint(content), ",".join(f"{name}:{parts[name]}" for name in PARTS)


def changed_parts(shown_parts: str, content: dict) -> list[str]:
    """The parts whose fingerprint differs from the one shown (all, when unknown)."""
    shown = dict(item.partition(":")[::2] for item in (shown_parts or "").split(",") if item)
    current = part_fingerprints(content)
    return [name for name in PARTS if shown.get(name) != current[name]]


def current_confirmation(partner_id: int) -> PartnerConfirmation | None:
    """The partner's latest confirmation, void or not (a void one means: confirm again)."""
    return db.session.scalars(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id == partner_id)
        .order_by(PartnerConfirmation.id.desc())).first()


def lead_confirmation(application_id: int) -> PartnerConfirmation | None:
    """The lead organisation's latest confirmation, void or not."""
    return db.session.scalars(select(PartnerConfirmation).where(
        PartnerConfirmation.lead_application_id == application_id)
        .order_by(PartnerConfirmation.id.desc())).first()


def latest_confirmation(application: Application, partner: ApplicationPartner | None
                        ) -> PartnerConfirmation | None:
    return lead_confirmation(application.id) if partner is None else \
        current_confirmation(partner.id)


def current_confirmations(partner_ids) -> dict[int, PartnerConfirmation]:
    """`current_confirmation` of each partner, read in one query."""
    latest: dict[int, PartnerConfirmation] = {}
    if partner_ids:
        for confirmation in db.session.scalars(select(PartnerConfirmation).where(
                PartnerConfirmation.partner_id.in_(list(partner_ids)))
                .order_by(PartnerConfirmation.id)):
            latest[confirmation.partner_id] = confirmation  # the highest id wins
    return latest


def confirmation_status(application: Application, form: FormDef, answers: dict,
                        partners: list[ApplicationPartner]
                        ) -> dict[int, tuple[PartnerConfirmation | None, bool]]:
    """Per partner id: its latest confirmation and whether it still matches the content. The
    same few queries however many partners (the budget is read once for all)."""
    if not partners:
        return {}
    latest = current_confirmations(p.id for p in partners)
    budget = budget_snapshot(application.id)
    return {p.id: (latest.get(p.id),
                   is_valid(latest.get(p.id),
                            partner_fingerprint(application, form, answers, p, budget)))
            for p in partners}


def is_valid(confirmation: PartnerConfirmation | None, current_fingerprint: str) -> bool:
    return (confirmation is not None and confirmation.voided_at is None
            and confirmation.fingerprint == current_fingerprint)


def confirmation_open(application: Application, workflow) -> bool:
    """The workflow offers the partners' confirmation in the application's state (the
    state's `confirmation: true`), and only there."""
    state = workflow.state(application.state)
    return state is not None and state.confirmation


def not_open_message(workflow) -> str:
    """Why there is no confirmation now, naming the states in which the workflow opens it."""
    opens_in = [f"“{pick_label(state.label)}”" for state in workflow.states.values()
                if state.confirmation]
    if not opens_in:
        return _("This workflow does not ask the partners to confirm.")
    return _("Nothing to confirm now: confirmation is open while the application is in "
             "%(states)s.", states=", ".join(opens_in))


def signing_states(workflow: Workflow, partner: ApplicationPartner | None) -> set[str]:
    """The states in which an organisation's signatory confirms: a partner's where the
    workflow gives the confirmation (`confirmation: true`); the lead organisation's there too,
    and wherever a transition that requires `lead_signed` leaves from (all read from the
    workflow file)."""
    states = {name for name, state in workflow.states.items() if state.confirmation}
    if partner is None:
        states |= {source for t in workflow.transitions.values() if LEAD_GUARD in t.requires
                   for source in t.sources}
    return states


def confirm_refusal(application: Application, actor: User, workflow: Workflow,
                    partner: ApplicationPartner | None, signatories: dict | None = None
                    ) -> str | None:
    """Why `actor` cannot confirm for the organisation now (None: they can). `signatories`:
    the application's, by organisation id, when the caller has read them."""
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    if application.state not in signing_states(workflow, partner):
        return not_open_message(workflow) if partner is not None else \
            _("Confirmation is not open in this state of the application.")
    if partner is not None and partner.status != "active":
        return _("Confirmation is not open in this state of the application.")
    signatory = signatories.get(organisation.id) if signatories is not None else \
        signatory_of(application.id, organisation.id)
    if signatory is None:
        return _("%(org)s has not named its authorised signatory yet.", org=organisation.name)
    if signatory.user_id != actor.id:
        return _("Only %(name)s, the authorised signatory of %(org)s, can confirm for it.",
                 name=signatory.name, org=organisation.name)
    return None


def confirm(*, actor: User, application: Application, roles: set[str], workflow, form: FormDef,
            answers: dict, partner: ApplicationPartner | None, shown_fingerprint: str,
            shown_parts: str = "") -> PartnerConfirmation:
    """The organisation's authorised signatory (the lead organisation's when `partner` is
    None) confirms the version they were shown (`shown_fingerprint`, from the form). When the
    content changed since the page was opened, nothing is confirmed: the refusal names the
    parts that changed, so the signatory reads them before confirming. The confirmation keeps
    the signatory's name and title as they are at this moment."""
    refusal = confirm_refusal(application, actor, workflow, partner)
    if refusal is not None:
        raise OperationRefused(refusal)
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    signatory = signatory_of(application.id, organisation.id)
    content = vouched_content(application, form, answers, partner)
    current = fingerprint(content)
    if shown_fingerprint != current:
        labels = {"common": _("the common sections (or the title)"),
                  "own": _("the own part of %(organisation)s", organisation=organisation.name),
                  "budget": _("the budget or the co-financing")}
        raise OperationRefused(
            _("Nothing was confirmed: the application changed after you opened the page. Read "
              "the current version below and confirm it if you still vouch for it."),
            details=[_("Changed: %(part)s", part=labels[name])
                     for name in changed_parts(shown_parts, content)])
    previous = latest_confirmation(application, partner)
    if previous is not None and previous.voided_at is None:
        previous.voided_at = utcnow()
    confirmation = PartnerConfirmation(
        partner_id=partner.id if partner is not None else None,
        lead_application_id=application.id if partner is None else None,
        fingerprint=current, confirmed_by_id=actor.id, signatory_name=signatory.name,
        signatory_title=signatory.title)
    db.session.add(confirmation)
    # What the signatory vouched for, kept whole for "what changed since you confirmed".
    keep_shown(application.id, current, build_snapshot(application, form, answers,
                                                       current_partners(application.id)))
    audit(actor_id=actor.id, action="partner.confirm" if partner is not None else "lead.confirm",
          object_type="application", object_id=application.id, before=None,
          after={"organisation": organisation.name, "signatory": signatory.name,
                 "title": signatory.title, "user_id": actor.id,
                 "fingerprint": confirmation.fingerprint})
    db.session.commit()
    return confirmation


def void_changed_confirmations(application: Application, form: FormDef, answers: dict,
                               partners: list[ApplicationPartner], actor: User) -> list[str]:
    """Called inside an operation that changed content (before its commit): confirmations whose
    fingerprint no longer matches are voided and the partner is told (the lead organisation's
    signatory too, for its confirmation). Returns the organisations' names."""
    voided = []
    latest = current_confirmations(p.id for p in partners)
    lead = lead_confirmation(application.id)
    budget = budget_snapshot(application.id) if latest or lead else None
    for partner in partners:
        confirmation = latest.get(partner.id)
        if confirmation is None or confirmation.voided_at is not None:
            continue
        if confirmation.fingerprint == partner_fingerprint(application, form, answers, partner,
                                                           budget):
            continue
        _void(application, actor, confirmation, partner.organisation.name)
        voided.append(partner.organisation.name)
        # The one who signs is asked; a partner without a signatory yet, its contact.
        signatory = signatory_of(application.id, partner.organisation_id)
        if signatory is not None:
            _ask_to_confirm_again(application, signatory.user, signatory.name,
                                  signatory.email, partner.organisation.name, actor)
        else:
            _ask_to_confirm_again(application, partner.contact_user, partner.contact_name,
                                  partner.contact_email, partner.organisation.name, actor)
    if lead is not None and lead.voided_at is None and lead.fingerprint != partner_fingerprint(
            application, form, answers, None, budget):
        organisation = application.lead_organisation
        _void(application, actor, lead, organisation.name)
        voided.append(organisation.name)
        signatory = signatory_of(application.id, organisation.id)
        if signatory is not None and signatory.user_id != actor.id:
            _ask_to_confirm_again(application, signatory.user, signatory.name,
                                  signatory.email, organisation.name, actor)
    return voided


def _void(application: Application, actor: User, confirmation: PartnerConfirmation,
          organisation_name: str) -> None:
    confirmation.voided_at = utcnow()
    audit(actor_id=actor.id, action="partner.confirmation_void",
          object_type="application", object_id=application.id,
          before={"fingerprint": confirmation.fingerprint},
          after={"organisation": organisation_name})


def _ask_to_confirm_again(application: Application, user: User | None, name: str, email: str,
                          organisation_name: str, actor: User) -> None:
    """In the app, and by email as the person chose for confirmations."""
    def build() -> tuple[str, str]:
        return (_("Confirm “%(title)s” again", title=application.title),
                _("Hello %(name)s,\n\nThe application “%(title)s” has changed since %(org)s "
                  "confirmed it (changed by %(actor)s). Please read it again and confirm the "
                  "new version.\n", name=name, title=application.title,
                  org=organisation_name, actor=actor.name))
    if user is not None:
        notify([user], "confirm_again", build, application_id=application.id,
               endpoint="applications.show", category="confirmation")
        return
    with force_locale(application.language):  # a contact without an account: email only
        subject, body = build()
        queue_email(email, subject, body)


def unconfirmed_problems(application: Application, form: FormDef, answers: dict,
                         partners: list[ApplicationPartner]) -> list[str]:
    problems = []
    status = confirmation_status(application, form, answers, partners)
    named = signatories_of(application.id)
    for partner in partners:
        confirmation, valid = status[partner.id]
        if partner.status != "active":
            problems.append(_("Partner %(org)s has not accepted the invitation yet.",
                              org=partner.organisation.name))
        elif confirmation is None and partner.organisation_id not in named:
            problems.append(_("Partner %(org)s has not named its authorised signatory.",
                              org=partner.organisation.name))
        elif confirmation is None:
            problems.append(_("Partner %(org)s has not confirmed.", org=partner.organisation.name))
        elif not valid:
            problems.append(_("Partner %(org)s must confirm again: the application has changed "
                              "since it confirmed.", org=partner.organisation.name))
    return problems


def lead_status(application: Application, form: FormDef, answers: dict,
                budget: dict | None = None) -> tuple[PartnerConfirmation | None, bool]:
    """The lead organisation's latest confirmation and whether it still matches the content."""
    confirmation = lead_confirmation(application.id)
    return confirmation, is_valid(confirmation, partner_fingerprint(
        application, form, answers, None, budget))


def unsigned_lead_problems(application: Application, form: FormDef, answers: dict) -> list[str]:
    """What is missing before the lead organisation's signature holds for this version."""
    organisation = application.lead_organisation
    confirmation, valid = lead_status(application, form, answers)
    if valid:
        return []
    signatory = signatory_of(application.id, organisation.id)
    if signatory is None:
        return [_("%(org)s, the lead organisation, has not named its authorised signatory.",
                  org=organisation.name)]
    if confirmation is None:
        return [_("%(name)s, the authorised signatory of %(org)s, has not signed the "
                  "application yet.", name=signatory.name, org=organisation.name)]
    return [_("%(name)s, the authorised signatory of %(org)s, must sign again: the application "
              "has changed since it was signed.", name=signatory.name, org=organisation.name)]


@record_part("confirmations")
def valid_confirmations(application: Application, partners: list) -> list[dict[str, Any]]:
    """The confirmations that still hold, the lead organisation's first: part of a
    submission's copy of record. Each names the organisation, the signatory (name, title and
    account), the moment and the fingerprint of the version confirmed."""
    by_partner = {p.id: p for p in partners}
    condition = PartnerConfirmation.lead_application_id == application.id
    if by_partner:
        condition = or_(condition, PartnerConfirmation.partner_id.in_(list(by_partner)))
    rows = db.session.scalars(select(PartnerConfirmation).where(
        condition, PartnerConfirmation.voided_at.is_(None))
        .order_by(PartnerConfirmation.partner_id.is_not(None), PartnerConfirmation.id))
    records = []
    for c in rows:
        organisation = by_partner[c.partner_id].organisation if c.partner_id is not None \
            else application.lead_organisation
        records.append({"partner_id": c.partner_id, "lead": c.partner_id is None,
                        "organisation": organisation.name, "signatory_name": c.signatory_name,
                        "signatory_title": c.signatory_title, "signatory_user_id":
                        c.confirmed_by_id, "confirmed_at": c.confirmed_at.isoformat(),
                        "fingerprint": c.fingerprint})
    return records
