"""Single sign-on (统一身份认证) through real CAS 3.0 and OpenID Connect servers.

The browser tests drive Chromium from our sign-in page to the identity server's own login
form and back; the test-client tests talk to the same servers with `requests` playing the
person's browser there. See conftest.py for how each server is started.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import make_test_app
from tests.factories import Factory
from tests.sso.conftest import (
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    PASSWORD,
    TEST_CLIENT_ORIGIN,
    first_form,
    follow_until,
)

NO_ACCOUNT_ZH = "在本系统中没有对应账号"
NO_ACCOUNT_EN = "has no account here; ask the Youth League office"


# ---- in the browser, against the served app --------------------------------------------------

def _sign_in_at_cas(page, username: str) -> None:
    page.wait_for_selector("#id_username")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login_form button[type=submit]")


def _sign_in_at_oidc(page, login: str) -> None:
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the dev login form takes any")
    page.click("button[type=submit]")


def test_cas_sign_in_through_a_real_server(sso_live_server, cas_server, sso_page):
    page = sso_page()
    page.goto(f"{sso_live_server.url}/login")
    page.get_by_role("button", name=re.compile(r"统一身份认证登录（CAS）")).click()
    page.wait_for_url(f"{cas_server.url}login?**")
    _sign_in_at_cas(page, "li.tongxue")
    page.wait_for_url(f"{sso_live_server.url}/me")
    assert "李同学" in page.locator("header.site").inner_text()
    assert "欢迎，李同学" in page.content()


def test_oidc_sign_in_through_a_real_server(sso_live_server, oidc_server, sso_page):
    page = sso_page()
    page.goto(f"{sso_live_server.url}/login")
    page.get_by_role("button", name=re.compile(r"统一身份认证登录（OpenID Connect）")).click()
    page.wait_for_url(f"{oidc_server.issuer}/interaction/**")
    _sign_in_at_oidc(page, "zhao.oidc")
    page.wait_for_url(f"{sso_live_server.url}/me")
    assert "赵同学" in page.locator("header.site").inner_text()


@pytest.mark.parametrize("protocol", ["cas", "oidc"])
def test_an_identity_without_an_account_here_is_refused_and_nothing_is_created(
    protocol, sso_live_server, sso_page
):
    before = sso_live_server.user_count()
    page = sso_page()
    page.goto(f"{sso_live_server.url}/login?next=/me")
    label = "CAS" if protocol == "cas" else "OpenID Connect"
    page.get_by_role("button", name=re.compile(rf"（{label}）")).click()
    with page.expect_response(lambda r: "/login/cas?" in r.url or "/login/oidc/callback?" in r.url) as answer:
        if protocol == "cas":
            _sign_in_at_cas(page, "stranger")
        else:
            _sign_in_at_oidc(page, "stranger")
    assert answer.value.status == 403
    page.wait_for_load_state()
    text = page.locator("main").inner_text()
    assert f"统一身份认证账号 stranger {NO_ACCOUNT_ZH}" in text
    assert "无法登录" in text and NO_ACCOUNT_EN not in text  # Chinese by default, one language at a time
    assert sso_live_server.user_count() == before
    page.goto(f"{sso_live_server.url}/me")
    assert urlsplit(page.url).path == "/login"


def test_sign_in_page_shows_both_buttons_and_keeps_next(sso_live_server):
    html = requests.get(f"{sso_live_server.url}/login?next=/me", timeout=10).text
    assert 'href="/login/cas?next=/me"' in html and 'href="/login/oidc?next=/me"' in html
    html = requests.get(f"{sso_live_server.url}/login?next=https://evil.example/", timeout=10).text
    main = html.split("<main", 1)[1]  # the language links repeat the page's own address
    assert 'href="/login/cas"' in main and "evil" not in main


# ---- the test client, against the same servers -----------------------------------------------

@pytest.fixture
def sso_app(tmp_path, cas_server, oidc_server):
    """make(**settings): an app on SQLite whose protocols point at the real servers."""
    apps = []

    def make(**extra):
        config = {
            "PUBLIC_BASE_URL": TEST_CLIENT_ORIGIN,
            "CAS_SERVER_URL": cas_server.url,
            "OIDC_ISSUER": oidc_server.issuer,
            "OIDC_CLIENT_ID": OIDC_CLIENT_ID,
            "OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET,
            **extra,
        }
        folder = tmp_path / f"app{len(apps)}"
        folder.mkdir()
        app = make_test_app("sqlite", folder, config)
        context = app.app_context()
        context.push()
        apps.append((app, context))
        return app

    yield make
    for _, context in reversed(apps):
        db.session.remove()
        db.engine.dispose()
        context.pop()


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**_query(url), **changes})))


def _local(url: str) -> str:
    """A URL on our app as the test client wants it: path and query."""
    assert url.startswith(TEST_CLIENT_ORIGIN + "/"), url
    return url[len(TEST_CLIENT_ORIGIN):]


def _cas_ticket_url(client, username: str, next_page: str | None = None) -> str:
    """Our /login/cas → CAS login form, filled and posted → the service URL with ?ticket=."""
    answer = client.get("/login/cas" + (f"?next={next_page}" if next_page else ""))
    assert answer.status_code == 302
    browser = requests.Session()
    form_page = browser.get(answer.headers["Location"], timeout=10)
    assert form_page.status_code == 200
    action, fields = first_form(form_page.text, form_page.url)
    fields.update(username=username, password=PASSWORD)
    back = follow_until(browser, action, TEST_CLIENT_ORIGIN + "/", method="POST", data=fields)
    assert isinstance(back, str) and "ticket=" in back, getattr(back, "text", back)[:1000]
    return _local(back)


def _oidc_callback_url(client, login: str, next_page: str | None = None) -> str:
    """Our /login/oidc → the provider's login form, filled and posted → our callback URL."""
    answer = client.get("/login/oidc" + (f"?next={next_page}" if next_page else ""))
    assert answer.status_code == 302
    asked = _query(answer.headers["Location"])
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["state"] and asked["nonce"] and asked["response_type"] == "code"
    browser = requests.Session()
    form_page = follow_until(browser, answer.headers["Location"], TEST_CLIENT_ORIGIN + "/")
    assert form_page.status_code == 200, form_page.text[:1000]
    action, fields = first_form(form_page.text, form_page.url)
    fields.update(login=login, password="anything")
    back = follow_until(browser, action, TEST_CLIENT_ORIGIN + "/", method="POST", data=fields)
    assert isinstance(back, str) and "code=" in back, getattr(back, "text", back)[:1000]
    return _local(back)


