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
}


def role_label(name: str) -> str:
    return str(ROLE_LABELS.get(name, name))


def part_label(name: str) -> str:
    return str(PART_LABELS.get(name, name))


def guard_label(name: str) -> str:
    return str(GUARD_LABELS.get(name, name))
