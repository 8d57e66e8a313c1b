"""Sign-ins that really end, the per-account lockout, proxies, and the security headers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, AuthToken, User
from app.timeutil import utcnow
from tests.conftest import make_test_app
from tests.factories import PASSWORD, Factory

NEW_PASSWORD = "violet harbour lantern 91"


def sign_in(client, user, password=PASSWORD, **kw):
    return client.post("/login", data={"username": user.username, "password": password}, **kw)


def token_for(client, user, password=PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": user.username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def actions(session) -> list[str]:
    return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


# ---- logout and copied cookies ---------------------------------------------------------------

def test_logout_ends_a_copied_session(app, client, make):
    student = make.student(name="张小明")
    assert sign_in(client, student).status_code == 302
    copied = session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/me").status_code == 200  # a copied cookie works while the session is open
    assert client.post("/logout").status_code == 302
    r = thief.get("/me")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_logout_ends_only_that_session(app, client, make):
    student = make.student()
    other_device = app.test_client()
    sign_in(client, student)
    sign_in(other_device, student)
    client.post("/logout")
    assert other_device.get("/me").status_code == 200


def test_api_logout_ends_the_token(client, make, session):
    student = make.student()
    headers = token_for(client, student)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert "user.sign_out" in actions(session)


def test_session_cookie_signed_with_the_key_but_never_opened_is_refused(app, client, make):
    """A forged session naming a user id, without a sign-in row behind it, is nobody."""
    student = make.student()
    with client.session_transaction() as s:
        s["_user_id"] = str(student.id)
        s["_fresh"] = True
        s["sid"] = "made-up-token"
    assert client.get("/me").status_code == 302


def test_expired_browser_session_ends(app, client, make, session):
    student = make.student()
    sign_in(client, student)
    session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert client.get("/me").status_code == 302


# ---- password change --------------------------------------------------------------------------

def test_password_change_ends_other_tokens(app, client, make, session):
    student = make.student()
    this_one, other = token_for(client, student), token_for(client, student)
    browser = app.test_client()
    sign_in(browser, student)
    r = client.post("/api/v1/auth/password", headers=this_one,
                    json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=this_one).status_code == 200  # the asking token stays
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert browser.get("/me").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": student.username,
                                                   "password": PASSWORD}).status_code == 401
    token_for(client, student, NEW_PASSWORD)
    assert "user.password_change" in actions(session)


def test_password_change_on_the_page_keeps_this_session_only(app, client, make):
    student = make.student()
    elsewhere = app.test_client()
    sign_in(client, student)
    sign_in(elsewhere, student)
    r = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert r.status_code == 302
    assert client.get("/me").status_code == 200
    assert elsewhere.get("/me").status_code == 302


@pytest.mark.parametrize("new", ["password123", "qwertyuiop", "1234567890", "short"])
def test_weak_new_password_is_refused_and_nothing_changes(client, make, session, new):
    student = make.student()
    headers = token_for(client, student)
    before = session.get(User, student.id).password_hash
    r = client.post("/api/v1/auth/password", headers=headers,
                    json={"current_password": PASSWORD, "new_password": new})
    assert r.status_code == 422 and "new_password" in r.get_json()["error"]["fields"]
    session.expire_all()
    assert session.get(User, student.id).password_hash == before
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_own_student_number_is_not_a_password(client, make):
    student = make.student(student_no="2023019876")
    headers = token_for(client, student)
    r = client.post("/api/v1/auth/password", headers=headers,
                    json={"current_password": PASSWORD, "new_password": "x2023019876x!"})
    assert r.status_code == 422


def test_wrong_current_password_changes_nothing(client, make, session):
    student = make.student()
    headers = token_for(client, student)
    r = client.post("/api/v1/auth/password", headers=headers,
                    json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert r.status_code == 422 and "current_password" in r.get_json()["error"]["fields"]
    token_for(client, student)  # the old password still works


def test_password_page_says_when_the_two_differ(client, make):
    student = make.student()
    sign_in(client, student)
    r = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD + "x"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.get_data(as_text=True)


# ---- the per-account lockout ------------------------------------------------------------------

@pytest.fixture
def limited(backend, tmp_path):
    """An app whose limits are on: 10 wrong passwords per account in 15 minutes, many per client."""
    app = make_test_app(backend, tmp_path, {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "1000 per minute"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_lockout_counts_per_account(limited):
    make = Factory(db.session)
    victim, bystander = make.student(), make.student()
    api = limited.test_client()
    for _ in range(10):
        r = api.post("/api/v1/auth/token", json={"username": victim.username, "password": "guess"})
        assert r.status_code == 401
    # the 11th try waits, even with the right password, on the API and the page alike
    r = api.post("/api/v1/auth/token", json={"username": victim.username, "password": PASSWORD})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    page = limited.test_client()
    r = sign_in(page, victim)
    assert r.status_code == 429 and "锁定" in r.get_data(as_text=True) and r.headers["Retry-After"]
    assert page.get("/me").status_code == 302
    # another account from the same client is not locked
    assert api.post("/api/v1/auth/token", json={"username": bystander.username,
                                                "password": PASSWORD}).status_code == 200
    events = actions(db.session)
    assert events.count("user.sign_in_failed") == 10 and events.count("user.lockout") == 1


def test_lockout_counts_unknown_usernames_alike(limited):
    api = limited.test_client()
    codes = [api.post("/api/v1/auth/token", json={"username": "nobody.here", "password": "x"}).status_code
             for _ in range(11)]
    assert codes == [401] * 10 + [429]


def test_lockout_is_shared_by_workers_through_redis(tmp_path):
    """Two app instances stand for two gunicorn workers; the account's count is one, in Redis."""
    from tests.test_ratelimit import REDIS_URL, redis_or_skip

    redis_or_skip()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL, "LOGIN_RATE_LIMIT": "1000 per minute",
                "ACCOUNT_LOCKOUT": "4 per 15 minutes"}
    workers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        worker = make_test_app("sqlite", tmp_path / name, settings)
        with worker.app_context():
            Factory(db.session).student(username="shared.victim")
        workers.append(worker)
    codes = []
    for i in range(5):
        worker = workers[i % 2]
        with worker.app_context():
            codes.append(worker.test_client().post(
                "/api/v1/auth/token", json={"username": "shared.victim", "password": "x"}).status_code)
    for worker in workers:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()
    assert codes == [401, 401, 401, 401, 429]


