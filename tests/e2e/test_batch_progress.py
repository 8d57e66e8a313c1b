"""The graduation batch in a real browser: the office starts a class's batch on its page, sees the
progress move (done, rate, time left) while a worker (`flask --app app worker`) issues it, reloads and
sees the same figures, and downloads the class's ZIP, whose every PDF opens and carries a valid PAdES
signature.

A few hundred students by default (each with three certified records, to keep it quick); SLOW=1 runs the
issue's 2,000-student batch. Screenshots at 1280 and 390 px go to tests/e2e/artifacts/batch-*.png.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

from pypdf import PdfReader

import credentials
import credentials.pades
from tests.e2e.conftest import PASSWORD, PHONE, ROOT, LiveServer, shot

STUDENTS = 2000 if os.environ.get("SLOW") == "1" else 240
RECORDS = 3


def _seed(server: LiveServer) -> str:
    """The class of STUDENTS graduates straight into the server's database; its name."""
    from app import create_app
    from app.extensions import db
    from bench.batch import seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "SECRET_KEY": "x",
                      "SIGNING_KEY_DIR": server.env["SIGNING_KEY_DIR"]})
    with app.app_context():
        seed(db.session, STUDENTS, RECORDS)
        db.session.remove()
        db.engine.dispose()
    return "2022级1班"


def _figure(page, element_id: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f"#{element_id}").inner_text()) or 0)


def _wait_for_done(page, condition, timeout: float) -> int:
    """The page's own script changes the figure (the CSP keeps Playwright's evaluated functions out)."""
    deadline = time.monotonic() + timeout
    while True:
        done = _figure(page, "batch-done")
        if condition(done):
            return done
        assert time.monotonic() < deadline, f"the done figure stayed at {done}"
        page.wait_for_timeout(200)


def test_progress_survives_a_reload_in_chromium(new_page, tmp_path):
    server = LiveServer.new("batch")
    server.flask("db", "upgrade")
    server.flask("keys", "generate")
    server.flask("user", "create", "office", "--role", "admin", "--password", PASSWORD, "--name", "校团委 陈老师")
    klass = _seed(server)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1",
                               "--no-periodic"], cwd=ROOT, env=server.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with server.serving():
            page = new_page()
            page.goto(f"{server.url}/login")
            page.fill("#username", "office")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.click("nav >> text=毕业批量签发")
            assert page.locator("h1").inner_text() == "毕业批量签发"
            value = page.locator("#class-target option", has_text=klass).first.get_attribute("value")
            page.select_option("#class-target", value=value)
            page.click("text=为该班级开始")
            page.wait_for_url(re.compile(r"/admin/batches/\d+$"))
            batch_url = page.url
            assert f"/ {STUDENTS}" in page.locator(".batch-figures").inner_text()
            # The figures move without a reload...
            first = _wait_for_done(page, lambda n: n > 0, 60)
            _wait_for_done(page, lambda n: n > first, 60)
            assert "每秒" in page.locator("#batch-rate").inner_text()
            shot(page, "batch-progress-1280", full_page=False)
            # ...and a reload shows where it is, not zero.
            before = _figure(page, "batch-done")
            page.reload()
            assert page.url == batch_url
            assert _figure(page, "batch-done") >= before > 0
            page.set_viewport_size(PHONE)
            shot(page, "batch-progress-390")
            page.set_viewport_size({"width": 1280, "height": 900})
            # The page reloads itself once the batch is done, and offers the class's ZIP.
            page.wait_for_selector("#batch-status:has-text('已完成')", timeout=(STUDENTS // 2 + 120) * 1000)
            page.wait_for_selector(".batch-classes a")
            assert _figure(page, "batch-done") == STUDENTS
            shot(page, "batch-done-1280")
            href = page.locator(".batch-classes a", has_text=klass).first.get_attribute("href")
            response = page.request.get(server.url + href, timeout=120_000)
            assert response.status == 200, response.text()[:500]
            assert response.headers["content-type"] == "application/zip"
            data = response.body()
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert len(names) == STUDENTS
    numbers = [name.split(" ")[1] for name in names]
    assert numbers == sorted(numbers)  # the seed's names follow its numbers: by name is by number here
    roots = credentials.load_roots(os.path.join(server.env["SIGNING_KEY_DIR"], credentials.certificate.CERT_SUBDIR,
                                                credentials.certificate.ROOT_FILE))
    for name in names:
        pdf = archive.read(name)
        assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1, name
        assert credentials.check_pades(pdf, roots).ok, name
