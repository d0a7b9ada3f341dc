"""A demo certificate authority, the organisation's seal (PKCS#12) and the certificate of the
local TSA, made once in a folder (`make demo`: `instance/signing/`; the tests: a temporary
folder). Nothing here is for production."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_PKCS12_PASSWORD = "demo-seal"


@dataclass(frozen=True)
class DemoPKI:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "demo-ca.pem"

    @property
    def seal(self) -> Path:
        return self.folder / "seal.p12"

    @property
    def tsa_cert(self) -> Path:
        return self.folder / "tsa.pem"

    @property
    def tsa_key(self) -> Path:
        return self.folder / "tsa-key.pem"

    def environment(self, tsa_url: str) -> dict[str, str]:
        """What the app and the worker need to seal with it."""
        return {"GRANTS_SIGNING_PKCS12": str(self.seal),
                "GRANTS_SIGNING_PKCS12_PASSWORD": DEMO_PKCS12_PASSWORD,
                "GRANTS_TSA_URL": tsa_url, "GRANTS_SIGNING_TRUST_ROOTS": str(self.ca_cert)}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo Consortium"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject: str, key, issuer: x509.Name, issuer_key, *, ca: bool,
                 eku=None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=3650 if ca else 1825))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=not ca and eku is None,
                   key_encipherment=False, data_encipherment=False, key_agreement=False,
                   key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                   critical=True))
    if not ca:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def ensure_demo_pki(folder: Path) -> DemoPKI:
    """Make the CA, the seal and the TSA certificate unless the folder has them already."""
    pki = DemoPKI(folder)
    if pki.ca_cert.exists() and pki.seal.exists() and pki.tsa_cert.exists() \
            and pki.tsa_key.exists():
        return pki
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_cert = _certificate("Demo Consortium Root CA", ca_key, _name("Demo Consortium Root CA"),
                           ca_key, ca=True)
    seal_key, tsa_key = _key(), _key()
    seal_cert = _certificate("Demo Consortium Seal", seal_key, ca_cert.subject, ca_key,
                             ca=False)
    tsa_cert = _certificate("Demo Consortium TSA", tsa_key, ca_cert.subject, ca_key, ca=False,
                            eku=ExtendedKeyUsageOID.TIME_STAMPING)
    pem_format = serialization.Encoding.PEM
    pki.ca_cert.write_bytes(ca_cert.public_bytes(pem_format))
    pki.tsa_cert.write_bytes(tsa_cert.public_bytes(pem_format))
    pki.tsa_key.write_bytes(tsa_key.private_bytes(
        pem_format, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pki.tsa_key.chmod(0o600)
    pki.seal.write_bytes(pkcs12.serialize_key_and_certificates(
        b"Demo Consortium Seal", seal_key, seal_cert, [ca_cert],
        serialization.BestAvailableEncryption(DEMO_PKCS12_PASSWORD.encode())))
    pki.seal.chmod(0o600)
    return pki
