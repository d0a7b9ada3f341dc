"""The project tab of the workspace (/applications/ID/project): for the application and for
each of its documents, the project the grant started – its period, grant and conditions, the
documents it owes with their due dates and who has not entered figures, and the money.
Load (404 alike for missing and not yours) → render. The links lead to each document's own
page, which checks access again."""

from __future__ import annotations

from flask import Blueprint, render_template

from grants.applications.page import load_application_page, workspace_context
from grants.reporting.queries import load_project

bp = Blueprint("reporting", __name__)


@bp.get("/applications/<int:application_id>/project")
def project(application_id: int):
    application, roles, workflow, form_def = load_application_page(application_id)
    return render_template("reporting/project.html",
                           **workspace_context(application, roles, workflow, form_def,
                                               "project"),
                           project=load_project(application))