# ---- sign-ins are audited ------------------------------------------------------------------------

def test_sign_in_failed_sign_in_and_sign_out_are_audited(client, make, session):
    student = make.student()
    sign_in(client, student, "wrong password")
    sign_in(client, student)
    client.post("/logout")
    token_for(client, student)
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert [e.action for e in events] == ["user.sign_in_failed", "user.sign_in", "user.sign_out", "user.sign_in"]
    assert events[1].data["kind"] == "web" and events[3].data["kind"] == "api"
    assert all(e.object_type == "user" and e.object_id == str(student.id) for e in events)
    assert PASSWORD not in str([e.data for e in events]) and "wrong password" not in str([e.data for e in events])


def test_deactivated_account_with_right_password_is_refused(client, make, session):
    student = make.student()
    student.active = False
    session.commit()
    r = client.post("/api/v1/auth/token", json={"username": student.username, "password": PASSWORD})
    assert r.status_code == 401
    assert sign_in(client, student).status_code == 401


# ---- proxies ----------------------------------------------------------------------------------------

def _seen_address(app, headers: dict[str, str]) -> str:
    """The client address the app records for a sign-in with these headers."""
    with app.app_context():
        make = Factory(db.session)
        student = make.student()
        app.test_client().post("/api/v1/auth/token", json={"username": student.username, "password": PASSWORD},
                               headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
        event = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
        return event.data["client"]


@pytest.mark.parametrize(("hops", "expected"), [(0, "10.0.0.2"), (1, "198.51.100.7"), (2, "203.0.113.9")])
def test_proxy_hops_are_trusted_only_as_configured(backend, tmp_path, hops, expected):
    """X-Forwarded-For: "<spoofed by the client>, <client seen by the outer proxy>, <seen by the inner one>"."""
    app = make_test_app(backend, tmp_path, {"TRUSTED_PROXIES": hops})
    forwarded = {"X-Forwarded-For": "192.0.2.66, 203.0.113.9, 198.51.100.7"}
    try:
        assert _seen_address(app, forwarded) == expected
    finally:
        with app.app_context():
            db.engine.dispose()


def test_per_client_limit_counts_real_clients_behind_the_proxy(backend, tmp_path):
    app = make_test_app(backend, tmp_path, {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute",
                                            "TRUSTED_PROXIES": 1})
    client = app.test_client()

    def attempt(ip):
        return client.post("/api/v1/auth/token", json={"username": "x", "password": "y"},
                           headers={"X-Forwarded-For": ip}, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code

    try:
        assert [attempt("198.51.100.1") for _ in range(3)] == [401, 401, 429]
        assert attempt("198.51.100.2") == 401  # another client behind the same balancer has its own budget
    finally:
        with app.app_context():
            db.engine.dispose()


# ---- headers and cookies ------------------------------------------------------------------------------

def test_https_site_sends_secure_cookies_and_hsts(backend, tmp_path):
    app = make_test_app(backend, tmp_path, {"PUBLIC_BASE_URL": "https://dekt.example.edu.cn"})
    try:
        with app.app_context():
            student = Factory(db.session).student()
            client = app.test_client()
            r = sign_in(client, student, base_url="https://dekt.example.edu.cn")
            cookie = r.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_http_site_sends_no_hsts(backend, tmp_path):
    app = make_test_app(backend, tmp_path, {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    try:
        r = app.test_client().get("/login")
        assert "Strict-Transport-Security" not in r.headers
        assert app.config["SESSION_COOKIE_SECURE"] is False
    finally:
        with app.app_context():
            db.engine.dispose()


def test_every_page_carries_a_csp_without_inline_script(client, make):
    student = make.student()
    for url in ("/login", "/verify"):
        csp = client.get(url).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
    sign_in(client, student)
    r = client.get("/me")
    assert r.status_code == 200 and "Content-Security-Policy" in r.headers
    assert "<script>" not in r.get_data(as_text=True)
    api = client.get("/api/v1/units")
    assert "Content-Security-Policy" not in api.headers  # JSON is no page


def test_gunicorn_warns_when_workers_share_no_limit_store(tmp_path):
    """gunicorn.conf.py says so at start; with Redis configured it says nothing."""
    script = textwrap.dedent("""
        import os, runpy, sys
        class Log:
            def warning(self, msg, *args):
                print("WARN", msg % args)
        class Cfg:
            workers = int(sys.argv[1])
        class Server:
            cfg, log = Cfg(), Log()
        runpy.run_path("gunicorn.conf.py")["when_ready"](Server())
    """)
    from app import ROOT

    def run(workers: str, storage: str | None) -> str:
        env = {"PATH": "/usr/bin:/bin"}
        if storage:
            env["RATELIMIT_STORAGE_URI"] = storage
        return subprocess.run([sys.executable, "-c", script, workers], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout

    assert "RATELIMIT_STORAGE_URI" in run("4", None)
    assert run("1", None) == ""
    assert run("4", "redis://127.0.0.1:6379/0") == ""


def test_no_template_carries_an_inline_script_or_event_handler():
    """The CSP allows scripts from app.js only; an inline one would be blocked in the browser."""
    import re

    from app import ROOT

    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE)
    # The offline verifier is a file to download and open with no server: its script must be inside it.
    standalone = {ROOT / "templates" / "verify" / "offline.html"}
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html") if path not in standalone
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert len(list((ROOT / "templates").rglob("*.html"))) > 30
