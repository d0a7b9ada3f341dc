"""What each person should do next, for the overview: per application the user works on, the
one thing that is theirs to do now (fill in, confirm, take the next step, attend to a delivery)
and, when the next step waits for others, whom it waits for. Each step links where that person
can do it: the section's form, the confirmation form of the organisation they sign for.

Built from the workflow (who may fire which transition, which guards it has) and from the
rows, with the same few queries however many applications there are: everything is read for
all of them at once. The steering group's votes are listed separately ("Awaiting your
decision").

A granted project's documents (its reports and payment claims, rows with a parent) come in
when they are due within `DOCUMENT_HORIZON` or overdue, not before: a project owes them from
the day of the grant, and years of drafts would bury today's steps. Their steps are those of
any application, named by the document ("Progress report 2: Fill in …"), and one more while
a document is not finished: when it is due and who has not entered actual figures yet – for
the project lead every organisation, for a partner's contact its own organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel.lists import format_list
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, union

from grants.accounts.models import User
from grants.applications.checklist import confirmation_url, section_url
from grants.applications.guards import missing_fields
from grants.applications.models import Application, SectionAnswer
from grants.applications.workspace import tab_url
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db, utcnow
from grants.deadlines.operations import effective_deadline
from grants.delivery.models import Delivery
from grants.formengine.definition import FormDef
from grants.i18n import current_locale, format_date_local, pick_label
from grants.labels import document_label
from grants.partners.confirmation import LEAD_GUARD, current_confirmations, signing_states
from grants.partners.models import ApplicationPartner, PartnerConfirmation, Signatory
from grants.submissions.operations import DECISION_GUARDS
from grants.workflow.definition import Transition, Workflow

# At most this many applications are looked at (the most recently changed first).
MAX_APPLICATIONS = 50
# Deliveries that need a person: the lead uploads the funder's receipt; a coordinator checks
# an email the funder may or may not have received, or one that failed.
DELIVERY_TASKS = ("awaiting_receipt", "uncertain", "failed")
# The guards of the transitions that record the funder's answer (granted, returned …).
FUNDER_ANSWERS = frozenset(DECISION_GUARDS.values())
# A project's document is looked at from this long before it is due (and when overdue).
DOCUMENT_HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class NextStep:
    application: Application
    text: str
    link: str
    deadline: datetime
    waiting_for: tuple[str, ...] = field(default_factory=tuple)


def forward_transitions(workflow: Workflow, state: str, role: str) -> list[Transition]:
    """The transitions `role` fires to move the application on from `state`: not decided by
    votes, no comment required (those send it back or withdraw it), not recording the
    funder's answer (that waits for the funder's letter, whichever state it leads to), to a
    later, non-terminal state in the order the workflow lists its states."""
    order = list(workflow.states)
    if state not in order:
        return []
    here = order.index(state)
    steps = []
    for transition in workflow.transitions_from(state):
        target = workflow.state(transition.target)
        if (transition.quorum is None and not transition.comment_required
                and not set(transition.requires) & FUNDER_ANSWERS and role in transition.by
                and target is not None and not target.terminal
                and order.index(transition.target) > here):
            steps.append(transition)
    return steps


def _confirmation_matters(workflow: Workflow, state: str) -> bool:
    """Partners confirm now where the workflow offers their confirmation (`confirmation:
    true` on the state)."""
    described = workflow.state(state)
    return described is not None and described.confirmation


class _Applications:
    """The rows of many applications, read once for all of them."""

    def __init__(self, applications: list[Application], now: datetime):
        self.now = now
        ids = [a.id for a in applications]
        self.answers: dict[int, dict[str, dict]] = {i: {} for i in ids}
        for row in db.session.scalars(select(SectionAnswer).where(
                SectionAnswer.application_id.in_(ids))):
            self.answers[row.application_id][row.instance_key] = dict(row.data or {})
        self.partners: dict[int, list[ApplicationPartner]] = {i: [] for i in ids}
        for partner in db.session.scalars(select(ApplicationPartner).where(
                ApplicationPartner.application_id.in_(ids),
                ApplicationPartner.status != "removed").order_by(ApplicationPartner.id)):
            self.partners[partner.application_id].append(partner)
        every_partner = [p.id for rows in self.partners.values() for p in rows]
        self.confirmations = current_confirmations(every_partner)
        self.lead_confirmations: dict[int, PartnerConfirmation] = {}
        for confirmation in db.session.scalars(select(PartnerConfirmation).where(
                PartnerConfirmation.lead_application_id.in_(ids))
                .order_by(PartnerConfirmation.id)):
            self.lead_confirmations[confirmation.lead_application_id] = confirmation
        # Per application, the authorised signatory of each organisation, by organisation id.
        self.signatories: dict[int, dict[int, Signatory]] = {i: {} for i in ids}
        for signatory in db.session.scalars(select(Signatory).where(
                Signatory.application_id.in_(ids))):
            self.signatories[signatory.application_id][signatory.organisation_id] = signatory
        self.deliveries: dict[int, list[Delivery]] = {i: [] for i in ids}
        for delivery in db.session.scalars(select(Delivery).where(
                Delivery.application_id.in_(ids), Delivery.status.in_(DELIVERY_TASKS))
                .order_by(Delivery.id)):
            self.deliveries[delivery.application_id].append(delivery)
        # Which organisations have entered figures (a cost line or a co-financing row) in
        # each of the projects' documents: one query for all of them.
        documents = [a.id for a in applications if a.parent_id is not None]
        self.entered: set[tuple[int, int]] = set()
        if documents:
            self.entered = {(row[0], row[1]) for row in db.session.execute(union(*(
                select(model.application_id, model.organisation_id)
                .where(model.application_id.in_(documents))
                for model in (BudgetLine, Cofinancing))))}

    def without_figures(self, document: Application) -> list[tuple[int, str]]:
        """(organisation id, name) of the organisations that have entered no figures in the
        document yet: the lead organisation first, then the partners (as
        `grants.reporting.queries.load_project` lists them)."""
        organisations = [(document.lead_organisation_id, document.lead_organisation.name)] + [
            (p.organisation_id, p.organisation.name) for p in self.partners[document.id]]
        return [(organisation_id, name) for organisation_id, name in organisations
                if (document.id, organisation_id) not in self.entered]

    def confirmed(self, partner: ApplicationPartner) -> bool:
        confirmation = self.confirmations.get(partner.id)
        return (partner.status == "active" and confirmation is not None
                and confirmation.voided_at is None)

    def lead_signed(self, application: Application) -> bool:
        confirmation = self.lead_confirmations.get(application.id)
        return confirmation is not None and confirmation.voided_at is None


def _waiting_for(application: Application, transition: Transition, form: FormDef, answers: dict,
                 partners: list[ApplicationPartner], rows: _Applications) -> tuple[str, ...]:
    """Whom the step still waits for, read from its guards: partners whose part is
    incomplete, partners that have not (or no longer) confirmed."""
    waiting: list[str] = []
    if "form_complete" in transition.requires:
        incomplete = {key.partition("@")[2] for key, _field in
                      missing_fields(form, answers, [p.id for p in partners]) if "@" in key}
        waiting += [_("%(org)s: its part", org=p.organisation.name)
                    for p in partners if str(p.id) in incomplete]
    if "partners_confirmed" in transition.requires:
        waiting += [_("%(org)s: confirmation", org=p.organisation.name)
                    for p in partners if not rows.confirmed(p)]
    if LEAD_GUARD in transition.requires and not rows.lead_signed(application):
        waiting.append(_("%(org)s: signature", org=application.lead_organisation.name))
    return tuple(waiting)


def _first_missing(form: FormDef, answers: dict, partner_id: int | None = None) -> str | None:
    """The key of the first section with a required field left empty: the common sections'
    (`partner_id` None), or that partner's own part."""
    for key, _field in missing_fields(form, answers, [] if partner_id is None else [partner_id]):
        section_key, _sep, owner = key.partition("@")
        if owner == ("" if partner_id is None else str(partner_id)):
            return section_key
    return None


