"""The endpoints' signing secrets: made by the app, shown once, stored encrypted (Fernet,
with a key derived from SECRET_KEY). A new SECRET_KEY makes the stored secrets unreadable:
rotate every endpoint's secret then (docs/integration.md)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet
from flask import current_app


def _fernet() -> Fernet:
    key = hashlib.sha256(b"grants-webhook-secret:" + current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
