"""The only code that changes applications. Each public function is one transaction: it checks
permission and rules, changes rows, writes history and job rows, and commits once."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from grants import events
from grants.accounts.models import User
from grants.applications.context import TransitionContext
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.applications.queries import (
    current_partners,
    load_answers,
    may_edit_section,
    section_answer,
)
from grants.applications.snapshot import build_snapshot
from grants.audit import audit
from grants.calls.models import Call
from grants.db import db, utcnow
from grants.documents.models import Attachment
from grants.documents.rendering import add_render_job, document_fingerprint
from grants.documents.uploads import KIND_MIME, identify, safe_filename
from grants.errors import FieldsRefused, OperationRefused, StaleEdit, StaleState
from grants.formengine.builder import table_row_problems
from grants.formengine.changes import compare_forms
from grants.formengine.definition import FormDef
from grants.i18n import current_locale, format_datetime_local, pick_label
from grants.jobs.models import Job
from grants.labels import guard_label
from grants.organisations.models import Organisation
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, pin_form, pin_workflow, sha256_text
from grants.workflow import engine
from grants.workflow.definition import Workflow
from grants.workflow.registry import effects, guards

logger = logging.getLogger(__name__)


def create_application(*, actor: User, call: Call, organisation: Organisation, title: str,
                       language: str, workflow: Workflow, form: FormDef) -> Application:
    application = start_application(actor=actor, call=call, organisation=organisation,
                                    title=title, language=language, workflow=workflow, form=form)
    db.session.commit()
    logger.info("application %s created by user %s", application.id, actor.id)
    return application


def start_application(*, actor: User, call: Call, organisation: Organisation, title: str,
                      language: str, workflow: Workflow, form: FormDef) -> Application:
    """The new application in the caller's transaction (no commit): the rules, the row, its
    history and `application_created` (reminders). `create_application` commits it; another
    feature's operation (a copy, grants/reuse) adds its own rows and commits once."""
    if organisation.id not in actor.organisation_ids:
        raise OperationRefused(_("You can only apply on behalf of your own organisation."))
    if not call.is_open():
        raise OperationRefused(_("This call is not open for applications (deadline %(deadline)s).",
                                 deadline=format_datetime_local(call.deadline_at)))
    application = Application(
        call_id=call.id, lead_organisation_id=organisation.id, lead_user_id=actor.id,
        title=title.strip(), language=language, workflow_name=workflow.name,
        workflow_version=workflow.version, form_name=form.name, state=workflow.initial)
    db.session.add(application)
    pin_workflow(workflow)
    application.form_version = pin_form(form)
    db.session.flush()
    db.session.add(TransitionRecord(application_id=application.id, transition="create",
                                    from_state="", to_state=workflow.initial, actor_id=actor.id))
    events.application_created.send(application=application, actor=actor)
    return application


def save_section(*, application: Application, roles: set[str], actor: User, workflow: Workflow,
                 form: FormDef, section_key: str, values: dict[str, Any],
                 expected_version: int, remove_files: frozenset[str] = frozenset(),
                 partner: ApplicationPartner | None = None,
                 hidden: frozenset[str] = frozenset()) -> SectionAnswer:
    """Save one section. Refused when this user may not edit it in this state, when a table's
    rows break its rules (`hidden`: fields not shown now, whose rows are not checked) or a file
    is not of an accepted kind (FieldsRefused, naming each field), or when someone else saved
    it since `expected_version` (StaleEdit carries their text so nothing is lost)."""
    section = form.section(section_key)
    if section is None:
        raise OperationRefused(_("This section does not exist."))
    if not may_edit_section(application, roles, actor, workflow, section, partner):
        state = workflow.state(application.state)
        raise OperationRefused(_("“%(section)s” cannot be edited by you while the application "
                                 "is in state “%(state)s”.", section=pick_label(section.title),
                                 state=pick_label(state.label) if state else application.state))
    partner_id = partner.id if partner is not None else None
    row_before = section_answer(application.id, section_key, partner_id)
    previous = dict(row_before.data or {}) if row_before else {}
    # A figure filled in from the budget (`mirrors:`) is the budget's: never stored here.
    clean = {f.id: values.get(f.id) for f in section.fields
             if f.type != "file" and not f.is_filled_in}
    field_errors = _table_problems(section, values, hidden)
    field_errors.update(_store_files(application, section, values, remove_files, previous,
                                     clean, actor))
    if field_errors:
        db.session.rollback()
        raise FieldsRefused(_("Nothing was saved: check the fields marked below."),
                            field_errors=field_errors)
    # Values of fields that are no longer part of the form are kept, never dropped.
    known = {f.id for f in section.fields}
    clean.update({k: v for k, v in previous.items() if k not in known})
    _still_in_state(application)
    row = _write_section(application, section_key, partner_id, row_before, clean,
                         expected_version, actor)
    _audit_section_change(application, actor, section_key, partner, previous, clean)
    db.session.flush()
    events.content_changed.send(application=application, actor=actor, form=form, what="section")
    db.session.commit()
    return db.session.get(SectionAnswer, row.id)


