"""The transcript file around its pages: the information dictionary with the serial and
the signature placeholder, the fixed timestamp, the attached snapshot and link, and the
whole-file Ed25519 signature.

The signature covers the SHA-256 of the file with the signature's own 128 hex digits
zeroed (:func:`pdf_signed_message`), so it can be checked byte for byte later even by a
different version of this library.
"""

from __future__ import annotations

import hashlib

import reportlab
from reportlab.pdfbase import pdfdoc

from ._version import __version__
from .keys import SigningKey
from .snapshot import Snapshot

SNAPSHOT_ATTACHMENT = "transcript-snapshot.json"
LINK_ATTACHMENT = "transcript-link.txt"
PDF_SIGNATURE_KEY = "TranscriptSignature"
PDF_KID_KEY = "TranscriptKeyId"
PDF_SIGNATURE_CONTEXT = b"second-transcript/pdf/v1\n"
SIG_PLACEHOLDER = b"0" * 128
PRODUCER = f"Second Transcript credentials {__version__} (ReportLab {reportlab.Version})"


class DocInfo(pdfdoc.PDFInfo):
    """reportlab's information dictionary plus the transcript's serial and signature."""

    def __init__(self, serial: str, kid: str | None) -> None:
        super().__init__()
        self.serial = serial
        self.kid = kid

    def format(self, document) -> bytes:
        base = super().format(document)
        assert base.endswith(b"\n>>")
        extra = b"\n /TranscriptSerial " + pdfdoc.PDFString(self.serial).format(document)
        if self.kid:
            extra += (
                b"\n /" + PDF_KID_KEY.encode() + b" " + pdfdoc.PDFString(self.kid).format(document)
                + b"\n /" + PDF_SIGNATURE_KEY.encode() + b" <" + SIG_PLACEHOLDER + b">"
            )
        return base[:-3] + extra + b"\n>>"


class Stamp:
    """A reportlab TimeStamp fixed at the issue time (creation = modification date)."""

    def __init__(self, s: Snapshot) -> None:
        t = s.issued_at
        self.t = t.timestamp()
        self.YMDhms = (t.year, t.month, t.day, t.hour, t.minute, t.second)
        off = int(t.utcoffset().total_seconds() // 60)
        sign = "+" if off >= 0 else "-"
        self.tz = f"{sign}{abs(off) // 60:02d}'{abs(off) % 60:02d}'"
        self.dhh, self.dmm = 0, 0
        self.tzname = "fixed"

    def format(self, yyyy, mm, dd, hh, mi, ss) -> str:
        return f"D:{yyyy:04d}{mm:02d}{dd:02d}{hh:02d}{mi:02d}{ss:02d}{self.tz}"


class _EmbeddedFile(pdfdoc.PDFObject):
    """An uncompressed embedded-file stream with a fixed spelling the verifier can find."""

    __RefOnly__ = 1

    def __init__(self, data: bytes, mime: str, part: str, mtime: str) -> None:
        self.data = data
        subtype = mime.replace("/", "#2F")
        self.head = (
            f"<< /Type /EmbeddedFile /Subtype /{subtype} /TranscriptPart /{part} /Params << "
            f"/Size {len(data)} /ModDate ({mtime}) >> /Length {len(data)} >>\nstream\n"
        ).encode("ascii")

    def format(self, document) -> bytes:
        return self.head + self.data + b"\nendstream"


def _attachment(doc, name: str, data: bytes, mime: str, desc: str, part: str, mtime: str):
    ref = doc.Reference(_EmbeddedFile(data, mime, part, mtime), f"TranscriptPart:{part}")
    spec = pdfdoc.PDFDictionary(
        {
            "Type": pdfdoc.PDFName("Filespec"),
            "F": pdfdoc.PDFString(name),
            "UF": pdfdoc.PDFString(name),
            "Desc": pdfdoc.PDFString(desc),
            "EF": pdfdoc.PDFDictionary({"F": ref}),
            "AFRelationship": pdfdoc.PDFName("Data"),
        }
    )
    return doc.Reference(spec, f"TranscriptSpec:{part}")


def attach(doc, link: str, canon: bytes, digest: str, mtime: str) -> None:
    """The signed link and the canonical snapshot as the document's embedded files."""
    doc.Catalog.Names = pdfdoc.PDFDictionary(
        {
            "EmbeddedFiles": pdfdoc.PDFDictionary(
                {
                    "Names": pdfdoc.PDFArray(
                        [
                            pdfdoc.PDFString(LINK_ATTACHMENT),
                            _attachment(doc, LINK_ATTACHMENT, link.encode("ascii"),
                                        "text/plain", "Signed verification link", "link",
                                        mtime),
                            pdfdoc.PDFString(SNAPSHOT_ATTACHMENT),
                            _attachment(doc, SNAPSHOT_ATTACHMENT, canon, "application/json",
                                        "Canonical transcript snapshot (SHA-256 " + digest + ")",
                                        "snapshot", mtime),
                        ]
                    )
                }
            )
        }
    )


def pdf_signed_message(data: bytes, start: int) -> bytes:
    """What the whole-file signature covers: the file with its signature hex zeroed."""
    zeroed = data[:start] + SIG_PLACEHOLDER + data[start + len(SIG_PLACEHOLDER):]
    return PDF_SIGNATURE_CONTEXT + hashlib.sha256(zeroed).digest()


def find_pdf_signature(data: bytes) -> tuple[int, bytes] | None:
    """``(offset of the 128 hex digits, signature)`` or None if the file has no
    signature entry; ``ValueError`` if it has more than one or a malformed one."""
    marker = b"/" + PDF_SIGNATURE_KEY.encode() + b" <"
    first = data.find(marker)
    if first < 0:
        return None
    if data.find(marker, first + 1) >= 0:
        raise ValueError("more than one document signature")
    start = first + len(marker)
    hexsig = data[start:start + 128]
    if len(hexsig) != 128 or data[start + 128:start + 129] != b">":
        raise ValueError("malformed document signature")
    try:
        sig = bytes.fromhex(hexsig.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("malformed document signature") from None
    if sig.hex().encode() != hexsig:
        raise ValueError("malformed document signature")
    return start, sig


def sign_pdf_bytes(data: bytes, key: SigningKey) -> bytes:
    """Fill the signature placeholder of a rendered transcript with ``key``'s signature."""
    found = find_pdf_signature(data)
    if found is None:
        raise ValueError("the PDF has no signature placeholder")
    start, _ = found
    sig = key.sign(pdf_signed_message(data, start))
    return data[:start] + sig.hex().encode("ascii") + data[start + 128:]
