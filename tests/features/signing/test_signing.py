"""The seal on the copy of record: the archival PDF/A signed PAdES-B-T with a timestamp from a
real RFC 3161 TSA on localhost, validated against the demo trust root, still PDF/A, with its
embedded snapshot intact; a byte changed after signing fails; unsigned without a key."""

import hashlib
import io

import pytest
import weasyprint
from pypdf import PdfReader
from sqlalchemy import func, select

from grants.config import SIGNING_KEYS
from grants.db import db
from grants.documents.demo_pki import ensure_demo_pki
from grants.documents.models import Document
from grants.documents.signatures import (
    SignatureStatus,
    SigningConfig,
    load_certificates,
    sign_pdf,
    validate_pdf,
)
from grants.documents.tsa import LocalTSA
from grants.jobs.models import Job
from grants.launcher import start_services
from grants.submissions.archive import render_submission_job
from grants.submissions.models import Submission
from tests.features.submissions.test_submissions import budgeted, submit  # noqa: F401


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_demo_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tsa(pki):
    server = LocalTSA(pki.tsa_cert, pki.tsa_key)
    server.start()
    yield server
    server.stop()


def configure(app, env: dict[str, str]) -> None:
    """The Flask config a process started with this environment has."""
    for key, name in SIGNING_KEYS.items():
        if name in env:
            app.config[key] = env[name]


@pytest.fixture
def sealing(app, pki, tsa):
    """Signing configured as the environment of `make demo` configures it."""
    configure(app, pki.environment(tsa.url))
    return pki


def final_of(application_id: int) -> tuple[Submission, Document]:
    submission = db_submission(application_id)
    return submission, db.session.get(Document, submission.final_document_id)


def db_submission(application_id: int) -> Submission:
    return db.session.scalar(select(Submission).where(
        Submission.application_id == application_id))


def verify(app, path) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["documents", "verify", str(path)])
    return result.exit_code, result.output


def test_the_archival_pdf_is_sealed_timestamped_and_still_pdf_a(app, login_as, world, budgeted,
                                                                 sealing, tsa, run_worker,
                                                                 tmp_path):
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    run_worker()
    submission, final = final_of(budgeted.id)
    content = final.content
    # Valid against the demo's root, with the TSA's timestamp fetched over HTTP.
    status = validate_pdf(content, load_certificates(str(sealing.ca_cert)))
    assert status.signed and status.valid and status.intact and status.trusted
    assert status.signer == "Demo Consortium Seal" and status.signed_at
    issued = tsa.app.served  # pyHanko asks once more to size the signature's space
    assert issued >= 1
    assert final.sha256 == hashlib.sha256(content).hexdigest()
    assert SignatureStatus.from_dict(final.signature) == status
    # An incremental update: still PDF/A-3b, the snapshot embedded is the frozen one.
    reader = PdfReader(io.BytesIO(content))
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    embedded = reader.attachments["ansokan.json"][0]
    assert hashlib.sha256(embedded).hexdigest() == submission.sha256
    assert reader.trailer["/Root"]["/AcroForm"]["/SigFlags"] == 3
    # A retried job neither signs again nor stores a second file.
    job = db.session.scalar(select(Job).where(Job.kind == "render_submission"))
    render_submission_job(job)
    db.session.commit()
    assert db.session.scalar(select(func.count(Document.id)).where(
        Document.kind == "final")) == 1
    assert tsa.app.served == issued
    # The decision tab shows who sealed it and when.
    page = lead.get(f"/applications/{budgeted.id}/decision").get_data(as_text=True)
    assert "Signaturen är giltig" in page and "Demo Consortium Seal" in page
    # The CLI agrees; a byte changed after signing fails it.
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(content)
    code, output = verify(app, signed)
    assert code == 0, output
    assert "Signer: Demo Consortium Seal" in output and "Valid: yes" in output
    assert f"SHA-256 {submission.sha256} matches submission {budgeted.id}-1" in output
    tampered = bytearray(content)
    at = content.index(b"stream", len(content) // 3) + 40
    tampered[at] ^= 0x01
    (tmp_path / "tampered.pdf").write_bytes(bytes(tampered))
    assert not validate_pdf(bytes(tampered), load_certificates(str(sealing.ca_cert))).intact
    code, output = verify(app, tmp_path / "tampered.pdf")
    assert code == 1 and "Intact: NO" in output and "Valid: NO" in output


def test_without_a_key_the_pdf_is_unsigned_as_before(app, login_as, world, budgeted, run_worker,
                                                     tmp_path):
    lead = login_as("lead@demo.test")
    submit(lead, budgeted)
    run_worker()
    submission, final = final_of(budgeted.id)
    assert final.signature is None
    assert not validate_pdf(final.content, []).signed
    page = lead.get(f"/applications/{budgeted.id}/decision").get_data(as_text=True)
    assert "Inte signerad" in page
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(final.content)
    code, output = verify(app, unsigned)
    assert code == 2 and "Signature: not signed" in output
    assert f"matches submission {budgeted.id}-1" in output


def test_the_demo_makes_its_ca_once_and_runs_a_tsa_beside_the_app(app, tmp_path):
    app.config["DEMO_MODE"] = True
    app.config["MAIL_SERVER"] = "smtp.example.org"  # only the TSA is started here
    env: dict[str, str] = {}
    stoppers = start_services(app, env)
    try:
        folder = tmp_path / "instance" / "signing"
        assert env["GRANTS_DEMO_SIGNING"] == str(folder)
        assert env["GRANTS_TSA_URL"].startswith("http://127.0.0.1:")
        ca = (folder / "demo-ca.pem").read_bytes()
        configure(app, env)
        config = SigningConfig.from_config(app.config)
        pdf = weasyprint.HTML(string="<html lang='sv'><p>Kopia</p></html>").write_pdf(
            pdf_variant="pdf/a-3b")
        signed = sign_pdf(pdf, config)
        assert signed.startswith(pdf)  # an incremental update: the PDF/A's bytes are kept
        status = validate_pdf(signed, load_certificates(env["GRANTS_SIGNING_TRUST_ROOTS"]))
        assert status.valid and status.signer == "Demo Consortium Seal"
    finally:
        for stop in stoppers:
            stop()
    # A second start keeps the CA: seals made earlier still validate.
    app.config.update(SIGNING_PKCS12="", SIGNING_TSA_URL="")
    stoppers = start_services(app, {})
    for stop in stoppers:
        stop()
    assert (folder / "demo-ca.pem").read_bytes() == ca