def write_section(*, application: Application, actor: User, section_key: str,
                  partner: ApplicationPartner | None, data: dict[str, Any],
                  expected_version: int) -> SectionAnswer:
    """Store `data` as the section's next version, for an operation that writes a section
    whole (restoring a kept version): serialised against transitions, compare-and-set on
    `expected_version` (StaleEdit), audited. Flushed; the caller sends its event and commits."""
    partner_id = partner.id if partner is not None else None
    row_before = section_answer(application.id, section_key, partner_id)
    previous = dict(row_before.data or {}) if row_before else {}
    _still_in_state(application)
    row = _write_section(application, section_key, partner_id, row_before, data,
                         expected_version, actor)
    _audit_section_change(application, actor, section_key, partner, previous, data)
    db.session.flush()
    return row


def _table_problems(section, values: dict[str, Any], hidden: frozenset[str]
                    ) -> dict[str, list[str]]:
    """Per table field shown now: its rows that miss a required cell, too few or too many."""
    problems = {}
    for f in section.fields:
        if f.type == "table" and f.id not in hidden:
            found = table_row_problems(f, values.get(f.id) or [], current_locale())
            if found:
                problems[f.id] = found
    return problems


def _store_files(application: Application, section, values: dict[str, Any],
                 remove_files: frozenset[str], previous: dict[str, Any], clean: dict[str, Any],
                 actor: User) -> dict[str, list[str]]:
    """Each file field: a new upload is checked by its content and stored, a removal clears
    it, otherwise the saved file stays. Fills `clean`; returns the refusals per field."""
    problems = {}
    for f in section.fields:
        if f.type != "file":
            continue
        upload = values.get(f.id)
        if upload is None:
            clean[f.id] = None if f.id in remove_files else previous.get(f.id)
            continue
        content = upload.read()
        kind = identify(content)
        if kind is None or kind not in f.accept:
            problems[f.id] = [_("The file is not of an accepted kind (%(kinds)s). Its content "
                                "was checked, not its name.",
                                kinds=", ".join(k.upper() for k in f.accept))]
            continue
        attachment = Attachment(application_id=application.id, field_id=f.id,
                                filename=safe_filename(upload.filename, kind), kind=kind,
                                mime_type=KIND_MIME[kind], size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), content=content,
                                uploaded_by_id=actor.id)
        db.session.add(attachment)
        db.session.flush()
        clean[f.id] = attachment.as_value()
    return problems


def _still_in_state(application: Application) -> None:
    """Serialise against transitions: the state must still be the one the edit was checked
    against."""
    still_here = db.session.execute(
        update(Application).where(Application.id == application.id,
                                  Application.state == application.state)
        .values(updated_at=utcnow())).rowcount
    if not still_here:
        db.session.rollback()
        raise StaleState(_("The application changed state while you were editing. Reload the "
                           "page; your text is still in the form below."))


