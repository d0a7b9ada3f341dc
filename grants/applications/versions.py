"""What `flask workflow check` reports: file problems, and (with --against-db) how the
workflow and form files on disk fit the applications in the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.db import db
from grants.definitions.models import DefinitionVersion
from grants.formengine.definition import FormDef, load_form_file
from grants.processes import form_version_number, sha256_text, stored_form, stored_workflow
from grants.workflow.definition import Workflow
from grants.workflow.loader import load_workflow_file
from grants.workflow.registry import effects, guards
from grants.workflow.yamlsource import Problem, SourceInvalid


def display_name(path: Path, directory: Path) -> str:
    try:
        return f"workflows/{path.resolve().relative_to(directory.resolve())}"
    except ValueError:
        return str(path)


def is_form_file(path: Path) -> bool:
    return path.parent.name == "forms"


def check_files(paths: list[Path], directory: Path
                ) -> tuple[dict[str, Workflow], dict[str, FormDef], list[Problem]]:
    """Workflow files and form files (those in a `forms/` folder), every problem of each."""
    workflows: dict[str, Workflow] = {}
    forms: dict[str, FormDef] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            if is_form_file(path):
                forms[path.stem] = load_form_file(path, display_name(path, directory))
            else:
                workflows[path.stem] = load_workflow_file(
                    path, guards.names(), effects.names(),
                    display_name=display_name(path, directory))
        except SourceInvalid as exc:
            problems.extend(exc.problems)
    return workflows, forms, problems


@dataclass(frozen=True)
class Finding:
    needs_action: bool
    message: str


def check_against_db(current: dict[str, Workflow]) -> list[Finding]:
    """Applications whose state the current file no longer has, versions that cannot be loaded,
    and files changed without a version bump."""
    findings: list[Finding] = []
    groups = db.session.execute(
        select(Application.workflow_name, Application.workflow_version, Application.state,
               func.count(Application.id))
        .group_by(Application.workflow_name, Application.workflow_version, Application.state)
        .order_by(Application.workflow_name, Application.workflow_version, Application.state)
    ).all()
    for name, version, state, count in groups:
        workflow = current.get(name)
        runs_on = workflow if workflow and workflow.version == version else \
            stored_workflow(name, version)
        ids = db.session.scalars(select(Application.id).where(
            Application.workflow_name == name, Application.workflow_version == version,
            Application.state == state).order_by(Application.id).limit(20)).all()
        listed = ", ".join(str(i) for i in ids) + (" …" if count > len(ids) else "")
        if runs_on is None or state not in runs_on.states:
            why = (f"version {version} of '{name}' can no longer be loaded" if runs_on is None
                   else f"'{name}' v{version} has no state '{state}'")
            findings.append(Finding(True, f"{count} application(s) stranded ({why}): {listed}. "
                                          f"A coordinator must move them on the application "
                                          f"page."))
        elif workflow is None:
            findings.append(Finding(False, f"{count} application(s) in '{state}' follow "
                                           f"'{name}' v{version}, whose file is gone; they keep "
                                           f"running on the stored version: {listed}."))
        elif workflow.version != version:
            if state not in workflow.states:
                findings.append(Finding(False, f"{count} application(s) in state '{state}' of "
                                               f"'{name}' v{version}: the current v"
                                               f"{workflow.version} no longer has that state, so "
                                               f"they stay on v{version} until a coordinator "
                                               f"moves them: {listed}."))
            else:
                findings.append(Finding(False, f"{count} application(s) in state '{state}' "
                                               f"still follow '{name}' v{version} (current v"
                                               f"{workflow.version}): {listed}."))
    for name, workflow in current.items():
        stored = db.session.scalar(select(DefinitionVersion).where(
            DefinitionVersion.kind == "workflow", DefinitionVersion.name == name,
            DefinitionVersion.version == workflow.version))
        if stored is not None and stored.sha256 != sha256_text(workflow.source_text):
            findings.append(Finding(True, f"workflows/{name}.yaml differs from the v"
                                          f"{workflow.version} that applications started on, "
                                          f"but its version was not bumped: set 'version: "
                                          f"{workflow.version + 1}'."))
    return findings


def check_forms_against_db(current: dict[str, FormDef]) -> list[Finding]:
    """Applications that use an older version of their form than the file on disk (each with
    its id and title), versions that can no longer be loaded, and forms whose file is gone."""
    findings: list[Finding] = []
    groups = db.session.execute(
        select(Application.form_name, Application.form_version, func.count(Application.id))
        .group_by(Application.form_name, Application.form_version)
        .order_by(Application.form_name, Application.form_version)).all()
    numbers = {name: form_version_number(form) for name, form in current.items()}
    for name, version, count in groups:
        if version is None:
            findings.append(Finding(False, f"{count} application(s) of form '{name}' record no "
                                           f"form version and use the file as it is."))
            continue
        form = current.get(name)
        if form is not None and numbers[name] == version:
            continue
        rows = db.session.execute(select(Application.id, Application.title).where(
            Application.form_name == name, Application.form_version == version)
            .order_by(Application.id).limit(20)).all()
        listed = "; ".join(f"{i} “{title}”" for i, title in rows) + \
            (" …" if count > len(rows) else "")
        if stored_form(name, version) is None:
            findings.append(Finding(True, f"{count} application(s) use version {version} of "
                                          f"form '{name}', which can no longer be loaded (they "
                                          f"are shown with the current file): {listed}. A "
                                          f"coordinator must move them to the current form "
                                          f"version."))
        elif form is None:
            findings.append(Finding(False, f"{count} application(s) use form '{name}' v{version}, "
                                           f"whose file is gone; they keep using the stored "
                                           f"version: {listed}."))
        else:
            findings.append(Finding(False, f"{count} application(s) use form '{name}' v{version} "
                                           f"(current v{numbers[name]}): {listed}. A "
                                           f"coordinator can move them to the current version "
                                           f"on the application page."))
    return findings
