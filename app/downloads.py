"""A file the browser saves: its Content-Disposition and, for someone's own data, no cache."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, current_app


def attachment(name: str, ascii_name: str | None = None) -> str:
    """Save as `name` (RFC 6266 `filename*`, UTF-8: a Chinese name survives), with a plain fallback
    for old clients — `ascii_name`, or `name` with anything but ASCII letters, digits and `._-`
    replaced (a server refuses other bytes in a header)."""
    plain = ascii_name or re.sub(r"[^A-Za-z0-9._-]+", "_", name.encode("ascii", "replace").decode("ascii"))
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


def private_file(body, mimetype: str, name: str, ascii_name: str | None = None) -> Response:
    """A download of one person's or the office's data (bytes, or chunks as they are made): never
    kept by a cache on the way."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment(name, ascii_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
