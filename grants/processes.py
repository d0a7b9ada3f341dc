"""The workflow and form definitions of this app: the current files (validated at start-up)
and the versions applications started on (kept in the database)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.db import db
from grants.definitions.models import DefinitionVersion
from grants.formengine.definition import FormDef, load_forms
from grants.workflow.definition import Workflow
from grants.workflow.loader import load_workflow_text, load_workflows
from grants.workflow.registry import effects, guards
from grants.workflow.yamlsource import SourceInvalid

logger = logging.getLogger(__name__)


def load_definitions(app: Flask) -> None:
    """Load and validate every workflow and form; raises SourceInvalid listing all problems.
    The guards and effects the files name must be registered first (the features register
    theirs when `grants.features` is imported, which the app factory does)."""
    directory = Path(app.config["WORKFLOWS_PATH"])
    app.extensions["grants.workflow_versions"] = {}
    app.extensions["grants.workflows"] = load_workflows(directory, guards.names(), effects.names())
    app.extensions["grants.forms"] = load_forms(directory / "forms")


def workflows() -> dict[str, Workflow]:
    return current_app.extensions["grants.workflows"]


def forms() -> dict[str, FormDef]:
    return current_app.extensions["grants.forms"]


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


def form_for(application) -> FormDef | None:
    return get_form(application.form_name)
