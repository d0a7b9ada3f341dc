"""What users read for the identifiers workflow files use (roles, form parts, guards)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
}


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


def category_label(name) -> str:
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
    "budget.add": _l("Cost added"),
    "budget_line.delete": _l("Cost removed"),
    "cofinancing.add": _l("Co-financing added"),
    "cofinancing.delete": _l("Co-financing removed"),
}


def event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))
