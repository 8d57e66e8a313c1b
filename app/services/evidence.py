"""Evidence files of achievement claims: checked by their content, stored by their SHA-256.

The type comes from the bytes, never from the name or the browser's word: a PNG or JPEG is
one that Pillow decodes as such, a PDF one that pypdf reads with at least one page. Files
live under EVIDENCE_DIR (outside the web root; backed up with the database), as
`ab/abcdef…` by their hash, so the same photo sent twice is stored once and a stored file
can be checked against its row. Only `claims` hands them out, to those who may see the claim.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image
from pypdf import PdfReader

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
_IMAGE_TYPES = {"JPEG": JPEG, "PNG": PNG}
MAX_NAME = 200


@dataclass(frozen=True)
class Upload:
    """One file as it came in: the name the student's device gave it, and its bytes."""

    name: str
    data: bytes


def max_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def media_type_of(data: bytes) -> str | None:
    """PDF, JPEG or PNG as the content says, or None for anything else (or anything broken)."""
    if data.startswith(b"%PDF-"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return PDF if len(PdfReader(io.BytesIO(data)).pages) >= 1 else None
        except Exception:  # noqa: BLE001 — a file pypdf cannot read is not a PDF we keep
            return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_IMAGE_TYPES)) as image:
                kind = _IMAGE_TYPES.get(image.format or "")
                image.verify()  # the structure (PNG's checksums)
            # and every pixel: a real header followed by anything else is not a photo
            with Image.open(io.BytesIO(data), formats=list(_IMAGE_TYPES)) as image:
                image.load()
        return kind
    except Exception:  # noqa: BLE001 — Pillow raises many kinds for a file that is not an image
        return None


def clean_name(name: str, media_type: str) -> str:
    """The file's own name without any folder, bounded, with the extension its content has."""
    base = os.path.basename((name or "").replace("\\", "/")).strip().replace("\x00", "") or "evidence"
    stem, _dot, _ext = base.rpartition(".")
    stem = (stem or base)[: MAX_NAME - 5]
    return stem + EXTENSIONS[media_type]


def check(uploads: list[Upload]) -> tuple[list[str | None], list[str]]:
    """Each file's type by its content, and what is wrong with them (in the reader's language)."""
    limit = max_bytes()
    types: list[str | None] = []
    out = []
    for upload in uploads:
        kind = None
        if len(upload.data) > limit:
            out.append(_("%(name)s is larger than %(mb)s MB", name=upload.name, mb=limit // (1024 * 1024)))
        elif not upload.data:
            out.append(_("%(name)s is empty", name=upload.name))
        elif (kind := media_type_of(upload.data)) is None:
            out.append(_("%(name)s is not a PDF, JPEG or PNG file (whatever its name says)", name=upload.name))
        types.append(kind)
    return types, out


def root() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


def path_of(sha256: str) -> Path:
    return root() / sha256[:2] / sha256


def store(data: bytes) -> str:
    """Write the bytes under their hash (once), atomically; answers the hash."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(digest)
    if not target.exists():
        _write_once(target, data, fsync=True)
    return digest


def _write_once(target: Path, data: bytes, *, fsync: bool) -> None:
    """Write to a temporary file beside `target`, then rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(sha256: str) -> bytes:
    return path_of(sha256).read_bytes()


PREVIEW_WIDTH = 1000  # pixels: sharp on a phone, light enough to load on one


def preview_png(sha256: str) -> bytes:
    """The first page of a stored PDF as a PNG, for the reviewer's page: a phone's browser shows
    no PDF inside a page. Rendered once (PDFium) and kept beside the evidence, by the same hash."""
    target = root() / "previews" / sha256[:2] / f"{sha256}.png"
    if target.exists():
        return target.read_bytes()
    import pypdfium2

    document = pypdfium2.PdfDocument(path_of(sha256).read_bytes())
    try:
        page = document[0]
        scale = PREVIEW_WIDTH / max(page.get_width(), 1)
        image = page.render(scale=min(scale, 4)).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    data = buffer.getvalue()
    _write_once(target, data, fsync=False)  # made again from the PDF if ever lost
    return data
