"""The transcript document: an A4 PDF drawn with plain reportlab canvas operations.

No layout engine: text is measured with the font's own advance widths and wrapped by
the small line breaker of :mod:`credentials.text_layout`, rows are paged in a first pass
(:mod:`credentials.transcript_layout`) so the page count is known, and a second pass
(:mod:`credentials.transcript_draw`) writes each page's content stream directly
(:mod:`credentials.pdf_page`).  That keeps a 60-record transcript close to the cost of
drawing its strings at fixed positions.

The labels are bilingual: Chinese from the caller's catalog (``zh``, a callable msgid →
Chinese, see :mod:`credentials.labels`), English from the message ids.

Rendering is deterministic: the same snapshot, link, key and catalog give the same bytes
(invariant mode, creation date = issue time, stable document ID, fixed object order).

The PDF carries, as attached files, the snapshot's canonical bytes
(``transcript-snapshot.json``) and the signed link (``transcript-link.txt``); when a
:class:`~credentials.keys.SigningKey` is passed, the whole file is also signed
(:mod:`credentials.pdf_file`), so it can be checked byte for byte later even by a
different version of this library.

This module keeps the public names other code imports from ``credentials.pdf``.
"""

from __future__ import annotations

import threading

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from . import labels as L
from .certificate import SchoolCertificate
from .fonts import FONT_FILE, FONT_NAME, Font, get_font
from .keys import SigningKey
from .labels import Labels, Translator
from .links import parse_link
from .pades import sign_pdf
from .pdf_file import (
    LINK_ATTACHMENT,
    PDF_KID_KEY,
    PDF_SIGNATURE_CONTEXT,
    PDF_SIGNATURE_KEY,
    PRODUCER,
    SIG_PLACEHOLDER,
    SNAPSHOT_ATTACHMENT,
    DocInfo,
    Stamp,
    attach,
    find_pdf_signature,
    pdf_signed_message,
    sign_pdf_bytes,
)
from .pdf_page import Page, flate
from .qr import qr_modules, qr_pdf_ops
from .snapshot import Snapshot, canonical_bytes, snapshot_digest
from .transcript_draw import Ctx, draw_page
from .transcript_layout import COLUMNS, CONTENT_W, M_B, M_L, M_R, M_T, PAGE_H, PAGE_W, QR_SIZE, layout

__all__ = [
    "COLUMNS",
    "CONTENT_W",
    "FONT_FILE",
    "FONT_NAME",
    "LINK_ATTACHMENT",
    "M_B",
    "M_L",
    "M_R",
    "M_T",
    "PAGE_H",
    "PAGE_W",
    "PDF_KID_KEY",
    "PDF_SIGNATURE_CONTEXT",
    "PDF_SIGNATURE_KEY",
    "PRODUCER",
    "SIG_PLACEHOLDER",
    "SNAPSHOT_ATTACHMENT",
    "Font",
    "Translator",
    "find_pdf_signature",
    "get_font",
    "pdf_signed_message",
    "render_legacy_pdf",
    "render_pdf",
    "sign_pdf_bytes",
]


# reportlab subsets the shared TrueType face while it writes the file, seeking and reading one
# file position on it: two threads writing at once (a worker's two threads) mix up each other's
# glyphs (KeyError in makeSubset). Drawing the pages stays concurrent; writing is one at a time.
_SUBSETTING = threading.Lock()


def render_pdf(snapshot: Snapshot, link: str, key: SigningKey | None = None, *,
               zh: Translator, certificate: SchoolCertificate | None = None,
               tsa_url: str | None = None, timestamper=None) -> bytes:
    """Render the transcript PDF (A4).  Deterministic: same inputs, same bytes.

    ``link`` is the signed link from :func:`credentials.links.make_link`; it is drawn
    as the QR code, made clickable and attached.  ``key``, when given, must be the key
    that signed the link.  With ``certificate`` (the school's signing certificate) the
    file gets a PAdES signature with a visible seal in the seal area of the last page
    (:mod:`credentials.pades`), signed at the issue time; ``tsa_url`` (or a pyHanko
    ``timestamper``) adds an RFC 3161 timestamp, after which the bytes are no longer
    reproducible.  Without it the file is unsigned and checked by rendering it again.
    ``zh`` translates the labels' English ids into Chinese (``ValueError`` if it leaves
    one untranslated).
    """
    data, box = _render(snapshot, link, key, zh, legacy_kid=None)
    if certificate is None:
        return data
    return sign_pdf(data, certificate, signing_time=snapshot.issued_at, box=box, tsa_url=tsa_url,
                    timestamper=timestamper, location=snapshot.institution[:100] or None)


