"""The comment threads of an application: the page of a part's threads (and of all threads),
the forms that start a thread, reply, resolve and reopen, and what the sections tab, a
section's edit page and the budget tab show of them (template globals)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from grants.applications.access import roles_for
from grants.applications.models import Application
from grants.applications.page import load_application_page, workspace_context
from grants.comments import operations
from grants.comments.forms import ReplyForm, StatusForm, ThreadForm
from grants.comments.mentions import segments
from grants.comments.models import BUDGET, CommentThread
from grants.comments.queries import (
    MAX_CHARS,
    audience_choices,
    load_targets,
    may_resolve,
    may_see,
    mentionable,
    open_counts,
    target_of,
    visible_threads,
)
from grants.comments.records import audience_label
from grants.db import db
from grants.errors import FieldsRefused, OperationRefused

bp = Blueprint("comments", __name__)


def _reply_prefix(thread_id: int) -> str:
    return f"reply-{thread_id}"


def _page(application, roles, workflow, form_def, targets, target_key: str | None, *,
          thread_form: ThreadForm | None = None, reply_forms: dict | None = None,
          status: int = 200):
    target = targets.get(target_key) if target_key else None
    views = visible_threads(application, current_user, roles, targets, form_def, target_key)
    choices = audience_choices(application, current_user, roles)
    if target is not None and choices and thread_form is None:
        thread_form = ThreadForm(formdata=None, prefix="thread", target=target.key,
                                 audience=choices[0])
    if thread_form is not None:
        thread_form.audience.choices = [c for c in thread_form.audience.choices
                                        if c.value in choices]
    reply_forms = dict(reply_forms or {})
    for view in views:
        if view.thread.is_open and view.thread.id not in reply_forms:
            reply_forms[view.thread.id] = ReplyForm(formdata=None,
                                                    prefix=_reply_prefix(view.thread.id))
    for form in reply_forms.values():
        form.body.label.text = _("Your reply")
    tab = "budget" if target_key == BUDGET else "sections"
    context = workspace_context(application, roles, workflow, form_def, tab)
    return render_template(
        "comments/index.html", **context, targets=targets, target=target, threads=views,
        thread_form=thread_form, reply_forms=reply_forms, status_form=StatusForm(),
        audience_choices=choices, may_resolve=lambda t: may_resolve(t, current_user, roles),
        segments=segments, audience_label=audience_label, max_chars=MAX_CHARS,
        mentionable=mentionable(application) if reply_forms or thread_form else {}), status


def _target_or_404(targets, key):
    if key not in targets:
        abort(404)
    return targets[key]


@bp.get("/applications/<int:application_id>/comments")
def index(application_id: int):
    """The threads on one part (`?target=summary`), with the form that starts one; without a
    target, every thread the reader sees."""
    application, roles, workflow, form_def = load_application_page(application_id)
    targets = load_targets(application, form_def)
    key = request.args.get("target") or None
    if key is not None:
        _target_or_404(targets, key)
    return _page(application, roles, workflow, form_def, targets, key)


@bp.post("/applications/<int:application_id>/comments")
def start(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    targets = load_targets(application, form_def)
    form = ThreadForm(prefix="thread")
    target = _target_or_404(targets, form.target.data or "")
    if not audience_choices(application, current_user, roles):
        flash(_("You cannot start a thread on this application."), "error")
        return redirect(url_for(".index", application_id=application.id, target=target.key),
                        303)
    if form.validate_on_submit():
        try:
            thread = operations.open_thread(
                application=application, actor=current_user, roles=roles, target=target,
                targets=targets, audience=form.audience.data or "", body=form.body.data)
        except FieldsRefused as refused:
            for name, messages in refused.field_errors.items():
                form[name].errors = list(form[name].errors) + messages
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            flash(_("The thread was started."), "success")
            return redirect(url_for(".index", application_id=application.id, target=target.key,
                                    _anchor=f"thread-{thread.id}"), 303)
    db.session.rollback()
    return _page(application, roles, workflow, form_def, targets, target.key, thread_form=form,
                 status=422)


def _load_thread(application, roles, targets, thread_id: int) -> CommentThread:
    """The thread, when it is this application's and the reader sees it; else 404."""
    thread = db.session.get(CommentThread, thread_id)
    if thread is None or not may_see(thread, application, current_user, roles, targets):
        abort(404)
    return thread


