"""What is missing before the application can move on, and whose turn it is.

Everyone who reads the application sees every item; each item links only where *this reader*
can do it now (the section's form, the budget, the confirmation form, the partners page).
An item that is someone else's to do names who must do it and has no link: a link that only
bounces back with "cannot be edited by you" is no help."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from grants.applications import queries
from grants.applications.access import roles_for
from grants.applications.guards import fact_problems, missing_fields
from grants.budget.facts import facts_of
from grants.budget.operations import (
    budget_summary,
    editable_organisations,
    load_budget,
)
from grants.budget.totals import rule_problems
from grants.i18n import format_money, pick_label
from grants.partners.confirmation import (
    confirm_refusal,
    confirmation_status,
    lead_status,
    signing_states,
)
from grants.partners.operations import may_manage_partners
from grants.partners.signatories import may_name_signatory, signatories_of
from grants.processes import workflow_for
from grants.workflow.definition import Workflow


@dataclass(frozen=True)
class ChecklistItem:
    """`link`: where the reader does it (None: not theirs to do now, `who` says whose).
    `action`/`action_link`: what the reader can do about someone else's item (send the
    invitation again), when there is something."""
    text: str
    who: str
    link: str | None = None
    action: str | None = None
    action_link: str | None = None


def confirmation_url(application, key) -> str:
    """Where an organisation's confirmation is given: its confirmation block on the
    workspace's partners tab (`key`: the partner's id, or "lead" for the lead organisation).
    The one place that knows where the block is."""
    return url_for("partners.index", application_id=application.id, _anchor=f"confirm-{key}")


def section_url(application, section_key: str, partner_id: int | None = None) -> str:
    """The form of one section (a partner's own part when `partner_id` is given)."""
    if partner_id is None:
        return url_for("applications.edit_section", application_id=application.id,
                       section_key=section_key)
    return url_for("applications.edit_section", application_id=application.id,
                   section_key=section_key, partner_id=partner_id)


def build_checklist(application, form, answers, partners, *, reader=None,
                    roles: set[str] | None = None,
                    workflow: Workflow | None = None) -> list[ChecklistItem]:
    """The items, with links for `reader` (the current user unless given), who holds
    `roles` (read when not given) on the application running `workflow`."""
    reader = current_user if reader is None else reader
    roles = roles_for(reader, application) if roles is None else roles
    workflow = workflow_for(application) if workflow is None else workflow
    workflow = workflow or Workflow.unavailable(application.workflow_name)
    items: list[ChecklistItem] = []
    by_id = {p.id: p for p in partners}
    lead = _("%(name)s (project lead)", name=application.lead_user.name)
    may_edit: dict[tuple[str, int | None], bool] = {}
    for key, field_id in missing_fields(form, answers, list(by_id)):
        section_key, _sep, partner_key = key.partition("@")
        section = form.section(section_key)
        form_field = next(f for f in section.fields if f.id == field_id)
        partner = by_id[int(partner_key)] if partner_key else None
        who = lead if partner is None else f"{partner.contact_name} ({partner.organisation.name})"
        mine = may_edit.setdefault((section_key, partner.id if partner else None),
                                   queries.may_edit_section(application, roles, reader, workflow,
                                                            section, partner))
        link = section_url(application, section_key, partner.id if partner else None) \
            if mine else None
        items.append(ChecklistItem(_("%(section)s: fill in “%(field)s”.",
                                     section=pick_label(section.title),
                                     field=pick_label(form_field.label)), who, link))
    items += _budget_items(application, form, answers, partners, reader, roles, workflow, lead)
    items += _partner_items(application, form, answers, partners, reader, roles, workflow,
                            lead)
    return items


def _budget_items(application, form, answers, partners, reader, roles, workflow, lead
                  ) -> list[ChecklistItem]:
    """The budget's problems: the project lead's to solve, on the budget page (a link for
    whoever may change the budget now)."""
    call = application.call
    lines, budget_items = load_budget(application.id)
    names = {p.id: p.organisation.name for p in partners}
    problems = fact_problems(form, answers, facts_of(lines, budget_items, partners), names)
    problems += rule_problems(budget_summary(lines, budget_items, form),
                              max_requested=call.max_requested_amount,
                              min_cofinancing_percent=call.min_cofinancing_percent,
                              max_indirect_percent=call.max_indirect_percent,
                              money=format_money, gettext=_)
    if not problems:
        return []
    link = url_for("budget.index", application_id=application.id) if editable_organisations(
        application, roles, reader, workflow, partners) else None
    return [ChecklistItem(problem, lead, link) for problem in problems]


def _partner_items(application, form, answers, partners, reader, roles, workflow, lead
                   ) -> list[ChecklistItem]:
    """Invitations not yet accepted, signatories not yet named, confirmations not yet given
    (the lead organisation's too, in the states where the workflow asks for its signature:
    where partners confirm, and before a transition that requires it)."""
    items: list[ChecklistItem] = []
    signatories = signatories_of(application.id)
    status = confirmation_status(application, form, answers, partners)
    organisations = [(p, p.organisation) for p in partners]
    if application.state in signing_states(workflow, None):  # where it is asked for
        status["lead"] = lead_status(application, form, answers)
        organisations.insert(0, (None, application.lead_organisation))
    for partner, organisation in organisations:
        key = "lead" if partner is None else partner.id
        if partner is not None and partner.status != "active":
            manage = may_manage_partners(application, roles, workflow)
            items.append(ChecklistItem(
                _("Accept the invitation to take part."),
                f"{partner.contact_name} ({organisation.name})",
                action=_("Send a new invitation") if manage else None,
                action_link=url_for("partners.index", application_id=application.id)
                if manage else None))
            continue
        confirmation, valid = status[key]
        if valid:
            continue
        signatory = signatories.get(organisation.id)
        if signatory is None:
            namer = lead if partner is None else \
                f"{partner.contact_name} ({organisation.name})"
            items.append(ChecklistItem(
                _("Name the authorised signatory of %(org)s.", org=organisation.name), namer,
                url_for("partners.index", application_id=application.id,
                        _anchor="signatories")
                if may_name_signatory(application, roles, reader, workflow, partner) else None))
            continue
        mine = confirm_refusal(application, reader, workflow, partner, signatories) is None
        if partner is None:
            text = _("Sign the application for the lead organisation again (it has changed).") \
                if confirmation else _("Sign the application for the lead organisation.")
        else:
            text = _("Confirm participation and co-financing again (the application has "
                     "changed).") if confirmation else _("Confirm participation and "
                                                         "co-financing.")
        items.append(ChecklistItem(text, f"{signatory.name} ({organisation.name})",
                                   confirmation_url(application, key) if mine else None))
    return items
