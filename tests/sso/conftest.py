"""Single sign-on tests against real identity servers that this conftest starts itself.

* CAS 3.0: django-cas-server (PyPI) — a tiny Django project written into a temporary folder
  (settings, urls, an auth class that releases the school's attributes), migrated, given its
  users and one service pattern for this app, and served by gunicorn on a free port.
* OpenID Connect: oidc-provider (npm) from tests/sso/oidc, `npm ci` into that folder when
  node_modules is missing, started as `node provider.mjs` on a free port.
* This app: gunicorn on a free port with both protocols on, for the browser tests; the
  test-client tests build apps with `make_test_app` pointing at the same servers.

Each server starts once per test session and is ended at its close. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.e2e.conftest import BIN, ROOT, LiveServer, _free_port

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PASSWORD = "sso-pass-2026"
OIDC_CLIENT_ID = "second-transcript"
OIDC_CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"
TEST_CLIENT_ORIGIN = "http://localhost"  # what Flask's test client calls itself

# People at the school's identity server: (username, password, released attributes).
CAS_PEOPLE = [
    ("li.tongxue", PASSWORD, {"studentNo": "2025030101", "email": "li@example.edu.cn"}),
    ("wang.tongxue", PASSWORD, {"studentNo": "2025030102", "email": "wang@example.edu.cn"}),
    ("stranger", PASSWORD, {"studentNo": "2099999999", "email": "stranger@example.edu.cn"}),
]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{url} did not answer:\n" + log.read_text()[-4000:]) from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# ---- CAS: django-cas-server ------------------------------------------------------------------

CAS_SETTINGS = """
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET_KEY = "django-cas-server-for-the-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
]
ROOT_URLCONF = "cas_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(HERE / "cas.db")}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "/static/"
# Same host as the app under test (cookies ignore ports): names of its own.
SESSION_COOKIE_NAME = "cas_sessionid"
CSRF_COOKIE_NAME = "cas_csrftoken"
CAS_AUTH_CLASS = "cas_school.SchoolAuthUser"
# Loopback only: no version check against PyPI, no CDN styles or scripts.
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
CAS_INFO_MESSAGES_ORDER = []
CAS_COMPONENT_URLS = {name: "data:text/plain," for name in (
    "bootstrap3_css", "bootstrap3_js", "html5shiv", "respond", "bootstrap4_css", "bootstrap4_js", "jquery")}
"""

CAS_URLS = """
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

urlpatterns = [
    path("cas/", include("cas_server.urls", namespace="cas_server")),
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
]
"""

CAS_SCHOOL = """
from cas_server.auth import DjangoAuthUser

ATTRIBUTES = {attributes!r}


class SchoolAuthUser(DjangoAuthUser):
    \"\"\"Django's users, with the attributes the school's directory keeps for each.\"\"\"

    def attributs(self):
        attrs = super().attributs()
        if self.user:
            attrs.update(ATTRIBUTES.get(self.username, {{}}))
        return attrs
"""

CAS_SETUP = """
import django

django.setup()
from django.contrib.auth import get_user_model
from cas_server.models import ReplaceAttributName, ServicePattern

for username, password, _ in {people!r}:
    get_user_model().objects.create_user(username, password=password)
service = ServicePattern.objects.create(
    name="第二课堂成绩单 Second Transcript", pos=1,
    pattern=r"^http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/login/cas(\\?.*)?$",
)
for name in ("studentNo", "email"):  # released to the service; nothing else (no password hash)
    ReplaceAttributName.objects.create(name=name, service_pattern=service)
"""


class CasServer:
    def __init__(self, url: str, folder: Path):
        self.url, self.folder = url, folder  # url: the CAS base, ending in /cas/


@pytest.fixture(scope="session")
def cas_server():
    folder = Path(tempfile.mkdtemp(prefix="st-cas-"))
    (folder / "cas_settings.py").write_text(CAS_SETTINGS)
    (folder / "cas_urls.py").write_text(CAS_URLS)
    (folder / "cas_school.py").write_text(
        CAS_SCHOOL.format(attributes={name: attrs for name, _, attrs in CAS_PEOPLE}))
    (folder / "cas_setup.py").write_text(CAS_SETUP.format(people=CAS_PEOPLE))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cas_settings", "PYTHONPATH": str(folder)}
    for command in ([sys.executable, "-m", "django", "migrate", "-v", "0"],
                    [sys.executable, "cas_setup.py"]):
        result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout
    port = _free_port()
    log = folder / "cas.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "django.core.wsgi:get_wsgi_application()", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--threads", "4", "--chdir", str(folder)],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = CasServer(f"http://127.0.0.1:{port}/cas/", folder)
    try:
        wait_until_up(server.url + "login", proc, log)
        yield server
    finally:
        stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


# ---- OpenID Connect: oidc-provider -----------------------------------------------------------

class OidcServer:
    def __init__(self, issuer: str):
        self.issuer = issuer


@pytest.fixture(scope="session")
def sso_app_port() -> int:
    """The port of the browser tests' app, chosen first: the provider must know its redirect URI."""
    return _free_port()


