"""Every field type round-trips: form post → stored → page → PDF text → JSON export."""

import io
import json

import pypdf
import pytest
from sqlalchemy import select

from grants.applications.models import SectionAnswer
from grants.db import db
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job
from tests import files


@pytest.fixture
def kr_app(world):
    world.call.form_name = "kulturradet_utveckling"
    world.call.max_chars_per_field = None
    db.session.commit()
    return world.new_application(form="kulturradet_utveckling", title="Läsfrämjande för alla")


def saved(application, key):
    db.session.expire_all()
    row = db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == application.id, SectionAnswer.section_key == key))
    return row.data if row else None


def post_section(browser, application, key, data, version="0"):
    data = dict(data, version=version)
    return browser.post(f"/applications/{application.id}/sections/{key}", data,
                        content_type="multipart/form-data")


def fill_everything(lead, app_):
    assert post_section(lead, app_, "summary", {
        "short_name": "Läslust", "summary": "Vi når äldre på Öland – åäö.",
        "start_date": "2027-08-15", "end_date": "2029-06-30"}).status_code == 303
    assert post_section(lead, app_, "background", {
        "background": "Behovet är **stort**:\n\n- äldre\n- nyanlända\n\n"
                      "Se [rapporten](https://example.org/rapport)."}).status_code == 303
    assert post_section(lead, app_, "cultural_aims", {
        "cultural_aims": "Läsning som *konstform*.",
        "priorities": ["digital_inclusion", "literacy"]}).status_code == 303
    assert post_section(lead, app_, "target_groups", {
        "target_groups-0-group": "Äldre över 70", "target_groups-0-count": "600",
        "target_groups-1-group": "Nyanlända", "target_groups-1-count": "1 250",
        "target_groups-2-group": "", "target_groups-2-count": ""}).status_code == 303
    assert post_section(lead, app_, "activities", {
        "activities-0-activity": "Bokcirklar i Växjö", "activities-0-start": "2027-09-01",
        "activities-0-end": "2027-12-15", "activities-0-responsible": "Per Andersson"
    }).status_code == 303
    assert post_section(lead, app_, "financing", {
        "requested_amount": "450 000", "has_other_financing": "yes",
        "other_financing-0-financier": "Region Kalmar län",
        "other_financing-0-amount": "120000", "other_financing-0-status": "granted"
    }).status_code == 303
    assert post_section(lead, app_, "results", {
        "expected_results": "Fler lånare.", "follow_up": ""}).status_code == 303
    assert post_section(lead, app_, "attachments", {
        "letter_of_intent": (io.BytesIO(files.pdf_bytes()), "Avsiktsförklaring Växjö.pdf"),
        "project_plan": (io.BytesIO(files.xlsx_bytes()), "budget.xlsx")}).status_code == 303


