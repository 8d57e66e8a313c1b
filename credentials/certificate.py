"""The school's PDF signing certificate: loading it as a school buys it (a PEM chain and key, or
a PKCS#12 file), making a self-signed school root and signing certificate for local use, and its
revocation status as published by its CA (fetched at signing, :mod:`credentials.pades`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Where :func:`generate_school_certificate` writes, inside the key directory (a
#: sub-directory: the key ring reads every ``*.pem`` at its top level as an Ed25519 key).
CERT_SUBDIR = "certificate"
ROOT_FILE = "school-root.pem"
CHAIN_FILE = "school-signing.pem"
KEY_FILE = "school-signing-key.pem"
#: RSA 3072: accepted by every reader and deterministic with PKCS#1 v1.5.
RSA_BITS = 3072
#: Far enough back for any issue time the tests or a restored database use.
_NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, eq=False)
class SchoolCertificate:
    """The school's signing certificate, its private key and the certificates above it."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()  # the issuers, signing certificate excluded

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors: the self-signed certificates of the chain (its top if none is)."""
        found = tuple(c for c in self.chain if c.issuer == c.subject)
        if found:
            return found
        return (self.chain[-1],) if self.chain else (self.cert,)

    @property
    def subject_name(self) -> str:
        names = self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or \
            self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.cert.subject.rfc4514_string()

    def __repr__(self) -> str:  # never print key material
        return f"SchoolCertificate(subject={self.cert.subject.rfc4514_string()!r})"

    @functools.cached_property
    def _signer(self):
        return _KeySigner(self)


def _key_signer_class():
    from pyhanko.sign.signers.pdf_cms import Signer

    class KeySigner(Signer):
        """pyHanko's signer over a key already loaded: its SimpleSigner parses the DER key
        again for every signature (~130 ms for RSA 3072, twice per file with the size
        estimate)."""

        def __init__(self, c: SchoolCertificate) -> None:
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            super().__init__(signing_cert=as_asn1(c.cert),
                             cert_registry=SimpleCertificateStore.from_certs([as_asn1(x) for x in c.chain]))
            self._key = c.key

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            algo = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_algorithm]
            if isinstance(self._key, rsa.RSAPrivateKey):
                if dry_run:  # the size estimate needs the length only
                    return bytes(self._key.key_size // 8)
                from cryptography.hazmat.primitives.asymmetric import padding

                return self._key.sign(data, padding.PKCS1v15(), algo)
            # ECDSA: RFC 6979 nonces keep it deterministic (cryptography >= 44 with OpenSSL 3.2)
            return self._key.sign(data, ec.ECDSA(algo, deterministic_signing=True))

    return KeySigner


def _KeySigner(c: SchoolCertificate):
    return _key_signer_class()(c)


def as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# -- loading and making the certificate ----------------------------------------------------


def _check_key(key, cert: x509.Certificate, where: str):
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{where}: the signing key must be RSA or ECDSA")
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, pub) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, pub):
        raise ValueError(f"{where}: the key does not belong to the certificate")
    return key


def _order_chain(leaf: x509.Certificate, others: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The issuers from the signing certificate up, whatever order the file listed them in."""
    pool = [c for c in others if c != leaf]
    out: list[x509.Certificate] = []
    cur = leaf
    while cur.issuer != cur.subject:
        nxt = next((c for c in pool if c.subject == cur.issuer and c not in out), None)
        if nxt is None:
            break
        out.append(nxt)
        cur = nxt
    return tuple(out) + tuple(c for c in pool if c not in out)


def load_school_certificate(cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str] | None = None,
                            password: str | bytes | None = None) -> SchoolCertificate:
    """Read the school's certificate: a PEM chain (signing certificate first or anywhere)
    with its PEM key in ``key_path`` (or in the same file), or a PKCS#12 file with
    ``password``.  ``ValueError`` if the files do not make one."""
    data = Path(cert_path).read_bytes()
    pw = password.encode("utf-8") if isinstance(password, str) else password
    if b"-----BEGIN" not in data:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, pw or None)
        except ValueError as exc:
            raise ValueError(f"{cert_path}: not a PKCS#12 file, or the password is wrong") from exc
        if key is None or cert is None:
            raise ValueError(f"{cert_path}: the PKCS#12 file holds no key and certificate")
        return SchoolCertificate(_check_key(key, cert, str(cert_path)), cert, _order_chain(cert, extra))
    certs = x509.load_pem_x509_certificates(data)
    key_data = Path(key_path).read_bytes() if key_path else data
    try:
        key = serialization.load_pem_private_key(key_data, pw or None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{key_path or cert_path}: not a PEM private key (or the password is wrong)") from exc
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, pub)
    leaf = next((c for c in certs if c.public_key().public_bytes(serialization.Encoding.DER, pub) == mine), None)
    if leaf is None:
        raise ValueError(f"{cert_path}: no certificate for the key {key_path or ''}".rstrip())
    return SchoolCertificate(_check_key(key, leaf, str(cert_path)), leaf, _order_chain(leaf, certs))


