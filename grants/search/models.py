"""The search index: one row per application with its text in three weights, and the
database's own full-text index over it (derived data: `flask --app wsgi search reindex`
rebuilds it from the applications).

`search_document` is an ordinary table (it is in the metadata, so a backup copies it like any
other and the digests agree). What makes it searchable is made by the database itself and is
not in the metadata:

- PostgreSQL: a generated column `document` (a tsvector with Swedish stemming: the title
  weighs A, partners, call, funder and reference numbers B, the sections C) and a GIN index.
- SQLite: an FTS5 table `search_fts` over `search_document` (external content, unicode61
  without removing diacritics: å, ä and ö stay letters of their own), kept current by three
  triggers.

Both are created with the table, by `create_all` (tests) and by the migration, so an import
into a new database fills them as its rows arrive."""

from __future__ import annotations

from sqlalchemy import DDL, ForeignKey, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import db

TABLE = "search_document"
FTS_TABLE = "search_fts"
TSVECTOR_COLUMN = "document"
GIN_INDEX = "ix_search_document_document"


class SearchDocument(db.Model):
    """What the search finds an application by, as plain text."""

    __tablename__ = TABLE

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    # Weight A: the title.
    title: Mapped[str] = mapped_column(Text, default="")
    # Weight B: lead and partner organisations, call, funder, the funder's references, the id.
    meta: Mapped[str] = mapped_column(Text, default="")
    # Weight C: the text of every section.
    body: Mapped[str] = mapped_column(Text, default="")


POSTGRESQL_CREATE = (
    f"ALTER TABLE {TABLE} ADD COLUMN {TSVECTOR_COLUMN} tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('swedish'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('swedish'::regconfig, coalesce(meta, '')), 'B') || "
    "setweight(to_tsvector('swedish'::regconfig, coalesce(body, '')), 'C')) STORED",
    f"CREATE INDEX {GIN_INDEX} ON {TABLE} USING gin ({TSVECTOR_COLUMN})",
)

_COLUMNS = "title, meta, body"
_NEW = "new.title, new.meta, new.body"
_OLD = "old.title, old.meta, old.body"
SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_COLUMNS}, "
    f"content='{TABLE}', content_rowid='application_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLUMNS}) VALUES (new.application_id, {_NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLUMNS}) "
    f"VALUES ('delete', old.application_id, {_OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_au AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLUMNS}) "
    f"VALUES ('delete', old.application_id, {_OLD}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLUMNS}) VALUES (new.application_id, {_NEW}); END",
)
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)

for _statement in POSTGRESQL_CREATE:
    event.listen(SearchDocument.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_CREATE:
    event.listen(SearchDocument.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_DROP:
    event.listen(SearchDocument.__table__, "before_drop",
                 DDL(_statement).execute_if(dialect="sqlite"))


def is_derived_schema_object(name: str | None, type_: str, _parent_names=None) -> bool:
    """The database's own search structures, which the metadata does not declare: the FTS5
    table and its shadow tables (SQLite), the tsvector column and its GIN index
    (PostgreSQL). Alembic's comparison skips them (`include_name`)."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")
    if type_ == "column":
        return name == TSVECTOR_COLUMN and (_parent_names or {}).get("table_name") == TABLE
    if type_ == "index":
        return name == GIN_INDEX
    return False
