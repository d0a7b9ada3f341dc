"""Readable differences between two versions of what an application says (pure Python).

Text is compared word by word with the standard library's `difflib.SequenceMatcher` (no
algorithm of our own); tables row by row, then cell by cell; numbers, choices and files as
"before → after". The input is the snapshot's own picture of a field (`field_snapshot`: type,
label, options, columns, value), so a version kept months ago reads with the labels it had.
The result is plain data: templates mark inserted and deleted text with <ins>/<del> and words
for screen readers, never with colour alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from babel.dates import format_date

SAME, ADDED, REMOVED = "same", "added", "removed"

# A word, a run of white space, or one other character: a diff of these keeps punctuation and
# line breaks where they were.
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)

TEXT_TYPES = frozenset({"text", "longtext", "richtext"})


@dataclass(frozen=True)
class Piece:
    kind: str   # same / added / removed
    text: str


@dataclass(frozen=True)
class CellChange:
    column: dict[str, Any]          # the column's picture (id, label, type)
    pieces: tuple[Piece, ...]

    @property
    def changed(self) -> bool:
        return any(p.kind != SAME for p in self.pieces)


@dataclass(frozen=True)
class RowChange:
    kind: str                        # same / added / removed / changed
    cells: tuple[CellChange, ...]


@dataclass(frozen=True)
class FieldChange:
    id: str
    label: dict[str, str] | None
    type: str
    pieces: tuple[Piece, ...] = ()          # text, and "before → after" of other kinds
    rows: tuple[RowChange, ...] = ()        # tables
    columns: tuple[dict[str, Any], ...] = ()

    @property
    def changed(self) -> bool:
        return any(p.kind != SAME for p in self.pieces) or any(r.kind != SAME
                                                               for r in self.rows)


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def word_diff(before: str | None, after: str | None) -> tuple[Piece, ...]:
    """The words of `after` marked against `before`: pieces of same, removed and added text,
    neighbours of one kind joined."""
    old, new = tokens(before or ""), tokens(after or "")
    pieces: list[Piece] = []

    def add(kind: str, words: list[str]) -> None:
        if not words:
            return
        text = "".join(words)
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))

    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    # White space alone between two changes joins them ("~~på Öland~~ i Kalmar", not a word
    # at a time), which reads far better.
    merged: list[list] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        lonely_space = (op == "equal" and 0 < index < len(opcodes) - 1
                        and all(t.isspace() for t in old[i1:i2]))
        if merged and merged[-1][0] != "equal" and (op != "equal" or lonely_space):
            merged[-1][2], merged[-1][4] = i2, j2
        else:
            merged.append([op if not lonely_space else "replace", i1, i2, j1, j2])
    for op, i1, i2, j1, j2 in merged:
        if op == "equal":
            add(SAME, old[i1:i2])
        else:
            add(REMOVED, old[i1:i2])
            add(ADDED, new[j1:j2])
    return tuple(pieces)


def _label_of(options: list[dict[str, Any]], value: Any, locale: str) -> str:
    for option in options or []:
        if option.get("value") == value:
            label = option.get("label") or {}
            return label.get(locale) or label.get("sv") or str(value)
    return "" if value in (None, "") else str(value)


def value_text(picture: dict[str, Any], value: Any, locale: str = "sv") -> str:
    """A value as a reader sees it: a choice's label, a file's name, yes/no, numbers as
    written; lists joined by commas."""
    kind = picture.get("type")
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, dict) and "filename" in value:
        return str(value["filename"])
    if kind == "yesno" and (isinstance(value, bool) or value in ("yes", "no")):
        yes = value is True or value == "yes"
        return ("ja" if yes else "nej") if locale == "sv" else ("yes" if yes else "no")
    if isinstance(value, list):
        return ", ".join(_label_of(picture.get("options") or [], v, locale) for v in value)
    if picture.get("options"):
        return _label_of(picture["options"], value, locale)
    if kind == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), format="long", locale=locale)
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = f"{value:,}".replace(",", "\u00a0")
        return f"{number}\u00a0kr" if kind == "money" else number
    return str(value)


def _whole(before: str, after: str) -> tuple[Piece, ...]:
    """A value replaced as a whole ("before → after"), or the same."""
    if before == after:
        return (Piece(SAME, after),) if after else ()
    return tuple(p for p in (Piece(REMOVED, before), Piece(ADDED, after)) if p.text)


def field_diff(before: dict[str, Any] | None, after: dict[str, Any] | None,
               locale: str = "sv") -> FieldChange:
    """The change of one field between two pictures of it (either may be missing: a field
    added to or removed from the form)."""
    picture = after or before or {}
    old = (before or {}).get("value")
    new = (after or {}).get("value")
    kind = picture.get("type", "text")
    if kind == "table":
        columns = tuple(picture.get("columns") or ())
        return FieldChange(picture.get("id", ""), picture.get("label"), kind,
                           rows=table_diff(columns, old or [], new or [], locale),
                           columns=columns)
    if kind in TEXT_TYPES and not picture.get("options"):
        pieces = word_diff(value_text(picture, old, locale), value_text(picture, new, locale))
    else:
        pieces = _whole(value_text(picture, old, locale), value_text(picture, new, locale))
    return FieldChange(picture.get("id", ""), picture.get("label"), kind, pieces=pieces)


def _cells(columns, row: dict[str, Any], locale: str) -> tuple[str, ...]:
    return tuple(value_text(c, (row or {}).get(c["id"]), locale) for c in columns)


def table_diff(columns, before: list[dict[str, Any]], after: list[dict[str, Any]],
               locale: str = "sv") -> tuple[RowChange, ...]:
    """Rows kept, added and removed (matched on all their cells); a removed row followed by an
    added one in the same place is one changed row, its cells compared word by word."""
    old = [_cells(columns, r, locale) for r in before]
    new = [_cells(columns, r, locale) for r in after]
    rows: list[RowChange] = []

    def row(kind: str, cells_before, cells_after) -> RowChange:
        return RowChange(kind, tuple(
            CellChange(c, (word_diff(b, a) if c.get("type") in TEXT_TYPES else _whole(b, a))
                       if kind == "changed" else
                       ((Piece(kind if kind != "same" else SAME, a if kind != REMOVED else b),)
                        if (a if kind != REMOVED else b) else ()))
            for c, b, a in zip(columns, cells_before, cells_after, strict=True)))

    blank = tuple("" for _ in columns)
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            rows.extend(row(SAME, o, o) for o in old[i1:i2])
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(paired):
            rows.append(row("changed", old[i1 + k], new[j1 + k]))
        rows.extend(row(REMOVED, o, blank) for o in old[i1 + paired:i2])
        rows.extend(row(ADDED, blank, n) for n in new[j1 + paired:j2])
    return tuple(rows)


# --- whole snapshots ---------------------------------------------------------------------


@dataclass(frozen=True)
class SectionChange:
    key: str
    title: dict[str, str] | None
    partner: str | None
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class ListChange:
    """Rows of a list (budget lines, co-financing, partners) added and removed, each as the
    plain dict it is in the snapshot."""
    added: tuple[dict[str, Any], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class SnapshotChange:
    title: tuple[Piece, ...]
    sections: tuple[SectionChange, ...]
    partners: ListChange
    budget_lines: ListChange
    cofinancing: ListChange
    totals: tuple[tuple[str, int | None, int | None], ...] = field(default=())

    @property
    def changed(self) -> bool:
        return (any(p.kind != SAME for p in self.title) or bool(self.sections)
                or self.partners.changed or self.budget_lines.changed
                or self.cofinancing.changed or bool(self.totals))


def _instance(section: dict[str, Any]) -> str:
    partner = section.get("partner")
    return section["key"] if not partner else f"{section['key']}@{partner['id']}"


def list_diff(before: list[dict[str, Any]], after: list[dict[str, Any]],
              keys: tuple[str, ...]) -> ListChange:
    """Rows added and removed, a row being what it says in `keys` (a changed row is one
    removed and one added)."""
    def ident(row: dict[str, Any]) -> tuple:
        return tuple(str(row.get(k)) for k in keys)
    remaining = list(after)
    removed = []
    for row in before:
        match = next((i for i, other in enumerate(remaining) if ident(other) == ident(row)),
                     None)
        if match is None:
            removed.append(row)
        else:
            remaining.pop(match)
    return ListChange(added=tuple(remaining), removed=tuple(removed))


LINE_KEYS = ("organisation", "category", "year", "description", "amount")
COFINANCING_KEYS = ("organisation", "kind", "source", "year", "description", "amount")
PARTNER_KEYS = ("name", "contact_name", "contact_email")


def partner_rows(partners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The partners taking part, each with its contact."""
    return [{"name": p["name"], "contact_name": (p.get("contact") or {}).get("name", ""),
             "contact_email": (p.get("contact") or {}).get("email", "")}
            for p in partners if p.get("status") != "removed"]


