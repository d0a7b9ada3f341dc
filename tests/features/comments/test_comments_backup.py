"""Comment threads, comments and mentions move with a backup like every other row (they are
data of their own, not derived: the import restores them as they were)."""

from __future__ import annotations

import sqlalchemy as sa

from grants.applications.models import Application
from grants.comments.models import Comment, CommentMention, CommentThread
from grants.db import db, utcnow
from tests.features.backup.test_backup import _dump, empty_target, new_database, source  # noqa: F401

TABLES = ("comment_thread", "comment", "comment_mention")


def test_threads_comments_and_mentions_survive_export_and_import(source, empty_target,  # noqa: F811
                                                                 tmp_path):
    with source.app_context():
        application = db.session.scalar(sa.select(Application))
        lead = application.lead_user_id
        thread = CommentThread(application_id=application.id, target="summary",
                               audience="steering", status="resolved", created_by_id=lead,
                               resolved_by_id=lead, resolved_at=utcnow())
        db.session.add(thread)
        db.session.flush()
        comment = Comment(thread_id=thread.id, author_id=lead,
                          body="Åsa & Örjan: \"citat\" 📚\nrad två", edited_at=utcnow())
        db.session.add(comment)
        db.session.flush()
        db.session.add(CommentMention(comment_id=comment.id, user_id=lead))
        db.session.commit()
        before = {name: rows for name, rows in _dump(db.engine).items() if name in TABLES}
    backup = tmp_path / "backup.zip"
    assert source.test_cli_runner().invoke(args=["export", "--out", str(backup)]).exit_code == 0
    result = empty_target.test_cli_runner().invoke(args=["import", str(backup)])
    assert result.exit_code == 0, result.output
    with empty_target.app_context():
        after = {name: rows for name, rows in _dump(db.engine).items() if name in TABLES}
    assert after == before and all(before[name] for name in TABLES)
