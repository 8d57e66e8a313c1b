"""The transcript's PDF signature: PAdES (ETSI.CAdES.detached) by the school's signing
certificate (:mod:`credentials.certificate`), and its check with pyHanko.

pyHanko builds the signature container (CMS, with the ESS signing-certificate-v2
attribute PAdES asks for) and validates it; the incremental update around it (signature
dictionary, field and widget with the visible seal, DSS, xref, trailer) is written here,
because pyHanko's writer stamps the file's ``/ModDate`` with the wall clock and gives the
update a random ``/ID`` and lets a caller set neither.  So signing is deterministic and a
transcript renders to the same bytes every time:

* the signing time (``/M`` and the CMS) is the snapshot's issue time;
* RSA with PKCS#1 v1.5 padding has no random input (an ECDSA key signs with RFC 6979);
* the validation data (PAdES B-LT: the chain and, for a bought certificate that names an
  OCSP responder or a CRL, its revocation status fetched at signing) goes into the DSS of
  the signed revision itself: one update, covered by the signature (a CRL or an OCSP
  answer changes from day to day, so only a chain that publishes none signs the same bytes
  on every day);
* the update's second ``/ID`` is a digest of the unsigned file; the room reserved for
  the container is a fixed sum of its parts.

An RFC 3161 timestamp (``tsa_url`` or a ``timestamper``) adds a signature timestamp and a
document timestamp after the signature (B-LTA, written by pyHanko); a timestamp token is
new on every request, so such a file is no longer reproducible byte for byte.

One module, though long: the signed revision it writes and the check of it are one scheme
(the byte range, the DSS, the canonical /Contents), and each half relies on the other's layout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .certificate import SchoolCertificate, as_asn1, revocation_data
from .signed_data import signed_data

#: The signature field's name in the AcroForm.
SIG_FIELD = "TranscriptSignature"

# -- signing ----------------------------------------------------------------------------


def _latin(school: str) -> str:
    """The school's name in the stamp's Latin-only font: its ASCII words (the page itself
    prints the full name beside the stamp)."""
    return " ".join(w for w in school.split() if w.isascii() and w.isprintable())[:40] or "the issuing school"


def sign_pdf(data: bytes, certificate: SchoolCertificate, *, signing_time: dt.datetime,
             box: Sequence[float] | None = None, tsa_url: str | None = None, timestamper=None,
             reason: str = "Certified second transcript", location: str | None = None) -> bytes:
    """PAdES-sign ``data`` (a rendered transcript) as one incremental update.

    ``box`` (x1, y1, x2, y2 in points) is the visible signature on the last page.  Without
    a TSA the result is PAdES B-LT (the chain in the DSS of the signed revision) and
    deterministic; with ``tsa_url`` (an RFC 3161 server) or a pyHanko ``timestamper`` it
    gets a signature timestamp and a document timestamp after it (B-LTA).
    """
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware")
    if timestamper is None and tsa_url:
        from pyhanko.sign import timestamps

        timestamper = timestamps.HTTPTimeStamper(tsa_url)
    return _run(_sign(data, certificate, signing_time, box, timestamper, reason, location))


_loops = threading.local()


def _run(coroutine):
    """pyHanko's signer and validator are async; a caller whose thread already runs an event loop
    (an async server, Playwright's sync API in the tests) cannot asyncio.run them there, so they
    get a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # One loop per thread, kept: a new loop for every file (asyncio.run) costs more than
        # the signature itself now that it is a template filled in (credentials.signed_data).
        loop = getattr(_loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = _loops.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_date(t: dt.datetime) -> str:
    off = int(t.utcoffset().total_seconds() // 60)
    sign = "+" if off >= 0 else "-"
    return f"D:{t:%Y%m%d%H%M%S}{sign}{abs(off) // 60:02d}'{abs(off) % 60:02d}'"


def _appearance(w: float, h: float, school: str, t: dt.datetime) -> bytes:
    """The seal: a red frame and three lines in Helvetica."""
    lines = [f"Digitally signed by {_latin(school)}",
             f"PAdES \u00b7 {t:%Y-%m-%d %H:%M} {t:%z}",
             "Unchanged since issue if the signature is valid"]
    ops = [b"q 0.62 0.09 0.11 RG 0.62 0.09 0.11 rg 1.2 w",
           f"0.6 0.6 {w - 1.2:.1f} {h - 1.2:.1f} re S".encode("ascii"),
           b"BT /Helv 7.5 Tf 9 TL", f"6 {h - 13:.1f} Td".encode("ascii")]
    for i, line in enumerate(lines):
        if i == 2:
            ops.append(b"0.4 0.4 0.44 rg /Helv 6.5 Tf")
        ops.append(_pdf_text(line) + (b" Tj" if i == 0 else b" '"))
    ops.append(b"ET Q")
    return b"\n".join(ops)


class _Update:
    """An incremental update written by hand, so that every byte of it is ours to fix
    (pyHanko's writer stamps the file's /ModDate with the wall clock and draws a random
    /ID, neither of which it lets a caller set)."""

    def __init__(self, data: bytes, first_free: int) -> None:
        self.data = data
        self.next = first_free
        self.objects: list[tuple[int, bytes]] = []

    def reserve(self) -> int:
        self.next += 1
        return self.next - 1

    def put(self, num: int, body: bytes) -> None:
        self.objects.append((num, body))

    def add(self, body: bytes) -> int:
        num = self.reserve()
        self.put(num, body)
        return num

    def write(self, trailer: bytes, prev: int) -> bytes:
        out = bytearray(self.data if self.data.endswith(b"\n") else self.data + b"\n")
        offsets = {}
        for num, body in sorted(self.objects):
            offsets[num] = len(out)
            out += f"{num} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \n"
        nums = sorted(offsets)
        i = 0
        while i < len(nums):  # one subsection per run of consecutive numbers
            j = i
            while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
                j += 1
            out += f"{nums[i]} {j - i + 1}\n".encode("ascii")
            for n in nums[i:j + 1]:
                out += f"{offsets[n]:010d} 00000 n \n".encode("ascii")
            i = j + 1
        out += b"trailer\n" + trailer.replace(b"@PREV@", str(prev).encode("ascii"))
        out += f"\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
        return bytes(out)


def _ser(obj) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


_BR_WIDTH = 10  # digits of each /ByteRange number, fixed so the placeholder can be filled in place


async def _sign(data, certificate, signing_time, box, timestamper, reason, location) -> bytes:
    import pypdf
    from pypdf import generic as pg

    reader = pypdf.PdfReader(io.BytesIO(data))
    trailer = reader.trailer
    if "/AcroForm" in trailer["/Root"]:
        raise ValueError("the PDF already has a form; a transcript has none")
    prev = int(data[data.rindex(b"startxref") + 9:].split()[0])
    if data[prev:prev + 4] != b"xref" or "/ID" not in trailer or "/Info" not in trailer:
        # the hand-written update follows a classic cross-reference table, as our renderer writes
        raise ValueError("not a rendered transcript: expected a classic xref table, /ID and /Info")
    up = _Update(data, int(trailer["/Size"]))
    page = reader.pages[-1]
    page_ref = page.indirect_reference
    root_ref = trailer.raw_get("/Root")
    signer = certificate._signer
    der = serialization.Encoding.DER
    certs = (certificate.cert, *certificate.chain)

    # the DSS (PAdES B-LT): the chain and, for a certificate that names where its revocation
    # status is published, that status as fetched now, in the signed revision itself
    ocsps, crls = await revocation_data(certificate)

    def streams(blobs: Iterable[bytes]) -> bytes:
        nums = [up.add(f"<< /Length {len(b)} >>\nstream\n".encode("ascii") + b + b"\nendstream") for b in blobs]
        return b"[" + b" ".join(f"{n} 0 R".encode() for n in nums) + b"]"

    dss_body = b"<< /Type /DSS /Certs " + streams(c.public_bytes(der) for c in certs)
    if ocsps:
        dss_body += b" /OCSPs " + streams(ocsps)
    if crls:
        dss_body += b" /CRLs " + streams(crls)
    dss = up.add(dss_body + b" >>")

    # room for the signature container: its certificates, the signature value and the signed
    # attributes, with a margin (a fixed sum, so the padding is the same every time; building a
    # dry-run container to measure it would cost as much as the signature itself)
    key_bytes = certificate.key.key_size // 8 if isinstance(certificate.key, rsa.RSAPrivateKey) else 144
    reserved = sum(len(c.public_bytes(der)) for c in certs) + key_bytes + 1536
    if timestamper is not None:
        reserved += 12000  # a timestamp token carries the TSA's own certificates
    sig = up.reserve()
    br_placeholder = b"/ByteRange [0 " + b" ".join([b"0" * _BR_WIDTH] * 3) + b"]"
    sig_body = (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
                + b"/M " + _pdf_text(_pdf_date(signing_time)) + b" /Name " + _pdf_text(_latin(certificate.subject_name))
                + b" /Reason " + _pdf_text(reason)
                + ((b" /Location " + _pdf_text(_latin(location))) if location else b"")
                + b" " + br_placeholder + b"\n/Contents <" + b"0" * (2 * reserved) + b"> >>")
    up.put(sig, sig_body)

    x1, y1, x2, y2 = (float(v) for v in (box or (0, 0, 0, 0)))
    w, h = x2 - x1, y2 - y1
    widget_extra = b""
    if box is not None:
        ap = _appearance(w, h, certificate.subject_name, signing_time)
        ap_num = up.add(f"<< /Type /XObject /Subtype /Form /BBox [0 0 {w:.2f} {h:.2f}] /Resources << /Font << "
                        "/Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >> "
                        f">> >> /Length {len(ap)} >>\nstream\n".encode("ascii") + ap + b"\nendstream")
        widget_extra = f" /AP << /N {ap_num} 0 R >>".encode("ascii")
    widget = up.add(
        f"<< /Type /Annot /Subtype /Widget /FT /Sig /T ({SIG_FIELD}) /V {sig} 0 R /F 132 "
        f"/Rect [{x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f}] /P {page_ref.idnum} 0 R".encode("ascii")
        + widget_extra + b" >>")

    new_page = pg.DictionaryObject(page.get_object())
    annots = pg.ArrayObject(list(page.get("/Annots", pg.ArrayObject())))
    annots.append(pg.IndirectObject(widget, 0, reader))
    new_page[pg.NameObject("/Annots")] = annots
    up.put(page_ref.idnum, _ser(new_page))
    root = pg.DictionaryObject(trailer["/Root"])
    root[pg.NameObject("/AcroForm")] = pg.DictionaryObject({
        pg.NameObject("/Fields"): pg.ArrayObject([pg.IndirectObject(widget, 0, reader)]),
        pg.NameObject("/SigFlags"): pg.NumberObject(3)})
    root[pg.NameObject("/DSS")] = pg.IndirectObject(dss, 0, reader)
    up.put(root_ref.idnum, _ser(root))

    id1 = trailer["/ID"][0]
    id1 = id1.original_bytes if hasattr(id1, "original_bytes") else bytes(id1)
    # the update is a new version of the document: a new second /ID, a digest of the old file
    id2 = hashlib.sha256(b"transcript-id\n" + data).digest()[:16]
    info = trailer.raw_get("/Info")
    tr = (f"<< /Size {up.next} /Root {root_ref.idnum} 0 R /Info {info.idnum} 0 R "
          f"/ID [<{id1.hex()}> <{id2.hex()}>] /Prev @PREV@ >>").encode("ascii")
    out = bytearray(up.write(tr, prev))

    # fill in the byte range around the /Contents hex, then the signature over it
    at = out.index(br_placeholder, len(data))
    c_start = out.index(b"/Contents <", at) + len(b"/Contents ")
    c_end = c_start + 2 * reserved + 2
    ranges = (c_start, c_end, len(out) - c_end)
    filled = b"/ByteRange [0 " + b" ".join(str(v).encode().ljust(_BR_WIDTH) for v in ranges) + b"]"
    out[at:at + len(filled)] = filled
    digest = hashlib.sha256(bytes(out[:c_start]) + bytes(out[c_end:])).digest()
    blob = await signed_data(certificate.key, signer, digest, timestamper=timestamper, signing_time=signing_time)
    if len(blob) > reserved:
        raise RuntimeError("the signature is larger than the room reserved for it")
    out[c_start + 1:c_end - 1] = blob.hex().upper().encode("ascii").ljust(2 * reserved, b"0")
    signed = bytes(out)
    if timestamper is None:
        return signed
    return await _document_timestamp(signed, certificate, timestamper)


async def _document_timestamp(data: bytes, certificate: SchoolCertificate, timestamper) -> bytes:
    """PAdES B-LTA: a document timestamp over the signed file, by pyHanko (a timestamped
    file is not reproducible anyway, so its writer's clock and random /ID do no harm)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    out = await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
        writer, "sha256", validation_context=None, output=io.BytesIO())
    return out.getvalue()


def _context(roots: Iterable[x509.Certificate], moment: dt.datetime, reader=None):
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    # Offline: the verdict must not depend on the network.  The revocation status the file
    # carries (its DSS) is checked: a certificate it shows revoked before the signing time
    # fails; a chain that publishes no status (the self-signed school root) is not failed
    # for the lack of one.
    kwargs = dict(trust_roots=[as_asn1(r) for r in roots], moment=moment, allow_fetching=False,
                  revocation_mode="soft-fail")
    if reader is not None:
        try:
            return DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
        except NoDSSFoundError:  # a file signed before the chain went into its DSS
            pass
    return ValidationContext(**kwargs)


# -- checking ---------------------------------------------------------------------------


def has_pades_signature(data: bytes) -> bool:
    """Whether the file carries a PAdES signature dictionary (a cheap byte test)."""
    return b"/SubFilter /ETSI.CAdES.detached" in data


@dataclass(frozen=True)
class PadesCheck:
    ok: bool
    code: str
    reason: str
    signer: str = ""
    signing_time: dt.datetime | None = None
    coverage: str = ""
    timestamped: bool = False


def _contents_canonical(data: bytes, byte_range) -> bool:
    """Whether the one gap the signature leaves (its /Contents hex string) holds exactly the
    signature as pyHanko writes it: its DER in upper-case hex, then zeros.  Anything else
    there (a changed padding digit, a lower-case letter) leaves the signature valid, but
    the file is no longer the one issued."""
    _, len1, start2, _len2 = (int(x) for x in byte_range)
    gap = data[len1:start2]
    if len(gap) < 4 or gap[:1] != b"<" or gap[-1:] != b">":
        return False
    try:
        raw = bytes.fromhex(gap[1:-1].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    if len(raw) < 4 or raw[0] != 0x30:
        return False
    n = raw[1]
    if n < 0x80:
        end = 2 + n
    else:
        k = n & 0x7F
        end = 2 + k + int.from_bytes(raw[2:2 + k], "big")
    if end > len(raw) or any(raw[end:]) or gap[1:-1] != raw.hex().upper().encode("ascii"):
        return False
    from asn1crypto import cms

    # DER, not some other BER spelling of the same value
    return cms.ContentInfo.load(raw[:end]).dump(force=True) == raw[:end]


def _container_consistent(sig) -> bool:
    """Whether the container's unsigned parts say what its one signer info does: the versions
    its kind of signer identifier gives, detached data, the digestAlgorithms set naming exactly
    its digest, the signer identifier naming the signing certificate. Like the certificate set,
    none is covered by the signature, and pyHanko verifies without reading them, so a changed
    one would pass (the fuzz test found each)."""
    signed = sig.signed_data
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        return False
    info = infos[0]
    # RFC 5652 §5.1/§5.3: v1 with an issuer and serial number, v3 with a key identifier; detached data
    version = "v1" if info["sid"].name == "issuer_and_serial_number" else "v3"
    encap = signed["encap_content_info"]
    if signed["version"].native != version or info["version"].native != version \
            or encap["content_type"].native != "data" or encap["content"].native is not None:
        return False
    declared = [a.dump() for a in signed["digest_algorithms"]]
    if declared != [info["digest_algorithm"].dump()]:
        return False
    cert, sid = sig.signer_cert, info["sid"]
    if sid.name == "issuer_and_serial_number":
        return (sid.chosen["issuer"].dump() == cert.issuer.dump()
                and sid.chosen["serial_number"].native == cert.serial_number)
    return sid.chosen.native == cert.key_identifier


def _certs_signed_for(reader, sig, roots: Sequence[x509.Certificate]) -> bool:
    """Whether every certificate in the signature container is one the signed revision
    lists in its DSS (or a trust root): the container's certificate set is not covered
    by the signature, so a changed copy of a certificate there would go unnoticed."""
    try:
        dss = reader.root["/DSS"]
        listed = {c.get_object().data for c in dss.get("/Certs", ())}
    except KeyError:
        listed = set()
    listed |= {r.public_bytes(serialization.Encoding.DER) for r in roots}
    certs = sig.signed_data["certificates"]
    return all(c.chosen.dump() in listed for c in certs) if certs.native is not None else True


def check_pades(data: bytes, roots: Sequence[x509.Certificate]) -> PadesCheck:
    """Validate the one PAdES signature of ``data`` with pyHanko against ``roots``: intact,
    signed by a certificate that chains to a root, covering the whole file (or, after a
    document timestamp, every byte up to a timestamp that covers the rest)."""
    try:
        return _check_pades(data, roots)
    except Exception as exc:  # noqa: BLE001 — it carries a signature but no longer reads as the signed file
        return PadesCheck(False, "altered", "the file was changed after it was signed "
                          f"(it no longer reads as a signed PDF: {type(exc).__name__})")


def _check_pades(data: bytes, roots: Sequence[x509.Certificate]) -> PadesCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sigs = reader.embedded_regular_signatures
    if len(sigs) != 1:
        return PadesCheck(False, "altered", f"expected one PDF signature, found {len(sigs)}")
    sig = sigs[0]
    claimed = sig.self_reported_timestamp
    ts_sigs = reader.embedded_timestamp_signatures
    # A signature outlives its certificate through the timestamp's time (B-LTA); without
    # one, the certificate is checked at the signing time the signature states.
    moment = claimed or dt.datetime.now(dt.UTC)
    ctx = _context(roots, moment, reader)
    status = _run(async_validate_pdf_signature(sig, signer_validation_context=ctx, ts_validation_context=ctx))
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    common = dict(signer=signer, signing_time=claimed, coverage=status.coverage.name if status.coverage else "",
                  timestamped=bool(ts_sigs) or status.timestamp_validity is not None)
    if not status.intact or not status.valid:
        return PadesCheck(False, "altered", "the PDF signature does not match the file", **common)
    if not _contents_canonical(data, sig.byte_range) or not _container_consistent(sig) \
            or not _certs_signed_for(reader, sig, roots):
        return PadesCheck(False, "altered", "the file was changed after it was signed "
                          "(in the signature's own bytes, which the signature cannot cover)", **common)
    if not status.trusted:
        return PadesCheck(False, "untrusted", "the PDF signature's certificate is not the school's", **common)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        last = ts_sigs[-1] if ts_sigs else None
        allowed = (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and last is not None
                   and status.modification_level is not None
                   and status.modification_level <= ModificationLevel.LTA_UPDATES)
        if not allowed:
            return PadesCheck(False, "altered", "the file was changed after it was signed "
                              "(the PDF signature does not cover the whole file)", **common)
        ts_status = _run(async_validate_pdf_timestamp(last, validation_context=ctx))
        if not (ts_status.intact and ts_status.valid and ts_status.trusted
                and ts_status.coverage == SignatureCoverageLevel.ENTIRE_FILE):
            return PadesCheck(False, "altered", "the file was changed after its last timestamp", **common)
    return PadesCheck(True, "genuine", "the PDF signature is valid and covers the whole file", **common)
