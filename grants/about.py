"""Pages about the service itself, open to everyone: the accessibility statement."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("about", __name__)


@bp.get("/accessibility")
def accessibility():
    """Tillgänglighetsredogörelse, as the law on accessibility of digital public services
    (DOS-lagen, 2018:1937) requires."""
    return render_template("about/accessibility.html")
