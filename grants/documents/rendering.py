"""Renders application PDFs from snapshots and stores them, once per content fingerprint."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.canonical import fingerprint
from grants.db import db, utcnow
from grants.documents.models import Document
from grants.documents.pdf import html_to_pdf
from grants.jobs.models import Job, JobStatus
from grants.jobs.runner import enqueue_job, handler, pause_for_tests

logger = logging.getLogger(__name__)

# Bump when templates/pdf changes in a way that should give new PDFs for old content.
TEMPLATE_VERSION = "2026-11-25.4"
KINDS = ("preview", "final")
# The most text a PDF is rendered from (the snapshot as JSON). Every form field has a character
# limit far below this; the cap keeps a render within the job timeout and the work-horse's
# memory cap even if text reached a snapshot some other way.
MAX_RENDER_INPUT_CHARS = 2_000_000


class RenderInputTooLarge(ValueError):
    """The content is too large to render safely: the job fails at once, with this reason."""


def check_render_input(snapshot: dict[str, Any]) -> None:
    size = len(json.dumps(snapshot, ensure_ascii=False, default=str))
    if size > MAX_RENDER_INPUT_CHARS:
        raise RenderInputTooLarge(f"the content is {size} characters; at most "
                                  f"{MAX_RENDER_INPUT_CHARS} are rendered")


def document_fingerprint(snapshot: dict[str, Any], kind: str) -> str:
    return fingerprint({"snapshot": fingerprint(snapshot), "kind": kind,
                        "template": TEMPLATE_VERSION})


def application_html(snapshot: dict[str, Any], kind: str) -> str:
    language = snapshot["application"].get("language", "sv")
    funder = snapshot["call"]["funder"]
    # The funder's own template folder when it has one, else the default.
    candidates = [f"pdf/{name}/application.html"
                  for name in (funder.get("pdf_template"), funder.get("slug")) if name]
    template = current_app.jinja_env.select_template(candidates + ["pdf/application.html"])
    with force_locale(language):
        return render_template(template, snap=snapshot, is_draft=(kind != "final"),
                               kind=kind, language=language,
                               fingerprint=fingerprint(snapshot))


def render_application_pdf(snapshot: dict[str, Any], kind: str) -> bytes:
    return html_to_pdf(application_html(snapshot, kind))


def find_document(application_id: int | None, kind: str,
                  doc_fingerprint: str) -> Document | None:
    return db.session.scalar(select(Document).where(
        Document.application_id == application_id, Document.kind == kind,
        Document.fingerprint == doc_fingerprint))


def add_render_job(job: Job, document_kind: str) -> Job:
    """Add a render job: done at once when a PDF of the same content (fingerprint) is already
    stored, else enqueued on the PDF queue after the transaction commits."""
    existing = find_document(job.application_id, document_kind, job.fingerprint)
    if existing is not None:
        job.status, job.document_id = JobStatus.done, existing.id
        job.started_at = job.finished_at = utcnow()
    db.session.add(job)
    db.session.flush()
    if existing is None:
        enqueue_job(job)
    return job


def store_document(application_id: int | None, kind: str, doc_fingerprint: str, filename: str,
                   content: bytes, signature: dict | None = None) -> Document:
    """Insert the document, or return the one a concurrent render stored first."""
    document = Document(application_id=application_id, kind=kind, fingerprint=doc_fingerprint,
                        filename=filename, size=len(content), signature=signature,
                        sha256=hashlib.sha256(content).hexdigest(), content=content)
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:
        existing = find_document(application_id, kind, doc_fingerprint)
        if existing is None:  # pragma: no cover - the conflict must have been this key
            raise
        return existing
    return document


def pdf_filename(snapshot: dict[str, Any], kind: str) -> str:
    app_id = snapshot["application"]["id"]
    suffix = "utkast" if kind != "final" else "ansokan"
    return f"ansokan-{app_id}-{suffix}.pdf"


@handler("render_application", queue="pdf")
def render_application_job(job: Job) -> None:
    kind = job.payload["kind"]
    snapshot = job.payload["snapshot"]
    existing = find_document(job.application_id, kind, job.fingerprint)
    if existing is None:
        check_render_input(snapshot)
        content = render_application_pdf(snapshot, kind)
        pause_for_tests("render", job)  # rendered, not yet stored (tests only)
        existing = store_document(job.application_id, kind, job.fingerprint,
                                  pdf_filename(snapshot, kind), content)
    job.document_id = existing.id


def certificate_html(snapshot: dict[str, Any], partner_id: int) -> str:
    """A printable co-financing certificate (medfinansieringsintyg) for one partner."""
    partner = next(p for p in snapshot["partners"] if p["id"] == partner_id)
    items = [c for c in snapshot["budget"]["cofinancing"] if c["organisation"] == partner["name"]]
    language = snapshot["application"].get("language", "sv")
    with force_locale(language):
        return render_template("pdf/cofinancing_certificate.html", snap=snapshot,
                               partner=partner, items=items, language=language,
                               total=sum(c["amount"] for c in items),
                               fingerprint=fingerprint(snapshot))


@handler("render_certificate", queue="pdf")
def render_certificate_job(job: Job) -> None:
    snapshot, partner_id = job.payload["snapshot"], job.payload["partner_id"]
    existing = find_document(job.application_id, "certificate", job.fingerprint)
    if existing is None:
        check_render_input(snapshot)
        content = html_to_pdf(certificate_html(snapshot, partner_id))
        existing = store_document(job.application_id, "certificate", job.fingerprint,
                                  f"medfinansieringsintyg-{snapshot['application']['id']}-"
                                  f"{partner_id}.pdf", content)
    job.document_id = existing.id
