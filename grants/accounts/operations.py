"""Account operations: authentication, ending sessions, changing and resetting passwords.
Each changing function is one transaction."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from grants.accounts.models import PasswordReset, User
from grants.audit import audit
from grants.db import db, utcnow
from grants.errors import FieldsRefused, OperationRefused
from grants.notifications.mail import absolute_url, queue_email
from grants.notifications.models import Invitation
from grants.tokens import claim, find_valid, new_token

logger = logging.getLogger(__name__)

# Compared against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
RESET_VALID_FOR = timedelta(hours=1)
INVITATION_VALID_FOR = timedelta(days=7)
MIN_PASSWORD_LENGTH = 12


def _find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    user = _find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active_account:
        return None
    return user


def create_user(*, email: str, name: str, password: str, is_coordinator: bool = False) -> User:
    user = User(email=email.strip().lower(), name=name, is_coordinator=is_coordinator)
    user.set_password(password)
    db.session.add(user)
    return user


def set_user_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def _audit(user: User, action: str) -> None:
    # Never the password or its hash: only that it happened, and by whom.
    audit(actor_id=user.id, action=action, object_type="user",
          object_id=user.id, before=None, after=None)


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session cookie and remember-me cookie carries the
    session generation, which no longer matches (grants.web.load_user)."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_generation=User.session_generation + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(user)


def change_password(user: User, *, current: str, new: str) -> User:
    """A logged-in user changes their password: the current one is required. Every other
    session of the account ends (the caller logs the current one in again)."""
    if not user.check_password(current or ""):
        raise FieldsRefused(_("Your password was not changed: check the fields marked below."),
                            field_errors={"current_password": [_("This is not your current "
                                                                 "password.")]})
    if current == new:
        raise FieldsRefused(_("Your password was not changed: check the fields marked below."),
                            field_errors={"new_password": [_("Choose a password other than "
                                                             "your current one.")]})
    _set_password_ending_sessions(user, new)
    _audit(user, "user.password_change")
    db.session.commit()
    logger.info("user %s changed their password", user.id)
    return user


def _set_password_ending_sessions(user: User, password: str) -> None:
    """The new password; every session of the account ends, and no reset link works."""
    user.set_password(password)
    user.session_generation += 1
    _void_reset_links(user)


def _void_reset_links(user: User) -> None:
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                   PasswordReset.used_at.is_(None))
                       .values(used_at=utcnow()).execution_options(synchronize_session=False))


def request_password_reset(email: str) -> None:
    """Email a single-use link valid for one hour – if an active account has this address.
    The caller answers the same either way, so nobody learns which addresses have accounts."""
    user = _find_by_email(email)
    if user is None or not user.is_active_account:
        new_token()  # about the same work either way
        return
    token, digest = new_token()
    db.session.add(PasswordReset(user_id=user.id, token_hash=digest,
                                 expires_at=utcnow() + RESET_VALID_FOR))
    link = absolute_url("accounts.reset_password", token=token)
    with force_locale(user.locale or "sv"):
        queue_email(user.email, _("Choose a new password for Grants"), _(
            "Hello %(name)s,\n\nSomeone – hopefully you – asked to reset the password of your "
            "account in Grants. Choose a new password here (the link works once and for one "
            "hour):\n%(link)s\n\nIf you did not ask for this, ignore this email: your password "
            "stays as it is.\n", name=user.name, link=link))
    _audit(user, "user.password_reset_requested")
    db.session.commit()


def valid_reset(token: str) -> PasswordReset | None:
    """The unused, unexpired reset row of this link, or None."""
    reset = find_valid(PasswordReset, token)
    if reset is None:
        return None
    user = db.session.get(User, reset.user_id)
    if user is None or not user.is_active_account:
        return None
    return reset


def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link: the link is claimed with a conditional update
    (so it works once, even when used twice at the same moment), every other reset link of the
    account is voided, and every session of the account ends."""
    refused = _("This link is not valid any more: it has been used or is more than an hour "
                "old. Ask for a new one.")
    reset = valid_reset(token)
    if reset is None:
        raise OperationRefused(refused)
    if not claim(PasswordReset, reset):
        db.session.rollback()
        raise OperationRefused(refused)
    user = db.session.get(User, reset.user_id)
    _set_password_ending_sessions(user, new)
    _audit(user, "user.password_reset")
    db.session.commit()
    logger.info("user %s reset their password", user.id)
    return user


def find_user_by_email(email: str) -> User | None:
    return _find_by_email(email)


def add_invited_user(*, email: str, name: str, organisations: list,
                     locale: str | None = None) -> tuple[User, str]:
    """A new account without a usable password, and the single-use link (valid for
    `INVITATION_VALID_FOR`) with which the person chooses one (`accept_invitation`). The caller
    emails the link in its own words and commits."""
    user = User(email=email.strip().lower(), name=name, locale=locale)
    user.set_password(secrets.token_urlsafe(32))  # unusable until the invitation is accepted
    user.organisations = list(organisations)
    db.session.add(user)
    db.session.flush()
    token, digest = new_token()
    db.session.add(Invitation(user_id=user.id, token_hash=digest,
                              expires_at=utcnow() + INVITATION_VALID_FOR))
    return user, absolute_url("accounts.accept_invitation", token=token)


def has_pending_invitation(user_id: int) -> bool:
    """Whether the account was invited and has not chosen its password yet."""
    return db.session.scalar(select(func.count(Invitation.id)).where(
        Invitation.user_id == user_id, Invitation.used_at.is_(None),
        Invitation.expires_at >= utcnow())) > 0


def pending_invitations(user_ids: list[int]) -> set[int]:
    """Of these accounts, those with an invitation not accepted yet (one query)."""
    if not user_ids:
        return set()
    return set(db.session.scalars(select(Invitation.user_id).where(
        Invitation.user_id.in_(user_ids), Invitation.used_at.is_(None),
        Invitation.expires_at >= utcnow())))


def void_pending_invitations(user_id: int) -> int:
    """Make the account's unused invitation links void (e.g. the person was named by mistake
    and replaced before accepting). Returns how many."""
    return db.session.execute(update(Invitation).where(
        Invitation.user_id == user_id, Invitation.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def accept_invitation(token: str, password: str) -> User:
    """An invited person chooses their password through the link (once)."""
    invitation = find_valid(Invitation, token)
    if invitation is None or not claim(Invitation, invitation):
        db.session.rollback()
        raise OperationRefused(_("This invitation link is not valid any more. Ask your "
                                 "coordinator for a new one."))
    user = db.session.get(User, invitation.user_id)
    _set_password_ending_sessions(user, password)
    audit(actor_id=user.id, action="user.accept_invitation",
          object_type="user", object_id=user.id, before=None, after=None)
    db.session.commit()
    return user
