"""Benchmark: submitting an achievement claim with a 5 MB phone photo, against reading the body alone.

A real JPEG of random noise (3264×2448, the quality searched so the file is ≈5 MB; noise does not
compress, as a photo of a certificate barely does), one copy per run with its own JPEG comment so
every upload has new bytes (the store keeps a file once per SHA-256: the same photo twice would
skip the write). Each run posts the same multipart body (title, module, level, occurred_on, hours,
award, description and `files`) to, in turn:

* the floor: a throw-away Flask app defined in this file (`bench.claim_upload:bare_app`), its one
  route reading the form and every file — werkzeug's multipart parse, nothing else — on its own
  gunicorn, same loopback, same client;
* `POST /api/v1/claims` with a bearer token (gunicorn, 1 sync worker);
* the page's form, `POST /claims/new` (signed in; CSRF and the one-time nonce as a browser sends them).

Then, in-process on the same bytes, where the time goes: the multipart parse, the content check
(`evidence.media_type_of`: Pillow verifies the structure and decodes every pixel, once per
file, in `evidence.check`), SHA-256, and the store's write (temporary file,
fsync, rename), next to `claims.submit_claim` whole with its commit, and the test-client request.

    .venv/bin/python bench/claim_upload.py [--runs 10] [--mb 5]       # SQLite
    .venv/bin/python bench/claim_upload.py --postgres [URL]           # PostgreSQL: a database
                                                                      # bench_claim_upload, dropped after
    .venv/bin/python bench/claim_upload.py --postgres --if-reachable  # make bench: skipped without a server

Last line: ``claim_upload: <backend> API p50 X ms (p95 Y ms), page p50 …; floor p50 Z ms; 5.0 MB JPEG``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The floor's app: what any Flask view pays to receive the same body (served by gunicorn).
bare_app = Flask("bench-bare-upload")
bare_app.config["MAX_CONTENT_LENGTH"] = 128 * 1024 * 1024


@bare_app.post("/upload")
def bare_upload():
    sizes = [len(f.read()) for f in request.files.getlist("files")]
    return {"fields": len(request.form), "files": sizes}, 201


PG_DATABASE = "bench_claim_upload"
PASSWORD = "bench upload 42"
SIZE = (3264, 2448)


def noisy_jpeg(target: int) -> bytes:
    """A JPEG of random noise whose size is nearest `target` bytes (quality by bisection)."""
    import io
    import os

    from PIL import Image

    image = Image.frombytes("RGB", SIZE, os.urandom(SIZE[0] * SIZE[1] * 3))
    best, low, high = b"", 10, 98
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        if not best or abs(len(data) - target) < abs(len(best) - target):
            best = data
        low, high = (quality + 1, high) if len(data) < target else (low, quality - 1)
    return best


def variant(jpeg: bytes, n: int) -> bytes:
    """The same photo with a JPEG comment (COM segment) after SOI: new bytes, the same image."""
    import struct

    text = f"bench run {n:04d}".encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[2:]


def multipart(fields: dict[str, str], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    import secrets

    boundary = "----bench" + secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for name, filename, media_type, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {media_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def claim_fields(today) -> dict[str, str]:
    from datetime import timedelta

    return {"title": "全国大学生英语竞赛", "module": "skills", "level": "national",
            "occurred_on": (today - timedelta(days=10)).isoformat(), "hours": "6", "award": "省级二等奖",
            "description": "决赛现场照片与获奖证书"}


def main() -> None:
    import argparse
    import os
    import shutil
    import tempfile

    from bench._serve import free_port
    from bench.catalogue import DEFAULT_PG, app_env, database, postgres_server, skip_postgres

    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG), default=None,
                        help="measure on PostgreSQL: a database bench_claim_upload on this server")
    parser.add_argument("--if-reachable", action="store_true", help="skip, not fail, when the server is down")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mb", type=float, default=5.0)
    args = parser.parse_args()
    server = postgres_server(args.postgres)
    if skip_postgres(server, args.if_reachable):
        return
    folder = Path(tempfile.mkdtemp(prefix="st-bench-upload-"))
    port = free_port()
    try:
        with database(server, folder, PG_DATABASE) as url:
            env = app_env(url, folder, port)
            os.environ.update(env)
            run(args, env, port, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args, env: dict, port: int, folder: Path) -> None:
    import hashlib
    import io
    import statistics
    import time
    import uuid
    from datetime import timedelta

    from werkzeug.formparser import parse_form_data

    from app import create_app
    from app.extensions import db
    from app.models import Claim, Unit, User
    from app.services import claims, evidence
    from app.services.evidence import Upload
    from app.services.passwords import hash_password
    from app.timeutil import to_local, utcnow
    from bench._serve import free_port, gunicorn
    from bench.catalogue import Browser, api_token, percentile

    backend = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    started = time.perf_counter()
    photo = noisy_jpeg(int(args.mb * 1024 * 1024))
    made = time.perf_counter() - started
    print(f"{backend}: a {len(photo) / 2**20:.2f} MB noisy JPEG {SIZE[0]}×{SIZE[1]} made in {made:.1f} s; "
          f"evidence under {folder} (every store fsyncs)")

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        unit = Unit(code="CS", name="计算机学院")
        db.session.add(unit)
        db.session.flush()
        student = User(username="claimant", password_hash=hash_password(PASSWORD), display_name="张同学",
                       role="student", student_no="2024000001", unit_id=unit.id)
        db.session.add(student)
        db.session.commit()
        student_id = student.id
        token = api_token(db.session, student_id)
    today = to_local(utcnow()).date()
    fields = claim_fields(today)
    n = iter(range(1, 10_000))

    def body(extra: dict | None = None) -> tuple[bytes, str]:
        return multipart({**fields, **(extra or {})},
                         [("files", "IMG_20250601_101500.jpg", "image/jpeg", variant(photo, next(n)))])

    # ---- in-process: where the time goes ----------------------------------------------------
    parts: dict[str, list[float]] = {k: [] for k in ("parse", "check", "sha256", "store", "service", "client")}

    def timed(key, call):
        t = time.perf_counter()
        out = call()
        parts[key].append((time.perf_counter() - t) * 1000)
        return out

    client = app.test_client()
    for i in range(args.runs + 1):  # the first round warms (imports, Pillow's plugins), untimed
        raw, content_type = body()
        data = variant(photo, next(n))

        def parse(raw=raw, content_type=content_type):
            environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(raw)),
                       "wsgi.input": io.BytesIO(raw)}
            _stream, form, files = parse_form_data(environ)
            return len(form), [len(f.read()) for f in files.getlist("files")]

        with app.app_context():
            timed("parse", parse)
            timed("check", lambda data=data: evidence.media_type_of(data))
            timed("sha256", lambda data=data: hashlib.sha256(data).hexdigest())
            timed("store", lambda data=data: evidence.store(data))
            claimant = db.session.get(User, student_id)

            def service(claimant=claimant):
                values = {**fields, "occurred_on": today - timedelta(days=10)}
                claims.submit_claim(db.session, claimant, [Upload("IMG.jpg", variant(photo, next(n)))], **values)
                db.session.commit()

            timed("service", service)
            db.session.remove()
        raw, content_type = body()
        answer = timed("client", lambda raw=raw, content_type=content_type: client.post(
            "/api/v1/claims", data=raw, content_type=content_type, headers={"Authorization": f"Bearer {token}"}))
        assert answer.status_code == 201, answer.get_json()
        if i == 0:
            for values in parts.values():
                values.clear()

    # ---- over HTTP: the floor, the API, the page ----------------------------------------------
    http: dict[str, list[float]] = {"floor": [], "api": [], "page": []}
    bare_port = free_port()
    with gunicorn("bench.claim_upload:bare_app", bare_port, env, workers=1), \
            gunicorn("app:create_app()", port, env, workers=1):
        floor, api, page = Browser(bare_port), Browser(port), Browser(port)
        page.sign_in("claimant", PASSWORD)
        csrf = page.csrf("/claims/new")
        for i in range(args.runs + 1):
            raw, content_type = body()
            status, _h, out, ms = floor.request("POST", "/upload", raw, {"Content-Type": content_type})
            assert status == 201, (status, out[:200])
            floor_ms = ms
            raw, content_type = body()
            status, _h, out, ms = api.request("POST", "/api/v1/claims", raw, {
                "Content-Type": content_type, "Authorization": f"Bearer {token}"})
            assert status == 201, (status, out[:300])
            api_ms = ms
            raw, content_type = body({"csrf_token": csrf, "nonce": uuid.uuid4().hex})
            status, headers, out, ms = page.request("POST", "/claims/new", raw, {"Content-Type": content_type})
            assert status == 302 and "/claims/" in headers.get("Location", ""), (status, out[:500])
            if i:  # the first round warms the workers
                http["floor"].append(floor_ms)
                http["api"].append(api_ms)
                http["page"].append(ms)
    with app.app_context():
        stored = db.session.query(Claim).count()

    def p50(values):
        return statistics.median(values)

    print(f"\n{backend}, {len(photo) / 2**20:.2f} MB JPEG, {args.runs} runs (medians and p95 in ms; {stored} claims "
          "stored, each file new)")
    print(f"  {'step':<52}{'p50':>9}{'p95':>9}")
    rows = [
        ("HTTP floor: bare Flask app reads the same body", http["floor"]),
        ("HTTP POST /api/v1/claims", http["api"]),
        ("HTTP POST /claims/new (the page's form)", http["page"]),
        ("in-process: test client POST /api/v1/claims", parts["client"]),
        ("in-process: claims.submit_claim + commit", parts["service"]),
        ("  multipart parse (werkzeug)", parts["parse"]),
        ("  content check, Pillow (verify and a full decode)", parts["check"]),
        ("  SHA-256", parts["sha256"]),
        ("  store: SHA-256 + write + fsync + rename", parts["store"]),
    ]
    for name, values in rows:
        print(f"  {name:<52}{p50(values):>9.2f}{percentile(values, 95):>9.2f}")
    floor, api, page = p50(http["floor"]), p50(http["api"]), p50(http["page"])
    check, digest, store = p50(parts["check"]), p50(parts["sha256"]), p50(parts["store"])
    write = store - digest
    rest = api - floor - check - store
    print(f"  where the API's {api:.1f} ms go: receiving and parsing the body {floor:.1f} (the floor), "
          f"content check {check:.1f}, SHA-256 {digest:.1f}, write + fsync {write:.1f}, "
          f"the rest (token, schema, rows, audit, commit) {rest:.1f}")
    print(f"claim_upload: {backend} API p50 {api:.1f} ms (p95 {percentile(http['api'], 95):.1f} ms), "
          f"page p50 {page:.1f} ms (p95 {percentile(http['page'], 95):.1f} ms); floor p50 {floor:.1f} ms, "
          f"ratio {api / floor:.2f}; {len(photo) / 2**20:.1f} MB JPEG")


if __name__ == "__main__":
    main()
