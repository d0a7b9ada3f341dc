"""The workflow and form definitions of this app: the current files (validated at start-up)
and the versions applications started on (kept in the database)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.db import db
from grants.definitions.models import DefinitionVersion
from grants.formengine.definition import FormDef, load_form_text, load_forms
from grants.workflow.definition import Workflow
from grants.workflow.loader import load_workflow_text, load_workflows
from grants.workflow.plans import Plan, load_plans
from grants.workflow.registry import effects, guards
from grants.workflow.yamlsource import SourceInvalid

logger = logging.getLogger(__name__)


def load_definitions(app: Flask) -> None:
    """Load and validate every workflow and form; raises SourceInvalid listing all problems.
    The guards and effects the files name must be registered first (the features register
    theirs when `grants.features` is imported, which the app factory does)."""
    directory = Path(app.config["WORKFLOWS_PATH"])
    app.extensions["grants.workflow_versions"] = {}
    app.extensions["grants.form_versions"] = {}
    app.extensions["grants.form_texts"] = {}
    app.extensions["grants.workflows"] = load_workflows(directory, guards.names(), effects.names())
    app.extensions["grants.forms"] = load_forms(directory / "forms")
    app.extensions["grants.plans"] = load_plans(directory / "reporting",
                                                set(app.extensions["grants.forms"]),
                                                set(app.extensions["grants.workflows"]))


def workflows() -> dict[str, Workflow]:
    return current_app.extensions["grants.workflows"]


def forms() -> dict[str, FormDef]:
    return current_app.extensions["grants.forms"]


def plans() -> dict[str, Plan]:
    """The reporting plans (workflows/reporting/*.yaml) a call may name."""
    return current_app.extensions["grants.plans"]


def get_plan(name: str | None) -> Plan | None:
    return plans().get(name) if name else None


def get_workflow(name: str) -> Workflow | None:
    return workflows().get(name)


def get_form(name: str) -> FormDef | None:
    return forms().get(name)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pin_workflow(workflow: Workflow) -> None:
    """Keep this version's text in the database (inside the caller's transaction), so that
    applications starting on it keep running on it when the file changes."""
    stored = db.session.scalar(select(DefinitionVersion).where(
        DefinitionVersion.kind == "workflow", DefinitionVersion.name == workflow.name,
        DefinitionVersion.version == workflow.version))
    digest = sha256_text(workflow.source_text)
    if stored is None:
        try:
            with db.session.begin_nested():
                db.session.add(DefinitionVersion(kind="workflow", name=workflow.name,
                                                 version=workflow.version,
                                                 source=workflow.source_text, sha256=digest))
        except IntegrityError:  # a concurrent request stored it first
            logger.info("workflow %s v%s was stored concurrently", workflow.name, workflow.version)
    elif stored.sha256 != digest:
        logger.warning("workflows/%s.yaml changed without a version bump (still v%s); "
                       "`flask workflow check --against-db` lists what this affects",
                       workflow.name, workflow.version)


def stored_workflow(name: str, version: int) -> Workflow | None:
    """A workflow version as stored when applications started on it (None if unknown or no
    longer valid, e.g. it names a guard that has been removed)."""
    cache = current_app.extensions.setdefault("grants.workflow_versions", {})
    if (name, version) in cache:
        return cache[(name, version)]
    stored = db.session.scalar(select(DefinitionVersion).where(
        DefinitionVersion.kind == "workflow", DefinitionVersion.name == name,
        DefinitionVersion.version == version))
    workflow = None
    if stored is not None:
        try:
            workflow = load_workflow_text(stored.source, name, guards.names(), effects.names(),
                                          display_name=f"{name} v{version} (stored)")
        except SourceInvalid as exc:
            logger.error("stored workflow %s v%s no longer loads: %s", name, version, exc)
    cache[(name, version)] = workflow
    return workflow


def workflow_for(application) -> Workflow | None:
    """The workflow version the application runs on: the one it started on."""
    current = get_workflow(application.workflow_name)
    if current is not None and current.version == application.workflow_version:
        return current
    return stored_workflow(application.workflow_name, application.workflow_version)


# Forms are pinned like workflows, but by their text: each different text of a form file is
# a version of its own (identical text, same version), numbered per form. A new text takes the
# number the file declares (`version:`) when that number is still free, else the next one.

def _stored_form_row(name: str, *, version: int | None = None, sha256: str | None = None
                     ) -> DefinitionVersion | None:
    query = select(DefinitionVersion).where(DefinitionVersion.kind == "form",
                                            DefinitionVersion.name == name)
    if version is not None:
        query = query.where(DefinitionVersion.version == version)
    if sha256 is not None:
        query = query.where(DefinitionVersion.sha256 == sha256).order_by(DefinitionVersion.id)
    return db.session.scalars(query.limit(1)).first()


def pin_form(form: FormDef) -> int:
    """Keep this text of the form in the database (inside the caller's transaction) and return
    its version number, the one applications starting on it record."""
    digest = sha256_text(form.source_text)
    stored = _stored_form_row(form.name, sha256=digest)
    if stored is not None:
        return stored.version
    number = _next_form_version(form)
    try:
        with db.session.begin_nested():
            db.session.add(DefinitionVersion(kind="form", name=form.name, version=number,
                                             source=form.source_text, sha256=digest))
    except IntegrityError:  # a concurrent request stored a version first
        logger.info("form %s: a version was stored concurrently", form.name)
        stored = _stored_form_row(form.name, sha256=digest)
        if stored is not None:
            return stored.version
        return pin_form(form)
    return number


def _next_form_version(form: FormDef) -> int:
    highest = db.session.scalar(select(func.max(DefinitionVersion.version)).where(
        DefinitionVersion.kind == "form", DefinitionVersion.name == form.name)) or 0
    return max(form.version, highest + 1)


def form_version_number(form: FormDef) -> int:
    """The version number this text of the form has, or will get when it is first stored."""
    stored = _stored_form_row(form.name, sha256=sha256_text(form.source_text))
    return stored.version if stored is not None else _next_form_version(form)


def current_form_version(name: str) -> int | None:
    """The version number of the form file as it is now: None when no application has
    started on this text yet (or the file is gone)."""
    current = get_form(name)
    if current is None:
        return None
    stored = _stored_form_row(name, sha256=sha256_text(current.source_text))
    return stored.version if stored is not None else None


def stored_form(name: str, version: int) -> FormDef | None:
    """A form version as stored when applications started on it (None if unknown or no longer
    valid). Stored versions never change: which text a version has is remembered, and each
    text is parsed once (cached by its SHA-256) for the life of the app."""
    versions = current_app.extensions.setdefault("grants.form_versions", {})
    parsed = current_app.extensions.setdefault("grants.form_texts", {})
    digest = versions.get((name, version))
    if digest is None:
        row = _stored_form_row(name, version=version)
        if row is None:
            return None
        digest = row.sha256
        if digest not in parsed:
            parsed[digest] = _parse_stored(row)
        versions[(name, version)] = digest
    return parsed.get(digest)


def _parse_stored(row: DefinitionVersion) -> FormDef | None:
    current = get_form(row.name)
    if current is not None and sha256_text(current.source_text) == row.sha256:
        return current
    try:
        return load_form_text(row.source, row.name, f"{row.name} v{row.version} (stored)")
    except SourceInvalid as exc:
        logger.error("stored form %s v%s no longer loads: %s", row.name, row.version, exc)
        return None


def form_for(application) -> FormDef | None:
    """The form version the application uses: the one it started on (or was moved to). An
    application without a recorded version (made before versions were stored), or whose
    version can no longer be loaded, uses the current file."""
    if application.form_version is None:
        return get_form(application.form_name)
    pinned = stored_form(application.form_name, application.form_version)
    if pinned is None:  # `workflow check --against-db` names it: a coordinator must move it
        logger.error("application %s: form %s v%s cannot be loaded; showing the current file",
                     application.id, application.form_name, application.form_version)
        return get_form(application.form_name)
    return pinned
