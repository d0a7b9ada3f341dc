"""The copy of record: frozen submission, archival PDF/A-3b with embedded data, reading copy,
dossier, resubmission before the deadline, and the funder's decision."""

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from grants.applications.context import TransitionContext
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.applications.queries import current_partners, load_answers
from grants.applications.snapshot import fingerprint
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db, utcnow
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job, JobStatus
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, workflow_for
from grants.submissions.archive import render_final_pdf
from grants.submissions.models import FunderDecision, Submission
from grants.submissions.operations import freeze_submission
from tests.factories import FULL_ANSWERS, lead_signs
from tests.files import pdf_bytes, png_bytes


def submit(browser, application):
    lead_signs(application)
    db.session.refresh(application)
    return browser.post(f"/applications/{application.id}/transitions/submit",
                        {"state_version": str(application.state_version), "comment": ""},
                        follow_redirects=True)


def text_of(content: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def budgeted(world):
    # The requested amount the form states agrees with the budget: 300 000 − 120 000.
    answers = {**FULL_ANSWERS, "funding": {"requested_amount": 180_000}}
    application = world.new_application(state="approved", answers=answers)
    db.session.add_all([
        BudgetLine(application_id=application.id, organisation_id=world.orgs["kalmar"].id,
                   category="personnel", year=2027, description="Projektledare 50 %",
                   amount=300_000),
        Cofinancing(application_id=application.id, organisation_id=world.orgs["kalmar"].id,
                    kind="in_kind", source="public", year=2027, description="Lokaler",
                    amount=120_000)])
    db.session.commit()
    return application


def test_submit_freezes_a_snapshot_that_never_changes(login_as, world, budgeted, run_worker):
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    submission = db.session.scalar(select(Submission))
    assert submission.number == 1 and submission.counts
    assert submission.sha256 == fingerprint(submission.snapshot)
    snap = submission.snapshot
    assert snap["budget"]["lines"][0]["description"] == "Projektledare 50 %"
    assert snap["budget"]["cofinancing"][0]["amount"] == 120_000
    assert snap["submission"]["reference"] == f"{budgeted.id}-1"
    assert snap["application"]["requested_amount"] == 180_000
    assert submission.requested_amount == 180_000
    # The ORM refuses to rewrite the copy of record.
    submission.snapshot = dict(snap, application={"title": "Förfalskad"})
    with pytest.raises(ValueError, match="frozen"):
        db.session.commit()
    db.session.rollback()
    # Live rows changed afterwards do not reach the final PDF: it is made from the snapshot.
    row = db.session.scalar(select(SectionAnswer).where(SectionAnswer.section_key == "aims"))
    row.data = {"aims": "ÄNDRAT EFTER INSKICKNING"}
    db.session.commit()
    run_worker()
    submission = db.session.get(Submission, submission.id)
    final = db.session.get(Document, submission.final_document_id)
    text = text_of(final.content)
    assert "Mål: 500 deltagare, 25 kommuner, 3 län." in text
    assert "ÄNDRAT EFTER INSKICKNING" not in text
    # Rendering the snapshot again gives the same text.
    assert text_of(render_final_pdf(submission.snapshot)) == text


def test_final_pdf_is_tagged_pdf_a_3b_with_the_snapshot_embedded(login_as, world, budgeted,
                                                                 run_worker):
    submit(login_as("lead@demo.test"), budgeted)
    run_worker()
    submission = db.session.scalar(select(Submission))
    final = db.session.get(Document, submission.final_document_id)
    reader = PdfReader(io.BytesIO(final.content))
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    meta = reader.metadata
    assert meta["/Title"] == "Läslyftet i sydost – åäö"
    assert meta["/Author"] == "Kalmar stadsbibliotek"
    assert "Statens kulturråd" in meta["/Subject"]
    assert meta["/CreationDate"].startswith("D:20")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "sv" and root.get("/StructTreeRoot") is not None
    assert root["/MarkInfo"]["/Marked"]
    files = reader.attachments
    assert set(files) == {"ansokan.json", "budget.csv"}
    embedded = files["ansokan.json"][0]
    assert json.loads(embedded) == submission.snapshot
    assert hashlib.sha256(embedded).hexdigest() == submission.sha256
    assert "Projektledare 50 %" in files["budget.csv"][0].decode("utf-8")
    text = text_of(final.content)
    assert "UTKAST" not in text and f"Ansökan {budgeted.id}-1" in text
    assert "Innehåll" in text and re.search(r"Budget och medfinansiering \.*\s*\d", text)
    assert "Sida 2 av" in text


def test_attachments_are_embedded_and_appended_to_the_reading_copy(app, world, run_worker):
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    application = world.new_application(state="approved", form="kulturradet_utveckling")
    uploads = []
    for name, content, kind, mime in [("avsikt.pdf", pdf_bytes("Avsiktsförklaring Växjö"),
                                       "pdf", "application/pdf"),
                                      ("karta.png", png_bytes(), "png", "image/png")]:
        attachment = Attachment(application_id=application.id, field_id="letter_of_intent",
                                filename=name, kind=kind, mime_type=mime, size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), content=content)
        db.session.add(attachment)
        db.session.flush()
        uploads.append(attachment)
    db.session.add(SectionAnswer(application_id=application.id, section_key="attachments",
                                 data={"letter_of_intent": uploads[0].as_value()}))
    db.session.commit()
    workflow, form = workflow_for(application), form_for(application)
    ctx = TransitionContext(application=application, actor=world.user("lead"),
                            workflow=workflow, form=form, answers=load_answers(application.id),
                            partners=current_partners(application.id))
    submission = freeze_submission(ctx)
    db.session.commit()
    run_worker()
    submission = db.session.get(Submission, submission.id)
    final = PdfReader(io.BytesIO(db.session.get(Document, submission.final_document_id).content))
    assert final.attachments["avsikt.pdf"][0] == uploads[0].content
    reading = db.session.get(Document, submission.reading_document_id)
    pages = PdfReader(io.BytesIO(reading.content)).pages
    assert len(pages) == len(final.pages) + 1
    assert "Avsiktsförklaring Växjö" in (pages[-1].extract_text() or "")