def _names(names: list[str]) -> str:
    """'Växjö och Ljungby' / 'Växjö and Ljungby'."""
    return format_list(names, locale="en_GB" if current_locale() == "en" else "sv_SE")


def _due_step(application: Application, user: User, rows: _Applications,
              deadline: datetime, mine: list[ApplicationPartner]) -> tuple[str, str] | None:
    """A project's document not finished: when it is due and who has not entered actual
    figures. The project lead reads every organisation missing and is linked to the budget
    tab (or, when nobody is missing, to the document); a partner's contact reads its own
    organisation, and only while it is missing."""
    label, day = document_label(application), format_date_local(deadline)
    overdue = deadline < rows.now
    missing = rows.without_figures(application)
    budget = tab_url(application.id, "budget")
    if application.lead_user_id == user.id:
        if not missing:
            text = (_("%(document)s was due on %(date)s.", document=label, date=day) if overdue
                    else _("%(document)s is due on %(date)s.", document=label, date=day))
            return text, url_for("applications.show", application_id=application.id)
        names = _names([name for _id, name in missing])
        if overdue:
            text = ngettext("%(document)s was due on %(date)s: %(names)s has not entered its "
                            "actual costs.",
                            "%(document)s was due on %(date)s: %(names)s have not entered "
                            "their actual costs.", len(missing),
                            document=label, date=day, names=names)
        else:
            text = ngettext("%(document)s is due on %(date)s: %(names)s has not entered its "
                            "actual costs.",
                            "%(document)s is due on %(date)s: %(names)s have not entered "
                            "their actual costs.", len(missing),
                            document=label, date=day, names=names)
        return text, budget
    missing_ids = {organisation_id for organisation_id, _name in missing}
    if any(partner.organisation_id in missing_ids for partner in mine):
        text = (_("%(document)s was due on %(date)s: your organisation has not entered its "
                  "actual costs.", document=label, date=day) if overdue
                else _("%(document)s is due on %(date)s: your organisation has not entered "
                       "its actual costs.", document=label, date=day))
        return text, budget
    return None


