"""The PAdES signature: what poppler and pyHanko say of an issued file, what breaks it,
that it is reproducible, the school's certificate files, and the files issued before it."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credentials import (
    KeyRing,
    check_pades,
    generate_school_certificate,
    load_school_certificate,
    make_link,
    make_school_certificate,
    render_pdf,
    save_school_certificate,
    snapshot_digest,
)
from credentials.certificate import CERT_SUBDIR, CHAIN_FILE, KEY_FILE, as_asn1
from credentials.pades import SIG_FIELD, sign_pdf
from credentials.pdf import render_legacy_pdf
from credentials.sample import SAMPLE_BASE_URL, sample_snapshot
from credentials.transcript_draw import SEAL_H, SEAL_W

from .conftest import CERT, ZH, issue, verify

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def signed(key):
    s = sample_snapshot(8)
    link, pdf = issue(s, key)
    return s, link, pdf


def _nss_with_root(tmp_path: Path) -> str:
    """A throw-away NSS database trusting the school root, for pdfsig's certificate check."""
    if not shutil.which("certutil"):
        pytest.fail("certutil is missing: apt-get install libnss3-tools (scripts/ensure-chromium.sh does)")
    root = tmp_path / "root.pem"
    root.write_bytes(CERT.roots[0].public_bytes(serialization.Encoding.PEM))
    db = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", db, "-n", "school root", "-t", "C,C,C", "-a", "-i", str(root)],
                   check=True, capture_output=True)
    return db


def test_pdfsig_reports_the_signature_valid(signed, tmp_path):
    if not shutil.which("pdfsig"):
        pytest.fail("pdfsig is missing: apt-get install poppler-utils (scripts/ensure-chromium.sh does)")
    (tmp_path / "t.pdf").write_bytes(signed[2])
    out = subprocess.run(["pdfsig", "-nssdir", _nss_with_root(tmp_path), str(tmp_path / "t.pdf")],
                         capture_output=True, text=True, check=True).stdout
    assert "Signature #1" in out and "Signature #2" not in out
    assert "Signature Type: ETSI.CAdES.detached" in out
    assert "Total document signed" in out
    assert "Signature Validation: Signature is Valid." in out
    assert "Certificate Validation: Certificate is Trusted." in out
    assert "Signing Time: Jun 30 2025 02:15:00" in out  # the issue time (10:15 in Shanghai), in UTC


