"""Versions and their differences, what changed since a person last saw the content, and who
is editing a section now. Load (404 alike for missing and not yours) → check → one operation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.applications import queries
from grants.applications.page import load_application_page, workspace_context
from grants.applications.snapshot import build_snapshot, field_snapshot
from grants.budget.actuals import visible_organisations
from grants.collaboration import presence
from grants.collaboration.forms import PresenceForm, RestoreForm
from grants.collaboration.models import BUDGET, PARTNERS, ContentRevision
from grants.collaboration.operations import restore_section
from grants.collaboration.revisions import revision, revisions_of
from grants.collaboration.since import resolve
from grants.db import db
from grants.errors import OperationRefused, StaleEdit
from grants.formengine.diff import (
    PARTNER_KEYS,
    budget_diff,
    field_diff,
    list_diff,
    partner_rows,
    snapshot_diff,
)
from grants.formengine.fields import hidden_number
from grants.i18n import current_locale, pick_label
from grants.organisations.models import Organisation
from grants.partners.models import ApplicationPartner

bp = Blueprint("collaboration", __name__, url_prefix="/applications")


def _target(application, form_def, target: str):
    """(section, partner) a version target names on this application — (None, None) for the
    budget and the partner list; 404 for anything else."""
    if target in (BUDGET, PARTNERS):
        return None, None
    key, _sep, partner_id = target.partition("@")
    section = form_def.section(key)
    if section is None or (section.part == "partner_part") != bool(partner_id):
        abort(404)
    partner = None
    if partner_id:
        if not partner_id.isdigit():
            abort(404)
        partner = db.session.get(ApplicationPartner, int(partner_id))
        if partner is None or partner.application_id != application.id:
            abort(404)
    return section, partner


def _field_pictures(section, data: dict) -> dict[str, dict]:
    """A kept version's values with the section's labels, plus values of fields the form no
    longer has (labelled by their id)."""
    pictures = {f.id: field_snapshot(f, (data or {}).get(f.id), True) for f in section.fields
                if not f.is_filled_in}
    for key, value in (data or {}).items():
        if key not in pictures:
            pictures[key] = {"id": key, "type": "text", "label": None, "value": value}
    return pictures


def section_changes(section, before: dict | None, after: dict | None, locale: str) -> list:
    old, new = _field_pictures(section, before or {}), _field_pictures(section, after or {})
    ids = list(new) + [i for i in old if i not in new]
    return [c for c in (field_diff(old.get(i), new.get(i), locale) for i in ids) if c.changed]


@bp.get("/<int:application_id>/versions/<target>")
def versions(application_id: int, target: str):
    """Every kept version of a section, the budget or the partner list (who, when), two of
    them compared (`?a=…&b=…`, default: the newest and the one before), and restoring an
    older version of a section."""
    application, roles, workflow, form_def = load_application_page(application_id)
    section, partner = _target(application, form_def, target)
    kept = revisions_of(application.id, target)
    by_number = {r.number: r for r in kept}
    newest = kept[0].number if kept else 0
    b = request.args.get("b", type=int) or newest
    a = request.args.get("a", type=int) or max(b - 1, 0)
    if (a and a not in by_number) or (b and b not in by_number):
        flash(_("There is no such version; the newest two are compared instead."), "error")
        b, a = newest, max(newest - 1, 0)
    older, newer = by_number.get(a), by_number.get(b)
    locale = current_locale()
    comparison = None
    if newer is not None:
        before, after = (older.data if older else {}), newer.data
        if section is not None:
            comparison = {"fields": section_changes(section, before, after, locale)}
        elif target == BUDGET:
            names = _visible_names(application, form_def, roles)
            lines, cofinancing = budget_diff(_only(before, names), _only(after, names))
            comparison = {"lines": lines, "cofinancing": cofinancing}
        else:
            comparison = {"partners": list_diff(partner_rows(before.get("partners", [])),
                                                partner_rows(after.get("partners", [])),
                                                PARTNER_KEYS)}
    row = queries.section_answer(application.id, section.key, partner.id if partner else None) \
        if section is not None else None
    may_restore = section is not None and queries.may_edit_section(
        application, roles, current_user, workflow, section, partner)
    tab = "sections" if section is not None else ("budget" if target == BUDGET else "partners")
    return render_template(
        "collaboration/versions.html",
        **workspace_context(application, roles, workflow, form_def, tab),
        target=target, section=section, partner=partner, kept=kept, older=older,
        newer=newer, comparison=comparison, may_restore=may_restore,
        current_version=row.version if row else 0, restore_form=RestoreForm(),
        target_title=_target_title(section, partner, target))


def _visible_names(application, form_def, roles) -> set[str] | None:
    """The organisations whose figures the reader sees (None: all; a partner of a document
    whose form shows partners their own figures only: its own)."""
    visible = visible_organisations(application, form_def, roles, current_user,
                                    queries.current_partners(application.id))
    if visible is None:
        return None
    return set(db.session.scalars(select(Organisation.name).where(
        Organisation.id.in_(visible))))


def _only(budget: dict, names: set[str] | None) -> dict:
    if names is None:
        return budget
    return {"lines": [l for l in budget.get("lines", []) if l["organisation"] in names],
            "cofinancing": [c for c in budget.get("cofinancing", [])
                            if c["organisation"] in names]}


def _target_title(section, partner, target: str) -> str:
    if section is not None:
        title = pick_label(section.title)
        return f"{title} – {partner.organisation.name}" if partner is not None else title
    return _("Budget and co-financing") if target == BUDGET else _("Partners")


@bp.post("/<int:application_id>/versions/<target>/<int:number>/restore")
def restore(application_id: int, target: str, number: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    section, partner = _target(application, form_def, target)
    kept: ContentRevision | None = revision(application.id, target, number)
    if section is None or kept is None:
        abort(404)
    form = RestoreForm()
    back = url_for(".versions", application_id=application.id, target=target)
    if not form.validate_on_submit():
        flash(_("Nothing was restored: the form had expired. Try again."), "error")
        return redirect(back, 303)
    try:
        new = restore_section(application=application, roles=roles, actor=current_user,
                              workflow=workflow, form=form_def, section_key=section.key,
                              partner=partner, revision=kept,
                              expected_version=hidden_number(form.version, 0))
    except StaleEdit as stale:
        flash(_("Nothing was restored: %(name)s saved this section after you opened this "
                "page. Compare the versions again.", name=stale.updated_by), "error")
        return redirect(back, 303)
    except OperationRefused as refused:
        flash(refused.message, "error")
        return redirect(back, 303)
    flash(_("Version %(old)d of “%(section)s” is the current version again (saved as version "
            "%(new)d).", old=number, section=pick_label(section.title), new=new.number),
          "success")
    return redirect(url_for(".versions", application_id=application.id, target=target,
                            a=new.number - 1, b=new.number), 303)


@bp.get("/<int:application_id>/changes")
def changes(application_id: int):
    """What changed since a point the reader saw the content at (`?since=round-3`, …): the
    content as it was shown then against the content now."""
    application, roles, workflow, form_def = load_application_page(application_id)
    if not request.args.get("since"):
        flash(_("Choose what to compare with: the links “What changed since …” are on the "
                "“Submission and decision” and “Partners” tabs."), "info")
        return redirect(url_for("applications.history", application_id=application.id), 303)
    point = resolve(application, request.args.get("since", ""))
    if point is None:
        abort(404)
    change = None
    if point.snapshot is not None:
        now = build_snapshot(application, form_def, queries.load_answers(application.id),
                             queries.current_partners(application.id))
        names = _visible_names(application, form_def, roles)
        change = snapshot_diff(
            {**point.snapshot, "budget": _only(point.snapshot.get("budget", {}), names)},
            {**now, "budget": _only(now["budget"], names)} if names is not None else now,
            current_locale(), point.sections)
    return render_template("collaboration/changes.html",
                           **workspace_context(application, roles, workflow, form_def,
                                               "history"),
                           point=point, change=change)


# --- who is editing now -----------------------------------------------------------------------


@bp.app_template_global("editing_now")
def editing_now(application, section, partner) -> dict:
    """For a section's edit page: take the viewer's lease and name the others editing it."""
    target = _instance(section.key, partner)
    others = presence.touch(application.id, target, current_user.id)
    return {"others": others, "message": _editing_message(others),
            "seconds": presence.lease_seconds(), "form": PresenceForm(),
            "url": url_for("collaboration.still_editing", application_id=application.id,
                           target=target),
            "leave_url": url_for("collaboration.stopped_editing",
                                 application_id=application.id, target=target)}


def _instance(section_key: str, partner) -> str:
    return section_key if partner is None else f"{section_key}@{partner.id}"


@bp.post("/<int:application_id>/presence/<target>")
def still_editing(application_id: int, target: str):
    """The edit page's renewal of its lease (every third of the lease while open)."""
    application, roles, workflow, form_def = load_application_page(application_id)
    section, partner = _target(application, form_def, target)
    if section is None:
        abort(404)
    if not queries.may_edit_section(application, roles, current_user, workflow, section,
                                    partner):
        return jsonify({"others": [], "message": ""}), 403
    if not PresenceForm().validate_on_submit():
        return jsonify({"others": [], "message": _("The page has expired: reload it.")}), 400
    others = presence.touch(application.id, target, current_user.id)
    return jsonify({"others": [o.name for o in others],
                    "message": _editing_message(others)})


@bp.post("/<int:application_id>/presence/<target>/leave")
def stopped_editing(application_id: int, target: str):
    """The edit page closed: its lease is given back at once."""
    application, roles, workflow, form_def = load_application_page(application_id)
    section, _partner = _target(application, form_def, target)
    if section is None:
        abort(404)
    if not PresenceForm().validate_on_submit():
        return jsonify({"left": False}), 400
    presence.leave(application.id, target, current_user.id)
    return jsonify({"left": True})


def _editing_message(others) -> str:
    if not others:
        return ""
    return _("%(names)s is also editing this section now. Agree who saves first: a later save "
             "is stopped and shows both versions.", names=", ".join(o.name for o in others)) \
        if len(others) == 1 else \
        _("%(names)s are also editing this section now. Agree who saves first: a later save "
          "is stopped and shows both versions.", names=", ".join(o.name for o in others))
