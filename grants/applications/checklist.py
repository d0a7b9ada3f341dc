"""What is missing before the application can move on, and whose turn it is."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _

from grants.applications.guards import fact_problems, missing_fields
from grants.budget.facts import facts_of
from grants.budget.operations import budget_summary, load_budget
from grants.budget.totals import rule_problems
from grants.i18n import format_money, pick_label
from grants.partners.confirmation import confirmation_status


@dataclass(frozen=True)
class ChecklistItem:
    text: str
    who: str
    link: str | None = None


def build_checklist(application, form, answers, partners) -> list[ChecklistItem]:
    items: list[ChecklistItem] = []
    by_id = {p.id: p for p in partners}
    lead = _("%(name)s (project lead)", name=application.lead_user.name)
    for key, field_id in missing_fields(form, answers, list(by_id)):
        section_key, _sep, partner_id = key.partition("@")
        section = form.section(section_key)
        form_field = next(f for f in section.fields if f.id == field_id)
        if partner_id:
            partner = by_id[int(partner_id)]
            who = f"{partner.contact_name} ({partner.organisation.name})"
            link = url_for("applications.edit_section", application_id=application.id,
                           section_key=section_key, partner_id=partner.id)
        else:
            who, link = lead, url_for("applications.edit_section",
                                      application_id=application.id, section_key=section_key)
        items.append(ChecklistItem(_("%(section)s: fill in “%(field)s”.",
                                     section=pick_label(section.title),
                                     field=pick_label(form_field.label)), who, link))
    call = application.call
    lines, budget_items = load_budget(application.id)
    names = {p.id: p.organisation.name for p in partners}
    for problem in fact_problems(form, answers, facts_of(lines, budget_items, partners), names):
        items.append(ChecklistItem(problem, lead, url_for("budget.index",
                                                          application_id=application.id)))
    for problem in rule_problems(budget_summary(lines, budget_items, form),
                                 max_requested=call.max_requested_amount,
                                 min_cofinancing_percent=call.min_cofinancing_percent,
                                 max_indirect_percent=call.max_indirect_percent,
                                 money=format_money, gettext=_):
        items.append(ChecklistItem(problem, lead, url_for("budget.index",
                                                          application_id=application.id)))
    status = confirmation_status(application, form, answers, partners)
    for partner in partners:
        who = f"{partner.contact_name} ({partner.organisation.name})"
        if partner.status != "active":
            items.append(ChecklistItem(_("Accept the invitation to take part."), who))
            continue
        confirmation, valid = status[partner.id]
        if not valid:
            items.append(ChecklistItem(
                _("Confirm participation and co-financing again (the application has changed).")
                if confirmation else _("Confirm participation and co-financing."), who))
    return items
