"""Read a PDF as a person would: render a page to pixels, scan its QR code, read its text."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from pypdf import PdfReader


def page_image(pdf: bytes, page: int = 0, scale: float = 2.0):
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[page].render(scale=scale).to_pil()
    finally:
        document.close()


def scan_qr(pdf: bytes, page: int = 0) -> str:
    results = zxingcpp.read_barcodes(page_image(pdf, page))
    codes = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, f"expected one QR code on page {page + 1}, found {len(codes)}"
    return codes[0]


def text_of(pdf: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
