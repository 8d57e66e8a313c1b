"""Browser tests: Debian's Chromium driven by Playwright against the app served by gunicorn.

The server runs on a free loopback port with a fresh database; screenshots of every step go
to tests/e2e/artifacts/. A missing Chromium fails the run with the command to install it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BIN = Path(sys.executable).parent
PASSWORD = "e2e-pass-2026"
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, env: dict, folder: Path):
        self.url, self.env, self.folder = url, env, folder

    @classmethod
    def new(cls, name: str, port: int | None = None, **settings: str) -> LiveServer:
        """A fresh SQLite database, key directory and settings for a served app, not started."""
        port = port or _free_port()
        folder = Path(tempfile.mkdtemp(prefix=f"st-{name}-"))
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": f"sqlite:///{folder / f'{name}.db'}",
            "SIGNING_KEY_DIR": str(folder / "keys"),
            "EVIDENCE_DIR": str(folder / "evidence"),
            "JOB_QUEUE_URL": f"sqlite:///{folder / 'jobs.db'}",
            "SECRET_KEY": f"{name}-secret",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "INSTITUTION_NAME": "示范大学 Demo University",
            "VERIFY_RATE_LIMIT": "10000 per minute",
            "LOGIN_RATE_LIMIT": "10000 per minute",
            **settings,
        })
        return cls(f"http://127.0.0.1:{port}", env, folder)

    @contextlib.contextmanager
    def serving(self):
        """gunicorn with 2 workers until the block ends; its log is shown if it will not start."""
        port = self.url.rsplit(":", 1)[1]
        log = open(self.folder / "gunicorn.log", "w")
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "app:create_app()", "-b", f"127.0.0.1:{port}", "-w", "2",
             "--chdir", str(ROOT)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/login", timeout=1)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise RuntimeError((self.folder / "gunicorn.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        try:
            yield self
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()

    def flask(self, *args: str) -> str:
        result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout


@pytest.fixture(scope="session")
def live_server():
    server = LiveServer.new("e2e")
    server.flask("db", "upgrade")
    server.flask("keys", "generate")
    server.flask("user", "create", "office", "--role", "admin", "--password", PASSWORD, "--name", "校团委 陈老师")
    with server.serving():
        yield server


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