def test_every_field_type_round_trips(login_as, kr_app, run_worker):
    lead = login_as("lead@demo.test")
    fill_everything(lead, kr_app)

    # Stored, typed.
    assert saved(kr_app, "summary") == {"short_name": "Läslust",
                                        "summary": "Vi når äldre på Öland – åäö.",
                                        "start_date": "2027-08-15", "end_date": "2029-06-30"}
    assert saved(kr_app, "cultural_aims")["priorities"] == ["digital_inclusion", "literacy"]
    assert saved(kr_app, "target_groups")["target_groups"] == [
        {"group": "Äldre över 70", "count": 600}, {"group": "Nyanlända", "count": 1250}]
    financing = saved(kr_app, "financing")
    # The requested amount is filled in from the budget (`mirrors:`): what is posted is not kept.
    assert "requested_amount" not in financing and financing["has_other_financing"] is True
    assert financing["other_financing"] == [
        {"financier": "Region Kalmar län", "amount": 120000, "status": "granted"}]
    letter = saved(kr_app, "attachments")["letter_of_intent"]
    assert letter["kind"] == "pdf" and letter["filename"] == "Avsiktsförklaring Växjö.pdf"
    assert len(letter["sha256"]) == 64

    # The sections tab, where the answers are shown.
    page = lead.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    for text in ["Läslust", "15 augusti 2027", "<strong>stort</strong>", "<li>äldre</li>",
                 'href="https://example.org/rapport"', "Ökad digital delaktighet",
                 "Informationskompetens", "1\u00a0250", "Bokcirklar i Växjö",
                 "Ja", "Region Kalmar län", "120\u00a0000 kr", "Beviljad",
                 "Avsiktsförklaring Växjö.pdf"]:
        assert text in page, text
    assert "Alla obligatoriska fält är ifyllda." in page

    # The attachment downloads as a file, never inline.
    stored = db.session.scalar(select(Attachment).where(Attachment.field_id == "letter_of_intent"))
    response = lead.get(f"/applications/{kr_app.id}/attachments/{stored.id}")
    assert response.data.startswith(b"%PDF") and len(response.data) == letter["size"]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Avsiktsf%C3%B6rklaring%20V%C3%A4xj%C3%B6.pdf" in \
        response.headers["Content-Disposition"]

    # The PDF.
    lead.post(f"/applications/{kr_app.id}/preview")
    run_worker()
    job = db.session.scalar(select(Job))
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        db.session.get(Document, job.document_id).content)).pages)
    for expected in ["Läslust", "15 augusti 2027", "stort", "nyanlända", "Ökad digital delaktighet",
                     "Äldre över 70", "1\u00a0250", "Bokcirklar i Växjö", "Region Kalmar län",
                     "120\u00a0000 kr", "Beviljad", "Bilagor", "Avsiktsförklaring Växjö.pdf",
                     letter["sha256"][:16]]:
        assert expected in text, expected

    # The JSON export.
    export = lead.get(f"/applications/{kr_app.id}/export.json")
    assert export.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(export.data)
    fields = {f["id"]: f for s in data["snapshot"]["sections"] for f in s["fields"]}
    assert fields["start_date"]["value"] == "2027-08-15"
    assert fields["priorities"]["value"] == ["digital_inclusion", "literacy"]
    assert fields["has_other_financing"]["value"] is True
    assert fields["other_financing"]["value"][0]["amount"] == 120000
    assert fields["background"]["value"].startswith("Behovet är **stort**")
    assert data["snapshot"]["attachments"][0]["filename"] == "Avsiktsförklaring Växjö.pdf"
    assert len(data["fingerprint"]) == 64


def test_conditional_field_only_counts_when_it_applies(login_as, kr_app):
    lead = login_as("lead@demo.test")
    # "No" other financing: the (required) table does not apply, so saving works without it.
    assert post_section(lead, kr_app, "financing", {
        "requested_amount": "100000", "has_other_financing": "no"}).status_code == 303
    page = lead.get(f"/applications/{kr_app.id}").get_data(as_text=True)
    assert "Annan finansiering" not in page.split("Sökt belopp från Kulturrådet")[1].split(
        "</li>")[0]
    # "Yes" without rows: refused, naming the table.
    response = post_section(lead, kr_app, "financing", {
        "requested_amount": "100000", "has_other_financing": "yes"}, version="1")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det behövs minst 1 rader." in html or "minst 1 rad" in html
    assert saved(kr_app, "financing")["has_other_financing"] is False


