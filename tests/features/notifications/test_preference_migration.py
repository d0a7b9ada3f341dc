"""The single switch "in the app only" becomes a choice per category, and back."""

import sqlalchemy as sa

from grants import create_app
from grants.config import PROJECT_ROOT
from grants.db import db
from tests.conftest import make_settings

BEFORE = "3f1c9a7e5b20"  # the revision before this one
CATEGORIES = {"action", "confirmation", "vote", "reminder", "decision", "state"}


def test_in_app_only_becomes_app_for_every_category(tmp_path):
    from flask_migrate import downgrade, upgrade  # noqa: PLC0415
    database_url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app(settings=make_settings(tmp_path, database_url, "redis://unused"))
    directory = str(PROJECT_ROOT / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision=BEFORE)
        with db.engine.begin() as conn:
            for number, (address, by_email) in enumerate([("mail@x.test", True),
                                                          ("app@x.test", False)], start=1):
                conn.execute(sa.text(
                    "INSERT INTO user_account (id, email, name, password_hash, "
                    "is_active_account, is_coordinator, notify_by_email, session_generation, "
                    "created_at) VALUES (:id, :email, 'N', 'x', :t, :f, :mail, 0, "
                    "'2026-01-01 00:00:00')"), {"id": number, "email": address, "t": True,
                                                "f": False, "mail": by_email})
            conn.execute(sa.text(
                "INSERT INTO notification (user_id, kind, subject, body, link, emailed, "
                "created_at) VALUES (2, 'vote_awaited', 's', '', '', :f, "
                "'2026-01-01 00:00:00')"), {"f": False})
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT user_id, category, delivery FROM notification_preference")).all()
            assert {(u, d) for u, _c, d in rows} == {(2, "app")}
            assert {c for _u, c, _d in rows} == CATEGORIES
            # An old notification is not waiting for a digest.
            assert conn.execute(sa.text("SELECT delivery FROM notification")).scalar() == "app"
            assert "notify_by_email" not in {
                c["name"] for c in sa.inspect(conn).get_columns("user_account")}
        downgrade(directory=directory, revision=BEFORE)
        with db.engine.connect() as conn:
            assert dict(conn.execute(sa.text(
                "SELECT email, notify_by_email FROM user_account")).all()) == {
                "mail@x.test": True, "app@x.test": False}
        db.engine.dispose()
