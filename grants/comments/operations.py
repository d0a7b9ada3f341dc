"""The operations of comment threads: start one, reply, resolve, reopen. Each checks, changes
its rows, audits (the application's history shows it), tells whom the comment concerns and
commits once. None of them touches the application's content: its snapshot and fingerprint
stay as they were, so no confirmation or steering round is voided by a comment."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.audit import audit
from grants.comments.mentions import find_mentions
from grants.comments.models import (
    AUDIENCES,
    OPEN,
    RESOLVED,
    STEERING,
    Comment,
    CommentMention,
    CommentThread,
)
from grants.comments.queries import (
    MAX_CHARS,
    Target,
    audience_choices,
    may_resolve,
    may_see,
    people_on,
    who_sees,
)
from grants.db import db, utcnow
from grants.errors import FieldsRefused, OperationRefused
from grants.notifications.notify import notify

EXCERPT = 500


def _checked_body(body: str | None) -> str:
    text = (body or "").strip()
    if not text:
        raise FieldsRefused(_("The comment was not saved."),
                            field_errors={"body": [_("Write a comment.")]})
    if len(text) > MAX_CHARS:
        raise FieldsRefused(_("The comment was not saved."), field_errors={"body": [
            _("At most %(max)d characters (now %(count)d).", max=MAX_CHARS, count=len(text))]})
    return text


def _mentions(application: Application, actor: User, text: str, audience: str,
              target_key: str, targets: dict[str, Target]) -> list[User]:
    """Whom the text mentions; refused when one of them would not see the thread."""
    people = people_on(application)
    mentioned = [u for u in find_mentions(text, people) if u.id != actor.id]
    if not mentioned:
        return []
    seeing = who_sees(application, audience, target_key, targets, mentioned)
    blind = [u for u in mentioned if u.id not in seeing]
    if blind:
        names = ", ".join(u.name for u in blind)
        message = (_("%(names)s cannot see this thread: it is for the team only (the lead, the "
                     "partners, the signatories and the coordinators). Remove the mention, or "
                     "start a thread that the steering group sees too.", names=names)
                   if audience != STEERING else
                   _("%(names)s cannot see this thread. Remove the mention.", names=names))
        raise FieldsRefused(_("The comment was not saved."), field_errors={"body": [message]})
    return mentioned


def _after(thread: CommentThread, **extra) -> dict:
    return {"thread": thread.id, "target": thread.target, "audience": thread.audience, **extra}


def _tell(application: Application, thread: CommentThread, target: Target,
          targets: dict[str, Target], actor: User, text: str, mentioned: list[User],
          participants: list[User]) -> None:
    """The people mentioned, and (for a reply) those who wrote in the thread before."""
    excerpt = text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + " …"
    link = {"application_id": application.id, "thread_id": thread.id}

    def mention_message():
        return (_("%(name)s mentioned you in a comment on “%(title)s”", name=actor.name,
                  title=application.title),
                _("On “%(part)s”:", part=target.label) + "\n\n" + excerpt)

    def reply_message():
        return (_("%(name)s replied in a thread on “%(title)s”", name=actor.name,
                  title=application.title),
                _("On “%(part)s”:", part=target.label) + "\n\n" + excerpt)

    if mentioned:
        notify(mentioned, "comment_mention", mention_message, application_id=application.id,
               endpoint="comments.thread", url_values=link)
    told = {u.id for u in mentioned} | {actor.id}
    others = [u for u in participants if u.id not in told]
    if others:
        seeing = who_sees(application, thread.audience, thread.target, targets, others)
        others = [u for u in others if u.id in seeing]
        if others:
            notify(others, "comment_reply", reply_message, application_id=application.id,
                   endpoint="comments.thread", url_values=link)


def open_thread(*, application: Application, actor: User, roles: set[str], target: Target,
                targets: dict[str, Target], audience: str, body: str | None) -> CommentThread:
    """A new thread on `target` for `audience`, with its first comment."""
    if target.key not in targets:
        raise OperationRefused(_("This part of the application cannot be commented on."))
    choices = audience_choices(application, actor, roles)
    if audience not in AUDIENCES or audience not in choices:
        raise FieldsRefused(_("The comment was not saved."), field_errors={"audience": [
            _("Choose who sees the thread.") if choices else
            _("You cannot start a thread on this application.")]})
    text = _checked_body(body)
    mentioned = _mentions(application, actor, text, audience, target.key, targets)
    thread = CommentThread(application_id=application.id, target=target.key, audience=audience,
                           status=OPEN, created_by_id=actor.id, created_at=utcnow())
    db.session.add(thread)
    db.session.flush()
    comment = _add_comment(thread, actor, text, mentioned)
    audit("comment.thread", actor=actor, object_type="application", object_id=application.id,
          after=_after(thread, comment=text, id=comment.id))
    _tell(application, thread, target, targets, actor, text, mentioned, [])
    db.session.commit()
    return thread


def _add_comment(thread: CommentThread, actor: User, text: str,
                 mentioned: list[User]) -> Comment:
    comment = Comment(thread_id=thread.id, author_id=actor.id, body=text, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    for user in mentioned:
        db.session.add(CommentMention(comment_id=comment.id, user_id=user.id))
    return comment


def reply(*, application: Application, actor: User, roles: set[str], thread: CommentThread,
          targets: dict[str, Target], target: Target, body: str | None) -> Comment:
    """A reply in an open thread the actor sees."""
    if not may_see(thread, application, actor, roles, targets):
        raise OperationRefused(_("This thread is not there."))
    if thread.status != OPEN:
        raise OperationRefused(_("The thread is resolved. Reopen it to reply."))
    text = _checked_body(body)
    mentioned = _mentions(application, actor, text, thread.audience, thread.target, targets)
    participants = list(db.session.scalars(
        select(User).join(Comment, Comment.author_id == User.id)
        .where(Comment.thread_id == thread.id).distinct().order_by(User.id)))
    comment = _add_comment(thread, actor, text, mentioned)
    audit("comment.reply", actor=actor, object_type="application", object_id=application.id,
          after=_after(thread, comment=text, id=comment.id))
    _tell(application, thread, target, targets, actor, text, mentioned, participants)
    db.session.commit()
    return comment


def set_resolved(*, application: Application, actor: User, roles: set[str],
                 thread: CommentThread, targets: dict[str, Target], resolved: bool) -> None:
    """Resolve an open thread, or reopen a resolved one: the lead, a coordinator or the
    thread's author."""
    if not may_see(thread, application, actor, roles, targets):
        raise OperationRefused(_("This thread is not there."))
    if not may_resolve(thread, actor, roles):
        raise OperationRefused(_("Only the project lead, a coordinator or whoever started the "
                                 "thread can resolve or reopen it."))
    wanted = RESOLVED if resolved else OPEN
    if thread.status == wanted:
        raise OperationRefused(_("The thread is already resolved.") if resolved
                               else _("The thread is already open."))
    before = {"status": thread.status}
    thread.status = wanted
    thread.resolved_by_id = actor.id if resolved else None
    thread.resolved_at = utcnow() if resolved else None
    audit("comment.resolve" if resolved else "comment.reopen", actor=actor,
          object_type="application", object_id=application.id, before=before,
          after=_after(thread, status=wanted))
    db.session.commit()
