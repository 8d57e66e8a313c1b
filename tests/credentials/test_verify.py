"""The offline verifier: genuine files pass; every kind of bad file gets a reason."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from credentials import KeyRing, Verdict, extract_embedded, verify_pdf
from credentials.pdf_file import find_pdf_signature
from credentials.sample import sample_snapshot
from credentials.snapshot import canonical_bytes

from .conftest import CATALOG, ZH, issue, verify, write_roots

FIXTURES = Path(__file__).parent / "fixtures"

ROOT = Path(__file__).resolve().parents[2]


def not_genuine(v: Verdict, *codes: str) -> None:
    assert isinstance(v, Verdict)
    assert v.genuine is False
    assert v.reason and v.reason_zh
    if codes:
        assert v.code in codes, (v.code, v.reason)


def test_genuine_signed_and_unsigned(issued60, issued60_unsigned, key, ring):
    for _s, _link, pdf in (issued60, issued60_unsigned):
        v = verify(pdf, key)
        assert v.genuine, v.reason
        assert v.code == "genuine" and v.serial == _s.serial and v.snapshot == _s
        assert v.issued_on == _s.issued_on and v.kid == key.kid and v.link == _link
    assert "PAdES signature" in verify(issued60[2], key).reason
    # a PAdES-signed file is tied to the school only through its root certificate
    not_genuine(verify(issued60[2], key, trust_roots=None), "no_trust_roots")
    assert "re-rendered" in verify(issued60_unsigned[2], key).reason
    assert verify(issued60[2], {"keys": [key.public_jwk()]}).genuine
    assert verify(bytearray(issued60[2]), [ring, key]).genuine


def test_retired_key_still_verifies(tmp_path):
    ring = KeyRing.generate_in_dir(tmp_path)
    _link, pdf = issue(sample_snapshot(5), ring.active)
    rotated = KeyRing.rotate_in_dir(tmp_path)
    assert verify(pdf, rotated.jwks()).genuine


def test_unknown_key(issued60, other_key):
    not_genuine(verify(issued60[2], other_key), "unknown_key")
    not_genuine(verify(issued60[2], {"keys": []}), "unknown_key")


@pytest.mark.parametrize("data", [
    b"", b"hello", b"%PDF", b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
    bytes(range(256)) * 20, "a string", None, 42, ["%PDF-"],
])
def test_not_a_pdf(data, key):
    not_genuine(verify(data, key), "not_pdf", "no_embedded")


def test_a_pdf_that_is_not_a_transcript(key):
    buf = io.BytesIO()
    c = Canvas(buf)
    c.drawString(100, 700, "第二课堂成绩单 (forged)")
    c.save()
    not_genuine(verify(buf.getvalue(), key), "no_embedded")


@pytest.mark.parametrize("cut", [1, 10, 100, 1000, 5000, 0.5, 0.9])
def test_truncated(issued60, issued60_unsigned, key, cut):
    for _s, _l, pdf in (issued60, issued60_unsigned):
        n = int(len(pdf) * cut) if isinstance(cut, float) else len(pdf) - cut
        not_genuine(verify(pdf[:n], key))


def test_incremental_update_appended(issued60, issued60_unsigned, key):
    for _s, _l, pdf in (issued60, issued60_unsigned):
        w = pypdf.PdfWriter(io.BytesIO(pdf), incremental=True)
        w.add_metadata({"/Subject": "张三 2021999999"})
        out = io.BytesIO()
        w.write(out)
        updated = out.getvalue()
        assert updated.startswith(pdf) and len(updated) > len(pdf)
        not_genuine(verify(updated, key), "altered")
        # and a hand-made one: a new page content object and trailer after %%EOF
        tail = (b"\n99 0 obj\n<< /Length 20 >>\nstream\nBT (forged) Tj ET\nendstream\nendobj\n"
                b"trailer\n<< /Size 100 /Prev 0 >>\n%%EOF\n")
        not_genuine(verify(pdf + tail, key), "altered")
        not_genuine(verify(pdf + b"\n", key), "altered")


def test_one_byte_changed_in_the_visible_content(issued60_unsigned, issued60, key):
    for _s, _l, pdf in (issued60, issued60_unsigned):
        i = pdf.index(b"stream\nx\x9c") + 40  # inside a compressed page stream
        data = bytearray(pdf)
        data[i] ^= 0x01
        not_genuine(verify(bytes(data), key), "altered")


def test_changed_metadata_same_length(issued60, key):
    pdf = issued60[2]
    forged = pdf.replace(b"/Trapped /False", b"/Trapped /Frlse")
    assert forged != pdf and len(forged) == len(pdf)
    not_genuine(verify(forged, key), "altered")


def _replace_part(pdf: bytes, part: str, new: bytes) -> bytes:
    m = re.search(rb"/TranscriptPart /" + part.encode() + rb" /Params << /Size (\d+) ", pdf)
    start = pdf.index(b">>\nstream\n", m.end()) + len(b">>\nstream\n")
    size = int(m.group(1))
    head = pdf[:start].replace(b"/Size %d " % size, b"/Size %d " % len(new))
    head = head.replace(b"/Length %d >>\nstream\n" % size, b"/Length %d >>\nstream\n" % len(new))
    return head + new + pdf[start + size:]


def test_snapshot_swapped_from_another_transcript(issued60, issued60_unsigned, key):
    other = sample_snapshot(60, seed=8, student_name="王小明")
    other_link, other_pdf = issue(other, key)
    for s, _l, pdf in (issued60, issued60_unsigned):
        swapped = _replace_part(pdf, "snapshot", canonical_bytes(other))
        assert extract_embedded(swapped)[0] == other
        not_genuine(verify(swapped, key), "digest_mismatch")
        # swapping the link too: both genuine parts, but not this file
        both = _replace_part(swapped, "link", other_link.encode())
        assert extract_embedded(both) == (other, other_link)
        not_genuine(verify(both, key), "altered")
        # a modified snapshot (more hours), canonical and well formed
        more = canonical_bytes(s).replace(b'"hours":"', b'"hours":"9', 1)
        not_genuine(verify(_replace_part(pdf, "snapshot", more), key),
                    "digest_mismatch", "malformed_snapshot")
    # another student's genuine PDF is genuine, but for its own serial and name
    v = verify(other_pdf, key)
    assert v.genuine and v.snapshot.student_name == "王小明"


def test_pdf_rewritten_by_another_tool(issued60, key):
    w = pypdf.PdfWriter(clone_from=io.BytesIO(issued60[2]))
    out = io.BytesIO()
    w.write(out)
    not_genuine(verify(out.getvalue(), key))


def test_two_signatures_or_embedded_parts_are_refused(issued60, key):
    pdf = issued60[2]
    sig = re.search(rb"<< /Type /Sig .*?>>", pdf, re.S).group(0)
    not_genuine(verify(pdf + b"\n" + sig, key), "altered")
    legacy = (FIXTURES / "legacy-transcript.pdf").read_bytes()
    start, _sig = find_pdf_signature(legacy)
    legacy_keys = json.loads((FIXTURES / "legacy-jwks.json").read_text())
    not_genuine(verify(legacy + legacy[start - 30:start + 130], legacy_keys), "altered")
    m = re.search(rb"<< /Type /EmbeddedFile /Subtype /text#2Fplain .*?endstream", pdf, re.S)
    not_genuine(verify(pdf + b"\n" + m.group(0), key), "no_embedded")


def test_bad_key_set_is_a_verdict_not_a_crash(issued60):
    not_genuine(verify(issued60[2], {"keys": [{"kty": "RSA"}]}), "bad_keys")
    not_genuine(verify(issued60[2], "jwks.json"), "bad_keys")


def test_extract_embedded(issued60):
    s, link, pdf = issued60
    assert extract_embedded(pdf) == (s, link)
    for bad in (b"", b"%PDF-1.4", pdf[:2000]):
        with pytest.raises(ValueError):
            extract_embedded(bad)


def test_an_unsigned_file_is_re_rendered_with_the_issuers_catalog(issued60_unsigned, key):
    pdf = issued60_unsigned[2]
    v = verify_pdf(pdf, key)  # no catalog: it cannot be rendered again, so it is not vouched for
    assert not v.genuine and v.code == "no_catalog" and v.reason_zh
    assert verify_pdf(pdf, key, zh=ZH).genuine
    assert not verify_pdf(pdf, key, zh=lambda msgid: msgid).genuine  # no Chinese: no render


# -- the command line ----------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "credentials", *args], capture_output=True,
                          text=True, env=env)


def test_cli(tmp_path, issued60, key):
    s, link, pdf = issued60
    (tmp_path / "t.pdf").write_bytes(pdf)
    bad = bytearray(pdf)
    bad[len(bad) // 2] ^= 0xFF
    (tmp_path / "bad.pdf").write_bytes(bytes(bad))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [key.public_jwk()]}))
    (tmp_path / "broken.json").write_text("{")
    jw = str(tmp_path / "jwks.json")

    roots = write_roots(tmp_path / "root.pem")
    r = _cli("verify", str(tmp_path / "t.pdf"), "--jwks", jw, "--roots", roots)
    assert r.returncode == 0 and "GENUINE" in r.stdout and s.serial in r.stdout, r.stderr
    r = _cli("verify", str(tmp_path / "t.pdf"), "--jwks", jw)  # no root: the PDF signature cannot be tied
    assert r.returncode == 1 and "root certificate" in r.stdout
    r = _cli("verify", str(tmp_path / "bad.pdf"), "--jwks", jw, "--roots", roots)
    assert r.returncode == 1 and "NOT GENUINE" in r.stdout
    (tmp_path / "u.pdf").write_bytes(issue(s, key, sign_file=False)[1])
    r = _cli("verify", str(tmp_path / "u.pdf"), "--jwks", jw, "--catalog", str(CATALOG))
    assert r.returncode == 0 and "re-rendered" in r.stdout, r.stderr
    r = _cli("verify", str(tmp_path / "u.pdf"), "--jwks", jw)
    assert r.returncode == 1 and "catalog" in r.stdout
    r = _cli("sample", str(tmp_path / "s.pdf"), "--records", "3", "--catalog", str(CATALOG))
    assert r.returncode == 0 and (tmp_path / "s.pdf").read_bytes()[:5] == b"%PDF-", r.stderr
    r = _cli("verify", str(tmp_path / "t.pdf"), "--jwks", jw, "--roots", roots, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["genuine"] is True
    r = _cli("verify-link", link, "--jwks", jw)
    assert r.returncode == 0 and "GENUINE" in r.stdout
    r = _cli("verify-link", link[:-1] + str((int(link[-1]) + 1) % 10), "--jwks", jw)
    assert r.returncode == 1
    for args in (("verify",), ("verify", str(tmp_path / "t.pdf")), ("frobnicate",),
                 ("verify", str(tmp_path / "t.pdf"), "--jwks", str(tmp_path / "broken.json")),
                 ("verify", str(tmp_path / "missing.pdf"), "--jwks", jw),
                 ("verify", str(tmp_path / "t.pdf"), "--jwks", str(tmp_path / "none.json"))):
        r = _cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
