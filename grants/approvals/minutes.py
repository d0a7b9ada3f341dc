"""The extract of minutes (protokollsutdrag) of a steering group decision: frozen as data when
the decision is made, rendered to PDF by a background job, stored with the application."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale

from grants.applications.models import Application
from grants.applications.snapshot import fingerprint
from grants.approvals.models import VoteRound
from grants.approvals.rounds import SteeringVote
from grants.db import db, utcnow
from grants.documents.pdf import html_to_pdf
from grants.documents.rendering import add_render_job, find_document, store_document
from grants.jobs.models import Job
from grants.jobs.runner import handler
from grants.workflow.definition import Transition

# Bump when templates/pdf/minutes.html changes so that new minutes get new PDFs.
MINUTES_TEMPLATE_VERSION = "2026-11-25.2"


def _label(label) -> dict[str, str]:
    return {"sv": label.sv, "en": label.en}


def minutes_data(steering_vote: SteeringVote, result: str, fired: Transition) -> dict[str, Any]:
    application = steering_vote.application
    tally = steering_vote.tally
    members = []
    for m in steering_vote.members:
        members.append({
            "name": m.user.name, "organisations": m.organisations, "chair": m.is_chair,
            "recused": m.recused, "recusal_reason": m.recusal_reason,
            "recusal_declared": m.recusal_declared,
            "vote": None if m.vote is None else {
                "choice": m.vote.choice, "comment": m.vote.comment,
                "cast_at": m.vote.cast_at.isoformat(), "fingerprint": m.vote.fingerprint},
        })
    return {
        "application": {"id": application.id, "title": application.title,
                        "lead_organisation": application.lead_organisation.name,
                        "language": application.language},
        "call": {"title": application.call.title, "funder": application.call.funder.name},
        "group": steering_vote.group.name,
        "round": steering_vote.round.number,
        "opened_at": steering_vote.round.opened_at.isoformat(),
        "decided_at": utcnow().isoformat(),
        "matter": _label(steering_vote.transition.label),
        "decision": _label(fired.label),
        "outcome": result,
        "rule": {"rule": steering_vote.quorum.rule, "n": steering_vote.quorum.n,
                 "of": steering_vote.quorum.of,
                 "tie": steering_vote.quorum.tie, "needed": steering_vote.needed},
        "tally": {"members": tally.members, "eligible": tally.eligible,
                  "approve": tally.approve, "changes": tally.changes,
                  "abstain": tally.abstain, "not_voted": tally.remaining},
        "members": members,
        "fingerprint": steering_vote.round.fingerprint,
    }


def minutes_fingerprint(minutes: dict[str, Any]) -> str:
    return fingerprint({"minutes": minutes, "template": MINUTES_TEMPLATE_VERSION})


def record_minutes_job(application: Application, round_: VoteRound) -> Job:
    """A job that renders the minutes of this decided round (enqueued after commit)."""
    doc_fingerprint = minutes_fingerprint(round_.minutes)
    job = Job(kind="render_minutes", application_id=application.id,
              payload={"kind": "minutes", "round_id": round_.id}, fingerprint=doc_fingerprint)
    return add_render_job(job, "minutes")


def minutes_html(minutes: dict[str, Any]) -> str:
    language = minutes["application"].get("language", "sv")
    with force_locale(language):
        return render_template("pdf/minutes.html", m=minutes, language=language)


@handler("render_minutes", queue="pdf")
def render_minutes_job(job: Job) -> None:
    round_ = db.session.get(VoteRound, job.payload["round_id"])
    existing = find_document(job.application_id, "minutes", job.fingerprint)
    if existing is None:
        content = html_to_pdf(minutes_html(round_.minutes))
        existing = store_document(job.application_id, "minutes", job.fingerprint,
                                  f"protokollsutdrag-{job.application_id}-{round_.number}.pdf",
                                  content)
    job.document_id = existing.id
