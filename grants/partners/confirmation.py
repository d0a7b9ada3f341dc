"""Sign-off pinned to a version: what a partner confirms, and when a confirmation is void."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.snapshot import budget_snapshot, fingerprint, record_part
from grants.audit import audit
from grants.db import db, utcnow
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.i18n import pick_label
from grants.notifications.mail import queue_email
from grants.notifications.notify import notify
from grants.partners.models import ApplicationPartner, PartnerConfirmation

# The parts of what a partner vouches for, in the order the confirmation page names them.
PARTS = ("common", "own", "budget")


def vouched_content(application: Application, form: FormDef, answers: dict,
                    partner: ApplicationPartner, budget: dict | None = None) -> dict:
    """What this partner vouches for: the common sections, its own part and the whole budget
    with co-financing. Other partners' parts are not included, so their edits do not void
    this partner's confirmation. `budget`: the application's budget snapshot when the caller
    has it (one for all partners), else read now."""
    common = {s.key: answers.get(s.key, {}) for s in form.sections if s.part == "common"}
    own = {s.key: answers.get(f"{s.key}@{partner.id}", {}) for s in form.sections
           if s.part == "partner_part"}
    return {"title": application.title, "common": common, "own": own,
            "organisation": partner.organisation_id,
            "budget": budget if budget is not None else budget_snapshot(application.id)}


def partner_fingerprint(application: Application, form: FormDef, answers: dict,
                        partner: ApplicationPartner, budget: dict | None = None) -> str:
    """SHA-256 of what this partner vouches for (`vouched_content`)."""
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


def may_confirm(application, roles, actor, workflow, partner) -> bool:
    return (confirmation_open(application, workflow) and "partner" in roles
            and partner.contact_user_id == actor.id and partner.status == "active")


def confirm(*, actor: User, application: Application, roles: set[str], workflow, form: FormDef,
            answers: dict, partner: ApplicationPartner, signatory_name: str,
            signatory_title: str, shown_fingerprint: str,
            shown_parts: str = "") -> PartnerConfirmation:
    """The signatory confirms the version they were shown (`shown_fingerprint`, from the
    form). When the content changed since the page was opened, nothing is confirmed: the
    refusal names the parts that changed, so the signatory reads them before confirming."""
    if not confirmation_open(application, workflow):
        raise OperationRefused(not_open_message(workflow))
    if not may_confirm(application, roles, actor, workflow, partner):
        raise OperationRefused(_("Only the partner's own contact can confirm, while the "
                                 "application is open for the partners."))
    content = vouched_content(application, form, answers, partner)
    current = fingerprint(content)
    if shown_fingerprint != current:
        labels = {"common": _("the common sections (or the title)"),
                  "own": _("the own part of %(organisation)s",
                           organisation=partner.organisation.name),
                  "budget": _("the budget or the co-financing")}
        raise OperationRefused(
            _("Nothing was confirmed: the application changed after you opened the page. Read "
              "the current version below and confirm it if you still vouch for it."),
            details=[_("Changed: %(part)s", part=labels[name])
                     for name in changed_parts(shown_parts, content)])
    previous = current_confirmation(partner.id)
    if previous is not None and previous.voided_at is None:
        previous.voided_at = utcnow()
    confirmation = PartnerConfirmation(
        partner_id=partner.id, fingerprint=current,
        confirmed_by_id=actor.id, signatory_name=signatory_name,
        signatory_title=signatory_title)
    db.session.add(confirmation)
    audit(actor_id=actor.id, action="partner.confirm",
          object_type="application", object_id=application.id, before=None,
          after={"organisation": partner.organisation.name,
                 "signatory": signatory_name,
                 "fingerprint": confirmation.fingerprint})
    db.session.commit()
    return confirmation


def void_changed_confirmations(application: Application, form: FormDef, answers: dict,
                               partners: list[ApplicationPartner], actor: User) -> list[str]:
    """Called inside an operation that changed content (before its commit): confirmations whose
    fingerprint no longer matches are voided and the partner is told. Returns their names."""
    voided = []
    latest = current_confirmations(p.id for p in partners)
    budget = budget_snapshot(application.id) if latest else None
    for partner in partners:
        confirmation = latest.get(partner.id)
        if confirmation is None or confirmation.voided_at is not None:
            continue
        if confirmation.fingerprint == partner_fingerprint(application, form, answers, partner,
                                                           budget):
            continue
        confirmation.voided_at = utcnow()
        voided.append(partner.organisation.name)
        audit(actor_id=actor.id, action="partner.confirmation_void",
              object_type="application", object_id=application.id,
              before={"fingerprint": confirmation.fingerprint}, after={
                  "organisation": partner.organisation.name})
        _ask_to_confirm_again(application, partner, actor)
    return voided


def _ask_to_confirm_again(application: Application, partner: ApplicationPartner,
                          actor: User) -> None:
    """In the app, and by email as the contact chose for confirmations."""
    def build() -> tuple[str, str]:
        return (_("Confirm “%(title)s” again", title=application.title),
                _("Hello %(name)s,\n\nThe application “%(title)s” has changed since %(org)s "
                  "confirmed it (changed by %(actor)s). Please read it again and confirm the "
                  "new version.\n", name=partner.contact_name, title=application.title,
                  org=partner.organisation.name, actor=actor.name))
    if partner.contact_user is not None:
        notify([partner.contact_user], "confirm_again", build, application_id=application.id,
               endpoint="applications.show", category="confirmation")
        return
    with force_locale(application.language):  # a contact without an account: email only
        subject, body = build()
        queue_email(partner.contact_email, subject, body)


def unconfirmed_problems(application: Application, form: FormDef, answers: dict,
                         partners: list[ApplicationPartner]) -> list[str]:
    problems = []
    status = confirmation_status(application, form, answers, partners)
    for partner in partners:
        confirmation, valid = status[partner.id]
        if partner.status != "active":
            problems.append(_("Partner %(org)s has not accepted the invitation yet.",
                              org=partner.organisation.name))
        elif confirmation is None:
            problems.append(_("Partner %(org)s has not confirmed.", org=partner.organisation.name))
        elif not valid:
            problems.append(_("Partner %(org)s must confirm again: the application has changed "
                              "since it confirmed.", org=partner.organisation.name))
    return problems


@record_part("confirmations")
def valid_confirmations(application: Application, partners: list) -> list[dict[str, Any]]:
    """The partners' confirmations that still hold: part of a submission's copy of record."""
    partner_ids = [p.id for p in partners]
    if not partner_ids:
        return []
    rows = db.session.scalars(select(PartnerConfirmation).where(
        PartnerConfirmation.partner_id.in_(partner_ids),
        PartnerConfirmation.voided_at.is_(None)).order_by(PartnerConfirmation.id))
    return [{"partner_id": c.partner_id, "signatory_name": c.signatory_name,
             "signatory_title": c.signatory_title, "confirmed_at": c.confirmed_at.isoformat(),
             "fingerprint": c.fingerprint} for c in rows]
