"""What users read for the identifiers workflow files use (roles, form parts, guards)."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.i18n import pick_label
from grants.workflow.definition import Quorum

ROLE_LABELS = {
    "lead": _l("project lead"),
    "partner": _l("partners"),
    "steering": _l("steering group"),
    "coordinator": _l("coordinator"),
    "reviewer": _l("reviewer"),
}
PART_LABELS = {
    "common": _l("common sections"),
    "partner_part": _l("each partner's own part"),
}
GUARD_LABELS = {
    "form_complete": _l("every required field filled in"),
    "before_deadline": _l("before the call's deadline"),
    "budget_within_rules": _l("the budget within the call's rules"),
    "partners_confirmed": _l("every partner has confirmed this version"),
    "resubmission_allowed": _l("the call allows resubmission"),
    "grant_recorded": _l("the funder's grant recorded"),
    "rejection_recorded": _l("the funder's rejection recorded"),
    "acceptance_recorded": _l("the funder's acceptance recorded"),
    "return_recorded": _l("the funder's return recorded"),
    "actuals_within_rules": _l("the actual figures within the report's rules"),
    "lead_signed": _l("the lead organisation's signatory has signed"),
}
# The funder's answers to a submission (submissions: FunderDecision.outcome).
OUTCOME_LABELS = {"granted": _l("Granted"), "rejected": _l("Rejected"),
                  "accepted": _l("Accepted"), "returned": _l("Returned for completion")}


def outcome_label(outcome: str | None) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome or ""))


def document_label(document) -> str:
    """What kind of document an application row is, for a reader: "Progress report 2", or
    "Application" for the application itself."""
    if not document.kind_label:
        return _("Application")
    label = pick_label(document.kind_label)
    # Only a kind the project owes several of is numbered (a single final report is not).
    return f"{label} {document.sequence}" if document.sequence else label


def role_label(name: str) -> str:
    return str(ROLE_LABELS.get(name, name))


def part_label(name: str) -> str:
    return str(PART_LABELS.get(name, name))


def guard_label(name: str) -> str:
    return str(GUARD_LABELS.get(name, name))


CATEGORY_LABELS = {
    "personnel": _l("Personnel"),
    "travel": _l("Travel"),
    "external_services": _l("External services"),
    "equipment": _l("Equipment"),
    "premises": _l("Premises"),
    "other": _l("Other costs"),
    "indirect": _l("Indirect costs"),
}
COFINANCING_KIND_LABELS = {"cash": _l("Cash"), "in_kind": _l("In kind")}
COFINANCING_SOURCE_LABELS = {"public": _l("Public"), "private": _l("Private")}


def category_label(name, categories=None) -> str:
    """A cost category's label: the form's own (`categories`: the form's cost categories, or
    a snapshot's {key: {sv, en}}), else the translated label of a default category, else
    the key (a category the form no longer has)."""
    if isinstance(categories, dict) and isinstance(categories.get(str(name)), dict):
        return pick_label(categories[str(name)])
    for category in categories if isinstance(categories, (list, tuple)) else ():
        if category.key == str(name) and category.label is not None:
            return pick_label(category.label)
    return str(CATEGORY_LABELS.get(str(name), name))


def cofinancing_label(name) -> str:
    return str({**COFINANCING_KIND_LABELS, **COFINANCING_SOURCE_LABELS}.get(str(name), name))


EVENT_LABELS = {
    "partner.add": _l("Partner added and invited"),
    "partner.remove": _l("Partner removed"),
    "partner.contact": _l("Partner's contact changed"),
    "partner.accept": _l("Partner accepted the invitation"),
    "partner.confirm": _l("Partner confirmed"),
    "partner.confirmation_void": _l("Partner's confirmation void after a change"),
    "lead.confirm": _l("Lead organisation signed"),
    "signatory.name": _l("Authorised signatory named"),
    "signatory.change": _l("Authorised signatory changed"),
    "budget.add": _l("Cost added"),
    "budget_line.delete": _l("Cost removed"),
    "cofinancing.add": _l("Co-financing added"),
    "cofinancing.delete": _l("Co-financing removed"),
}


def event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))


HISTORY_LABELS = {
    "create": _l("Created"),
    "workflow_update": _l("Moved to a new workflow version"),
    "form_update": _l("Moved to the current form version"),
    "votes_voided": _l("Votes void after a change; voting starts again"),
    "extend_deadline": _l("Deadline extended"),
}
VOTE_LABELS = {"approve": _l("Approved"), "changes": _l("Requested changes"),
               "abstain": _l("Abstained")}
EVENT_LABELS.update({
    "steering.vote": _l("Steering group member voted"),
    "steering.recusal": _l("Steering group member declared jäv"),
    "section.update": _l("Section changed"),
    "comment.thread": _l("Comment thread started"),
    "comment.reply": _l("Reply in a comment thread"),
    "comment.resolve": _l("Comment thread resolved"),
    "comment.reopen": _l("Comment thread reopened"),
    "download.document": _l("Document downloaded"),
    "download.dossier": _l("Dossier downloaded"),
    "download.snapshot": _l("Submitted content downloaded (JSON)"),
    "download.attachment": _l("Attachment downloaded"),
    "steering.round_voided": _l("Votes void after a change; voting starts again"),
    "application.transition": _l("Moved to another state"),
    "application.workflow_update": _l("Moved to a new workflow version"),
    "application.form_update": _l("Moved to the current form version"),
    "deadline.extend": _l("Deadline extended"),
    "delivery.sent": _l("Sent to the funder"),
    "delivery.failed": _l("Not delivered to the funder"),
    "delivery.uncertain": _l("Delivery uncertain"),
    "delivery.receipt": _l("The funder's receipt recorded"),
    "delivery.resolve": _l("Delivery settled by a coordinator"),
    "funder.create": _l("Funder added"),
    "funder.update": _l("Funder changed"),
    "call.create": _l("Call added"),
    "call.update": _l("Call changed"),
    "organisation.create": _l("Organisation added"),
    "organisation.update": _l("Organisation changed"),
    "user.invite": _l("User invited"),
    "user.update": _l("User changed"),
    "user.accept_invitation": _l("User accepted the invitation"),
    "user.password_change": _l("Password changed"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.password_reset": _l("Password reset"),
    "steering_group.create": _l("Steering group added"),
    "steering_group.update": _l("Steering group changed"),
})


def audit_value(value, limit: int = 300) -> str:
    """A before/after value of the audit log as short plain text (escaped by Jinja)."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, dict) and "filename" in value:
        return str(value["filename"])
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def history_label(record, workflow) -> str:
    """What a history row is called: a workflow transition's label, or a system event's."""
    if record.transition in HISTORY_LABELS:
        return str(HISTORY_LABELS[record.transition])
    transition = workflow.transitions.get(record.transition) if workflow else None
    if transition is not None:
        return pick_label(transition.label)
    return record.transition


def vote_label(choice: str) -> str:
    return str(VOTE_LABELS.get(choice, choice))


def quorum_rule_text(quorum) -> str:
    """The rule alone, without the count for one application (for the workflow page)."""
    return quorum_sentence(quorum, None)


def quorum_sentence(quorum, needed: int | None) -> str:
    """The rule in words, e.g. 'More than half of the members without jäv must approve.'"""
    if quorum.rule == "at_least":
        text = _("At least %(n)d members without jäv must approve.", n=quorum.n)
    elif quorum.rule == "all" and quorum.of == "members":
        text = _("Every member of the group must approve; a member with jäv makes approval "
                 "impossible.")
    elif quorum.rule == "all":
        text = _("Every member without jäv must approve.")
    elif quorum.of == "members":
        text = _("More than half of all members of the group must approve (members with jäv "
                 "count in the group but cannot vote).")
    else:
        text = _("More than half of the members without jäv must approve.")
    if quorum.rule == "majority" and quorum.tie == "chair":
        text += " " + _("On a tie the chair's vote decides.")
    if needed is None:
        return text + " " + _("An abstention is not an approval.")
    return text + " " + _("Approvals needed now: %(needed)d. An abstention is not an "
                          "approval.", needed=needed)


def minutes_rule(rule: dict) -> str:
    """The quorum rule frozen in a decision's minutes, in words."""
    return quorum_sentence(Quorum(rule["rule"], rule.get("n"), rule.get("of", "eligible"),
                                  None, rule.get("tie", "changes")), rule["needed"])
