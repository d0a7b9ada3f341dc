"""Voting and declaring jäv on an application. Load (404 alike for missing and not yours) →
check → one operation → back to the application page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from grants.applications.page import load_application_page, page_form, render_application_page
from grants.applications.workspace import TurnLine, names, tab_url, whose_turn
from grants.approvals import operations
from grants.approvals.forms import RecusalForm, VoteForm
from grants.approvals.rounds import SteeringVote, load_steering_vote
from grants.approvals.seen import last_round_voted
from grants.errors import FieldsRefused, OperationRefused
from grants.formengine.fields import hidden_number
from grants.i18n import pick_label
from grants.workflow.quorum import APPROVE, CHANGES

bp = Blueprint("approvals", __name__, url_prefix="/applications")


@dataclass
class SteeringPanel:
    vote: SteeringVote
    vote_form: VoteForm | None
    recusal_form: RecusalForm
    # The earlier round the viewer voted in, for "what changed since" (None: none).
    last_voted: int | None = None


def _current_vote(application, workflow) -> SteeringVote | None:
    """The decision the application awaits, read once per request: the workspace's header
    (whose turn) and the decision tab's panel both show it."""
    cache = g.setdefault("steering_votes", {})
    if application.id not in cache:
        cache[application.id] = load_steering_vote(application, workflow) \
            if workflow.states else None
    return cache[application.id]


@bp.app_template_global("steering_panel")
def steering_panel(application, roles, workflow) -> SteeringPanel | None:
    """The steering group's vote on the application page: rule, progress, members, votes,
    and the forms to vote (showing the viewer's current vote) or to declare jäv – after a
    refused POST, that form with its errors. None when the workflow decides nothing by vote."""
    steering_vote = _current_vote(application, workflow)
    if steering_vote is None:
        return None
    vote_form = None
    if steering_vote.round is not None:
        vote_form = page_form("vote_form") or VoteForm()
        viewer = steering_vote.member(current_user.id)
        if viewer is not None and viewer.vote is not None and not vote_form.choice.data:
            vote_form.choice.data, vote_form.comment.data = viewer.vote.choice, viewer.vote.comment
        vote_form.round_id.data = steering_vote.round.id
        vote_form.fingerprint.data = steering_vote.round.fingerprint
    last_voted = last_round_voted(application.id, current_user.id, steering_vote.round.number) \
        if steering_vote.round is not None else None
    return SteeringPanel(steering_vote, vote_form, page_form("recusal_form") or RecusalForm(),
                         last_voted)


@whose_turn
def _voters_turn(application, roles, workflow) -> list[TurnLine]:
    """While a round is open: the members who have not voted yet (nor declared jäv)."""
    steering_vote = _current_vote(application, workflow)
    if steering_vote is None or steering_vote.round is None:
        return []
    waiting = [m.user for m in steering_vote.eligible if m.vote is None]
    if not waiting:
        return []
    mine = any(user.id == current_user.id for user in waiting)
    what = _("Vote on “%(matter)s”", matter=pick_label(steering_vote.transition.label))
    who = _("%(names)s (steering group)", names=names(waiting))
    return [TurnLine(who, what, mine, tab_url(application.id, "decision", "decision")
                     if mine else None)]


def _back(application_id: int):
    return redirect(url_for("applications.decision", application_id=application_id,
                            _anchor="decision"), 303)


def _with_errors(application, roles, workflow, form_def, form, field_errors=None, message=""):
    for name, errors in (field_errors or {}).items():
        if name in form:
            form[name].errors = list(errors)
    if message:
        form.form_errors.append(message)
    name = "vote_form" if isinstance(form, VoteForm) else "recusal_form"
    return render_application_page(application, roles, workflow, form_def, tab="decision",
                                   status=422, forms={name: form})


def _act(application_id: int, form, act, done: str):
    """Voting and declaring jäv alike: load (404 alike for missing and not yours), check the
    form, one operation; a refused form comes back on the page beside its fields."""
    application, roles, workflow, form_def = load_application_page(application_id)
    if not form.validate_on_submit():
        return _with_errors(application, roles, workflow, form_def, form,
                            message=_("Nothing was recorded: check the fields marked below."))
    try:
        act(application, workflow, form_def)
    except FieldsRefused as refused:
        return _with_errors(application, roles, workflow, form_def, form,
                            refused.field_errors, refused.message)
    except OperationRefused as refused:
        flash(refused.message, "error")
        return _back(application.id)
    flash(done, "success")
    return _back(application.id)


@bp.post("/<int:application_id>/vote")
def vote(application_id: int):
    form = VoteForm()
    if form.choice.data == APPROVE:
        done = _("Your vote “approve” is recorded.")
    elif form.choice.data == CHANGES:
        done = _("Your request for changes is recorded.")
    else:
        done = _("Your abstention is recorded.")
    return _act(application_id, form, lambda application, workflow, form_def:
                operations.cast_vote(application=application, actor=current_user,
                                     workflow=workflow, form=form_def,
                                     round_id=hidden_number(form.round_id, 0, invalid=0),
                                     choice=form.choice.data, comment=form.comment.data or "",
                                     shown_fingerprint=form.fingerprint.data or ""), done)


@bp.post("/<int:application_id>/recusal")
def recusal(application_id: int):
    form = RecusalForm()
    return _act(application_id, form, lambda application, workflow, form_def:
                operations.declare_recusal(application=application, actor=current_user,
                                           workflow=workflow, form=form_def,
                                           reason=form.reason.data),
                _("Your jäv is recorded. You take no part in this decision."))