def render_legacy_pdf(snapshot: Snapshot, link: str, key: SigningKey, *, zh: Translator) -> bytes:
    """The file as issued before PAdES: the Ed25519 whole-file signature in the information
    dictionary.  Kept so the tests can make such files; :func:`credentials.verify.verify_pdf`
    still accepts them."""
    data, _box = _render(snapshot, link, key, zh, legacy_kid=key.kid)
    return sign_pdf_bytes(data, key)


def _render(snapshot: Snapshot, link: str, key: SigningKey | None, zh: Translator,
            legacy_kid: str | None) -> tuple[bytes, tuple[float, float, float, float]]:
    """The unsigned file and the seal box of its last page (x1, y1, x2, y2)."""
    if not isinstance(snapshot, Snapshot):
        raise ValueError("snapshot: expected a Snapshot")
    claims = parse_link(link)
    if claims.serial != snapshot.serial:
        raise ValueError("link: serial does not match the snapshot")
    digest = snapshot_digest(snapshot)
    if not claims.matches_digest(digest):
        raise ValueError("link: digest does not match the snapshot")
    if claims.issued_on != snapshot.issued_on:
        raise ValueError("link: issue date does not match the snapshot")
    if key is not None and not claims.key_matches(key.kid):
        raise ValueError("key: not the key that signed the link")
    labels = Labels(zh)

    font = get_font()
    pages = layout(font, snapshot, labels).pages
    ctx = Ctx(font, labels, snapshot, link, len(pages))

    canvas = Canvas(None, pagesize=A4, invariant=1, pageCompression=1, lang="zh-CN",
                    initialFontName=FONT_NAME, initialFontSize=10)
    doc = canvas._doc
    stamp = Stamp(snapshot)
    doc._timeStamp = stamp
    info = DocInfo(snapshot.serial, legacy_kid)
    info._dateFormatter = stamp.format
    info.producer = PRODUCER
    info.creator = "Second Transcript"
    info.title = f"{labels.both(L.TITLE)} {snapshot.serial}"
    info.author = snapshot.institution[:200]
    info.subject = f"{snapshot.student_name[:100]} {snapshot.student_no[:50]}"
    info.keywords = f"second transcript, {snapshot.serial}"
    doc.info = info
    doc.updateSignature(digest + "\n" + link)
    attach(doc, link, canonical_bytes(snapshot), digest, stamp.format(*stamp.YMDhms))

    canvas.beginForm("TranscriptQR", 0, 0, QR_SIZE, QR_SIZE)
    canvas.endForm(Contents=flate(qr_pdf_ops(link, QR_SIZE)))
    qr_x = PAGE_W - M_R - QR_SIZE
    qr_y = PAGE_H - M_T - QR_SIZE
    quiet = QR_SIZE * 4 / qr_modules(link)

    enc: dict = {}
    for page_no, items in enumerate(pages, start=1):
        p = Page(font, doc, enc)
        draw_page(p, ctx, page_no, items)
        canvas._code.append(p.stream())
        canvas.saveState()
        canvas.translate(qr_x, qr_y)
        canvas.doForm("TranscriptQR")
        canvas.restoreState()
        canvas.linkURL(link, (qr_x + quiet, qr_y + quiet, qr_x + QR_SIZE - quiet,
                              qr_y + QR_SIZE - quiet), relative=0, thickness=0)
        canvas.showPage()
        page = doc.Pages.pages[-1]
        page.Contents = flate(page.stream)

    with _SUBSETTING:
        return canvas.getpdfdata(), ctx.seal_box
