"""The audit log in words: what a row of it says, with people, organisations, partners,
sections, fields, states and steering groups named by their names, not their ids.

One place for every page and export that shows the audit log to people (the application's
history, the coordinators' audit log and its CSV export). Names are resolved when the row is
shown: a renamed organisation reads with its current name. A row may carry a name of its own
(`organisation_name`, `description`) for what can disappear (a deleted budget line); an id
whose row is gone reads as such ("organisation 31 (no longer registered)"), never as a bare
number."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.audit import AuditEvent
from grants.calls.models import Call, Funder
from grants.db import db
from grants.formengine.definition import FormDef
from grants.i18n import format_datetime_local, format_money, option_text, pick_label
from grants.labels import audit_value, category_label, cofinancing_label, event_label, vote_label
from grants.organisations.models import Organisation
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, get_form, get_workflow, workflow_for
from grants.steering.models import SteeringGroup
from grants.workflow.definition import Workflow


@dataclass(frozen=True)
class Change:
    """One thing a row records: its label, and the value before (None: nothing before) and
    after, as plain text."""

    label: str
    before: str | None
    after: str


@dataclass(frozen=True)
class EventText:
    title: str          # what happened ("Cost added")
    subject: str        # what it happened to, by name ("Region Kalmar län"), or ""
    object_name: str    # the object the row is filed under ("Application “Läslust i Sydost”")
    changes: tuple[Change, ...]

    @property
    def summary(self) -> str:
        return f"{self.title} – {self.subject}" if self.subject else self.title

    def changes_text(self) -> str:
        """The changes on one line (for the CSV export)."""
        return "; ".join(f"{c.label}: {c.before} → {c.after}" if c.before is not None
                         else f"{c.label}: {c.after}" for c in self.changes)


# What the keys of `before` / `after` are called. Keys not listed are shown as they are.
KEY_LABELS = {
    "organisation": _l("Organisation"), "organisation_name": _l("Organisation"),
    "organisations": _l("Organisations"), "partner": _l("Partner"),
    "contact": _l("Contact person"), "from": _l("Before"), "to": _l("After"),
    "section": _l("Section"), "field": _l("Field"), "filename": _l("File"),
    "category": _l("Cost category"), "kind": _l("Kind"), "year": _l("Year"),
    "amount": _l("Amount"), "description": _l("Description"), "source": _l("Source"),
    "name": _l("Name"), "email": _l("Email"), "title": _l("Title"),
    "signatory": _l("Authorised signatory"), "signatory_title": _l("Job title"),
    "fingerprint": _l("Content fingerprint"), "sha256": _l("SHA-256"),
    "round": _l("Round"), "choice": _l("Vote"), "comment": _l("Comment"),
    "reason": _l("Reason"), "votes": _l("Votes"), "state": _l("State"),
    "transition": _l("Transition"), "deadline": _l("Deadline"), "submission": _l("Submission"),
    "submission_id": _l("Submission"), "application_id": _l("Application"),
    "form": _l("Form"), "version": _l("Version"), "changes": _l("Changes"),
    "answers_no_longer_in_form": _l("Answers no longer in the form"),
    "channel": _l("Channel"), "status": _l("Status"), "recipient": _l("Recipient"),
    "attempts": _l("Attempts"), "smtp_code": _l("SMTP code"), "message_id": _l("Message-ID"),
    "funder_reference": _l("The funder's reference"), "resolution": _l("Resolution"),
    "members": _l("Members"), "chair": _l("Chair"),
    "is_coordinator": _l("Coordinator"), "is_active": _l("Active (may log in)"),
    "short_name": _l("Short name"), "slug": _l("Identifier"),
    "submission_email": _l("Submission email"), "pdf_template": _l("PDF template"),
    "delivery_method": _l("Delivery to the funder"),
    "email_subject_format": _l("Subject of the email to the funder"),
    "portal_url": _l("Address of the funder's portal"), "funder_id": _l("Funder"),
    "opens_at": _l("Opens (Swedish time)"), "deadline_at": _l("Deadline (Swedish time)"),
    "workflow_name": _l("Workflow"), "form_name": _l("Form"), "form_version": _l("Form version"),
    "steering_group_id": _l("Steering group"),
    "max_chars_per_field": _l("Max characters per text field"),
    "max_requested_amount": _l("Max requested amount"),
    "min_cofinancing_percent": _l("Minimum co-financing (percent of total cost)"),
    "max_indirect_percent": _l("Max indirect costs (percent of direct costs)"),
    "allow_resubmission": _l("The lead may withdraw and resubmit before the deadline"),
    "partner_input_days_before": _l("Partner input due (days before the deadline)"),
    "steering_meeting_days_before": _l("Steering group meeting (days before the deadline)"),
    "signatures_days_before": _l("Signatures due (days before the deadline)"),
    "reminder_days_before": _l("Reminder (days before the deadline)"),
    "org_number": _l("Organisation number"), "county": _l("County"),
    "audience": _l("Who sees it"),
}
# Keys that are internal row ids: the row names the thing some other way (its organisation,
# its description), and the CSV export keeps the ids in its JSON columns.
HIDDEN_KEYS = {"line", "item", "id", "user_id", "document", "attachment", "organisation_name"}

# Values a feature above this layer knows the words for, by (object type, key): the delivery
# feature registers its statuses.
VALUE_WORDS: dict[tuple[str, str], Callable[[Any], str]] = {}


def value_words(object_type: str, key: str):
    """Register how the value of `key` in rows of `object_type` reads."""
    def register(function: Callable[[Any], str]) -> Callable[[Any], str]:
        VALUE_WORDS[(object_type, key)] = function
        return function
    return register


# What a row of a feature above this layer is about, by the prefix of its action: (the row's
# stored values, the application's form) -> (the subject in words, the keys it uses up).
# The comments feature names the section, partner's part or budget a thread is on.
EVENT_SUBJECTS: dict[str, Callable[[dict, FormDef | None], tuple[str, set[str]]]] = {}


def event_subject(prefix: str):
    def register(function: Callable[[dict, FormDef | None], tuple[str, set[str]]]):
        EVENT_SUBJECTS[prefix] = function
        return function
    return register


class _Context:
    """What a row is read against: the application's form and workflow, when it has one
    (`definitions`: those already read, by application id)."""

    def __init__(self, event: AuditEvent, form: FormDef | None, workflow: Workflow | None,
                 definitions: dict[int, tuple] | None = None):
        self.event = event
        self.application = (_get(Application, event.object_id)
                            if event.object_type == "application" and event.object_id else None)
        if self.application is not None and (form is None or workflow is None):
            definitions = {} if definitions is None else definitions
            if self.application.id not in definitions:
                definitions[self.application.id] = (form_for(self.application),
                                                    workflow_for(self.application))
            known_form, known_workflow = definitions[self.application.id]
            form, workflow = form or known_form, workflow or known_workflow
        self.form, self.workflow = form, workflow
        self.stored = {**(event.before or {}), **(event.after or {})}


# The rows a batch of events names, read in one query per kind by `describe_events` (a row
# that is gone is kept as None, so it is not asked for again).
_ROWS: ContextVar[dict | None] = ContextVar("audit_text_rows", default=None)


def _get(model, row_id: Any):
    try:
        key = (model, int(row_id))
    except (TypeError, ValueError):
        return None
    rows = _ROWS.get()
    if rows is not None and key in rows:
        return rows[key]
    row = db.session.get(model, key[1])
    if rows is not None:
        rows[key] = row
    return row


def organisation_name(value: Any, stored_name: str | None = None) -> str:
    """An organisation by its name: a stored name (rows that carry one), the current name of
    the organisation with this id, or words saying it is gone."""
    if isinstance(value, str) and not value.isdigit():
        return value
    organisation = _get(Organisation, int(value)) if value not in (None, "") else None
    if organisation is not None:
        return organisation.name
    if stored_name:
        return stored_name
    return _("organisation %(id)s (no longer registered)", id=value)


def user_name(value: Any) -> str:
    user = _get(User, int(value)) if value not in (None, "") else None
    return user.name if user is not None else _("user %(id)s (no longer registered)", id=value)


def partner_name(value: Any) -> str:
    partner = _get(ApplicationPartner, int(value)) if value not in (None, "") else None
    if partner is None:
        return _("partner %(id)s (no longer on the application)", id=value)
    return organisation_name(partner.organisation_id)


def _named(model, value: Any, attribute: str, gone: str) -> str:
    row = _get(model, int(value)) if value not in (None, "") else None
    return getattr(row, attribute) if row is not None else gone % {"id": value}


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _value(ctx: _Context, key: str, value: Any) -> str:
    """One value of a row in words."""
    if value is None or value == "" or value == []:
        return "–"
    custom = VALUE_WORDS.get((ctx.event.object_type, key))
    if custom is not None:
        return custom(value)
    if isinstance(value, bool):
        return _yes_no(value)
    if key == "organisation":
        return organisation_name(value, ctx.stored.get("organisation_name"))
    if key == "organisations":
        return ", ".join(sorted(organisation_name(v) for v in value)) \
            if isinstance(value, list) else organisation_name(value)
    if key == "partner" and not isinstance(value, str):
        return partner_name(value)
    if key == "members":
        return ", ".join(sorted(user_name(v) for v in value))
    if key in ("chair", "user"):
        return user_name(value)
    if key == "votes" and isinstance(value, list):
        return "; ".join(f"{user_name(v.get('user'))}: {vote_label(v.get('choice'))}"
                         for v in value if isinstance(v, dict))
    if key == "choice":
        return vote_label(value)
    if key == "section" and ctx.form is not None:
        section = ctx.form.section(str(value))
        return pick_label(section.title) if section is not None else str(value)
    if key == "field" and ctx.form is not None:
        field = ctx.form.field(str(value))
        return pick_label(field.label) if field is not None else str(value)
    if key == "state" and ctx.workflow is not None:
        state = ctx.workflow.state(str(value))
        return pick_label(state.label) if state is not None else str(value)
    if key == "transition" and ctx.workflow is not None:
        transition = ctx.workflow.transitions.get(str(value))
        return pick_label(transition.label) if transition is not None else str(value)
    if key == "category":
        return category_label(value, ctx.form.cost_categories if ctx.form else None)
    if key in ("kind", "source") and ctx.event.action.startswith("cofinancing"):
        return cofinancing_label(value)
    if key == "amount" and isinstance(value, int):
        return format_money(value)
    if key in ("deadline", "opens_at", "deadline_at"):
        return format_datetime_local(value)
    if key in ("fingerprint", "sha256") and isinstance(value, str):
        return value[:12]
    if key == "funder_id":
        return _named(Funder, value, "name", _("funder %(id)s (no longer registered)"))
    if key == "steering_group_id":
        return _named(SteeringGroup, value, "name",
                      _("steering group %(id)s (no longer registered)"))
    if key == "application_id":
        return _named(Application, value, "title", _("application %(id)s"))
    if key == "workflow_name":
        workflow = get_workflow(str(value))
        return pick_label(workflow.title) if workflow is not None else str(value)
    if key in ("form_name", "form"):
        form = get_form(str(value))
        return pick_label(form.title) if form is not None and form.title else str(value)
    return audit_value(value)


def _answer(ctx: _Context, field_id: str, value: Any) -> str:
    """An answer of a section, as its field shows it: an option by its label."""
    field = ctx.form.field(field_id) if ctx.form is not None else None
    if field is not None and getattr(field, "options", None) and value not in (None, "", []):
        if isinstance(value, list):
            return ", ".join(option_text(field, v) for v in value)
        if isinstance(value, str):
            return option_text(field, value)
    if isinstance(value, bool):
        return _yes_no(value)
    return audit_value(value)


def _key_label(ctx: _Context, key: str, is_field: bool) -> str:
    """A key by its label: a field of the form (the keys of a section's change), or a key
    of the rows."""
    if is_field:
        field = ctx.form.field(key) if ctx.form is not None else None
        return pick_label(field.label) if field is not None else key
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    return key


def _changes(ctx: _Context, skip: set[str]) -> tuple[Change, ...]:
    before, after = ctx.event.before or {}, ctx.event.after or {}
    section_update = ctx.event.action == "section.update"
    keys = [k for k in after if k not in skip] + [
        k for k in before if k not in after and k not in skip]
    rows = []
    for key in keys:
        if key in HIDDEN_KEYS or key in skip:
            continue
        if before and key in before and key in after and before[key] == after[key]:
            continue
        show = _answer if section_update else _value
        old = show(ctx, key, before.get(key)) if before else None
        new = show(ctx, key, after.get(key)) if key in after else "–"
        rows.append(Change(_key_label(ctx, key, section_update), old, new))
    return tuple(rows)


def _object_name(ctx: _Context) -> str:
    event = ctx.event
    stored = ctx.stored
    if event.object_type == "application":
        title = ctx.application.title if ctx.application is not None else str(event.object_id)
        return _("Application “%(title)s”", title=title)
    if event.object_type == "organisation":
        return organisation_name(event.object_id, stored.get("name"))
    if event.object_type == "user":
        return user_name(event.object_id)
    if event.object_type == "funder":
        return _named(Funder, event.object_id, "name",
                      stored.get("name") or _("funder %(id)s (no longer registered)"))
    if event.object_type == "call":
        return _named(Call, event.object_id, "title",
                      stored.get("title") or _("call %(id)s (no longer registered)"))
    if event.object_type == "steering_group":
        return _named(SteeringGroup, event.object_id, "name",
                      stored.get("name") or _("steering group %(id)s (no longer registered)"))
    if event.object_type == "delivery" and stored.get("application_id"):
        return _("Delivery of “%(title)s”", title=_value(ctx, "application_id",
                                                         stored["application_id"]))
    return f"{event.object_type} {event.object_id or ''}".strip()


def _title(ctx: _Context) -> str:
    after = ctx.event.after or {}
    if ctx.event.action in ("application.transition", "application.workflow_update") \
            and after.get("transition") and ctx.workflow is not None:
        transition = ctx.workflow.transitions.get(after["transition"])
        if transition is not None:
            return pick_label(transition.label)
    return event_label(ctx.event.action)


def _ints(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [int(v) for v in values
            if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]


def _load_named_rows(events: list[AuditEvent]) -> dict:
    """Every row the events name by id, read with one query per kind (not one per row)."""
    wanted: dict[Any, set[int]] = {Organisation: set(), User: set(), ApplicationPartner: set(),
                                   Application: set(), Funder: set(), Call: set(),
                                   SteeringGroup: set()}
    by_object_type = {"organisation": Organisation, "user": User, "application": Application,
                      "funder": Funder, "call": Call, "steering_group": SteeringGroup}
    by_key = {"organisation": Organisation, "organisations": Organisation, "members": User,
              "chair": User, "user": User, "partner": ApplicationPartner,
              "application_id": Application, "funder_id": Funder,
              "steering_group_id": SteeringGroup}
    for event in events:
        if event.object_type in by_object_type and event.object_id is not None:
            wanted[by_object_type[event.object_type]].add(event.object_id)
        for values in (event.before or {}, event.after or {}):
            for key, value in values.items():
                if key in by_key:
                    wanted[by_key[key]].update(_ints(value))
                elif key == "votes" and isinstance(value, list):
                    wanted[User].update(_ints([v.get("user") for v in value
                                               if isinstance(v, dict)]))
    rows: dict = {}
    for model in (ApplicationPartner, Organisation, User, Application, Funder, Call,
                  SteeringGroup):
        ids = wanted[model]
        if model is Organisation:  # the partners' organisations too
            ids = ids | {row.organisation_id for (kind, _id), row in rows.items()
                         if kind is ApplicationPartner and row is not None}
        if not ids:
            continue
        rows.update({(model, row_id): None for row_id in ids})
        rows.update({(model, row.id): row for row in db.session.scalars(
            select(model).where(model.id.in_(sorted(ids))))})
    return rows


def describe_events(events, form: FormDef | None = None,
                    workflow: Workflow | None = None) -> list[tuple[AuditEvent, EventText]]:
    """Rows of the audit log, each with its words; what they name is read in one query per
    kind of row, and each application's form and workflow once."""
    events = list(events)
    token = _ROWS.set(_load_named_rows(events))
    try:
        definitions: dict[int, tuple] = {}
        return [(event, describe_event(event, form, workflow, _definitions=definitions))
                for event in events]
    finally:
        _ROWS.reset(token)


def describe_event(event: AuditEvent, form: FormDef | None = None,
                   workflow: Workflow | None = None, *,
                   _definitions: dict[int, tuple] | None = None) -> EventText:
    """A row of the audit log in words, in the reader's language. `form` and `workflow`: the
    application's (read from the application when not given)."""
    ctx = _Context(event, form, workflow, _definitions)
    stored = ctx.stored
    subject, skip = "", set()
    if event.action == "section.update":
        subject = _value(ctx, "section", stored.get("section"))
        if stored.get("partner") is not None:
            subject += " – " + partner_name(stored["partner"])
        skip = {"section", "partner"}
    elif "organisation" in stored:
        subject = _value(ctx, "organisation", stored["organisation"])
        skip = {"organisation"}
    elif event.action.startswith("download.") and stored.get("filename"):
        subject = str(stored["filename"])
        skip = {"filename"}
    else:
        for prefix, name_it in EVENT_SUBJECTS.items():
            if event.action.startswith(prefix):
                subject, skip = name_it(stored, ctx.form)
                break
    return EventText(title=_title(ctx), subject=subject, object_name=_object_name(ctx),
                     changes=_changes(ctx, skip))
