"""Settings read from the environment, with safe defaults for a newcomer.

Everything a deployment changes comes from environment variables:

- ``DATABASE_URL``   SQLAlchemy URL (``postgresql+psycopg://...``); default: SQLite in
  ``instance/``.
- ``REDIS_URL``      external Redis; default: an embedded Redis started by the process itself.
- ``SECRET_KEY``     required when ``GRANTS_ENV=production``.
- ``GRANTS_ENV``     ``development`` (default), ``production`` or ``testing``.
- ``GRANTS_DEMO``    ``1`` enables demo mode (demo accounts may be seeded).
- ``GRANTS_RQ_QUEUE_PREFIX``  prefix of RQ queue names, to share one Redis between deployments.
- ``GRANTS_PUBLIC_URL``  the address users reach the app at, e.g. ``https://bidrag.example.se``.
  Every link in an email is built from it, never from a request's Host header (which a client
  chooses: a forged Host would otherwise put the attacker's address into a password-reset link).
  Required in production; default ``http://127.0.0.1:5000``.
- ``GRANTS_WORKER_MEMORY_MB``  memory cap of each work-horse (the process that runs one job), so a
  runaway render fails with MemoryError instead of being killed (grants/jobs/memory.py);
  default 1536, 0 = off.
- ``GRANTS_SWEEP_INTERVAL_SECONDS``  how often a worker started ``--with-scheduler`` runs the
  sweeper (lost jobs back onto the queue); default 300.
- ``GRANTS_JOB_HEARTBEAT_SECONDS``  how often a running job says it is alive; a job silent for three
  times this long counts as abandoned (its worker died) and the sweeper re-enqueues it; default 5.
- ``GRANTS_DIGEST_HOUR``  the hour (Stockholm time, 0–23) of the daily summary email of
  notifications; default 7.
- ``GRANTS_PRESENCE_SECONDS``  how long "is editing this section now" lasts after the editor's
  page last said so (it renews it every third of this while open); default 30.

The seal on the archival PDF/A (PAdES-B-T, `grants/documents/signatures.py`, docs/integration.md);
without a key the PDFs are made unsigned:

- ``GRANTS_SIGNING_PKCS12``, ``GRANTS_SIGNING_PKCS12_PASSWORD``  the seal's key and certificate
  chain in a PKCS#12 file, and its password.
- ``GRANTS_SIGNING_PKCS11_MODULE``, ``GRANTS_SIGNING_PKCS11_TOKEN_LABEL``,
  ``GRANTS_SIGNING_PKCS11_KEY_LABEL``, ``GRANTS_SIGNING_PKCS11_PIN``  or the key on a PKCS#11
  token (an HSM, a smart card): the module's path, the token, the key's label and the PIN.
- ``GRANTS_TSA_URL``  the RFC 3161 time-stamping authority whose timestamp every seal carries;
  required when a key is set.
- ``GRANTS_SIGNING_TRUST_ROOTS``  PEM file of the roots a seal is validated against.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The Flask config's key of each environment variable of signing (grants/documents/signatures.py).
SIGNING_KEYS = {"SIGNING_PKCS12": "GRANTS_SIGNING_PKCS12",
                "SIGNING_PKCS12_PASSWORD": "GRANTS_SIGNING_PKCS12_PASSWORD",
                "SIGNING_PKCS11_MODULE": "GRANTS_SIGNING_PKCS11_MODULE",
                "SIGNING_PKCS11_TOKEN_LABEL": "GRANTS_SIGNING_PKCS11_TOKEN_LABEL",
                "SIGNING_PKCS11_KEY_LABEL": "GRANTS_SIGNING_PKCS11_KEY_LABEL",
                "SIGNING_PKCS11_PIN": "GRANTS_SIGNING_PKCS11_PIN",
                "SIGNING_TSA_URL": "GRANTS_TSA_URL",
                "SIGNING_TRUST_ROOTS": "GRANTS_SIGNING_TRUST_ROOTS"}


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs name the driver implicitly; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = ""
    database_url: str = ""
    redis_url: str = ""
    instance_path: Path = PROJECT_ROOT / "instance"
    workflows_path: Path = PROJECT_ROOT / "workflows"
    demo_mode: bool = False
    queue_prefix: str = "grants"
    max_upload_bytes: int = 20 * 1024 * 1024
    public_url: str = "http://127.0.0.1:5000"
    job_timeout_seconds: int = 180
    worker_memory_mb: int = 1536
    sweep_interval_seconds: int = 300
    digest_hour: int = 7
    job_heartbeat_seconds: int = 5
    presence_seconds: int = 30
    signing: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        env = environ.get("GRANTS_ENV", "development")
        instance = Path(environ.get("GRANTS_INSTANCE_PATH", PROJECT_ROOT / "instance"))
        secret = environ.get("SECRET_KEY", "")
        if env == "production":
            _check_production_secret(secret)
            _check_production_public_url(environ.get("GRANTS_PUBLIC_URL", ""))
        if not secret:
            secret = _development_secret(instance)
        database_url = environ.get("DATABASE_URL") or f"sqlite:///{instance / 'grants.sqlite3'}"
        return cls(
            env=env,
            secret_key=secret,
            database_url=_normalise_database_url(database_url),
            redis_url=environ.get("REDIS_URL", ""),
            instance_path=instance,
            workflows_path=Path(environ.get("GRANTS_WORKFLOWS_PATH", PROJECT_ROOT / "workflows")),
            demo_mode=environ.get("GRANTS_DEMO", "") in {"1", "true", "yes"},
            queue_prefix=environ.get("GRANTS_RQ_QUEUE_PREFIX", "grants"),
            max_upload_bytes=int(environ.get("GRANTS_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
            public_url=environ.get("GRANTS_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
            worker_memory_mb=int(environ.get("GRANTS_WORKER_MEMORY_MB", 1536)),
            sweep_interval_seconds=max(1, int(environ.get("GRANTS_SWEEP_INTERVAL_SECONDS", 300))),
            digest_hour=min(23, max(0, int(environ.get("GRANTS_DIGEST_HOUR", 7)))),
            job_heartbeat_seconds=max(1, int(environ.get("GRANTS_JOB_HEARTBEAT_SECONDS", 5))),
            presence_seconds=max(3, int(environ.get("GRANTS_PRESENCE_SECONDS", 30))),
            signing={key: environ.get(name, "") for key, name in SIGNING_KEYS.items()},
        )

    def to_flask(self) -> dict[str, Any]:
        data = asdict(self)
        flask_config = {
            "ENV_NAME": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "REDIS_URL": self.redis_url,
            "WORKFLOWS_PATH": str(self.workflows_path),
            "DEMO_MODE": self.demo_mode,
            "RQ_QUEUE_PREFIX": self.queue_prefix,
            "MAX_CONTENT_LENGTH": self.max_upload_bytes,
            "JOB_TIMEOUT_SECONDS": self.job_timeout_seconds,
            "WORKER_MEMORY_MB": self.worker_memory_mb,
            "SWEEP_INTERVAL_SECONDS": self.sweep_interval_seconds,
            "DIGEST_HOUR": self.digest_hour,
            "JOB_HEARTBEAT_SECONDS": self.job_heartbeat_seconds,
            "PRESENCE_SECONDS": self.presence_seconds,
            "PUBLIC_URL": self.public_url,
            **{key: self.signing.get(key, "") for key in SIGNING_KEYS},
            "TESTING": self.env == "testing",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.env == "production",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.env == "production",
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": "sv",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        }
        flask_config.update(data["extra"])
        return flask_config


# Values people paste from examples: never a production key.
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "secret-key", "dev", "development",
                        "test", "testing", "please-change-me", "your-secret-key"}
MIN_SECRET_LENGTH = 32


def _check_production_public_url(url: str) -> None:
    """Links in emails (invitations, password resets, notifications) point here."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError("GRANTS_PUBLIC_URL must be set in production to the address users "
                          "reach the app at, e.g. https://bidrag.example.se: links in emails "
                          "are built from it.")


def _check_production_secret(secret: str) -> None:
    """In production the key must be set, long, and not a placeholder: sessions, CSRF tokens
    and the remember-me cookie are only as strong as this key."""
    advice = ("Set SECRET_KEY to a long random string, e.g. "
              "python -c 'import secrets; print(secrets.token_hex(32))'.")
    if not secret:
        raise ConfigError("SECRET_KEY must be set in production. " + advice)
    if secret.strip().lower() in _PLACEHOLDER_SECRETS or len(set(secret)) < 8:
        raise ConfigError("SECRET_KEY is a placeholder, not a secret. " + advice)
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"SECRET_KEY is too short for production (at least "
                          f"{MIN_SECRET_LENGTH} characters). " + advice)


def _development_secret(instance: Path) -> str:
    """A per-checkout random key kept in instance/, so sessions survive restarts in development."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