def _steps_for(application: Application, user: User, workflow: Workflow, form: FormDef,
               rows: _Applications) -> list[NextStep]:
    """Each step links where this user does it: the section's form, the confirmation form,
    the partners page, the page's actions or its delivery log."""
    state = workflow.state(application.state)
    if state is None or state.terminal:
        return []
    answers = rows.answers[application.id]
    partners = rows.partners[application.id]
    signatories = rows.signatories[application.id]
    deadline = effective_deadline(application)
    page = url_for("applications.show", application_id=application.id)
    steps: list[NextStep] = []
    # A project's document says which it is ("Progress report 2: …"): its title is the
    # project's.
    document = document_label(application) if application.parent_id is not None else None

    def step(text: str, link: str, waiting: tuple[str, ...] = ()) -> None:
        if document is not None:
            text = _("%(document)s: %(step)s", document=document, step=text)
        steps.append(NextStep(application, text, link, deadline, waiting))

    is_lead = application.lead_user_id == user.id
    mine = [p for p in partners if p.contact_user_id == user.id and p.status == "active"]
    if document is not None and application.due_at is not None and not state.is_finished:
        due = _due_step(application, user, rows, deadline, mine)
        if due is not None:
            steps.append(NextStep(application, due[0], due[1], deadline))
    roles = {"lead"} if is_lead else set()
    if mine:
        roles.add("partner")
    if user.is_coordinator:
        roles.add("coordinator")

    # Something to fill in comes first: until it is done no step forward can be taken.
    owed_by_me = 0
    if is_lead and "lead" in state.roles_editing("common"):
        owed_by_me = len(missing_fields(form, answers))  # the common sections only
        if owed_by_me:
            step(ngettext("Fill in %(num)d required field.", "Fill in %(num)d required fields.",
                          owed_by_me),
                 section_url(application, _first_missing(form, answers)))
    for partner in mine:
        if "partner" not in state.roles_editing("partner_part"):
            continue
        own = sum(1 for key, _field in missing_fields(form, answers, [partner.id])
                  if key.endswith(f"@{partner.id}"))
        if own:
            owed_by_me += own
            step(ngettext("Fill in %(num)d required field in %(org)s's part.",
                          "Fill in %(num)d required fields in %(org)s's part.", own,
                          org=partner.organisation.name),
                 section_url(application, _first_missing(form, answers, partner.id),
                             partner.id))
        elif (_confirmation_matters(workflow, application.state) and not rows.confirmed(partner)
              and partner.organisation_id not in signatories):
            # Nobody can confirm for the organisation until its contact names who signs.
            step(_("Name the authorised signatory of %(org)s.", org=partner.organisation.name),
                 url_for("partners.index", application_id=application.id,
                         _anchor="signatories"))

    # The organisations this person signs for, where the workflow asks for their signature
    # now and it is not (or no longer) given: the lead organisation's first.
    organisations = [(None, application.lead_organisation)] + [
        (p, p.organisation) for p in partners if p.status == "active"]
    for partner, organisation in organisations:
        signatory = signatories.get(organisation.id)
        if signatory is None or signatory.user_id != user.id or \
                application.state not in signing_states(workflow, partner):
            continue
        if rows.lead_signed(application) if partner is None else rows.confirmed(partner):
            continue
        step(_("Confirm participation and co-financing for %(org)s.", org=organisation.name),
             confirmation_url(application, "lead" if partner is None else partner.id))

    # The step forward that is this person's to take (as lead first, else as coordinator).
    if not owed_by_me:
        forward: list[Transition] = []
        for role in ("lead", "coordinator"):
            if role in roles and not forward:
                forward = forward_transitions(workflow, application.state, role)
        for transition in forward:
            step(_("Next step: %(step)s.", step=pick_label(transition.label)), f"{page}#actions",
                 _waiting_for(application, transition, form, answers, partners, rows))

    for delivery in rows.deliveries[application.id]:
        if delivery.status == "awaiting_receipt" and roles & {"lead", "coordinator"}:
            step(_("Upload the funder's receipt and enter its reference number."),
                 tab_url(application.id, "decision", "delivery"))
        elif delivery.status == "uncertain" and "coordinator" in roles:
            step(_("Check with the funder whether the application arrived, and record it."),
                 tab_url(application.id, "decision", "delivery"))
        elif delivery.status == "failed" and "coordinator" in roles:
            step(_("Sending to the funder failed: see why, then send it again."),
                 tab_url(application.id, "decision", "delivery"))
    return steps


