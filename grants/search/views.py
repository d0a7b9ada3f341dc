"""The results page: `/search?q=…&page=N` (the box in the site header sends it)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from grants.processes import workflows
from grants.search.query import MAX_QUERY, PAGE_SIZE, QueryUnreadable, Results, parse, search

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    """Only reads: no operation. The access rule is in the query (`search.query.search`)."""
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    page = request.args.get("page", default=1, type=int) or 1
    problem = None
    found = Results(query=query)
    if query and not parse(query):
        problem = "no_words"
    elif query:
        try:
            found = search(current_user, query, page)
        except QueryUnreadable:
            problem = "unreadable"
    return render_template("search/results.html", query=query, results=found, problem=problem,
                           page_size=PAGE_SIZE, workflows=workflows())
