"""The verify floor of bench/scale.py: the least a Flask view can do for a verification.

It reads the same transcript row by its key (the serial, the unique index) through SQLAlchemy
Core, parses the snapshot (nothing can be shown without it) and renders a page — or returns a
JSON body — padded to the size of the app's own answer (FLOOR_PAGE_BYTES, FLOOR_JSON_BYTES, the
median measured by bench/scale.py in the same run). No signature check, no status subqueries, no
extensions: the app's verify page is held to 0.7× of this, served the same way (gunicorn, two
sync workers) on the same database.

    gunicorn 'bench._scale_floor:app'      # DATABASE_URL, FLOOR_PAGE_BYTES, FLOOR_JSON_BYTES
"""

from __future__ import annotations

import json
import os

import sqlalchemy as sa
from flask import Flask, jsonify

from bench._big_school import driver_url

app = Flask(__name__)
engine = sa.create_engine(driver_url(os.environ["DATABASE_URL"]))
PAGE_BYTES = int(os.environ.get("FLOOR_PAGE_BYTES", "0"))
JSON_BYTES = int(os.environ.get("FLOOR_JSON_BYTES", "0"))
QUERY = sa.text("SELECT serial, status, issued_at, digest, key_id, public, public_until, snapshot "
                "FROM transcript WHERE serial = :serial")
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ s.serial }}</title></head>
<body><main><h1>{{ s.institution }}</h1><p>{{ row.serial }} · {{ row.status }} · {{ s.student_name }}</p>
<table>{% for r in s.records %}<tr><td>{{ r.date }}</td><td>{{ r.activity }}</td><td>{{ r.club }}</td>
<td>{{ r.module }}</td><td>{{ r.level }}</td><td>{{ r.role }}</td><td>{{ r.hours }}</td></tr>{% endfor %}</table>
</main></body></html>"""
TEMPLATE = app.jinja_env.from_string(PAGE)  # compiled once, as render_template's loader caches it


def _row(serial: str):
    with engine.connect() as conn:
        return conn.execute(QUERY, {"serial": serial.upper()}).mappings().first()


@app.get("/v/<serial>/<payload>")
@app.get("/V/<serial>/<payload>")
def page(serial: str, payload: str):
    row = _row(serial)
    if row is None:
        return "unknown", 404
    html = TEMPLATE.render(row=row, s=json.loads(row["snapshot"]))
    short = PAGE_BYTES - len(html.encode("utf-8"))
    return html + ("<!--" + "x" * (short - 7) + "-->" if short > 7 else "")


@app.get("/api/v1/verify/<serial>")
def verify_json(serial: str):
    row = _row(serial)
    if row is None:
        return {"error": "unknown"}, 404
    snapshot = json.loads(row["snapshot"])
    body = {"status": row["status"], "serial": row["serial"], "digest": row["digest"], "key_id": row["key_id"],
            "issued_at": str(row["issued_at"]), "student": snapshot.get("student_name"),
            "records": snapshot.get("records", [])}
    # The app's size, not more: fewer records when the snapshot's are longer, padding when shorter.
    while _size(body) > JSON_BYTES > 0 and body["records"]:
        body["records"] = body["records"][: len(body["records"]) * 9 // 10]
    size = _size(body)
    if JSON_BYTES > size + 16:
        body["padding"] = "x" * (JSON_BYTES - size - 14)
    return jsonify(body)


def _size(body: dict) -> int:
    """The bytes jsonify sends for it (compact, ASCII-escaped)."""
    return len(json.dumps(body, separators=(",", ":"))) + 1
