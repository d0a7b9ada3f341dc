"""Reporting plans (workflows/reporting/*.yaml): what a granted project owes its funder after
the grant – the revised budget when the grant is lower than requested, and the reports and
payment claims with their forms, workflows and due dates. Pure Python: reading a plan file,
and the schedule of one project (docs/reporting.md)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from grants.workflow.definition import LANGUAGES, Label
from grants.workflow.yamlsource import (
    LocatedYaml,
    Problem,
    SourceChecker,
    SourceInvalid,
    parse_located_yaml,
)

TOP_KEYS = {"title", "version", "revised_budget", "documents"}
DOCUMENT_KEYS = {"kind", "label", "form", "workflow", "due"}
REVISED_KEYS = {"kind", "label", "form", "workflow", "due_days_after_grant"}
DUE_KEYS = {"days_after_end", "every_months", "days_after_period", "dates"}
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_DOCUMENTS = 60


@dataclass(frozen=True)
class Due:
    """When a document is due: once, `days_after_end` days after the project ends; every
    `every_months` months from the project's start, `days_after_period` days after each
    period ends; or on fixed `dates`, each closing the period since the one before."""
    days_after_end: int | None = None
    every_months: int | None = None
    days_after_period: int = 30
    dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class PlannedDocument:
    kind: str
    label: Label
    form: str
    workflow: str
    due: Due


@dataclass(frozen=True)
class Plan:
    name: str
    title: Label
    version: int
    documents: tuple[PlannedDocument, ...]
    revised_budget: PlannedDocument | None = None
    source_text: str = ""

    def document(self, kind: str) -> PlannedDocument | None:
        return next((d for d in self.documents if d.kind == kind), None)


@dataclass(frozen=True)
class Scheduled:
    """One document a project owes: the n-th of its kind, the period it covers, its due date."""
    planned: PlannedDocument
    sequence: int
    period_start: date
    period_end: date
    due: date


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(plan: Plan, start: date, end: date) -> list[Scheduled]:
    """Every document the plan asks of a project running from `start` to `end`, by due date
    (then in the plan's order)."""
    found: list[tuple[date, int, Scheduled]] = []
    for order, planned in enumerate(plan.documents):
        for item in _periods(planned, start, end):
            found.append((item.due, order, item))
    return [item for _due, _order, item in sorted(found, key=lambda x: (x[0], x[1],
                                                                         x[2].sequence))]


def _periods(planned: PlannedDocument, start: date, end: date) -> list[Scheduled]:
    due = planned.due
    if due.every_months:
        result, period_start, n = [], start, 1
        while period_start <= end and n <= MAX_DOCUMENTS:
            period_end = min(add_months(start, due.every_months * n) - timedelta(days=1), end)
            result.append(Scheduled(planned, n, period_start, period_end,
                                    period_end + timedelta(days=due.days_after_period)))
            period_start, n = period_end + timedelta(days=1), n + 1
        return result
    if due.dates:
        result, period_start = [], start
        for n, day in enumerate(sorted(due.dates), start=1):
            result.append(Scheduled(planned, n, period_start, min(day, end), day))
            period_start = min(day, end) + timedelta(days=1)
        return result
    return [Scheduled(planned, 1, start, end, end + timedelta(days=due.days_after_end or 0))]


# --- reading a plan file ---------------------------------------------------------------------
class _Checker(SourceChecker):

    def label(self, value: Any, what: str, *path: Any) -> Label:
        if not isinstance(value, dict) or any(
                not isinstance(value.get(lang), str) or not value.get(lang).strip()
                for lang in LANGUAGES):
            self.add(f"{what} needs text in Swedish and English, e.g. "
                     f"{{sv: Slutrapport, en: Final report}}.", *path)
            return Label("", "")
        return Label(value["sv"], value["en"])

    def whole(self, value: Any, what: str, *path: Any, minimum: int, maximum: int
              ) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or not (
                minimum <= value <= maximum):
            self.add(f"{what} must be a whole number from {minimum} to {maximum}.", *path)
            return None
        return value

    def name(self, value: Any, what: str, *path: Any) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            self.add(f"{what} must be a name of lower-case letters, digits and _.", *path)
            return ""
        return value


def _check_due(c: _Checker, raw: Any, path: tuple) -> Due:
    if not isinstance(raw, dict):
        c.add("'due' must say when the document is due, e.g. {days_after_end: 60} or "
              "{every_months: 6, days_after_period: 30} or {dates: [2027-06-30]}.", *path)
        return Due(days_after_end=0)
    c.keys(raw, DUE_KEYS, "'due'", *path)
    ways = [k for k in ("days_after_end", "every_months", "dates") if k in raw]
    if len(ways) != 1:
        c.add("'due' needs exactly one of days_after_end, every_months or dates.", *path)
        return Due(days_after_end=0)
    if "days_after_period" in raw and "every_months" not in raw:
        c.add("'days_after_period' goes with 'every_months'.", *path, "days_after_period")
    if "days_after_end" in raw:
        return Due(days_after_end=c.whole(raw["days_after_end"], "'days_after_end'", *path,
                                          "days_after_end", minimum=0, maximum=365) or 0)
    if "every_months" in raw:
        months = c.whole(raw["every_months"], "'every_months'", *path, "every_months",
                         minimum=1, maximum=36) or 12
        after = c.whole(raw.get("days_after_period", 30), "'days_after_period'", *path,
                        "days_after_period", minimum=0, maximum=365)
        return Due(every_months=months, days_after_period=30 if after is None else after)
    dates = raw["dates"]
    if not isinstance(dates, list) or not dates or not all(
            isinstance(d, date) for d in dates):
        c.add("'dates' must be a list of dates written YYYY-MM-DD.", *path, "dates")
        return Due(days_after_end=0)
    if len(set(dates)) != len(dates):
        c.add("'dates' lists a date twice.", *path, "dates")
    return Due(dates=tuple(sorted(dates)))


def _check_document(c: _Checker, raw: Any, path: tuple, keys: set[str], *, due: bool
                    ) -> PlannedDocument | None:
    if not isinstance(raw, dict):
        c.add("each document must be a mapping with kind, label, form, workflow and due.", *path)
        return None
    c.keys(raw, keys, "a document", *path)
    kind = c.name(raw.get("kind"), "'kind'", *path, "kind")
    if kind == "application":
        c.add("'application' is the application itself; give the document a kind of its own.",
              *path, "kind")
    label = c.label(raw.get("label"), f"the label of '{kind}'", *path, "label")
    form = c.name(raw.get("form"), "'form'", *path, "form")
    workflow = c.name(raw.get("workflow"), "'workflow'", *path, "workflow")
    if due:
        when = _check_due(c, raw.get("due"), path + ("due",))
    else:
        days = raw.get("due_days_after_grant", 30)
        when = Due(days_after_end=c.whole(days, "'due_days_after_grant'", *path,
                                          "due_days_after_grant", minimum=0, maximum=365) or 0)
    return PlannedDocument(kind, label, form, workflow, when)


def check_plan_source(src: LocatedYaml, name: str, text: str = "") -> Plan:
    c = _Checker(src)
    data = src.data
    if not isinstance(data, dict):
        raise SourceInvalid([src.problem("a reporting plan must be a mapping with title, "
                                         "version and documents.")])
    c.keys(data, TOP_KEYS, "the plan")
    title = c.label(data.get("title"), "the plan's title", "title")
    version = c.whole(data.get("version"), "'version'", "version", minimum=1,
                      maximum=10_000) or 0
    documents: list[PlannedDocument] = []
    raw = data.get("documents")
    if not isinstance(raw, list) or not raw:
        c.add("'documents' must list what the project reports (at least one).", "documents")
        raw = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        planned = _check_document(c, item, ("documents", index), DOCUMENT_KEYS, due=True)
        if planned is None:
            continue
        if planned.kind in seen:
            c.add(f"kind '{planned.kind}' is listed twice.", "documents", index, "kind")
        seen.add(planned.kind)
        documents.append(planned)
    revised = None
    if data.get("revised_budget") is not None:
        revised = _check_document(c, data["revised_budget"], ("revised_budget",), REVISED_KEYS,
                                  due=False)
        if revised is not None and revised.kind in seen:
            c.add(f"kind '{revised.kind}' is also a report's.", "revised_budget", "kind")
    if c.problems:
        raise SourceInvalid(c.problems)
    return Plan(name, title, version, tuple(documents), revised, source_text=text)


def plan_references(plan: Plan) -> list[PlannedDocument]:
    return [*plan.documents, *([plan.revised_budget] if plan.revised_budget else [])]


def load_plans(directory: Path, forms: set[str], workflows: set[str]) -> dict[str, Plan]:
    """Every plan file, checked, including that the forms and workflows it names exist."""
    plans: dict[str, Plan] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        display = f"workflows/reporting/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
            src = parse_located_yaml(text, display)
            plan = check_plan_source(src, path.stem, text)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(display, None, f"cannot read the file ({exc})."))
            continue
        except SourceInvalid as exc:
            problems.extend(exc.problems)
            continue
        for index, planned in enumerate(plan.documents):
            where = ("documents", index)
            if planned.form not in forms:
                problems.append(src.problem(f"form '{planned.form}' does not exist in "
                                            f"workflows/forms/.", *where, "form"))
            if planned.workflow not in workflows:
                problems.append(src.problem(f"workflow '{planned.workflow}' does not exist in "
                                            f"workflows/.", *where, "workflow"))
        revised = plan.revised_budget
        if revised is not None:
            for what, names in (("form", forms), ("workflow", workflows)):
                if getattr(revised, what) not in names:
                    problems.append(src.problem(f"{what} '{getattr(revised, what)}' does not "
                                                f"exist.", "revised_budget", what))
        plans[path.stem] = plan
    if problems:
        raise SourceInvalid(problems)
    return plans