def _name(common: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org[:64])])


def make_school_certificate(school: str, *, years: int = 30) -> SchoolCertificate:
    """A self-signed school root CA and a signing certificate issued by it, in memory.

    The root's key is not kept: a local setup never issues a second certificate from it.
    """
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    not_after = _NOT_BEFORE.replace(year=_NOT_BEFORE.year + years)
    root_name = _name(f"{school} Root CA", school)
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder().subject_name(_name(f"{school} Transcript Signing", school))
        .issuer_name(root_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return SchoolCertificate(key, cert, (root,))


def save_school_certificate(c: SchoolCertificate, directory: str | os.PathLike[str]) -> Path:
    """Write the root, the chain and the key (mode 0600) under ``directory``/certificate."""
    from .keys import _atomic_write

    d = Path(directory) / CERT_SUBDIR
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    _atomic_write(d / ROOT_FILE, b"".join(r.public_bytes(pem) for r in c.roots), 0o644)
    _atomic_write(d / CHAIN_FILE, b"".join(x.public_bytes(pem) for x in (c.cert, *c.chain)), 0o644)
    _atomic_write(d / KEY_FILE, c.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()), 0o600)
    return d


def generate_school_certificate(directory: str | os.PathLike[str], school: str = "Second Transcript School",
                                ) -> SchoolCertificate:
    """The self-signed school certificate of ``directory`` (the key directory): loaded if
    there is one, made and saved if not."""
    from .keys import _dir_lock

    d = Path(directory)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _dir_lock(d):  # two workers starting at once must not write a mixed chain and key
        found = school_certificate_in_dir(d)
        if found is not None:
            return found
        c = make_school_certificate(school)
        save_school_certificate(c, d)
        return c


def school_certificate_in_dir(directory: str | os.PathLike[str]) -> SchoolCertificate | None:
    """The certificate :func:`generate_school_certificate` saved there, or None."""
    d = Path(directory) / CERT_SUBDIR
    if not (d / CHAIN_FILE).exists() or not (d / KEY_FILE).exists():
        return None
    return load_school_certificate(d / CHAIN_FILE, d / KEY_FILE)


def load_roots(path: str | os.PathLike[str]) -> tuple[x509.Certificate, ...]:
    """Trust anchors from a PEM file (one or more certificates)."""
    return tuple(x509.load_pem_x509_certificates(Path(path).read_bytes()))


# -- its revocation status -----------------------------------------------------------------


def declares_revocation(cert: x509.Certificate) -> bool:
    """Whether the certificate names an OCSP responder or a CRL (a bought one does; the
    self-signed school root :func:`make_school_certificate` makes publishes neither)."""
    for kind in (x509.CRLDistributionPoints, x509.AuthorityInformationAccess):
        try:
            ext = cert.extensions.get_extension_for_class(kind).value
        except x509.ExtensionNotFound:
            continue
        if kind is x509.CRLDistributionPoints or any(
                d.access_method == x509.AuthorityInformationAccessOID.OCSP for d in ext):
            return True
    return False


async def revocation_data(certificate: SchoolCertificate) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The OCSP responses and CRLs for the signing certificate and the CAs above it, fetched
    at signing time (DER), so the file carries its own proof that the certificate was not
    revoked when it signed: a reader checks it without the network, after the certificate
    expires (with a timestamp, PAdES B-LTA).  Nothing is fetched for a chain that names no
    revocation source.  A responder that does not answer leaves the file without that proof
    (logged), rather than stopping the office from issuing."""
    if not any(declares_revocation(c) for c in (certificate.cert, *certificate.chain)):
        return (), ()
    import logging

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    ctx = ValidationContext(trust_roots=[as_asn1(r) for r in certificate.roots],
                            other_certs=[as_asn1(c) for c in certificate.chain],
                            allow_fetching=True, revocation_mode="soft-fail")
    try:
        await CertificateValidator(as_asn1(certificate.cert), validation_context=ctx).async_validate_usage(
            {"digital_signature"})
    except (PathBuildingError, PathValidationError) as exc:
        raise ValueError(f"the signing certificate does not validate: {exc}") from exc
    finally:
        await ctx.aclose()
    ocsps = tuple(o.dump() for o in ctx.ocsps)
    crls = tuple(c.dump() for c in ctx.crls)
    if not ocsps and not crls:
        logging.getLogger(__name__).warning(
            "no revocation status could be fetched for the signing certificate; the PDF carries none")
    return ocsps, crls
