"""The start page: what the user takes part in and which calls are open."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from grants.applications.access import visible_applications_filter
from grants.applications.models import Application
from grants.calls.models import Call
from grants.db import db, utcnow
from grants.processes import workflows

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    applications = db.session.scalars(
        select(Application).where(visible_applications_filter(current_user))
        .order_by(Application.updated_at.desc()).limit(100)).all()
    now = utcnow()
    open_calls = db.session.scalars(
        select(Call).where(Call.opens_at <= now, Call.deadline_at > now)
        .order_by(Call.deadline_at)).all()
    return render_template("dashboard.html", applications=applications, open_calls=open_calls,
                           workflows=workflows())
