"""The issued transcript's PAdES signature, end to end: poppler and pyHanko on the file the
service hands out, the upload check, `flask transcripts verify`, the settings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import credentials
from app.services import transcripts
from tests.test_transcripts import issue, make_certified_student, upload


def _issued_pdf(client, make) -> tuple[str, bytes]:
    student = make_certified_student(make)
    body = issue(client, make, student, student.student_no).get_json()
    pdf = client.get(f"/api/v1/transcripts/{body['serial']}/pdf", headers=make.token(student)).data
    return body["serial"], pdf


def _pdfsig(pdf: bytes, root_pem: bytes, tmp_path: Path) -> str:
    for tool in ("pdfsig", "certutil"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: scripts/ensure-chromium.sh installs poppler-utils and libnss3-tools")
    (tmp_path / "root.pem").write_bytes(root_pem)
    db = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", db, "-n", "school", "-t", "C,C,C", "-a", "-i",
                    str(tmp_path / "root.pem")], check=True, capture_output=True)
    (tmp_path / "t.pdf").write_bytes(pdf)
    return subprocess.run(["pdfsig", "-nssdir", db, str(tmp_path / "t.pdf")], capture_output=True, text=True,
                          check=True).stdout


def test_pdfsig_reports_the_signature_valid(app, client, make, tmp_path):
    _serial, pdf = _issued_pdf(client, make)
    with app.app_context():
        roots = transcripts.trust_roots()
    out = _pdfsig(pdf, b"".join(r.public_bytes(serialization.Encoding.PEM) for r in roots), tmp_path)
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Total document signed" in out and "Certificate is Trusted." in out, out
    assert "Demo University" in out  # the school's certificate (INSTITUTION_NAME)


def test_pyhanko_validates_coverage_of_whole_file(app, client, make):
    _serial, pdf = _issued_pdf(client, make)
    with app.app_context():
        check = credentials.check_pades(pdf, transcripts.trust_roots())
        jwks = {"keys": [k.public_jwk() for k in transcripts.keyring().keys]}
        offline = credentials.verify_pdf(pdf, jwks, trust_roots=transcripts.trust_roots())
    assert check.ok and check.coverage == "ENTIRE_FILE", check
    assert offline.genuine and "PAdES" in offline.reason, offline.reason


def test_upload_check_refuses_a_signature_that_no_longer_covers_the_file(client, make):
    _serial, pdf = _issued_pdf(client, make)
    assert upload(client, pdf).get_json()["genuine"] is True
    # a copy whose stored hash we know but whose signature gap was padded differently is no longer it
    at = pdf.rindex(b"00000000>") + 2
    padded = pdf[:at] + b"1" + pdf[at + 1:]
    answer = upload(client, padded).get_json()
    assert answer["genuine"] is False and answer["reason"]


def test_cli_verify_checks_the_pdf_signature(app, client, make, tmp_path):
    _serial, pdf = _issued_pdf(client, make)
    (tmp_path / "t.pdf").write_bytes(pdf)
    result = app.test_cli_runner().invoke(args=["transcripts", "verify", str(tmp_path / "t.pdf")])
    assert result.exit_code == 0, result.output
    assert "PAdES" in result.output


def test_a_bought_certificate_from_pkcs12_signs(app, client, make, tmp_path):
    bought = credentials.make_school_certificate("示范大学 Demo University")
    p12 = pkcs12.serialize_key_and_certificates(b"school", bought.key, bought.cert, list(bought.chain),
                                                serialization.BestAvailableEncryption(b"pw"))
    (tmp_path / "school.p12").write_bytes(p12)
    app.config.update(SIGNING_CERT=str(tmp_path / "school.p12"), SIGNING_CERT_PASSWORD="pw")
    _serial, pdf = _issued_pdf(client, make)
    assert credentials.check_pades(pdf, bought.roots).ok
    with app.app_context():
        assert bought.roots[0] in transcripts.trust_roots()
    assert upload(client, pdf).get_json()["genuine"] is True


def test_keys_generate_makes_the_school_certificate(app, tmp_path):
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "fresh")
    result = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert result.exit_code == 0, result.output
    made = credentials.school_certificate_in_dir(tmp_path / "fresh")
    assert made is not None and made.roots[0].issuer == made.roots[0].subject
    again = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert again.exit_code == 0 and credentials.school_certificate_in_dir(tmp_path / "fresh").cert == made.cert
