"""Long-term validation: a bought certificate's revocation status goes into the file at
signing, and with a timestamp the signature still validates after the certificate expires.

The certificate authority and the timestamp authority are real HTTP servers on loopback
(a CRL distribution point, and RFC 3161 answered by pyHanko's test TSA); the file is then
judged by pyHanko's ETSI EN 319 102-1 long-term validation with the network closed, at a
time after the certificate has expired.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import threading
from dataclasses import dataclass

import pypdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credentials import SchoolCertificate, check_pades, make_link, render_pdf, snapshot_digest
from credentials.certificate import as_asn1, declares_revocation
from credentials.pades import _run
from credentials.sample import SAMPLE_BASE_URL, sample_snapshot

from .conftest import ZH

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
#: A year after the signing certificate (valid for a day) has expired.
LATER = NOW + dt.timedelta(days=400)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bought-Certificate University")])


def _cert(subject, issuer, public_key, issuer_key, *, days: float, ca=False, eku=None, crl_url=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(hours=1)).not_valid_after(NOW + dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                      crl_sign=ca, encipher_only=False, decipher_only=False), critical=True))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if crl_url:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@dataclass
class Authority:
    """A CA publishing a CRL and a TSA, served over HTTP on loopback."""

    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    base: str
    revoked: set[int]
    requests: list[str]
    stamper: object
    server: http.server.ThreadingHTTPServer

    def certificate(self, *, days: float = 1, crl_url: str | None = None) -> SchoolCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name("Transcript Signing"), self.root.subject, key.public_key(), self.root_key,
                     days=days, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION], crl_url=crl_url or f"{self.base}/ca.crl")
        return SchoolCertificate(key, cert, (self.root,))

    def crl(self) -> bytes:
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.root.subject)
             .last_update(NOW - dt.timedelta(minutes=5)).next_update(NOW + dt.timedelta(days=7)))
        for serial in self.revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                          .revocation_date(NOW - dt.timedelta(minutes=30)).build())
        return b.sign(self.root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def authority():
    from pyhanko.sign.timestamps import DummyTimeStamper

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(_name("Bought Root CA"), _name("Bought Root CA"), root_key.public_key(), root_key,
                 days=3650, ca=True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA signs RSA only
    tsa = _cert(_name("Timestamp Authority"), root.subject, tsa_key.public_key(), root_key, days=3650,
                eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    stamper = DummyTimeStamper(
        tsa_cert=as_asn1(tsa), certs_to_embed=[as_asn1(root)],
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))
    state: dict = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, body: bytes, kind: str):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            state["a"].requests.append(self.path)
            if self.path != "/ca.crl":
                self.send_error(404)
                return
            self._send(state["a"].crl(), "application/pkix-crl")

        def do_POST(self):
            state["a"].requests.append(self.path)
            req = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(stamper.request_tsa_response(req).dump(), "application/timestamp-reply")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    a = Authority(root, root_key, f"http://127.0.0.1:{server.server_address[1]}", set(), [], stamper, server)
    state["a"] = a
    yield a
    server.shutdown()


def _issue(certificate: SchoolCertificate, tsa_url: str | None, key) -> bytes:
    s = dataclasses.replace(sample_snapshot(4), issued_at=NOW)
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
    return render_pdf(s, link, key, zh=ZH, certificate=certificate, tsa_url=tsa_url)


def _dss(pdf: bytes) -> dict:
    import io

    return pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/DSS"]


def _long_term_verdict(pdf: bytes, root: x509.Certificate, at: dt.datetime):
    """pyHanko's PAdES long-term validation (ETSI EN 319 102-1, 5.6.3) at ``at``, offline,
    requiring revocation status for any certificate that declares where it is published."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec, ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[as_asn1(root)]),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED)))
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    reader = PdfFileReader(io.BytesIO(pdf))
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=True)
    return _run(ades_lta_validation(reader.embedded_regular_signatures[0], spec, timing_info=timing))


def test_a_bought_certificates_revocation_status_is_fetched_into_the_file(authority, key):
    school = authority.certificate()
    assert declares_revocation(school.cert)
    authority.requests.clear()
    pdf = _issue(school, None, key)
    assert "/ca.crl" in authority.requests  # fetched from the CA at signing
    crls = _dss(pdf)["/CRLs"]
    crl = x509.load_der_x509_crl(crls[0].get_object().get_data())
    assert crl.issuer == authority.root.subject
    assert check_pades(pdf, (authority.root,)).ok


def test_signature_still_validates_after_the_certificate_expires(authority, key):
    school = authority.certificate(days=1)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pdf = _issue(school, f"{authority.base}/tsa", key)
    after = dt.datetime.now(dt.UTC)
    assert school.cert.not_valid_after_utc < LATER
    authority.requests.clear()
    verdict = _long_term_verdict(pdf, authority.root, LATER)
    assert verdict.ades_subindic.status.name == "PASSED", verdict.ades_subindic
    assert authority.requests == []  # judged from what the file carries, nothing fetched
    # the signature's own timestamp (the TSA's clock) proves when it was made
    assert before <= verdict.best_signature_time <= after


def test_without_a_timestamp_an_expired_certificate_is_not_proven(authority, key):
    pdf = _issue(authority.certificate(days=1), None, key)
    verdict = _long_term_verdict(pdf, authority.root, LATER)
    assert verdict.ades_subindic.status.name != "PASSED", verdict.ades_subindic


def test_a_revoked_signing_certificate_signs_nothing(authority, key):
    school = authority.certificate()
    authority.revoked.add(school.cert.serial_number)
    try:
        with pytest.raises(ValueError, match="does not validate"):
            _issue(school, None, key)
    finally:
        authority.revoked.discard(school.cert.serial_number)


def test_a_ca_that_does_not_answer_leaves_the_file_without_long_term_proof(authority, key, caplog):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/ca.crl"
    pdf = _issue(authority.certificate(crl_url=dead), f"{authority.base}/tsa", key)
    assert "/CRLs" not in _dss(pdf)
    assert "no revocation status could be fetched" in caplog.text
    assert check_pades(pdf, (authority.root,)).ok  # still signed by the school today
    verdict = _long_term_verdict(pdf, authority.root, LATER)
    assert verdict.ades_subindic.status.name != "PASSED", verdict.ades_subindic
