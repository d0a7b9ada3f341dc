"""The start page: what waits for the user, what they take part in and which calls are open."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import and_, or_, select

from grants.applications.access import visible_applications_filter
from grants.applications.models import Application
from grants.approvals.rounds import awaiting_my_vote
from grants.calls.models import Call
from grants.dashboard.next_steps import next_steps
from grants.db import db, utcnow
from grants.processes import form_for, workflow_for, workflows

bp = Blueprint("dashboard", __name__)


PAGE_SIZE = 100


def parse_after(value: str | None) -> tuple[datetime, int] | None:
    """The keyset of a page: the last row of the page before, as "<updated_at>_<id>"
    (anything else: the first page)."""
    moment, _sep, row_id = (value or "").rpartition("_")
    try:
        when = datetime.fromisoformat(moment)
        return (when, int(row_id)) if when.tzinfo is not None else None
    except ValueError:
        return None


@bp.get("/")
def index():
    """The applications the user takes part in, the most recently changed first, a page at a
    time by keyset (updated_at, id): every page costs the same however many there are. Only
    applications: a granted project's reports and claims are reached from its project tab."""
    after = parse_after(request.args.get("after"))
    query = select(Application).where(visible_applications_filter(current_user),
                                      Application.parent_id.is_(None))
    if after is not None:
        query = query.where(or_(Application.updated_at < after[0],
                                and_(Application.updated_at == after[0],
                                     Application.id < after[1])))
    rows = db.session.scalars(query.order_by(Application.updated_at.desc(),
                                             Application.id.desc())
                              .limit(PAGE_SIZE + 1)).all()
    applications = rows[:PAGE_SIZE]
    next_after = (f"{applications[-1].updated_at.isoformat()}_{applications[-1].id}"
                  if len(rows) > PAGE_SIZE else None)
    now = utcnow()
    open_calls = db.session.scalars(
        select(Call).where(Call.opens_at <= now, Call.deadline_at > now)
        .order_by(Call.deadline_at)).all()
    return render_template("dashboard.html", applications=applications, open_calls=open_calls,
                           workflows=workflows(), after=after, next_after=next_after,
                           awaiting=awaiting_my_vote(current_user, workflow_for),
                           steps=next_steps(current_user, workflow_for, form_for, workflows()))
