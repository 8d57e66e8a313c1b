"""Browser tests: Debian's Chromium driven by Playwright against the app served by gunicorn.

The server runs on a free loopback port with a fresh database; screenshots of every step go
to tests/e2e/artifacts/. A missing Chromium fails the run with the command to install it.
"""

from __future__ import annotations

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

    def flask(self, *args: str) -> str:
        result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout


@pytest.fixture(scope="session")
def live_server():
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="st-e2e-"))
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{folder / 'e2e.db'}",
        "SIGNING_KEY_DIR": str(folder / "keys"),
        "SECRET_KEY": "e2e-secret",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "INSTITUTION_NAME": "示范大学 Demo University",
        "VERIFY_RATE_LIMIT": "10000 per minute",
        "LOGIN_RATE_LIMIT": "10000 per minute",
    })
    server = LiveServer(f"http://127.0.0.1:{port}", env, folder)
    server.flask("db", "upgrade")
    server.flask("keys", "generate")
    server.flask("user", "create", "office", "--role", "admin", "--password", PASSWORD, "--name", "校团委 陈老师")
    log = open(folder / "gunicorn.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "app:create_app()", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--chdir", str(ROOT)], env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{server.url}/login", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError((folder / "gunicorn.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    yield server
    proc.terminate()
    proc.wait(10)


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
