"""The archival PDF of a submission (PDF/A-3b, tagged, with the snapshot JSON, a budget CSV and
the uploaded attachments embedded as associated files), the printable reading copy with the
attachments' pages appended, and the dossier zip for the applicant's own registry."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from typing import Any

import weasyprint
from flask import current_app
from pypdf import PdfReader, PdfWriter
from sqlalchemy import and_, select
from weasyprint.urls import URLFetcherResponse

from grants import events
from grants.applications.snapshot import canonical_json
from grants.db import db
from grants.documents.models import Attachment, Document
from grants.documents.pdf import ASSET_BASE, AssetsOnlyFetcher, html_to_pdf
from grants.documents.rendering import (
    TEMPLATE_VERSION,
    application_html,
    find_document,
    store_document,
)
from grants.documents.signatures import SigningConfig, sign_pdf, trust_roots_of, validate_pdf
from grants.jobs.models import Job
from grants.jobs.runner import handler
from grants.submissions.models import Submission, SubmissionDocument
from grants.submissions.operations import budget_csv, comparison_csv

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"


def snapshot_json(snapshot: dict[str, Any]) -> bytes:
    """The snapshot exactly as its SHA-256 was computed (canonical JSON, UTF-8)."""
    return canonical_json(snapshot).encode("utf-8")


def _attachment_rows(snapshot: dict[str, Any]) -> list[Attachment]:
    named = {a["attachment_id"]: a["sha256"] for a in snapshot.get("attachments", [])
             if a.get("attachment_id")}
    if not named:
        return []
    rows = {row.id: row for row in db.session.scalars(
        select(Attachment).where(Attachment.id.in_(named)))}
    # In the snapshot's order; only the exact bytes it names (same SHA-256).
    return [rows[i] for i, sha in named.items() if i in rows and rows[i].sha256 == sha]


def embedded_files(snapshot: dict[str, Any],
                   attachments: list[Attachment]) -> list[weasyprint.Attachment]:
    """PDF/A-3 associated files: the data the document shows, and the uploads."""
    files = [
        weasyprint.Attachment(string=snapshot_json(snapshot).decode("utf-8"),
                              name="ansokan.json", relationship="Source",
                              description="Application snapshot (canonical JSON, SHA-256 "
                                          "in the document)"),
        weasyprint.Attachment(string=budget_csv(snapshot), name="budget.csv",
                              relationship="Data", description="Budget and co-financing"),
    ]
    against = comparison_csv(snapshot)
    if against is not None:
        files.append(weasyprint.Attachment(string=against, name="budget_vs_actual.csv",
                                           relationship="Data",
                                           description="Budget against actual, per "
                                                       "organisation, category and year"))
    for attachment in attachments:
        files.append(weasyprint.Attachment(file_obj=io.BytesIO(attachment.content),
                                           name=attachment.filename, relationship="Supplement",
                                           description=f"Attachment, SHA-256 "
                                                       f"{attachment.sha256}"))
    return files


def render_final_pdf(snapshot: dict[str, Any],
                     attachments: list[Attachment] | None = None) -> bytes:
    """`attachments`: the snapshot's attachment rows when the caller has them, else read now."""
    if attachments is None:
        attachments = _attachment_rows(snapshot)
    return html_to_pdf(application_html(snapshot, "final"), pdf_variant=PDF_VARIANT,
                       attachments=embedded_files(snapshot, attachments), tagged=True)


class _AttachmentImageFetcher(AssetsOnlyFetcher):
    """Serves one uploaded image to the page that prints it (and our static assets)."""

    def __init__(self, image: Attachment):
        super().__init__()
        self.image = image

    def fetch(self, url, headers=None):
        if url == f"{ASSET_BASE}attachment/{self.image.id}":
            return URLFetcherResponse(url, body=self.image.content,
                                      headers={"Content-Type": self.image.mime_type})
        return super().fetch(url, headers)


def _image_page(image: Attachment, language: str) -> bytes:
    html = (f"<html lang='{language}'><head><style>@page {{ margin: 15mm }} img {{ max-width: "
            f"100%; max-height: 250mm }} p {{ font: 9pt sans-serif }}</style></head><body>"
            f"<p>{image.filename}</p><img src='attachment/{image.id}' alt=''></body></html>")
    return weasyprint.HTML(string=html, base_url=ASSET_BASE,
                           url_fetcher=_AttachmentImageFetcher(image)).write_pdf()


def reading_copy(final_pdf: bytes, snapshot: dict[str, Any],
                 attachments: list[Attachment]) -> bytes:
    """The final PDF followed by the pages of every PDF and image attachment, for funders who
    print. Other kinds (Word, Excel, OpenDocument) stay embedded in the archival PDF."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(final_pdf)), import_outline=True)
    language = snapshot["application"].get("language", "sv")
    for attachment in attachments:
        try:
            if attachment.kind == "pdf":
                writer.append(PdfReader(io.BytesIO(attachment.content)),
                              outline_item=attachment.filename)
            elif attachment.kind in ("png", "jpg"):
                writer.append(PdfReader(io.BytesIO(_image_page(attachment, language))),
                              outline_item=attachment.filename)
        except Exception:  # noqa: BLE001 - a broken upload must not stop the copy
            logger.warning("attachment %s could not be appended to the reading copy",
                           attachment.id, exc_info=True)
    writer.add_metadata({"/Title": snapshot["application"]["title"],
                         "/Author": snapshot["application"]["lead_organisation"]["name"]})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def document_fingerprint(submission: Submission, kind: str) -> str:
    return hashlib.sha256(f"{submission.sha256}:{kind}:{TEMPLATE_VERSION}".encode()).hexdigest()


def sealed(pdf: bytes) -> tuple[bytes, dict[str, Any] | None]:
    """The archival PDF with the organisation's seal (PAdES-B-T) when signing is configured,
    and the seal's status as validated right after signing; else the PDF as it is."""
    config = SigningConfig.from_config(current_app.config)
    if not config.enabled:
        return pdf, None
    signed = sign_pdf(pdf, config)
    return signed, validate_pdf(signed, trust_roots_of(config)).as_dict()


