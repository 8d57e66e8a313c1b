"""Offline verification of a transcript PDF: no server, only the issuer's public keys.

A PDF is genuine when all of these hold:

1. it carries exactly one embedded snapshot and one embedded link, and the snapshot
   bytes are in canonical form;
2. the link is signed by a key of the issuer (found by its ``kid``) and states the
   snapshot's serial, issue date and digest;
3. the file is, byte for byte, the one issued: its PAdES signature (pyHanko's
   validation) is intact, chains to one of the school's root certificates
   (``trust_roots``) and covers the whole file; or, for a file issued before PAdES, its
   Ed25519 whole-file signature in the information dictionary verifies; or, for a file
   rendered without a signature, re-rendering the embedded snapshot and link reproduces
   it exactly (which needs the issuer's catalog for the labels' Chinese: ``zh``, see
   :mod:`credentials.labels`).

Any other file — not a PDF, truncated, one byte changed, an incremental update
appended, a snapshot swapped in from another transcript, an unknown key — gets
``genuine=False`` with a reason; :func:`verify_pdf` never raises for bad input.

A genuine file saved again by another program (qpdf, a viewer's "save as") is rewritten
throughout: its document signature no longer holds, yet its embedded snapshot and link,
read through the PDF's own structure, may still be the ones the school signed.  That
file is not the signed original, but it is not a forgery either: it gets the code
``copy_not_original``, names the transcript's serial, and says where the signed original
can be checked (the issuer's verify page).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from .certificate import SchoolCertificate
from .keys import KeysLike, resolve_keys, resolve_revocations
from .labels import Translator
from .links import NOT_CHECKED, Step, Verdict, parse_link, verify_link, verify_page_url
from .pades import check_pades, has_pades_signature
from .pdf import render_pdf
from .pdf_file import LINK_ATTACHMENT, SNAPSHOT_ATTACHMENT, find_pdf_signature, pdf_signed_message
from .snapshot import Snapshot, snapshot_digest, snapshot_from_bytes

MAX_PDF_BYTES = 50 * 1024 * 1024
_PART_RE = re.compile(
    rb"<< /Type /EmbeddedFile /Subtype /(?:application#2Fjson|text#2Fplain) "
    rb"/TranscriptPart /(snapshot|link) /Params << /Size ([0-9]{1,9}) "
    rb"/ModDate \(D:[0-9+\-']{14,24}\) >> /Length ([0-9]{1,9}) >>\nstream\n"
)


def _parts(data: bytes) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for m in _PART_RE.finditer(data):
        part = m.group(1).decode("ascii")
        size, length = int(m.group(2)), int(m.group(3))
        if part in found:
            raise ValueError(f"more than one embedded {part}")
        if size != length:
            raise ValueError(f"embedded {part}: size and length disagree")
        start = m.end()
        body = data[start:start + length]
        if len(body) != length or data[start + length:start + length + 10] != b"\nendstream":
            raise ValueError(f"embedded {part}: truncated")
        found[part] = body
    missing = {"snapshot", "link"} - set(found)
    if missing:
        raise ValueError("no embedded transcript " + " and ".join(sorted(missing)))
    return found


_ATTACHMENT_PART = {SNAPSHOT_ATTACHMENT: "snapshot", LINK_ATTACHMENT: "link"}


def _rewritten_parts(data: bytes) -> dict[str, bytes]:
    """The embedded parts of a file another program saved again: read through the PDF's
    structure (its embedded files, by name), since the rewrite changed their spelling and may
    have compressed them.  Raises ``ValueError`` when they are not there exactly once each, or
    when any part is still spelled as issued: that file was changed in place, not rewritten."""
    import pypdf  # only for files that are no longer as issued

    if _PART_RE.search(data):
        raise ValueError("the embedded parts are as issued, yet not as the issuer wrote them")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        attachments = reader.attachments
        found: dict[str, bytes] = {}
        for name, part in _ATTACHMENT_PART.items():
            bodies = attachments.get(name) or []
            if len(bodies) > 1:
                raise ValueError(f"more than one embedded {part}")
            if bodies:
                found[part] = bytes(bodies[0])
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 — pypdf's many errors all mean "not readable"
        raise ValueError(f"the file's structure is unreadable ({type(exc).__name__})") from None
    missing = {"snapshot", "link"} - set(found)
    if missing:
        raise ValueError("no embedded transcript " + " and ".join(sorted(missing)))
    return found


def _check_pdf(data: Any) -> bytes:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError("expected the PDF as bytes")
    return data


def extract_embedded(data: bytes) -> tuple[Snapshot, str]:
    """The snapshot and signed link embedded in a transcript PDF.

    Raises ``ValueError`` if the file does not carry them (or they are malformed).  A file
    another program saved again is read through its structure.  This says nothing about
    whether the file is genuine: use :func:`verify_pdf` for that.
    """
    data = _check_pdf(data)
    if not data.startswith(b"%PDF-"):
        raise ValueError("not a PDF file")
    try:
        parts = _parts(data)
    except ValueError as exc:
        try:
            parts = _rewritten_parts(data)
        except ValueError:
            raise exc from None
    snapshot = snapshot_from_bytes(parts["snapshot"])
    try:
        link = parts["link"].decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("embedded link is not ASCII") from None
    return snapshot, link


def _fail(code: str, reason: str, reason_zh: str, **kw: Any) -> Verdict:
    return Verdict(False, reason, reason_zh, code, **kw)


def verify_pdf(data: bytes, jwks_or_keys: KeysLike, *, zh: Translator | None = None,
               trust_roots: Sequence[x509.Certificate] | SchoolCertificate | None = None) -> Verdict:
    """Check a transcript PDF offline.  Never raises for a bad file.

    ``trust_roots`` (the school's root certificates, or its :class:`SchoolCertificate`)
    are needed for a PAdES-signed file: without them its signature cannot be tied to the
    school.  ``zh`` (the issuer's Chinese catalog) is needed only for a file issued without
    any signature, which is checked by rendering it again.
    """
    if isinstance(trust_roots, SchoolCertificate):
        trust_roots = trust_roots.roots
    try:
        return _with_steps(_verify_pdf(data, jwks_or_keys, zh, tuple(trust_roots or ())), jwks_or_keys)
    except Exception as exc:  # noqa: BLE001 — a verifier answers, it does not crash
        return _fail("unreadable", f"the file could not be checked ({type(exc).__name__})",
                     "无法核验该文件", detail=str(exc)[:200],
                     steps=(Step("format", False, "the file could not be read"),))


def _copy_not_original(serial: str, link: str, common: dict[str, Any]) -> Verdict:
    where = verify_page_url(link)
    return _fail(
        "copy_not_original",
        f"a copy of transcript {serial}, not the signed file: another program saved it again, so "
        f"its PDF signature no longer holds (the content it carries is the one the school signed); "
        f"the signed original can be checked at {where}",
        f"这是成绩单 {serial} 的副本，不是签发的原始文件：它被其他程序重新保存过，PDF 签名已失效"
        f"（所载内容仍是学校签发的内容）；签发的原件可在 {where} 核验",
        **common,
    )


def _verify_pdf(data: bytes, jwks_or_keys: KeysLike, zh: Translator | None,
                trust_roots: tuple[x509.Certificate, ...]) -> Verdict:
    try:
        data = _check_pdf(data)
    except TypeError as exc:
        return _fail("not_pdf", str(exc), "不是 PDF 文件")
    if len(data) > MAX_PDF_BYTES:
        return _fail("too_large", "the file is too large to be a transcript", "文件过大")
    if not data.startswith(b"%PDF-"):
        return _fail("not_pdf", "not a PDF file", "不是 PDF 文件")
    try:
        keys = resolve_keys(jwks_or_keys)
        revocations = resolve_revocations(jwks_or_keys)
    except (ValueError, TypeError) as exc:
        return _fail("bad_keys", f"the public key set is unusable ({exc})", "公钥集无效")
    rewritten = False
    try:
        parts = _parts(data)
    except ValueError as exc:
        try:
            parts = _rewritten_parts(data)
        except ValueError:
            return _fail("no_embedded", f"not a transcript issued by this system ({exc})",
                         "不是本系统签发的成绩单（缺少内嵌数据）")
        rewritten = True  # saved again by another program: at best a copy
    try:
        snapshot = snapshot_from_bytes(parts["snapshot"])
    except ValueError as exc:
        return _fail("malformed_snapshot", f"the embedded transcript data is damaged ({exc})",
                     "内嵌成绩单数据已损坏")
    try:
        link = parts["link"].decode("ascii")
    except UnicodeDecodeError:
        return _fail("malformed_link", "the embedded verification link is damaged",
                     "内嵌验证链接已损坏")
    digest = snapshot_digest(snapshot)
    lv = verify_link(link, keys, revocations=revocations)
    common = dict(serial=lv.serial, kid=lv.kid, issued_on=lv.issued_on, digest=digest,
                  base_url=lv.base_url, link=link)
    if not lv.genuine:
        return _fail(lv.code, lv.reason, lv.reason_zh, **common)
    if lv.serial != snapshot.serial or lv.issued_on != snapshot.issued_on:
        return _fail("claims_mismatch",
                     "the signed link names another serial or issue date than the document",
                     "签名链接与文件的编号或日期不符", **common)
    if not parse_link(link).matches_digest(digest):
        return _fail("digest_mismatch",
                     "the embedded transcript content is not the one the link was signed for "
                     "(content changed or swapped from another transcript)",
                     "内嵌成绩单内容与签名不符（被修改或替换）", **common)
    common["snapshot"] = snapshot
    if rewritten:
        # The school signed this content, but not this file: its document signature is gone.
        return _copy_not_original(snapshot.serial, link, common)
    how = None
    how_zh = ""
    try:
        found = find_pdf_signature(data)
    except ValueError as exc:
        return _fail("altered", f"the file was changed after it was issued ({exc})",
                     "文件在签发后被改动过", **common)
    if has_pades_signature(data):
        if found is not None:
            return _fail("altered", "the file carries two kinds of document signature",
                         "文件带有两种文件签名，已被改动", **common)
        if not trust_roots:
            return _fail("no_trust_roots", "the file's PDF signature can only be checked against the "
                         "school's root certificate, which was not given",
                         "核验 PDF 签名需要学校的根证书", **common)
        pc = check_pades(data, trust_roots)
        if not pc.ok:
            zh_reason = "签名证书不属于本校" if pc.code == "untrusted" else "文件在签发后被改动过"
            return _fail(pc.code, f"{pc.reason}", zh_reason, **common)
        how = "PAdES signature, whole file" + (", timestamped" if pc.timestamped else "")
        how_zh = "PAdES 签名覆盖整个文件"
    elif found is not None:
        start, sig = found
        try:
            keys[lv.kid].verify(sig, pdf_signed_message(data, start))
        except InvalidSignature:
            return _fail("altered", "the file was changed after it was issued "
                         "(its whole-file signature does not match)",
                         "文件在签发后被改动过", **common)
        how = "whole-file signature"
    elif zh is None:
        return _fail("no_catalog", "the file has no whole-file signature; checking it by "
                     "rendering it again needs the issuer's catalog",
                     "文件没有整体签名，重新生成核验需要签发方的语言目录", **common)
    else:
        try:
            again = render_pdf(snapshot, link, zh=zh)
        except ValueError as exc:
            return _fail("altered", f"the document does not match its data ({exc})",
                         "文件内容与数据不符", **common)
        if again != data:
            return _fail("altered", "the file was changed after it was issued "
                         "(it differs from the document its data renders to)",
                         "文件在签发后被改动过", **common)
        how = "re-rendered byte for byte"
    return Verdict(
        True,
        f"exactly the file issued ({how}): serial {snapshot.serial}, issued "
        f"{snapshot.issued_on.isoformat()}, signed with key {lv.kid}",
        "与签发的文件完全一致，真实有效" + (f"（{how_zh}）" if how_zh else ""),
        "genuine",
        **common,
    )


# The link verifier's failures that mean the embedded content, not the file, is wrong.
_CONTENT_CODES = ("claims_mismatch", "digest_mismatch")


def _with_steps(v: Verdict, jwks_or_keys: KeysLike) -> Verdict:
    """The verdict with its steps named: the embedded link's (format, signature, issuer key, key
    not revoked), then the content it was signed for and the file's own PDF signature."""
    if v.steps:
        return v
    if v.link is None:  # nothing embedded to check, or an unusable key set
        return replace(v, steps=(Step("format", False, v.reason),
                                 *(Step(name, None, NOT_CHECKED) for name in
                                   ("signature", "issuer key", "key not revoked", "PDF signature"))))
    link_steps = verify_link(v.link, jwks_or_keys).steps
    if any(step.ok is False for step in link_steps):
        return replace(v, steps=(*link_steps, Step("PDF signature", None, NOT_CHECKED)))
    if v.code in _CONTENT_CODES:
        return replace(v, steps=(*link_steps, Step("content", False, v.reason),
                                 Step("PDF signature", None, NOT_CHECKED)))
    content = Step("content", True, "the embedded transcript is the one the link was signed for")
    return replace(v, steps=(*link_steps, content, Step("PDF signature", v.genuine, v.reason)))