def test_dossier_holds_every_file_with_its_hash(login_as, world, budgeted, run_worker):
    # Minutes made before the submission are part of its dossier.
    record_document(budgeted, "minutes", "protokollsutdrag-1-1.pdf", "Protokoll", round_id=1)
    db.session.commit()
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    run_worker()
    submission = db.session.scalar(select(Submission))
    response = lead.get(f"/applications/{budgeted.id}/submissions/1/dossier.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    names = {f["name"] for f in manifest["files"]}
    assert {f"ansokan-{budgeted.id}-1.pdf", f"ansokan-{budgeted.id}-1-lasexemplar.pdf",
            "protokoll/protokollsutdrag-1-1.pdf", "ansokan.json", "budget.csv"} <= names
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    assert manifest["snapshot_sha256"] == submission.sha256
    assert json.loads(archive.read("ansokan.json")) == submission.snapshot
    assert "SHA256SUMS" in archive.namelist()
    # Partners and steering members see the application but do not get the registry copy;
    # outsiders get 404 too.
    db.session.add(ApplicationPartner(application_id=budgeted.id,
                                      organisation_id=world.orgs["vaxjo"].id,
                                      contact_name="Olle Öberg", contact_email="other@demo.test",
                                      contact_user_id=world.users["other_lead"].id,
                                      status="active"))
    db.session.commit()
    for email in ("steering1@demo.test", "other@demo.test"):
        member_or_partner = login_as(email)
        assert member_or_partner.get(f"/applications/{budgeted.id}").status_code == 200, email
        assert member_or_partner.get(
            f"/applications/{budgeted.id}/submissions/1/dossier.zip").status_code == 404
    assert login_as("coordinator@demo.test").get(
        f"/applications/{budgeted.id}/submissions/1/dossier.zip").status_code == 200


RECORD_JOB = {"minutes": "render_minutes", "certificate": "render_certificate"}


def record_document(application, kind: str, filename: str, text: str, *, render=True,
                    **key) -> Document | None:
    """Minutes or a co-financing certificate requested as the app requests them (a render
    job), rendered now or later (`render_later`)."""
    doc_fingerprint = hashlib.sha256(f"{kind}:{text}".encode()).hexdigest()
    db.session.add(Job(kind=RECORD_JOB[kind], application_id=application.id, fingerprint=doc_fingerprint,
                       payload={"kind": kind, **key},
                       status=JobStatus.done if render else JobStatus.queued))
    if not render:
        return None
    return render_later(application, kind, filename, text)


def render_later(application, kind: str, filename: str, text: str) -> Document:
    content = pdf_bytes(text)
    document = Document(application_id=application.id, kind=kind,
                        fingerprint=hashlib.sha256(f"{kind}:{text}".encode()).hexdigest(),
                        filename=filename, size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(), content=content)
    db.session.add(document)
    db.session.flush()
    return document


def dossier_files(browser, application, number: int) -> dict[str, str]:
    """Name → SHA-256 of every file in one submission's dossier, checked against its
    manifest."""
    response = browser.get(f"/applications/{application.id}/submissions/{number}/dossier.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    files = {f["name"]: f["sha256"] for f in manifest["files"]}
    for name, sha in files.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha
    return files


def test_each_dossier_holds_the_minutes_and_certificates_of_its_own_submission(
        login_as, world, budgeted, run_worker):
    world.call.allow_resubmission = True
    first_minutes = record_document(budgeted, "minutes", "protokollsutdrag-1-1.pdf",
                                    "Protokoll omgång 1", round_id=1)
    first_certificate = record_document(budgeted, "certificate", "medfinansieringsintyg-1-7.pdf",
                                        "Intyg version 1", partner_id=7)
    # Requested before the freeze, rendered after it: still this submission's.
    record_document(budgeted, "certificate", "medfinansieringsintyg-1-8.pdf", "Intyg partner 8",
                    render=False, partner_id=8)
    db.session.commit()
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    run_worker()
    late = render_later(budgeted, "certificate", "medfinansieringsintyg-1-8.pdf",
                        "Intyg partner 8")
    db.session.commit()
    # Taken back; new minutes and a new certificate for partner 7; submitted again.
    db.session.refresh(budgeted)
    lead.post(f"/applications/{budgeted.id}/transitions/retract_submission",
              {"state_version": str(budgeted.state_version), "comment": "Ny budget"})
    second_minutes = record_document(budgeted, "minutes", "protokollsutdrag-1-2.pdf",
                                     "Protokoll omgång 2", round_id=2)
    second_certificate = record_document(budgeted, "certificate",
                                         "medfinansieringsintyg-1-7.pdf", "Intyg version 2",
                                         partner_id=7)
    db.session.commit()
    submit(lead, budgeted)
    run_worker()
    assert db.session.scalar(select(func.count(Submission.id))) == 2

    first, second = dossier_files(lead, budgeted, 1), dossier_files(lead, budgeted, 2)
    assert {n: h for n, h in first.items() if "/" in n and not n.startswith("bilagor/")} == {
        "protokoll/protokollsutdrag-1-1.pdf": first_minutes.sha256,
        "medfinansieringsintyg/medfinansieringsintyg-1-7.pdf": first_certificate.sha256,
        "medfinansieringsintyg/medfinansieringsintyg-1-8.pdf": late.sha256}
    assert {n: h for n, h in second.items() if "/" in n and not n.startswith("bilagor/")} == {
        "protokoll/protokollsutdrag-1-1.pdf": first_minutes.sha256,
        "protokoll/protokollsutdrag-1-2.pdf": second_minutes.sha256,
        "medfinansieringsintyg/medfinansieringsintyg-1-7.pdf": second_certificate.sha256,
        "medfinansieringsintyg/medfinansieringsintyg-1-8.pdf": late.sha256}
    # Each its own archival PDF and snapshot.
    assert first[f"ansokan-{budgeted.id}-1.pdf"] != second[f"ansokan-{budgeted.id}-2.pdf"]
    assert first["ansokan.json"] != second["ansokan.json"]
    # Minutes made after the last submission belong to none of them.
    record_document(budgeted, "minutes", "protokollsutdrag-1-3.pdf", "Protokoll omgång 3",
                    round_id=3)
    db.session.commit()
    assert "protokoll/protokollsutdrag-1-3.pdf" not in dossier_files(lead, budgeted, 2)


def test_resubmission_before_the_deadline_keeps_each_submission(login_as, world, budgeted,
                                                                run_worker):
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    db.session.refresh(budgeted)
    html = lead.post(f"/applications/{budgeted.id}/transitions/retract_submission",
                     {"state_version": str(budgeted.state_version),
                      "comment": "Fel bilaga"}, follow_redirects=True).get_data(as_text=True)
    assert "Utlysningen tillåter inte" in html
    world.call.allow_resubmission = True
    db.session.commit()
    lead.post(f"/applications/{budgeted.id}/transitions/retract_submission",
              {"state_version": str(budgeted.state_version), "comment": "Fel bilaga"})
    db.session.refresh(budgeted)
    assert budgeted.state == "approved"
    submit(lead, budgeted)
    run_worker()
    first, second = db.session.scalars(select(Submission).order_by(Submission.number)).all()
    assert (first.status, first.withdrawn_reason) == ("withdrawn", "Fel bilaga")
    assert second.counts and second.number == 2
    assert first.final_document_id and second.final_document_id
    assert first.final_document_id != second.final_document_id
    page = lead.get(f"/applications/{budgeted.id}/decision").get_data(as_text=True)
    assert "Den som gäller" in page and "Återtagen" in page
    # After the deadline it can no longer be taken back.
    world.call.allow_resubmission = True
    world.call.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    db.session.refresh(budgeted)
    html = lead.post(f"/applications/{budgeted.id}/transitions/retract_submission",
                     {"state_version": str(budgeted.state_version), "comment": "Igen"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Utlysningen stängde" in html
    assert db.session.get(Application, budgeted.id).state == "submitted"


def test_funder_decision_is_recorded_with_its_details(login_as, world, budgeted):
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    db.session.refresh(budgeted)
    url = f"/applications/{budgeted.id}/decision"
    # The plain transition is refused: the decision needs its form.
    html = lead.post(f"/applications/{budgeted.id}/transitions/record_grant",
                     {"state_version": str(budgeted.state_version)},
                     follow_redirects=True).get_data(as_text=True)
    assert "Registrera bidragsgivarens beslut med beslutsformuläret" in html
    response = lead.post(url, {"outcome": "granted", "granted_amount": "",
                               "decision_date": "2026-11-20",
                               "state_version": str(budgeted.state_version)})
    assert response.status_code == 422
    assert 'id="granted_amount-error"' in response.get_data(as_text=True)
    response = lead.post(url, {"outcome": "granted", "granted_amount": "150 000",
                               "decision_date": "2026-11-20", "project_start": "2027-01-01",
                               "project_end": "2028-12-31",
                               "letter": (io.BytesIO(b"<html>not a pdf</html>"), "beslut.pdf"),
                               "state_version": str(budgeted.state_version)},
                         content_type="multipart/form-data")
    assert response.status_code == 422 and "Beslutsbrevet måste vara en PDF" in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FunderDecision.id))) == 0
    assert db.session.get(Application, budgeted.id).state == "submitted"
    # A grant starts the project: its period is needed, and must end after it starts.
    response = lead.post(url, {"outcome": "granted", "granted_amount": "150 000",
                               "decision_date": "2026-11-20", "project_start": "2027-06-01",
                               "project_end": "2027-01-01",
                               "state_version": str(budgeted.state_version)})
    assert response.status_code == 422
    assert "Projektet måste sluta efter att det börjar (2027-06-01)" in \
        response.get_data(as_text=True)
    lead.post(url, {"outcome": "granted", "granted_amount": "150 000",
                    "project_start": "2027-01-01", "project_end": "2028-12-31",
                    "conditions": "Slutredovisning senast två månader efter projektets slut.",
                    "decision_date": "2026-11-20", "funder_reference": "KUR 2026/4711",
                    "letter": (io.BytesIO(pdf_bytes("Beslut")), "beslut.pdf"),
                    "state_version": str(budgeted.state_version)},
              content_type="multipart/form-data")
    decision = db.session.scalar(select(FunderDecision))
    assert (decision.outcome, decision.granted_amount, decision.funder_reference) == \
        ("granted", 150_000, "KUR 2026/4711")
    assert (decision.project_start.isoformat(), decision.project_end.isoformat()) == \
        ("2027-01-01", "2028-12-31")
    assert decision.conditions.startswith("Slutredovisning")
    assert decision.letter_attachment_id is not None
    assert db.session.get(Application, budgeted.id).state == "granted"
    record = db.session.scalars(select(TransitionRecord).where(
        TransitionRecord.transition == "record_grant")).one()
    assert "KUR 2026/4711" in record.comment
    page = lead.get(f"/applications/{budgeted.id}/decision").get_data(as_text=True)
    assert "Beviljat: 150\u00a0000 kr" in page


def test_a_funder_with_its_own_template_gets_it_and_others_the_default(app, world):
    from grants.applications.snapshot import build_snapshot  # noqa: PLC0415
    from grants.calls.models import Funder  # noqa: PLC0415
    from grants.documents.rendering import application_html  # noqa: PLC0415
    application = world.new_application(answers=FULL_ANSWERS)
    form = form_for(application)
    default = application_html(build_snapshot(application, form, load_answers(application.id)),
                               "final")
    esf = Funder(name="Svenska ESF-rådet", short_name="ESF-rådet", slug="esf-radet")
    db.session.add(esf)
    db.session.flush()
    world.call.funder_id = esf.id
    db.session.commit()
    db.session.refresh(application)
    own = application_html(build_snapshot(application, form, load_answers(application.id)),
                           "final")
    assert "Europeiska socialfonden+" in own and "Europeiska socialfonden+" not in default
    assert "Innehåll" in own and "Innehåll" in default    # the rest is the default layout


def test_the_decision_form_fires_whatever_the_workflow_calls_its_decision_transitions(app):
    """Recording the funder's decision is found by the transitions' guards, not their names."""
    import dataclasses  # noqa: PLC0415

    from grants.processes import get_workflow  # noqa: PLC0415
    from grants.submissions.operations import decision_transitions  # noqa: PLC0415
    shipped = get_workflow("joint_application")
    renamed = {"record_grant": "funder_says_yes", "record_rejection": "funder_says_no"}
    workflow = dataclasses.replace(shipped, transitions={
        renamed.get(name, name): dataclasses.replace(t, name=renamed.get(name, name))
        for name, t in shipped.transitions.items()})
    found = decision_transitions(workflow, "submitted", {"lead"})
    assert {outcome: t.name for outcome, t in found.items()} == {
        "granted": "funder_says_yes", "rejected": "funder_says_no"}
    assert decision_transitions(workflow, "approved", {"lead"}) == {}     # not waiting for one
    assert decision_transitions(workflow, "submitted", {"partner"}) == {}  # not theirs