@dataclass(frozen=True)
class SnapshotCheck:
    ok: bool
    message: str


def embedded_snapshot_check(pdf: bytes) -> SnapshotCheck:
    """The snapshot JSON embedded in an archival PDF (`ansokan.json`) against the SHA-256 the
    submission it names has in the database."""
    try:
        files = PdfReader(io.BytesIO(pdf)).attachments
        embedded = files["ansokan.json"][0]
        snapshot = json.loads(embedded)
        reference = snapshot["submission"]["reference"]
    except Exception:  # noqa: BLE001 - not one of our archival PDFs, or damaged
        return SnapshotCheck(False, "no readable snapshot (ansokan.json) embedded")
    digest = hashlib.sha256(embedded).hexdigest()
    submission = db.session.scalar(select(Submission).where(
        Submission.application_id == snapshot["application"]["id"],
        Submission.number == snapshot["submission"]["number"]))
    if submission is None:
        return SnapshotCheck(True, f"SHA-256 {digest} (submission {reference} is not in "
                                   f"this database)")
    if submission.sha256 != digest:
        return SnapshotCheck(False, f"SHA-256 {digest} does NOT match submission {reference} "
                                    f"({submission.sha256})")
    return SnapshotCheck(True, f"SHA-256 {digest} matches submission {reference}")


@handler("render_submission", queue="pdf")
def render_submission_job(job: Job) -> None:
    """Idempotent: a second run finds both documents stored and only links them (the stored
    archival PDF is never signed again)."""
    submission = db.session.get(Submission, job.payload["submission_id"])
    snapshot = submission.snapshot
    reference = snapshot["submission"]["reference"]
    final_fp = document_fingerprint(submission, "final")
    reading_fp = document_fingerprint(submission, "reading_copy")
    final = find_document(submission.application_id, "final", final_fp)
    reading = find_document(submission.application_id, "reading_copy", reading_fp)
    # The uploads, read once for both documents (not at all when both are stored).
    attachments = _attachment_rows(snapshot) if final is None or reading is None else []
    if final is None:
        content, signature = sealed(render_final_pdf(snapshot, attachments))
        final = store_document(submission.application_id, "final", final_fp,
                               f"ansokan-{reference}.pdf", content, signature=signature)
    if reading is None:
        reading = store_document(submission.application_id, "reading_copy", reading_fp,
                                 f"ansokan-{reference}-lasexemplar.pdf",
                                 reading_copy(final.content, snapshot, attachments))
    db.session.flush()
    first_time = submission.final_document_id is None
    submission.final_document_id, submission.reading_document_id = final.id, reading.id
    job.document_id = final.id
    if first_time:
        # The archival PDF exists: subscribers deliver it to the funder.
        events.submission_archived.send(submission=submission)


# --- the dossier -------------------------------------------------------------------------------
def submission_documents(submission: Submission) -> list[Document]:
    """The minutes and certificates frozen with this submission (`SubmissionDocument`), in
    kind and name order; one not yet rendered is left out until it is."""
    return list(db.session.scalars(select(Document).join(SubmissionDocument, and_(
        SubmissionDocument.application_id == Document.application_id,
        SubmissionDocument.kind == Document.kind,
        SubmissionDocument.fingerprint == Document.fingerprint)).where(
        SubmissionDocument.submission_id == submission.id).order_by(
        Document.kind, Document.filename, Document.id)))


def dossier_zip(submission: Submission) -> tuple[bytes, dict[str, Any]]:
    """A zip for the registry: final PDF, reading copy, the minutes and co-financing
    certificates frozen with this submission, attachments, snapshot JSON (with the partners'
    confirmations), budget CSV, and manifest.json with the SHA-256 of each file."""
    snapshot = submission.snapshot
    files: list[tuple[str, bytes]] = []
    for document_id in (submission.final_document_id, submission.reading_document_id):
        if document_id:
            document = db.session.get(Document, document_id)
            files.append((document.filename, document.content))
    folders = {"minutes": "protokoll", "certificate": "medfinansieringsintyg"}
    for document in submission_documents(submission):
        files.append((f"{folders.get(document.kind, document.kind)}/{document.filename}",
                      document.content))
    for attachment in _attachment_rows(snapshot):
        files.append((f"bilagor/{attachment.id}-{attachment.filename}", attachment.content))
    files.append(("ansokan.json", snapshot_json(snapshot)))
    files.append(("budget.csv", budget_csv(snapshot).encode("utf-8")))
    if comparison_csv(snapshot) is not None:
        files.append(("budget_vs_actual.csv", comparison_csv(snapshot).encode("utf-8")))
    manifest = {
        "application": snapshot["application"]["id"],
        "title": snapshot["application"]["title"],
        "submission": snapshot["submission"],
        "snapshot_sha256": submission.sha256,
        "files": [{"name": name, "size": len(content),
                   "sha256": hashlib.sha256(content).hexdigest()} for name, content in files],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    checksums = "".join(f"{f['sha256']}  {f['name']}\n" for f in manifest["files"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("SHA256SUMS", checksums)
    return buffer.getvalue(), manifest
