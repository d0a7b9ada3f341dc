"""A form as a blank PDF (what applicants will fill in), for coordinators. Made by a worker like
every PDF – the web process never renders: the click records a job, the job renders and stores
the document (of no application), the page shows it when it is ready. The same form version in
the same language is rendered once; asking again answers from the store."""

from __future__ import annotations

import hashlib

from flask import render_template
from flask_babel import force_locale

from grants.accounts.models import User
from grants.applications.snapshot import fingerprint
from grants.db import db
from grants.documents.pdf import html_to_pdf
from grants.documents.rendering import (
    TEMPLATE_VERSION,
    add_render_job,
    find_document,
    store_document,
)
from grants.formengine.definition import FormDef
from grants.jobs.models import Job
from grants.jobs.runner import handler
from grants.processes import get_form

JOB_KIND = "render_form_preview"
DOCUMENT_KIND = "form_preview"


def preview_fingerprint(form_def: FormDef, language: str) -> str:
    """What the PDF shows: the form file's exact text, the language and the template."""
    return fingerprint({"kind": DOCUMENT_KIND, "form": form_def.name,
                        "source": hashlib.sha256(form_def.source_text.encode()).hexdigest(),
                        "version": form_def.version, "language": language,
                        "template": TEMPLATE_VERSION})


def request_form_preview(*, form_def: FormDef, language: str, actor: User) -> Job:
    """A job that renders the form; done at once when that PDF is already stored."""
    doc_fingerprint = preview_fingerprint(form_def, language)
    job = Job(kind=JOB_KIND, application_id=None, requested_by_id=actor.id,
              fingerprint=doc_fingerprint,
              payload={"form": form_def.name, "version": form_def.version,
                       "language": language})
    add_render_job(job, DOCUMENT_KIND)
    db.session.commit()
    return job


def form_preview_html(form_def: FormDef, language: str) -> str:
    with force_locale(language):
        return render_template("pdf/form_preview.html", form_def=form_def, language=language)


@handler(JOB_KIND, queue="pdf")
def render_form_preview_job(job: Job) -> None:
    name = job.payload["form"]
    form_def = get_form(name)
    if form_def is None:
        raise LookupError(f"the form {name!r} is no longer defined")
    existing = find_document(None, DOCUMENT_KIND, job.fingerprint)
    if existing is None:
        content = html_to_pdf(form_preview_html(form_def, job.payload["language"]))
        existing = store_document(None, DOCUMENT_KIND, job.fingerprint,
                                  f"formular-{name}.pdf", content)
    job.document_id = existing.id
