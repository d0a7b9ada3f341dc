"""Backup and restore of the whole database, between any two databases the app runs on
(SQLite ↔ PostgreSQL): `flask --app wsgi export --out FILE` and `flask --app wsgi import FILE`.

The file is a zip:

- ``manifest.json``: format, time, the schema revision (Alembic) of the source, and per table
  its row count and the SHA-256 of its data file; per stored file (generated documents and
  uploads) its table, id and SHA-256.
- ``tables/<table>.jsonl``: one JSON object per row, every column; bytes as base64, times as
  ISO 8601 with their UTC offset, dates as ISO dates, enums by value.

The exported data is deterministic: rows in primary-key order (text keys in byte order on every
database), keys sorted, no spaces. ``data_sha256`` in the manifest – printed by export and
import – is the SHA-256 of the canonical JSON of the tables' names, row counts and data
SHA-256s: the same data gives the same digest whichever database it was exported from
(SQLite → PostgreSQL → SQLite gives one digest).

Rows of the audit log, frozen submissions and their documents are refused UPDATE and DELETE
by database triggers; import only INSERTs into an empty database, so the triggers stay in place
and need no exception.

Tables are written and read in dependency order (`metadata.sorted_tables`), so foreign keys hold
while importing. The import goes into an empty database with the same schema (`flask db upgrade`
first), in one transaction: it checks every count and every SHA-256 – of the data files, and of
each document's content against both the manifest and the row's own `sha256` – before it
commits, and refuses a database that already holds data. On PostgreSQL the id sequences are moved
past the imported ids."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from grants.canonical import fingerprint
from grants.db import UTCDateTime, db, utcnow

FORMAT = "grants-backup/1"
BATCH = 200
# Tables whose rows hold file content, checked by SHA-256 on both sides.
FILE_TABLES = {"document": "content", "attachment": "content"}


class BackupError(RuntimeError):
    """The backup cannot be written or restored; nothing was changed."""


@dataclass
class Summary:
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    revision: str | None = None
    data_sha256: str = ""

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        return (f"{rows} rows in {len(self.tables)} tables, {self.files} stored files "
                f"(SHA-256 checked), schema revision {self.revision or 'unknown'}, "
                f"data SHA-256 {self.data_sha256}")


def data_sha256(tables: list[dict[str, Any]]) -> str:
    """The digest of the exported data: every table's name, row count and data SHA-256."""
    return fingerprint([{"name": t["name"], "rows": t["rows"], "sha256": t["sha256"]}
                        for t in tables])


# --- values ------------------------------------------------------------------------------------
def _is_text(column: sa.Column) -> bool:
    return isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum)


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON)


def _encode(column: sa.Column, value: Any, sql_null: bool = False) -> Any:
    if _is_json(column):
        # {"json": value} keeps a stored JSON null apart from an SQL NULL (None).
        return None if sql_null else {"json": value}
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(column.type, sa.Enum):
        return value.value
    return value


def _decode(column: sa.Column, value: Any) -> Any:
    if _is_json(column):
        if value is None:
            return None
        return sa.JSON.NULL if value["json"] is None else value["json"]
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, UTCDateTime) or isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        return kind.enum_class(value)
    return value


def _tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