def test_pyhanko_validates_coverage_of_whole_file(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    pdf = signed[2]
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = reader.embedded_signatures
    assert sig.field_name == SIG_FIELD and sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    roots = [as_asn1(r) for r in CERT.roots]
    context = ValidationContext(trust_roots=roots, moment=sig.self_reported_timestamp)
    # pyHanko's sync API runs an event loop of its own: a thread of its own, whatever ran before
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(validate_pdf_signature, sig, context).result()
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert sig.self_reported_timestamp == signed[0].issued_at
    # long-term validation data: the chain sits in the DSS of the signed revision (B-LT)
    dss = reader.root["/DSS"]
    listed = {c.get_object().data for c in dss["/Certs"]}
    assert CERT.cert.public_bytes(serialization.Encoding.DER) in listed
    assert CERT.roots[0].public_bytes(serialization.Encoding.DER) in listed
    assert check_pades(pdf, CERT.roots).ok


def test_old_transcripts_still_verify(key):
    # a file the code before PAdES issued (kept as a fixture), and one made by the legacy signer
    old = (FIXTURES / "legacy-transcript.pdf").read_bytes()
    jwks = json.loads((FIXTURES / "legacy-jwks.json").read_text())
    v = verify(old, jwks)
    assert v.genuine and "whole-file signature" in v.reason, v.reason
    assert verify(old, jwks, trust_roots=None).genuine  # no certificate involved
    s = sample_snapshot(4)
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
    legacy = render_legacy_pdf(s, link, key, zh=ZH)
    assert b"/TranscriptSignature <" in legacy and b"/ETSI.CAdES.detached" not in legacy
    assert verify(legacy, key).genuine
    changed = bytearray(old)
    changed[len(changed) // 3] ^= 0x01
    assert not verify(bytes(changed), jwks).genuine


def test_a_changed_byte_fails(signed, key):
    pdf = signed[2]
    i = pdf.index(b"stream\nx\x9c") + 40  # a page's content, inside the signed range
    for at in (i, len(pdf) - 30, pdf.rindex(b"00000000>") + 2):  # ... the trailer, the signature's padding
        data = bytearray(pdf)
        data[at] = ord("1") if data[at] == ord("0") else data[at] ^ 0x01
        v = verify(bytes(data), key)
        assert not v.genuine and v.code in ("altered", "unreadable"), (at, v.code, v.reason)


def test_an_incremental_update_after_signing_fails_coverage(signed, key):
    pdf = signed[2]
    w = pypdf.PdfWriter(io.BytesIO(pdf), incremental=True)
    w.add_metadata({"/Subject": "张三 2021999999"})
    out = io.BytesIO()
    w.write(out)
    updated = out.getvalue()
    assert updated.startswith(pdf)
    pc = check_pades(updated, CERT.roots)
    assert not pc.ok and pc.coverage != "ENTIRE_FILE" and "whole file" in pc.reason, pc
    assert verify(updated, key).code == "altered"


def test_signing_is_deterministic_and_dated_at_the_issue_time(signed, key):
    s, link, pdf = signed
    again = render_pdf(s, link, key, zh=ZH, certificate=CERT)
    assert again == pdf
    unsigned = render_pdf(s, link, key, zh=ZH)
    assert pdf.startswith(unsigned)  # one incremental update after the rendered file
    assert b"/M (D:20250630101500+08'00')" in pdf
    # no wall clock in the update (pyHanko's own writer would stamp /ModDate with it)
    assert dt.datetime.now().strftime("D:%Y%m%d").encode() not in pdf[len(unsigned):]


def test_another_schools_certificate_is_refused(key):
    other = make_school_certificate("冒名大学 Fake University")
    s = sample_snapshot(3)
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
    forged = render_pdf(s, link, key, zh=ZH, certificate=other)
    assert check_pades(forged, other.roots).ok  # a sound signature ...
    v = verify(forged, key)  # ... by someone who is not the school
    assert not v.genuine and v.code == "untrusted", v.reason


def test_the_seal_is_drawn_in_the_seal_area(signed):
    pdf = signed[2]
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[-1]
    (widget,) = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Widget"]
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert (round(x2 - x1), round(y2 - y1)) == (SEAL_W, SEAL_H)
    doc = pdfium.PdfDocument(pdf)
    doc.init_forms()
    scale = 2
    img = doc[len(doc) - 1].render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    h = img.height
    box = img.crop((int(x1 * scale), int(h - y2 * scale), int(x2 * scale), int(h - y1 * scale)))
    px = box.tobytes()  # RGB triples
    red = sum(1 for i in range(0, len(px), 3) if px[i] > 120 and px[i + 1] < 80 and px[i + 2] < 80)
    assert red > 500  # the red frame and lines of the stamp


def test_certificate_files_pem_and_pkcs12(tmp_path):
    c = CERT
    save_school_certificate(c, tmp_path)
    d = tmp_path / CERT_SUBDIR
    assert (d / KEY_FILE).stat().st_mode & 0o077 == 0
    again = load_school_certificate(d / CHAIN_FILE, d / KEY_FILE)
    assert again.cert == c.cert and again.roots == c.roots
    p12 = pkcs12.serialize_key_and_certificates(
        b"school", c.key, c.cert, list(c.chain), serialization.BestAvailableEncryption(b"s3cret"))
    (tmp_path / "school.p12").write_bytes(p12)
    from_p12 = load_school_certificate(tmp_path / "school.p12", password="s3cret")
    assert from_p12.cert == c.cert and from_p12.roots == c.roots
    with pytest.raises(ValueError):
        load_school_certificate(tmp_path / "school.p12", password="wrong")
    with pytest.raises(ValueError):  # a key that is not the certificate's
        other = make_school_certificate("Other")
        save_school_certificate(other, tmp_path / "other")
        load_school_certificate(d / CHAIN_FILE, tmp_path / "other" / CERT_SUBDIR / KEY_FILE)


def test_generate_school_certificate_sits_beside_the_key_ring(tmp_path):
    KeyRing.generate_in_dir(tmp_path)
    made = generate_school_certificate(tmp_path, "示例大学 Example University")
    assert generate_school_certificate(tmp_path).cert == made.cert  # made once, then loaded
    assert KeyRing.load_dir(tmp_path).active  # the key ring ignores the certificate folder
    assert made.cert.issuer == made.roots[0].subject and made.roots[0].issuer == made.roots[0].subject
    assert isinstance(made.key, rsa.RSAPrivateKey) and made.key.key_size >= 3072


def _tsa(root_key, root_cert):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(root_cert.subject)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(root_key, hashes.SHA256()))
    return key, cert


def test_a_timestamp_from_a_local_tsa_makes_it_lta(key):
    from asn1crypto import keys as ak
    from pyhanko.sign.timestamps import DummyTimeStamper

    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rname = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA Root")])
    root = (x509.CertificateBuilder().subject_name(rname).issuer_name(rname).public_key(root_key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    tsa_key, tsa_cert = _tsa(root_key, root)
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=as_asn1(tsa_cert),
        tsa_key=ak.PrivateKeyInfo.load(tsa_key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption())),
        certs_to_embed=[as_asn1(root)])
    s = sample_snapshot(3)
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
    unsigned = render_pdf(s, link, key, zh=ZH)
    pdf = sign_pdf(unsigned, CERT, signing_time=s.issued_at, box=(100, 100, 268, 144), timestamper=stamper)
    pc = check_pades(pdf, CERT.roots + (root,))
    assert pc.ok and pc.timestamped, pc
    v = verify(pdf, key, trust_roots=CERT.roots + (root,))
    assert v.genuine and "timestamped" in v.reason, v.reason


def test_an_ecdsa_certificate_signs_deterministically(signed):
    from cryptography.hazmat.primitives.asymmetric import ec

    from credentials import SchoolCertificate

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC School"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EC School")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(5).not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    school = SchoolCertificate(key, cert, (cert,))
    s, link, _pdf = signed
    a = render_pdf(s, link, zh=ZH, certificate=school)
    assert a == render_pdf(s, link, zh=ZH, certificate=school)  # RFC 6979: no random nonce
    assert check_pades(a, (cert,)).ok


@pytest.mark.parametrize("what, find, last, new", [
    ("SignedData version", b"020101", False, b"020191"),
    ("digestAlgorithms set", b"6086480165030402", False, b"6086480165060402"),
    ("signer identifier's issuer", b"526F6F74", True, b"524F6F74"),
])
def test_a_changed_unsigned_part_of_the_signature_container_is_not_genuine(issued60, key, what, find, last, new):
    """Parts of the CMS container the signature does not cover, which pyHanko verifies without
    reading: the fuzz test found a changed one accepted."""
    from .conftest import verify

    pdf = issued60[2]
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    at = pdf.rfind(find, start, end) if last else pdf.find(find, start, end)
    assert at > 0, what
    changed = pdf[:at] + new + pdf[at + len(new):]
    verdict = verify(changed, key)
    assert not verdict.genuine and verdict.code == "altered", (what, verdict.reason)
