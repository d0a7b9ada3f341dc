"""Account operations: authentication (and, later, invitations and password changes)."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from grants.accounts.models import User
from grants.db import db

# Compared against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
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