def test_table_rows_missing_required_cells_are_refused(login_as, kr_app):
    lead = login_as("lead@demo.test")
    response = post_section(lead, kr_app, "target_groups", {
        "target_groups-0-group": "Äldre", "target_groups-0-count": "",
        "target_groups-1-group": "Unga", "target_groups-1-count": "30"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Rad 1: fyll i ”Antal”." in html and 'href="#target_groups"' in html
    assert 'value="Unga"' in html  # nothing typed is lost
    response = post_section(lead, kr_app, "target_groups", {
        "target_groups-0-group": "Äldre", "target_groups-0-count": "12,5"})
    assert response.status_code == 422
    assert "Ange ett heltal, utan decimaler." in response.get_data(as_text=True)
    assert saved(kr_app, "target_groups") is None


def test_add_row_button_adds_a_row_and_saves_nothing(login_as, kr_app):
    lead = login_as("lead@demo.test")
    response = post_section(lead, kr_app, "activities", {
        "activities-0-activity": "Skrivarverkstad", "add_row": "activities"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="activities-1-activity"' in html and "Skrivarverkstad" in html
    assert saved(kr_app, "activities") is None


@pytest.mark.parametrize("make, name, accepted", [
    (files.pdf_bytes, "brev.pdf", True),
    (files.docx_bytes, "brev.docx", True),
    (files.odt_bytes, "brev.odt", True),
    (files.png_bytes, "bild.png", False),  # letter_of_intent accepts pdf, docx, odt
    (lambda: files.HTML_DISGUISED_AS_PDF, "brev.pdf", False),
])
def test_upload_kind_is_read_from_the_content(login_as, kr_app, make, name, accepted):
    lead = login_as("lead@demo.test")
    response = post_section(lead, kr_app, "attachments",
                            {"letter_of_intent": (io.BytesIO(make()), name)})
    if accepted:
        assert response.status_code == 303
        assert saved(kr_app, "attachments")["letter_of_intent"]["filename"] == name
    else:
        assert response.status_code == 422
        assert "Filen är inte av en godkänd sort" in response.get_data(as_text=True)
        assert db.session.scalar(select(Attachment)) is None


def test_file_is_kept_when_saving_without_a_new_one_and_can_be_removed(login_as, kr_app):
    lead = login_as("lead@demo.test")
    post_section(lead, kr_app, "attachments",
                 {"letter_of_intent": (io.BytesIO(files.pdf_bytes()), "brev.pdf")})
    post_section(lead, kr_app, "attachments", {}, version="1")
    assert saved(kr_app, "attachments")["letter_of_intent"]["filename"] == "brev.pdf"
    post_section(lead, kr_app, "attachments", {"remove_file": "letter_of_intent"}, version="2")
    assert saved(kr_app, "attachments")["letter_of_intent"] is None


def test_rich_text_is_sanitised_on_page_and_in_pdf(login_as, kr_app):
    lead = login_as("lead@demo.test")
    post_section(lead, kr_app, "background", {"background":
                 "<script>alert(1)</script> [klick](javascript:alert(2)) "
                 "<img src=x onerror=alert(3)> **fet**"})
    page = lead.get(f"/applications/{kr_app.id}/sections").get_data(as_text=True)
    from grants.applications.queries import load_answers
    from grants.applications.snapshot import build_snapshot
    from grants.documents.rendering import application_html
    from grants.processes import get_form
    pdf_html = application_html(build_snapshot(kr_app, get_form("kulturradet_utveckling"),
                                               load_answers(kr_app.id)), "preview")
    for html in (page, pdf_html):
        assert "<script>alert(1)" not in html and 'href="javascript:' not in html
        assert "<img src=x" not in html and "<strong>fet</strong>" in html


@pytest.mark.parametrize("make, kind", [
    (files.pdf_bytes, "pdf"), (files.docx_bytes, "docx"), (files.xlsx_bytes, "xlsx"),
    (files.odt_bytes, "odt"), (files.png_bytes, "png"), (files.jpg_bytes, "jpg"),
    (lambda: files.HTML_DISGUISED_AS_PDF, None), (lambda: b"PK\x03\x04 not really", None),
])
def test_file_kind_comes_from_the_content(make, kind):
    from grants.documents.uploads import identify, safe_filename
    assert identify(make()) == kind
    assert safe_filename("../../etc/Ansökan <v2>.pdf", "pdf") == "Ansökan _v2.pdf"