def _users() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _sign_ins(user: User) -> list[str]:
    """The methods of the user's audited sign-ins, oldest first."""
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "user.sign_in", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.seq)
    ).scalars()
    return [event.data.get("method") for event in events]


def test_cas_by_student_number_attribute(sso_app):
    app = sso_app(CAS_USER_ATTRIBUTE="studentNo", SSO_MATCH="student_no")
    # The CAS user is wang.tongxue; our account has another username and the same 学号.
    wang = Factory(db.session).student(username="wang2025", name="王同学", student_no="2025030102")
    client = app.test_client()
    ticket_url = _cas_ticket_url(client, "wang.tongxue", next_page="/me")
    answer = client.get(ticket_url)
    assert answer.status_code == 302 and answer.headers["Location"] == "/me"
    page = client.get("/me")
    assert page.status_code == 200 and "王同学" in page.get_data(as_text=True)
    assert _sign_ins(wang) == ["cas"]
    # The callback is good once, and only in the browser that started the sign-in.
    assert app.test_client().get(ticket_url).status_code == 400
    assert client.get(ticket_url).status_code == 400


def test_forged_and_replayed_cas_tickets_are_refused(sso_app):
    app = sso_app()
    Factory(db.session).student(username="li.tongxue", name="李同学")
    client = app.test_client()
    answer = client.get("/login/cas")
    service = _query(answer.headers["Location"])["service"]
    assert service.startswith(f"{TEST_CLIENT_ORIGIN}/login/cas?state=")
    forged = client.get(_with_query(_local(service), ticket="ST-1-forgedforgedforgedforged-cas"))
    html = forged.get_data(as_text=True)
    assert forged.status_code == 401
    assert "统一身份认证票据无效或已过期" in html and "请重新登录" in html
    assert client.get("/me").status_code == 302
    # A real ticket, but for someone else's sign-in (login CSRF): another state → refused.
    ticket_url = _cas_ticket_url(app.test_client(), "li.tongxue")
    client.get("/login/cas")
    answer = client.get(ticket_url)
    assert answer.status_code == 400 and "不是从本站发起" in answer.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_deactivated_account_is_refused_over_cas(sso_app):
    app = sso_app()
    user = Factory(db.session).student(username="li.tongxue", name="李同学")
    user.active = False
    db.session.commit()
    client = app.test_client()
    answer = client.get(_cas_ticket_url(client, "li.tongxue"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "已停用" in html and "请联系校团委" in html
    assert client.get("/me").status_code == 302


def test_missing_cas_attribute_is_a_clear_refusal(sso_app):
    app = sso_app(CAS_USER_ATTRIBUTE="employeeNumber")
    Factory(db.session).student(username="li.tongxue")
    client = app.test_client()
    answer = client.get(_cas_ticket_url(client, "li.tongxue"))
    assert answer.status_code == 403 and "employeeNumber" in answer.get_data(as_text=True)


def test_oidc_flow_checks_state_and_signs_in(sso_app):
    app = sso_app()
    zhao = Factory(db.session).student(username="zhao.oidc", name="赵同学")
    client = app.test_client()
    callback = _oidc_callback_url(client, "zhao.oidc", next_page="/me")
    bad = client.get(_with_query(callback, state="not-the-state-we-sent"))
    assert bad.status_code == 400 and "不是从本站发起" in bad.get_data(as_text=True)
    assert client.get("/me").status_code == 302
    assert app.test_client().get(callback).status_code == 400  # another browser: no state there
    good = client.get(callback)
    assert good.status_code == 302 and good.headers["Location"] == "/me"
    assert "赵同学" in client.get("/me").get_data(as_text=True)
    assert _sign_ins(zhao) == ["oidc"]
    assert client.get(callback).status_code == 400  # the state is used up


def test_oidc_unknown_identity_creates_nothing(sso_app):
    app = sso_app()
    before = _users()
    client = app.test_client()
    answer = client.get(_oidc_callback_url(client, "nobody.here"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "统一身份认证账号 nobody.here" in html and NO_ACCOUNT_ZH in html
    assert _users() == before
    assert client.get("/me").status_code == 302
    refused = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.sign_in_failed")).scalars().all()
    assert [(e.object_id, e.data["method"], e.data["reason"]) for e in refused] == [
        ("nobody.here", "oidc", "forbidden")]


def test_oidc_claim_falls_back_to_sub(sso_app):
    # The provider's sub is the login as typed; preferred_username is it in lower case.
    app = sso_app()
    Factory(db.session).student(username="qian.oidc", name="钱同学")
    client = app.test_client()
    assert client.get(_oidc_callback_url(client, "Qian.OIDC")).status_code == 302
    assert "钱同学" in client.get("/me").get_data(as_text=True)

    app = sso_app(OIDC_CLAIM="school_id")  # a claim this provider does not release: sub counts
    Factory(db.session).student(username="Qian.OIDC", name="钱同学（sub）")
    client = app.test_client()
    assert client.get(_oidc_callback_url(client, "Qian.OIDC")).status_code == 302
    assert "钱同学（sub）" in client.get("/me").get_data(as_text=True)


def test_oidc_issuer_must_be_the_one_configured(sso_app, oidc_server):
    # Same server under another name: its discovery document and answers name 127.0.0.1.
    app = sso_app(OIDC_ISSUER=oidc_server.issuer.replace("127.0.0.1", "localhost"))
    Factory(db.session).student(username="zhao.oidc")
    client = app.test_client()
    answer = client.get(_oidc_callback_url(client, "zhao.oidc"))
    assert answer.status_code == 401 and client.get("/me").status_code == 302


def test_provider_refusal_is_a_clear_401(sso_app):
    app = sso_app()
    client = app.test_client()
    start = client.get("/login/oidc")
    state = _query(start.headers["Location"])["state"]
    answer = client.get(f"/login/oidc/callback?error=access_denied&state={state}")
    assert answer.status_code == 401 and "已取消或被拒绝" in answer.get_data(as_text=True)


def test_without_settings_there_is_no_sso(tmp_path):
    app = make_test_app("sqlite", tmp_path, {"CAS_SERVER_URL": "", "OIDC_ISSUER": ""})
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    assert "统一身份认证" not in html
    assert client.get("/login/cas").status_code == 404
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