def budget_diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[ListChange, ListChange]:
    """(cost lines, co-financing rows) added and removed between two budget pictures."""
    return (list_diff(before.get("lines", []), after.get("lines", []), LINE_KEYS),
            list_diff(before.get("cofinancing", []), after.get("cofinancing", []),
                      COFINANCING_KEYS))


def snapshot_diff(before: dict[str, Any], after: dict[str, Any],
                  locale: str = "sv", only: set[str] | None = None) -> SnapshotChange:
    """Everything that differs between two snapshots (`applications.snapshot.build_snapshot`):
    the title, each section instance's fields, partners, budget lines, co-financing and the
    totals. `only`: the section instance keys to compare (e.g. what a partner vouches for);
    None: all of them."""
    old_sections = {_instance(s): s for s in before.get("sections", [])}
    new_sections = {_instance(s): s for s in after.get("sections", [])}
    order = [k for k in new_sections] + [k for k in old_sections if k not in new_sections]
    sections = []
    for key in order:
        if only is not None and key not in only:
            continue
        old, new = old_sections.get(key, {}), new_sections.get(key, {})
        old_fields = {f["id"]: f for f in old.get("fields", [])}
        new_fields = {f["id"]: f for f in new.get("fields", [])}
        ids = list(new_fields) + [i for i in old_fields if i not in new_fields]
        changes = tuple(c for c in (field_diff(old_fields.get(i), new_fields.get(i), locale)
                                    for i in ids) if c.changed)
        if changes:
            picture = new or old
            partner = picture.get("partner")
            sections.append(SectionChange(key, picture.get("title"),
                                          partner["name"] if partner else None, changes))
    old_budget, new_budget = before.get("budget", {}), after.get("budget", {})
    lines, cofinancing = budget_diff(old_budget, new_budget)
    totals = tuple((name, old_budget.get(name), new_budget.get(name))
                   for name in ("total_cost", "cofinancing_total", "requested")
                   if None not in (old_budget.get(name), new_budget.get(name))
                   and old_budget.get(name) != new_budget.get(name))
    return SnapshotChange(
        title=word_diff(before.get("application", {}).get("title", ""),
                        after.get("application", {}).get("title", "")),
        sections=tuple(sections),
        partners=list_diff(partner_rows(before.get("partners", [])),
                           partner_rows(after.get("partners", [])), PARTNER_KEYS),
        budget_lines=lines, cofinancing=cofinancing, totals=totals)