@pytest.fixture(scope="session")
def oidc_server(sso_app_port, tmp_path_factory):
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("Node.js (node, npm) is needed for the OpenID Connect tests", pytrace=False)
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout
    port = _free_port()
    redirects = [f"http://127.0.0.1:{sso_app_port}/login/oidc/callback",
                 f"{TEST_CLIENT_ORIGIN}/login/oidc/callback"]
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": OIDC_CLIENT_ID,
           "OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET, "OIDC_REDIRECT_URIS": " ".join(redirects),
           "NODE_ENV": "test"}
    log = tmp_path_factory.mktemp("oidc") / "oidc.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([node, "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    server = OidcServer(f"http://127.0.0.1:{port}")
    try:
        wait_until_up(server.issuer + "/.well-known/openid-configuration", proc, log)
        yield server
    finally:
        stop(proc)


# ---- this app, served, with both protocols on ------------------------------------------------

FLASK_MANY = """
import json, sys
from app import create_app
runner = create_app().test_cli_runner()
for args in json.loads(sys.argv[1]):
    result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit(f"flask {' '.join(args)}: {result.output}{result.exception!r}")
"""


class SsoLiveServer(LiveServer):
    def flask_many(self, *commands: list[str]) -> None:
        """Several `flask --app app …` commands in one process (one start-up, not four)."""
        result = subprocess.run([sys.executable, "-c", FLASK_MANY, json.dumps(commands)], env=self.env,
                                cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout

    @property
    def database(self) -> Path:
        return self.folder / "sso.db"

    def user_count(self) -> int:
        with sqlite3.connect(self.database) as conn:
            return conn.execute("SELECT count(*) FROM user_account").fetchone()[0]


@pytest.fixture(scope="session")
def sso_live_server(sso_app_port, cas_server, oidc_server):
    server = SsoLiveServer.new(
        "sso", sso_app_port, CAS_SERVER_URL=cas_server.url, OIDC_ISSUER=oidc_server.issuer,
        OIDC_CLIENT_ID=OIDC_CLIENT_ID, OIDC_CLIENT_SECRET=OIDC_CLIENT_SECRET, SSO_MATCH="username",
    )
    server.flask_many(
        ["db", "upgrade"],
        ["keys", "generate"],
        ["user", "create", "li.tongxue", "--role", "student", "--password", PASSWORD,
         "--name", "李同学", "--student-no", "2025030101"],
        ["user", "create", "zhao.oidc", "--role", "student", "--password", PASSWORD,
         "--name", "赵同学", "--student-no", "2025030103"],
    )
    try:
        with server.serving():
            yield server
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def sso_page(new_page):
    """A fresh browser context that may reach loopback only (no fonts or CDNs from outside)."""

    def make(**kw):
        page = new_page(**kw)

        def only_loopback(route):
            host = route.request.url.split("/")[2] if "://" in route.request.url else ""
            if route.request.url.startswith("data:") or host.split(":")[0] in ("127.0.0.1", "localhost"):
                return route.continue_()
            return route.abort()

        page.context.route("**/*", only_loopback)
        return page

    return make


# ---- helpers for the test-client flows: a person's browser at the identity server -------------

class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def first_form(html: str, page_url: str) -> tuple[str, dict]:
    parser = _Forms()
    parser.feed(html)
    assert parser.forms, html[:2000]
    form = parser.forms[0]
    return urljoin(page_url, form["action"] or page_url), form["fields"]


def follow_until(session, url: str, stop_prefix: str, *, method: str = "GET", data: dict | None = None,
                 hops: int = 10):
    """Follow redirects by hand until one points at `stop_prefix` (our app): that URL, or the
    last response when the identity server answers a page instead."""
    response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
    for _ in range(hops):
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307) or not location:
            return response
        location = urljoin(response.url, location)
        if location.startswith(stop_prefix):
            return location
        response = session.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects")