# --- export ------------------------------------------------------------------------------------
def export_database(out: BinaryIO | Path) -> Summary:
    """Write every table of the app's database to `out` (a path or a binary file)."""
    summary = Summary()
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": utcnow().isoformat(),
                                "tables": [], "files": []}
    with db.engine.connect() as connection, zipfile.ZipFile(out, "w",
                                                            zipfile.ZIP_DEFLATED) as archive:
        # One snapshot of the data: a repeatable read on PostgreSQL (SQLite reads in one
        # transaction anyway), so rows of different tables agree with each other.
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
                                       "READ ONLY"))
        summary.revision = manifest["revision"] = _revision(connection)
        for table in _tables():
            digest, count = hashlib.sha256(), 0
            order = [c.collate("C") if postgres and _is_text(c) else c
                     for c in (list(table.primary_key.columns) or list(table.columns))]
            with archive.open(f"tables/{table.name}.jsonl", "w") as member:
                flags = [c.is_(None).label(f"null_{i}") for i, c in enumerate(table.columns)
                         if _is_json(c)]
                result = connection.execution_options(yield_per=BATCH).execute(
                    sa.select(*table.columns, *flags).order_by(*order))
                for row in result.mappings():
                    data = {c.name: _encode(c, row[c.name], bool(row.get(f"null_{i}")))
                            for i, c in enumerate(table.columns)}
                    line = (json.dumps(data, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")) + "\n").encode("utf-8")
                    member.write(line)
                    digest.update(line)
                    count += 1
                    if table.name in FILE_TABLES:
                        content = row[FILE_TABLES[table.name]] or b""
                        manifest["files"].append({
                            "table": table.name, "id": row["id"], "size": len(content),
                            "sha256": hashlib.sha256(bytes(content)).hexdigest()})
            manifest["tables"].append({"name": table.name, "rows": count,
                                       "sha256": digest.hexdigest()})
            summary.tables[table.name] = count
        summary.files = len(manifest["files"])
        summary.data_sha256 = manifest["data_sha256"] = data_sha256(manifest["tables"])
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return summary


# --- import ------------------------------------------------------------------------------------
def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupError("This is not a grants backup (no readable manifest.json).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}; this version "
                          f"reads {FORMAT}.")
    return manifest


def import_database(source: BinaryIO | Path) -> Summary:
    """Load a backup into the app's (empty) database. Everything or nothing."""
    summary = Summary()
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise BackupError("This is not a grants backup (not a zip file).") from exc
    with archive:
        manifest = read_manifest(archive)
        summary.revision = manifest.get("revision")
        summary.data_sha256 = data_sha256(manifest["tables"])
        if manifest.get("data_sha256", summary.data_sha256) != summary.data_sha256:
            raise BackupError("The manifest is damaged (its data SHA-256 does not match its "
                              "tables); nothing was imported.")
        expected_files = {(f["table"], f["id"]): f["sha256"] for f in manifest["files"]}
        tables = {t.name: t for t in _tables()}
        listed = [entry["name"] for entry in manifest["tables"]]
        unknown = [name for name in listed if name not in tables]
        if unknown:
            raise BackupError("The backup has tables this version does not know: "
                              f"{', '.join(unknown)}. Upgrade the app first.")
        engine = db.engine
        with engine.begin() as connection:
            inspector = sa.inspect(connection)
            missing = [name for name in tables if not inspector.has_table(name)]
            if missing:
                raise BackupError("The target database lacks tables "
                                  f"({', '.join(missing)}): run `flask --app wsgi db upgrade` "
                                  "on it first.")
            target_revision = _revision(connection)
            if target_revision and summary.revision and target_revision != summary.revision:
                raise BackupError(f"The backup is of schema revision {summary.revision}, the "
                                  f"target database is at {target_revision}: upgrade both to "
                                  "the same release first.")
            busy = [name for name, table in tables.items()
                    if connection.execute(sa.select(sa.func.count()).select_from(table))
                    .scalar()]
            if busy:
                raise BackupError("The target database is not empty (rows in "
                                  f"{', '.join(busy)}); import only into a new database.")
            seen_files: dict[tuple[str, int], str] = {}
            for entry in manifest["tables"]:
                table = tables[entry["name"]]
                count = _load_table(connection, archive, table, entry, seen_files)
                summary.tables[table.name] = count
            if seen_files != expected_files:
                raise BackupError("The stored files do not match the manifest; nothing was "
                                  "imported.")
            summary.files = len(seen_files)
            if connection.dialect.name == "postgresql":
                _move_sequences(connection, tables.values())
    return summary


def _load_table(connection: sa.Connection, archive: zipfile.ZipFile, table: sa.Table,
                entry: dict[str, Any], seen_files: dict[tuple[str, int], str]) -> int:
    digest, count, batch = hashlib.sha256(), 0, []
    columns = {c.name: c for c in table.columns}
    # JSON columns bound so that None is an SQL NULL and JSON.NULL a JSON null, as exported.
    insert = table.insert().values({
        name: sa.bindparam(name, type_=sa.JSON(none_as_null=True) if _is_json(c) else c.type)
        for name, c in columns.items()})
    content_column = FILE_TABLES.get(table.name)
    try:
        member = archive.open(f"tables/{table.name}.jsonl")
    except KeyError as exc:
        raise BackupError(f"The backup lacks the data of table {table.name}.") from exc
    with member:
        for line in io.BufferedReader(member):
            digest.update(line)
            data = json.loads(line)
            row = {name: _decode(column, data.get(name)) for name, column in columns.items()}
            if content_column:
                content = row.get(content_column) or b""
                actual = hashlib.sha256(content).hexdigest()
                if row.get("sha256") and row["sha256"] != actual:
                    raise BackupError(f"{table.name} {row['id']}: its content does not match "
                                      "its SHA-256; nothing was imported.")
                seen_files[(table.name, row["id"])] = actual
            batch.append(row)
            count += 1
            if len(batch) >= BATCH:
                connection.execute(insert, batch)
                batch = []
    if batch:
        connection.execute(insert, batch)
    if digest.hexdigest() != entry["sha256"] or count != entry["rows"]:
        raise BackupError(f"The data of table {table.name} is damaged (count or SHA-256 "
                          "differs from the manifest); nothing was imported.")
    return count


def _move_sequences(connection: sa.Connection, tables) -> None:
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, sa.Integer):
            continue
        sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                      {"t": table.name, "c": key[0].name}).scalar()
        if sequence:
            connection.execute(sa.text(
                f'SELECT setval(:s, COALESCE((SELECT MAX("{key[0].name}") FROM "{table.name}"), '
                "0) + 1, false)"), {"s": sequence})
