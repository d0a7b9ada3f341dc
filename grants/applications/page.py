"""The application page, for every feature that shows it or acts on it.

`load_application_page` is the one loader of the application views (404 alike for missing and
not yours); `render_application_page` renders a tab of the workspace (workspace.py), e.g. again
after a refused POST; `workspace_context` is what a tab served by another feature (partners,
budget) adds for the header every tab shares. Other features contribute their panels through
template globals (`steering_panel`, `submissions_panel`, `deadline_panel`, `delivery_log`,
`linked_panel`), which read a refused form back with `page_form`; they say which transitions
their panel offers with a form of its own through `workspace.own_form_transitions`, what is
someone's turn through `workspace.whose_turn`, and which uploads are part of the record
through `attachment_of_record`."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, g, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grants.applications import queries
from grants.applications.access import load_application
from grants.applications.checklist import build_checklist
from grants.applications.forms import MoveForm, PreviewForm, TransitionForm
from grants.applications.guards import missing_fields
from grants.applications.models import TransitionRecord
from grants.applications.snapshot import budget_snapshot
from grants.applications.workspace import (
    TABS,
    moved_anchors,
    own_form_names,
    turn_lines,
)
from grants.audit import AuditEvent
from grants.db import db
from grants.definitions.views import workflow_svg
from grants.documents.models import Attachment
from grants.formengine.definition import field_is_shown, removed_values, section_instances
from grants.i18n import pick_label
from grants.jobs.models import Job
from grants.partners.confirmation import (
    confirm_refusal,
    confirmation_status,
    lead_status,
    not_open_message,
    shown_version,
    signing_states,
    vouched_content,
)
from grants.partners.forms import ConfirmForm
from grants.partners.signatories import signatories_of
from grants.processes import form_for, form_version_number, get_form, get_workflow, workflow_for
from grants.workflow import engine
from grants.workflow.definition import Workflow

# Per job kind: (job) -> [(document id, label)] – the documents a finished job of that kind made,
# when there are several (the archival PDF and its reading copy); else its one document.
JOB_DOCUMENTS: dict[str, Callable[[Job], list[tuple[int, str]]]] = {}


def job_documents(kind: str):
    def decorator(function: Callable[[Job], list[tuple[int, str]]]):
        JOB_DOCUMENTS[kind] = function
        return function
    return decorator


# Hooks (attachment) -> bool: True when the upload is part of the record – named in a frozen
# submission, the funder's decision letter, a delivery receipt – so that its downloads are audited.
ATTACHMENTS_OF_RECORD: list[Callable[[Attachment], bool]] = []


def attachment_of_record(hook: Callable[[Attachment], bool]):
    ATTACHMENTS_OF_RECORD.append(hook)
    return hook


# Hooks (application, roles, reader, events) -> the events the reader may see: a feature whose
# audited rows are not for everyone on the application (comment threads of the team only) keeps
# them from the history of those who may not see them.
HISTORY_FILTERS: list[Callable[[object, set, object, list], list]] = []


def history_filter(hook: Callable[[object, set, object, list], list]):
    HISTORY_FILTERS.append(hook)
    return hook


def page_form(name: str):
    """The form a refused POST handed back to the page (None when there is none)."""
    return g.get("application_page_forms", {}).get(name)


def load_application_page(application_id: int):
    """Load, check access, and resolve the workflow version the application runs on. A version
    that can no longer be loaded gives an empty stand-in: the page shows a notice, nothing can
    be changed until a coordinator moves the application to the current version."""
    application, roles = load_application(application_id, current_user, workflow_for)
    workflow = workflow_for(application) or Workflow.unavailable(application.workflow_name)
    form_def = form_for(application)
    if form_def is None:
        abort(404)
    return application, roles, workflow, form_def


def confirmation_states(application, roles, workflow, form_def, answers, partners):
    """Per partner id, and for the lead organisation under "lead": its current confirmation,
    whether it still matches, its authorised signatory, whether I may confirm (else why not,
    when I could act for it); for the one who may, the version the form carries (fingerprint
    and parts) and a summary of what the signatory vouches for."""
    status = confirmation_status(application, form_def, answers, partners)
    budget = budget_snapshot(application.id)
    status["lead"] = lead_status(application, form_def, answers, budget)
    signatories = signatories_of(application.id)
    states = {}
    for key, partner in [("lead", None)] + [(p.id, p) for p in partners]:
        organisation = application.lead_organisation if partner is None else partner.organisation
        refusal = confirm_refusal(application, current_user, workflow, partner, signatories)
        state = {"confirmation": status[key][0], "valid": status[key][1],
                 "signatory": signatories.get(organisation.id), "organisation": organisation,
                 "partner": partner, "may_confirm": refusal is None,
                 "open": application.state in signing_states(workflow, partner),
                 "refusal": refusal}
        # Whoever would confirm for it hears when the workflow opens the confirmation.
        signatory = state["signatory"]
        concerned = (signatory is not None and signatory.user_id == current_user.id) or (
            partner is not None and partner.contact_user_id == current_user.id)
        state["not_yet"] = not_open_message(workflow) if (
            concerned and not state["open"] and partner is not None
            and partner.status == "active") else ""
        if state["may_confirm"]:
            content = vouched_content(application, form_def, answers, partner, budget)
            state["fingerprint"], state["parts"] = shown_version(content)
            state["vouches"] = _vouches(form_def, organisation, partner is None, budget)
        states[key] = state
    return states


def _vouches(form_def, organisation, lead: bool, budget: dict) -> dict:
    """What a signatory vouches for, in words and numbers: the common sections, the
    organisation's own part (none for the lead organisation), its costs and co-financing, and
    the whole budget."""
    name = organisation.name
    return {
        "common": [s.title for s in form_def.sections if s.part == "common"],
        "own": [] if lead else [s.title for s in form_def.sections if s.part == "partner_part"],
        "own_cost": sum(line["amount"] for line in budget["lines"]
                        if line["organisation"] == name),
        "own_cofinancing": sum(item["amount"] for item in budget["cofinancing"]
                               if item["organisation"] == name),
        "total_cost": budget["total_cost"], "cofinancing_total": budget["cofinancing_total"],
    }


def render_application_page(application, roles, workflow, form_def, *, status: int = 200,
                            comment_errors: dict | None = None, forms: dict | None = None,
                            tab: str = "overview"):
    """One tab of the application's workspace (the overview unless told). A view whose POST
    was refused renders its tab again with its form (errors included) in `forms`, by name; the
    panel that shows that form picks it up with `page_form(name)`."""
    g.application_page_forms = dict(forms or {})
    answers = queries.load_answers(application.id)
    partners = queries.current_partners(application.id)
    context = {"comment_errors": comment_errors or {}}
    confirmations = None
    if tab == "overview":
        confirmations = confirmation_states(application, roles, workflow, form_def, answers,
                                            partners)
        current = get_workflow(application.workflow_name)
        context.update(
            checklist=build_checklist(application, form_def, answers, partners),
            transitions=page_transitions(application, roles, workflow),
            transition_form=TransitionForm(state_version=application.state_version),
            move_form=_move_form(application, roles, workflow, current),
            current_workflow=current, form_version=form_version_notice(application, roles))
    elif tab == "sections":
        missing = missing_fields(form_def, answers, [p.id for p in partners])
        context.update(
            missing=missing, missing_sections={key for key, _field in missing},
            instances=section_views(application, roles, workflow, form_def,
                                    queries.stated_answers(application.id, form_def, answers,
                                                           partners), partners),
            removed=removed_values(form_def, answers),
            attachment_url=lambda attachment_id: url_for(
                "applications.attachment", application_id=application.id,
                attachment_id=attachment_id))
    elif tab == "documents":
        context.update(jobs=_jobs(application.id), preview_form=PreviewForm())
    elif tab == "history":
        history, events = _records(application, roles)
        transitions = page_transitions(application, roles, workflow)
        context.update(history=history, events=events, workflow_picture=workflow_svg(
            workflow, current=application.state,
            available=tuple(t.name for t in transitions)) if workflow.states else None,
            transitions=transitions)
    context.update(workspace_context(application, roles, workflow, form_def, tab,
                                     answers=answers, partners=partners,
                                     confirmations=confirmations))
    return render_template(f"applications/{tab}.html", **context), status


def workspace_context(application, roles, workflow, form_def, tab: str, *, answers=None,
                      partners=None, confirmations=None) -> dict:
    """What every tab of the workspace shows in its header: title, state, whose turn it is
    and what is the reader's to do, and the tabs. A tab that has computed the confirmations
    hands them in; otherwise they are worked out only while one is open."""
    if confirmations is None and workflow.states \
            and application.state in signing_states(workflow, None):
        answers = queries.load_answers(application.id) if answers is None else answers
        partners = queries.current_partners(application.id) if partners is None else partners
        confirmations = confirmation_states(application, roles, workflow, form_def, answers,
                                            partners)
    return {"application": application, "roles": roles, "workflow": workflow,
            "form_def": form_def, "state": workflow.state(application.state),
            "answers": answers, "partners": partners, "tab": tab, "tabs": TABS,
            "confirmations": confirmations or {}, "confirm_form": ConfirmForm(),
            "turns": turn_lines(application, roles, workflow, confirmations or {}),
            "moved_anchors": moved_anchors(application.id)}


def section_views(application, roles, workflow, form_def, answers, partners) -> list[dict]:
    """Each section instance (common sections, and each partner's own part) as the page shows
    it: its values, whether this user may edit it now, and which of its fields are hidden."""
    by_id = {p.id: p for p in partners}
    views = []
    for section, partner_id, key in section_instances(form_def, list(by_id)):
        partner = by_id.get(partner_id)
        views.append({
            "section": section, "key": key, "partner": partner,
            "values": answers.get(key, {}),
            "editable": queries.may_edit_section(application, roles, current_user, workflow,
                                                 section, partner),
            "hidden": {f.id for f in section.fields
                       if not field_is_shown(form_def, f, answers, key)},
        })
    return views


def page_transitions(application, roles, workflow) -> list:
    """The transitions this user may fire from the page's buttons: those open to their roles,
    without those a feature's panel offers with a form of its own (the funder's decision)."""
    by_form = own_form_names(workflow, application.state, roles)
    return [t for t in engine.available_transitions(workflow, application.state, roles)
            if t.name not in by_form]


def _records(application, roles) -> tuple[list, list]:
    """The history of transitions, and the other audited changes the reader may see (the
    latest 50; transitions are in the history)."""
    application_id = application.id
    history = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.application_id == application_id)
        .order_by(TransitionRecord.id.desc())).all()
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "application", AuditEvent.object_id == application_id,
        AuditEvent.action.not_in(["application.transition", "application.workflow_update",
                                  "application.form_update"]))
        .order_by(AuditEvent.id.desc()).limit(50)).all()
    for hook in HISTORY_FILTERS:
        events = hook(application, roles, current_user, list(events))
    return history, events


def _jobs(application_id: int) -> list:
    """The latest background jobs of the application (its PDFs)."""
    return db.session.scalars(select(Job).where(Job.application_id == application_id)
                              .order_by(Job.id.desc()).limit(10)).all()


def form_version_notice(application, roles) -> dict | None:
    """When the application uses an older version of its form than the file's: both version
    numbers, and whether this user may move it (a coordinator)."""
    current = get_form(application.form_name)
    if current is None or application.form_version is None:
        return None
    number = form_version_number(current)
    if number == application.form_version:
        return None
    return {"pinned": application.form_version, "current": number,
            "may_move": "coordinator" in roles}


def _move_form(application, roles, workflow, current) -> MoveForm | None:
    """For a coordinator, when the application's workflow version is not the current one (or
    lost its state): the form that moves it onto the current version."""
    if "coordinator" not in roles or current is None:
        return None
    if workflow.state(application.state) is not None \
            and current.version == application.workflow_version:
        return None
    form = MoveForm(state_version=application.state_version,
                    to_state=application.state if current.state(application.state)
                    else current.initial)
    form.to_state.choices = [SelectChoice(s.name, pick_label(s.label))
                             for s in current.states.values()]
    return form
