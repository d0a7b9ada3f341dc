"""Pages that show workflows as pictures and tables."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from grants.i18n import current_locale
from grants.processes import get_workflow, sha256_text, workflows
from grants.workflow.definition import Workflow
from grants.workflow.diagram import to_svg

bp = Blueprint("workflows", __name__, url_prefix="/workflows")

_CACHE_LIMIT = 256


def workflow_svg(workflow: Workflow, *, current: str | None = None,
                 available: tuple[str, ...] = (), id_prefix: str = "workflow") -> Markup:
    """The workflow drawn by Graphviz, cached per version, language and highlight. The SVG is
    Graphviz's output of our own escaped labels, so it is safe to embed. It is an image named
    by the workflow's label and described by the element `<id_prefix>-picture-text`: the
    workflow in words, which the page shows with it (`templates/workflows/_picture.html`)."""
    locale = current_locale()
    key = (workflow.name, workflow.version, sha256_text(workflow.source_text), locale, current,
           tuple(sorted(available)), id_prefix)
    cache = current_app.extensions.setdefault("grants.diagram_cache", {})
    if key not in cache:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = to_svg(workflow, locale, current=current, available=available,
                            by_vote=_("by vote"), id_prefix=id_prefix,
                            described_by=f"{id_prefix}-picture-text")
    return Markup(cache[key])  # noqa: S704 - Graphviz output, labels escaped by graphviz


@bp.get("/")
def index():
    return render_template("workflows/index.html", workflows=sorted(
        workflows().values(), key=lambda w: w.name))


@bp.get("/<name>")
def show(name: str):
    workflow = get_workflow(name)
    if workflow is None:
        abort(404)
    return render_template("workflows/show.html", workflow=workflow, svg=workflow_svg(workflow))