@bp.get("/applications/<int:application_id>/comments/<int:thread_id>")
def thread(application_id: int, thread_id: int):
    """A link to one thread (notifications use it): on to its part's page."""
    application, roles, _workflow, form_def = load_application_page(application_id)
    targets = load_targets(application, form_def)
    found = _load_thread(application, roles, targets, thread_id)
    return redirect(_thread_url(application, found, targets), 303)


def _thread_url(application, thread: CommentThread, targets) -> str:
    target = thread.target if thread.target in targets else None
    return url_for(".index", application_id=application.id, target=target,
                   _anchor=f"thread-{thread.id}")


@bp.post("/applications/<int:application_id>/comments/<int:thread_id>/replies")
def reply(application_id: int, thread_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    targets = load_targets(application, form_def)
    found = _load_thread(application, roles, targets, thread_id)
    form = ReplyForm(prefix=_reply_prefix(found.id))
    if form.validate_on_submit():
        try:
            operations.reply(application=application, actor=current_user, roles=roles,
                             thread=found, targets=targets,
                             target=target_of(found.target, targets, form_def),
                             body=form.body.data)
        except FieldsRefused as refused:
            form.body.errors = list(form.body.errors) + refused.field_errors.get("body", [])
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            flash(_("Your reply was saved."), "success")
            return redirect(_thread_url(application, found, targets), 303)
    db.session.rollback()
    found = db.session.get(CommentThread, thread_id)
    key = found.target if found.target in targets else None
    return _page(application, roles, workflow, form_def, targets, key,
                 reply_forms={found.id: form}, status=422)


def _set_status(application_id: int, thread_id: int, resolved: bool):
    application, roles, _workflow, form_def = load_application_page(application_id)
    targets = load_targets(application, form_def)
    found = _load_thread(application, roles, targets, thread_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("The page had expired. Try again."), "error")
    else:
        try:
            operations.set_resolved(application=application, actor=current_user, roles=roles,
                                    thread=found, targets=targets, resolved=resolved)
        except OperationRefused as refused:
            db.session.rollback()
            flash(refused.message, "error")
        else:
            flash(_("The thread was resolved.") if resolved else _("The thread was reopened."),
                  "success")
    return redirect(_thread_url(application, db.session.get(CommentThread, thread_id), targets),
                    303)


@bp.post("/applications/<int:application_id>/comments/<int:thread_id>/resolve")
def resolve(application_id: int, thread_id: int):
    return _set_status(application_id, thread_id, True)


@bp.post("/applications/<int:application_id>/comments/<int:thread_id>/reopen")
def reopen(application_id: int, thread_id: int):
    return _set_status(application_id, thread_id, False)


# --- what other pages show --------------------------------------------------------------------
def _counts(application: Application, roles) -> dict[str, int]:
    cache = g.setdefault("comment_counts", {})
    if application.id not in cache:
        roles = set(roles) if roles else roles_for(current_user, application)
        cache[application.id] = open_counts(application, current_user, roles)
    return cache[application.id]


@dataclass
class CommentPanel:
    visible: bool
    threads: list
    audience_label: object = audience_label
    segments: object = segments


@bp.app_template_global("comment_panel")
def comment_panel(application: Application, target: str) -> CommentPanel:
    """The open threads the reader sees on one part (for its edit page, the budget tab)."""
    roles = roles_for(current_user, application)
    targets = load_targets(application)
    if target not in targets or not (audience_choices(application, current_user, roles)
                                     or open_counts(application, current_user, roles)):
        return CommentPanel(False, [])
    views = [v for v in visible_threads(application, current_user, roles, targets, None,
                                        target) if v.thread.is_open]
    return CommentPanel(True, views)


@bp.app_template_global("open_comment_threads")
def open_comment_threads(application: Application, target: str, roles=None) -> int:
    """The number of open threads the reader sees on one part (one query per page)."""
    return _counts(application, roles).get(target, 0)

