"""The loaded workflow and form definitions of this app (validated at start-up)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from grants.forms.definition import FormDef, load_forms
from grants.workflow.definition import Workflow
from grants.workflow.loader import load_workflows
from grants.workflow.registry import effects, guards


def load_definitions(app: Flask) -> None:
    """Load and validate every workflow and form; raises SourceInvalid listing all problems."""
    import grants.applications.guards  # noqa: F401,PLC0415 - registers guards and effects

    directory = Path(app.config["WORKFLOWS_PATH"])
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


def workflow_for(application) -> Workflow | None:
    return get_workflow(application.workflow_name)


def form_for(application) -> FormDef | None:
    return get_form(application.form_name)
