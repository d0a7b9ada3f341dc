"""The seal on the copy of record: a PAdES-B-T signature (pyHanko) with an RFC 3161 timestamp
from the configured time-stamping authority, added to the archival PDF/A as an incremental
update (the original bytes stay as they were, so the file stays PDF/A), and its validation.

Configured by environment (`grants/config.py`): the key from a PKCS#12 file
(`GRANTS_SIGNING_PKCS12`, `GRANTS_SIGNING_PKCS12_PASSWORD`) or a PKCS#11 token
(`GRANTS_SIGNING_PKCS11_MODULE`, `..._TOKEN_LABEL`, `..._KEY_LABEL`, `..._PIN`), the TSA
(`GRANTS_TSA_URL`) and the trust roots validation accepts (`GRANTS_SIGNING_TRUST_ROOTS`, PEM).
Without a key, nothing is signed."""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from cryptography.utils import CryptographyDeprecationWarning

# pyHanko still names DSA keys (to refuse them); cryptography warns of DSA on that import.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated",
                            category=CryptographyDeprecationWarning)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:  # PKCS#11 needs python-pkcs11, installed where a token is used.
        from pyhanko.sign import pkcs11 as pyhanko_pkcs11
    except ImportError:  # pragma: no cover - depends on the machine
        pyhanko_pkcs11 = None

__all__ = ["DummyTimeStamper", "SignatureStatus", "SigningConfig", "sign_pdf", "validate_pdf"]

SIGNATURE_FIELD = "Sigill"


class SigningError(RuntimeError):
    """Signing is configured but cannot be done (no key, no TSA answer)."""


@dataclass(frozen=True)
class SigningConfig:
    pkcs12: str = ""
    pkcs12_password: str = ""
    pkcs11_module: str = ""
    pkcs11_token_label: str = ""
    pkcs11_key_label: str = ""
    pkcs11_pin: str = ""
    tsa_url: str = ""
    trust_roots: str = ""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SigningConfig:
        return cls(**{name: config.get(f"SIGNING_{name.upper()}", "") or ""
                      for name in cls.__dataclass_fields__})

    @property
    def enabled(self) -> bool:
        return bool(self.pkcs12 or self.pkcs11_module)


def load_certificates(path: str) -> list[x509.Certificate]:
    """Every certificate of a PEM (or DER) file."""
    data = Path(path).read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data,
                                                                                   multiple=True)]
    return [x509.Certificate.load(data)]


def _signer(config: SigningConfig) -> signers.Signer:
    if config.pkcs12:
        signer = signers.SimpleSigner.load_pkcs12(
            config.pkcs12, passphrase=config.pkcs12_password.encode() or None)
        if signer is None:
            raise SigningError(f"The PKCS#12 file {config.pkcs12} could not be read.")
        return signer
    if pyhanko_pkcs11 is None:
        raise SigningError("PKCS#11 signing needs the python-pkcs11 package.")
    session = pyhanko_pkcs11.open_pkcs11_session(
        config.pkcs11_module, token_label=config.pkcs11_token_label,
        user_pin=config.pkcs11_pin)
    return pyhanko_pkcs11.PKCS11Signer(session, key_label=config.pkcs11_key_label)


def sign_pdf(pdf: bytes, config: SigningConfig) -> bytes:
    """The PDF sealed: PAdES baseline with a signature timestamp from the TSA (B-T), appended
    as an incremental update."""
    if not config.tsa_url:
        raise SigningError("GRANTS_TSA_URL is not set: a seal needs a timestamp.")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, reason="Copy of record")
    out = signers.sign_pdf(writer, meta, signer=_signer(config),
                           timestamper=HTTPTimeStamper(config.tsa_url, timeout=20),
                           existing_fields_only=False)
    return out.getvalue()


@dataclass(frozen=True)
class SignatureStatus:
    signed: bool
    signer: str = ""
    signed_at: str = ""  # ISO 8601, the TSA's time
    valid: bool = False
    intact: bool = False
    trusted: bool = False
    summary: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SignatureStatus | None:
        return cls(**data) if data else None


UNSIGNED = SignatureStatus(signed=False, summary="not signed")


def validate_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> SignatureStatus:
    """The last signature of the file, checked against `trust_roots` (no network: the roots
    and the certificates in the signature are all it uses)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - a damaged file is an invalid one
        return SignatureStatus(signed=False, summary=f"unreadable: {exc}")
    if not embedded:
        return UNSIGNED
    signature = embedded[-1]
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signature, context, context)
    except Exception as exc:  # noqa: BLE001 - e.g. a digest that no longer matches
        return SignatureStatus(signed=True, summary=f"invalid: {exc}")
    timestamp = status.timestamp_validity
    signed_at = timestamp.timestamp.isoformat() if timestamp is not None else ""
    signer = ""
    if status.signing_cert is not None:
        names = status.signing_cert.subject.native
        signer = names.get("common_name") or status.signing_cert.subject.human_friendly
    valid = bool(status.bottom_line and timestamp is not None and timestamp.valid
                 and timestamp.intact)
    return SignatureStatus(signed=True, signer=signer, signed_at=signed_at, valid=valid,
                           intact=bool(status.intact), trusted=bool(status.trusted),
                           summary=status.summary())


def trust_roots_of(config: SigningConfig) -> list[x509.Certificate]:
    return load_certificates(config.trust_roots) if config.trust_roots else []