def next_steps(user: User, workflow_for: Callable[[Application], Workflow | None],
               form_for: Callable[[Application], FormDef | None],
               workflows: dict[str, Workflow]) -> list[NextStep]:
    """The steps waiting for `user`, the nearest deadline first."""
    terminal = {name for workflow in workflows.values()
                for name, state in workflow.states.items() if state.terminal}
    partner_of = (select(ApplicationPartner.application_id)
                  .where(ApplicationPartner.contact_user_id == user.id,
                         ApplicationPartner.status == "active"))
    signs_for = select(Signatory.application_id).where(Signatory.user_id == user.id)
    involved = [Application.lead_user_id == user.id, Application.id.in_(partner_of),
                Application.id.in_(signs_for)]
    now = utcnow()
    # A project's documents once they are due within the horizon (the coordinator's
    # extension counts, as in `effective_deadline`), or overdue.
    due = func.coalesce(Application.deadline_extended_to, Application.due_at)
    in_view = or_(Application.parent_id.is_(None), due.is_(None),
                  due <= now + DOCUMENT_HORIZON)
    if user.is_coordinator:
        # Coordinators look at applications where a coordinator moves them on, or whose
        # delivery needs a person.
        coordinator_states = {state for workflow in workflows.values() for state in workflow.states
                              if forward_transitions(workflow, state, "coordinator")}
        involved.append(Application.state.in_(coordinator_states))
        involved.append(Application.id.in_(select(Delivery.application_id).where(
            Delivery.status.in_(DELIVERY_TASKS))))
    applications = db.session.scalars(
        select(Application).where(or_(*involved), in_view)
        .where(Application.state.not_in(terminal) if terminal else Application.id.is_not(None))
        .order_by(Application.updated_at.desc(), Application.id.desc())
        .limit(MAX_APPLICATIONS)).unique().all()
    if not applications:
        return []
    rows = _Applications(applications, now)
    steps: list[NextStep] = []
    for application in applications:
        workflow, form = workflow_for(application), form_for(application)
        if workflow is not None and form is not None:
            steps += _steps_for(application, user, workflow, form, rows)
    return sorted(steps, key=lambda s: (s.deadline, s.application.id))