def _write_section(application: Application, section_key: str, partner_id: int | None,
                   row: SectionAnswer | None, data: dict[str, Any], expected_version: int,
                   actor: User) -> SectionAnswer:
    """Insert the section's first version, or compare-and-set the next one: someone else's
    save in between raises StaleEdit with their text."""
    if row is None:
        if expected_version != 0:
            db.session.rollback()
            raise OperationRefused(_("This section was removed. Reload the page."))
        row = SectionAnswer(application_id=application.id, section_key=section_key, data=data,
                            version=1, updated_by_id=actor.id,
                            owner_key=str(partner_id) if partner_id is not None else "",
                            partner_id=partner_id)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            _raise_stale(section_answer(application.id, section_key, partner_id))
        return row
    changed = db.session.execute(
        update(SectionAnswer)
        .where(SectionAnswer.id == row.id, SectionAnswer.version == expected_version)
        .values(data=data, version=SectionAnswer.version + 1, updated_at=utcnow(),
                updated_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        _raise_stale(db.session.get(SectionAnswer, row.id))
    return row


def _audit_section_change(application: Application, actor: User, section_key: str,
                          partner: ApplicationPartner | None, previous: dict[str, Any],
                          saved: dict[str, Any]) -> None:
    """An append-only audit row with the fields that changed, before and after."""
    changed = sorted(k for k in set(previous) | set(saved) if previous.get(k) != saved.get(k))
    if not changed:
        return
    where = {"section": section_key}
    if partner is not None:
        where["partner"] = partner.id
    audit(
        actor_id=actor.id, action="section.update", object_type="application",
        object_id=application.id,
        before={**where, **{k: previous.get(k) for k in changed}},
        after={**where, **{k: saved.get(k) for k in changed}})


def _audit_transition(application: Application, actor: User, action: str, from_state: str,
                      to_state: str, name: str, comment: str) -> None:
    audit(
        actor_id=actor.id, action=action, object_type="application", object_id=application.id,
        before={"state": from_state},
        after={"state": to_state, "transition": name, "comment": comment})


def record_download(*, application: Application, actor: User, what: str,
                    details: dict[str, Any]) -> None:
    """A download of a document of record (not a draft preview): an audit row, committed."""
    audit(actor_id=actor.id, action=f"download.{what}",
          object_type="application", object_id=application.id,
          before=None, after=details)
    db.session.commit()


def _raise_stale(row: SectionAnswer) -> None:
    db.session.refresh(row)
    author = db.session.get(User, row.updated_by_id) if row.updated_by_id else None
    name = author.name if author else "?"
    db.session.rollback()
    raise StaleEdit(_("%(name)s saved this section while you were editing it. Compare the two "
                      "versions below, combine them in the form and save again.", name=name),
                    current=dict(row.data or {}), current_version=row.version, updated_by=name)


def fire_transition(*, application: Application, roles: set[str], actor: User,
                    workflow: Workflow, form: FormDef, name: str, comment: str,
                    expected_state_version: int) -> TransitionRecord:
    """Fire a workflow transition atomically: permission, guards, compare-and-set of the state,
    history row and effect job rows commit together or not at all."""
    comment = (comment or "").strip()
    try:
        transition = engine.check_transition(workflow, application.state, name, roles, comment)
    except engine.TransitionRefused as refused:
        raise OperationRefused(transition_refusal_message(refused, workflow, application)) from None
    if application.state_version != expected_state_version:
        raise StaleState(_("The application changed while you were looking at it. The page "
                           "now shows the current state; check it and try again."))

    answers = load_answers(application.id)
    ctx = TransitionContext(application=application, actor=actor, workflow=workflow, form=form,
                            answers=answers, comment=comment,
                            partners=current_partners(application.id))
    problems: list[str] = []
    for guard_name in transition.requires:
        problems.extend(_("%(problem)s (condition: %(guard)s)", problem=problem,
                          guard=guard_label(guard_name))
                        for problem in guards.get(guard_name)(ctx))
    if problems:
        raise OperationRefused(_("“%(transition)s” is not possible yet:",
                                 transition=pick_label(transition.label)), details=problems)

    record = apply_transition(application=application, transition=transition, actor=actor,
                              comment=comment, expected_state_version=expected_state_version,
                              ctx=ctx)
    db.session.commit()
    return record


def apply_transition(*, application: Application, transition, actor: User, comment: str,
                     expected_state_version: int, ctx: TransitionContext) -> TransitionRecord:
    """The change itself, in the caller's transaction (no commit): compare-and-set of the
    state, the history row, the effects, and the steering group's round when the new state is
    decided by vote. Used by `fire_transition` and by the votes that decide a transition."""
    from_state = application.state
    changed = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.state == from_state,
               Application.state_version == expected_state_version)
        .values(state=transition.target, state_version=Application.state_version + 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise StaleState(_("Someone else changed the application at the same moment. The page "
                           "now shows the current state; check it and try again."))
    record = TransitionRecord(application_id=application.id, transition=transition.name,
                              from_state=from_state, to_state=transition.target,
                              actor_id=actor.id, comment=comment)
    db.session.add(record)
    _audit_transition(application, actor, "application.transition", from_state,
                      transition.target, transition.name, comment)
    db.session.flush()
    db.session.refresh(application)
    for effect_name in transition.effects:
        effects.get(effect_name)(ctx)
    events.state_entered.send(application=application, workflow=ctx.workflow, form=ctx.form,
                              actor=actor, from_state=from_state)
    logger.info("application %s: %s (%s → %s) by user %s", application.id, transition.name,
                from_state, transition.target, actor.id)
    return record


def move_to_current_workflow(*, application: Application, roles: set[str], actor: User,
                             current: Workflow | None, to_state: str, comment: str,
                             expected_state_version: int) -> TransitionRecord:
    """A coordinator moves an application onto the current version of its workflow (needed
    when the version it runs on lost its state or can no longer be loaded). Recorded."""
    if "coordinator" not in roles:
        raise OperationRefused(_("Only a coordinator can move an application to another "
                                 "workflow version."))
    if current is None:
        raise OperationRefused(_("The workflow “%(name)s” no longer exists; a coordinator must "
                                 "restore its file first.", name=application.workflow_name))
    if to_state not in current.states:
        raise OperationRefused(_("The current workflow has no state “%(state)s”.",
                                 state=to_state))
    comment = (comment or "").strip()
    if not comment:
        raise OperationRefused(_("Say why the application is moved."))
    from_state = application.state
    changed = db.session.execute(
        update(Application)
        .where(Application.id == application.id,
               Application.state_version == expected_state_version)
        .values(state=to_state, workflow_version=current.version,
                state_version=Application.state_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise StaleState(_("Someone else changed the application at the same moment. The page "
                           "now shows the current state; check it and try again."))
    pin_workflow(current)
    record = TransitionRecord(application_id=application.id, transition="workflow_update",
                              from_state=from_state, to_state=to_state, actor_id=actor.id,
                              comment=comment)
    db.session.add(record)
    _audit_transition(application, actor, "application.workflow_update", from_state, to_state,
                      f"{current.name} v{current.version}", comment)
    db.session.flush()
    db.session.refresh(application)
    events.state_entered.send(application=application, workflow=current,
                              form=form_for(application), actor=actor, from_state=from_state)
    db.session.commit()
    logger.info("application %s moved to %s v%s state %s by user %s", application.id,
                current.name, current.version, to_state, actor.id)
    return record


def move_to_current_form(*, application: Application, roles: set[str], actor: User,
                         workflow: Workflow, form: FormDef, current: FormDef | None,
                         seen_version: int | None, seen_sha256: str, comment: str
                         ) -> TransitionRecord:
    """A coordinator moves an application from the form version it started on onto the
    current one, after seeing what the move adds and removes (`seen_*`: the versions that
    preview compared). Answers the current version no longer asks for stay saved. Recorded
    in the history and the audit log; confirmations and an open round are handled like any
    content change."""
    if "coordinator" not in roles:
        raise OperationRefused(_("Only a coordinator can move an application to another form "
                                 "version."))
    if current is None:
        raise OperationRefused(_("The form “%(name)s” no longer exists; a coordinator must "
                                 "restore its file first.", name=application.form_name))
    state = workflow.state(application.state)
    if state is not None and state.terminal:
        raise OperationRefused(_("This application is closed: it keeps the form version it "
                                 "was decided on."))
    comment = (comment or "").strip()
    if not comment:
        raise OperationRefused(_("Say why the application is moved."))
    if seen_sha256 != sha256_text(current.source_text) \
            or seen_version != application.form_version:
        raise StaleState(_("The form or the application changed since you looked at the "
                           "changes. Check them again before moving the application."))
    changes = compare_forms(form, current, load_answers(application.id))
    number = pin_form(current)
    if number == application.form_version:
        raise OperationRefused(_("The application already uses the current version of its "
                                 "form."))
    old_version = application.form_version
    version_matches = (Application.form_version.is_(None) if old_version is None
                       else Application.form_version == old_version)
    changed = db.session.execute(
        update(Application).where(Application.id == application.id, version_matches)
        .values(form_version=number, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise StaleState(_("Someone else changed the application at the same moment. The page "
                           "now shows the current state; check it and try again."))
    record = TransitionRecord(application_id=application.id, transition="form_update",
                              from_state=application.state, to_state=application.state,
                              actor_id=actor.id, comment=comment)
    db.session.add(record)
    audit(actor_id=actor.id, action="application.form_update", object_type="application",
          object_id=application.id,
          before={"form": application.form_name, "version": old_version,
                  "answers_no_longer_in_form": {f"{d.key}.{d.field_id}": d.value
                                                for d in changes.dropped}},
          after={"form": current.name, "version": number, "changes": changes.summary(),
                 "comment": comment})
    db.session.flush()
    db.session.refresh(application)
    events.content_changed.send(application=application, actor=actor, form=current,
                                what="form")
    db.session.commit()
    logger.info("application %s moved to form %s v%s by user %s", application.id,
                current.name, number, actor.id)
    return record


def transition_refusal_message(refused: engine.TransitionRefused, workflow: Workflow,
                               application: Application) -> str:
    transition = workflow.transitions.get(refused.detail.get("transition", ""))
    label = pick_label(transition.label) if transition else refused.detail.get("transition", "")
    state = workflow.state(application.state)
    state_label = pick_label(state.label) if state else application.state
    if refused.reason == "unknown_transition":
        return _("There is no action “%(transition)s” in this workflow.", transition=label)
    if refused.reason == "unknown_state":
        return _("The application is in state “%(state)s”, which its workflow no longer has. "
                 "A coordinator must move it.", state=state_label)
    if refused.reason == "wrong_state":
        return _("“%(transition)s” is not possible while the application is in state "
                 "“%(state)s”.", transition=label, state=state_label)
    if refused.reason == "forbidden":
        return _("You do not have a role that may do “%(transition)s” on this application.",
                 transition=label)
    if refused.reason == "needs_votes":
        return _("“%(transition)s” is decided by the steering group's votes, not by one "
                 "person. Vote on the application page.", transition=label)
    if refused.reason == "comment_required":
        return _("“%(transition)s” needs a comment: say what should change.", transition=label)
    return _("This action is not possible now.")


def record_render_job(application: Application, form: FormDef, answers: dict[str, dict[str, Any]],
                      actor: User | None, kind: str,
                      partners: list[ApplicationPartner] | None = None) -> Job:
    """A job row that renders this exact content; enqueued after commit. When a PDF of the same
    content already exists the job is recorded as done at once and nothing is rendered."""
    if partners is None:
        partners = current_partners(application.id)
    snapshot = build_snapshot(application, form, answers, partners)
    doc_fingerprint = document_fingerprint(snapshot, kind)
    job = Job(kind="render_application", application_id=application.id,
              requested_by_id=actor.id if actor else None,
              payload={"kind": kind, "snapshot": snapshot}, fingerprint=doc_fingerprint)
    return add_render_job(job, kind)


def request_preview(*, application: Application, actor: User, form: FormDef) -> Job:
    job = record_render_job(application, form, load_answers(application.id), actor,
                            kind="preview")
    db.session.commit()
    return job
