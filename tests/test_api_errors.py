"""Every error under /api/ is JSON in API.md's shape, never an HTML page:
{"error": {"code": "<slug>", "message": "<human text>", "fields": {"<field>": ["<reason>"]}}}.
The OpenAPI document lists the paths of API.md."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.models import AuthToken, Unit
from app.timeutil import utcnow
from tests.conftest import make_test_app

API = "/api/v1"
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is `status`, JSON, in the error shape; returns its fields."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.content_type
    assert not response.get_data(as_text=True).lstrip().startswith("<")
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and SLUG.match(error["code"]), error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error["fields"], dict), error
    for name, reasons in error["fields"].items():
        assert isinstance(name, str) and name
        assert isinstance(reasons, list) and reasons and all(isinstance(r, str) for r in reasons)
    if code is not None:
        assert error["code"] == code, error
    return error["fields"]


def _units(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(Unit)).scalar_one()


def test_401_missing_bad_expired_or_disabled_token(client, make, session):
    w = make.world()
    url = f"{API}/activities/{w.activity.id}"
    assert_error(client.get(url), 401, "unauthorized")
    for header in ("Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz",
                   "bearer", "Token abc"):
        r = client.get(url, headers={"Authorization": header})
        assert_error(r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    expired = make.token(w.leader)
    session.execute(AuthToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert_error(client.get(url, headers=expired), 401, "unauthorized")
    disabled = make.token(w.students[0])
    w.students[0].active = False
    session.commit()
    assert_error(client.get(url, headers=disabled), 401, "unauthorized")
    # the 401 comes before the body is even read
    assert_error(client.post(f"{API}/units", data="{nope", content_type="application/json"), 401)
    # and signing in with wrong credentials is a 401 in the same shape
    assert_error(client.post(f"{API}/auth/token", json={"username": w.leader.username,
                                                         "password": "wrong password"}), 401)
    assert_error(client.post(f"{API}/auth/token", json={"username": "nobody",
                                                         "password": "wrong password"}), 401)


def test_403_is_json(client, make, session):
    w = make.world()
    assert_error(client.post(f"{API}/units", headers=make.token(w.leader),
                             json={"code": "X", "name": "y"}), 403, "forbidden")
    assert_error(client.post(f"{API}/activities/{w.activity.id}/certify",
                             headers=make.token(w.leader), json={}), 403, "forbidden")
    assert _units(session) == 1


def test_404_unknown_object_and_unknown_path(client, make):
    adm = make.token(make.admin())
    assert_error(client.get(f"{API}/activities/424242", headers=adm), 404, "not_found")
    assert_error(client.get(f"{API}/students/NOPE-0000/records", headers=adm), 404, "not_found")
    for path in (f"{API}/nope", f"{API}/nope/deeper", f"{API}/activities/abc", API + "/"):
        assert_error(client.get(path, headers=adm), 404, "not_found")
        assert_error(client.get(path), 404, "not_found")
        assert_error(client.post(path, json={}), 404, "not_found")


def test_405_is_json(client, make):
    w = make.world()
    adm = make.token(w.admin)
    for method, url in (("DELETE", f"{API}/clubs/{w.club.id}"),
                        ("GET", f"{API}/activities/{w.activity.id}/certify"),
                        ("PUT", f"{API}/units"),
                        ("GET", f"{API}/auth/token")):
        r = client.open(url, method=method, headers=adm)
        assert_error(r, 405, "method_not_allowed")


def test_405_names_the_allowed_methods(client, make):
    w = make.world()
    r = client.delete(f"{API}/clubs/{w.club.id}", headers=make.token(w.admin))
    assert r.status_code == 405
    assert set(r.headers.get("Allow", "").replace(" ", "").split(",")) >= {"GET"}


def test_409_is_json(client, make):
    w = make.world()
    lead = make.token(w.leader)
    draft = make.activity(w.club, status="draft")
    assert client.post(f"{API}/activities/{draft.id}/submit", headers=lead).status_code == 200
    assert_error(client.post(f"{API}/activities/{draft.id}/submit", headers=lead), 409, "conflict")


def test_415_for_a_body_that_is_not_json(client, make, session):
    adm = make.token(make.admin())
    before = _units(session)
    for content_type, data in (("text/plain", '{"code": "X", "name": "外语"}'),
                               ("application/xml", "<unit><code>X</code></unit>"),
                               ("application/x-www-form-urlencoded", "code=X&name=y")):
        r = client.post(f"{API}/units", headers={**adm, "Content-Type": content_type}, data=data)
        assert_error(r, 415, "unsupported_media_type")
    assert _units(session) == before


def test_400_for_malformed_json(client, make, session):
    adm = make.token(make.admin())
    for data in ('{"code": "X", ', "{nope", b"\xff\xfe\x00", "{'code': 'X'}"):
        r = client.post(f"{API}/units", headers={**adm, "Content-Type": "application/json"},
                        data=data)
        assert_error(r, 400, "bad_request")
    assert _units(session) == 0


def test_422_names_every_missing_field(client, make, session):
    w = make.world()
    adm, lead = make.token(w.admin), make.token(w.leader)
    cases = [
        (f"{API}/units", adm, {"code", "name"}),
        (f"{API}/users", adm, {"username", "display_name", "role"}),  # no password: activated by link or SSO
        (f"{API}/clubs", adm, {"name", "unit_id", "category"}),
        (f"{API}/clubs/{w.club.id}/activities", lead,
         {"title", "module", "level", "starts_at", "ends_at", "location", "hours"}),
        (f"{API}/activities/{w.activity.id}/participations", lead, {"entries"}),
        (f"{API}/auth/token", {}, {"username", "password"}),
    ]
    for url, headers, missing in cases:
        fields = assert_error(client.post(url, headers=headers, json={}), 422, "validation_error")
        assert set(fields) == missing, (url, fields)
    assert _units(session) == 1


def test_422_for_json_of_the_wrong_shape(client, make, session):
    w = make.world()
    adm, lead = make.token(w.admin), make.token(w.leader)
    for body in ([], "a string", 42, None):
        r = client.post(f"{API}/units", headers={**adm, "Content-Type": "application/json"},
                        data=json.dumps(body))
        assert_error(r, 422, "validation_error")
    url = f"{API}/activities/{w.activity.id}/participations"
    fields = assert_error(client.post(url, headers=lead, json={"entries": "S1"}), 422)
    assert set(fields) == {"entries"}
    fields = assert_error(client.post(url, headers=lead, json={"entries": [5, {"student_no": 7}]}),
                          422)
    assert set(fields) == {"entries.0._schema", "entries.1.student_no"}, fields
    fields = assert_error(client.post(f"{API}/clubs/{w.club.id}/activities", headers=lead, json={
        "title": "t" * 201, "module": "sleeping", "level": "galactic", "starts_at": "tomorrow",
        "ends_at": "2026-10-20T12:00:00+08:00", "location": "", "hours": [1]}), 422)
    assert set(fields) == {"title", "module", "level", "starts_at", "location", "hours"}, fields


def test_413_for_a_body_too_large(client, make, session):
    adm = make.token(make.admin())
    r = client.post(f"{API}/units", headers=adm, content_type="application/json",
                    data=b'{"code": "' + b"x" * (11 * 1024 * 1024) + b'"}')
    assert_error(r, 413)


def test_429_is_json(backend, tmp_path):
    app = make_test_app(backend, tmp_path,
                        {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    statuses = []
    for _ in range(12):
        r = client.post(f"{API}/auth/token", json={"username": "nobody", "password": "guess"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert_error(r, 429, "rate_limited")
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_500_is_json_without_internals(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule(f"{API}/_boom", "test_boom", boom)
    r = client.get(f"{API}/_boom")
    assert_error(r, 500, "internal_error")
    assert "hunter2" not in r.get_data(as_text=True)


# API.md's paths of the sections "Auth and people", "Clubs and activities",
# "Participation and sign-off" (the contract: these do not change without a new version)
API_MD = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/units"),
    ("post", "/api/v1/clubs"),
    ("get", "/api/v1/clubs/{}"),
    ("post", "/api/v1/clubs/{}/activities"),
    ("post", "/api/v1/activities/{}/submit"),
    ("post", "/api/v1/activities/{}/approve"),
    ("post", "/api/v1/activities/{}/complete"),
    ("get", "/api/v1/activities/{}"),
    ("post", "/api/v1/activities/{}/participations"),
    ("get", "/api/v1/activities/{}/participations"),
    ("post", "/api/v1/activities/{}/certify"),
    ("post", "/api/v1/participations/{}/reject"),
    ("post", "/api/v1/participations/{}/revoke"),
    ("get", "/api/v1/students/{}/records"),
}


def test_openapi_document_lists_the_paths_of_api_md(client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    spec = r.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert API_MD - documented == set(), f"API.md paths missing: {sorted(API_MD - documented)}"
    assert "bearer" in spec["components"]["securitySchemes"]


# ---- bad input is a 4xx, never a 500 ---------------------------------------------------------

HUGE = 99999999999999999999  # beyond any integer column on SQLite (int64) and PostgreSQL (int4)


def _answers(app, client, session, cases) -> dict[str, int]:
    """Send each (label, method, url, headers, json) and collect the status codes; a crash is a
    500 here (as a client would see it), and the next case starts from a clean session."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answers = {}
    for label, method, url, headers, body in cases:
        r = client.open(url, method=method, headers=headers, json=body)
        answers[label] = r.status_code
        if r.status_code >= 500:
            assert_error(r, r.status_code, "internal_error")
        session.rollback()
    return answers


def _plan(**over):
    body = {"title": "义诊", "module": "volunteering", "level": "school",
            "starts_at": "2026-10-20T09:00:00+08:00", "ends_at": "2026-10-20T12:00:00+08:00",
            "location": "社区", "hours": 2}
    body.update(over)
    return body


def test_out_of_range_ids_are_404_or_422_not_500(app, client, make, session):
    w = make.world()
    adm, adv = make.token(w.admin), make.token(w.advisor)
    answers = _answers(app, client, session, [
        ("GET activity", "GET", f"{API}/activities/{HUGE}", adm, None),
        ("GET club", "GET", f"{API}/clubs/{HUGE}", adm, None),
        ("POST reject", "POST", f"{API}/participations/{HUGE}/reject", adv, {"reason": "x"}),
        ("certify ids", "POST", f"{API}/activities/{w.activity.id}/certify", adv,
         {"participation_ids": [HUGE]}),
        ("user unit_id", "POST", f"{API}/users", adm,
         {"username": "huge1", "password": "long password", "display_name": "x",
          "role": "organizer", "unit_id": HUGE}),
        ("club leader_ids", "POST", f"{API}/clubs", adm,
         {"name": "大社团", "unit_id": w.unit.id, "category": "x", "leader_ids": [HUGE]}),
        ("page", "GET", f"{API}/users?page={HUGE}", adm, None),
    ])
    expected = {"GET activity": 404, "GET club": 404, "POST reject": 404, "certify ids": 422,
                "user unit_id": 422, "club leader_ids": 422, "page": 422}
    assert answers == expected


def test_nul_character_in_text_is_422(app, client, make, session):
    w = make.world()
    adm, lead = make.token(w.admin), make.token(w.leader)
    answers = _answers(app, client, session, [
        ("unit name", "POST", f"{API}/units", adm, {"code": "NUL1", "name": "外语\x00学院"}),
        ("activity title", "POST", f"{API}/clubs/{w.club.id}/activities", lead,
         _plan(title="义诊\x00")),
        ("award", "POST", f"{API}/activities/{w.activity.id}/participations", lead,
         {"entries": [{"student_no": w.students[0].student_no, "award": "一等奖\x00"}]}),
    ])
    assert answers == {"unit name": 422, "activity title": 422, "award": 422}


def test_nul_character_in_a_lookup_is_not_500(app, client, make, session, backend, request):
    w = make.world()
    adm, lead = make.token(w.admin), make.token(w.leader)
    answers = _answers(app, client, session, [
        ("sign in", "POST", f"{API}/auth/token", {}, {"username": "adm\x00in", "password": "x"}),
        ("records", "GET", f"{API}/students/2025%00/records", adm, None),
        ("entry", "POST", f"{API}/activities/{w.activity.id}/participations", lead,
         {"entries": [{"student_no": "2025\x00"}]}),
    ])
    assert answers["sign in"] in (401, 422)
    assert answers["records"] in (404, 422)
    assert answers["entry"] == 422


def test_times_out_of_range_are_422(app, client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    url = f"{API}/clubs/{w.club.id}/activities"
    answers = _answers(app, client, session, [
        ("starts_at", "POST", url, lead, _plan(starts_at="0001-01-01T00:00:00+14:00")),
        ("ends_at", "POST", url, lead, _plan(ends_at="9999-12-31T23:59:59-12:00")),
    ])
    assert answers == {"starts_at": 422, "ends_at": 422}


# ---- messages in the caller's language; the codes never change --------------------------------

def test_error_messages_are_chinese_by_default_and_english_for_accept_language_en(client, make, session):
    w = make.world()
    url = f"{API}/activities/{w.activity.id}"
    chinese = client.get(url).get_json()["error"]
    english = client.get(url, headers={"Accept-Language": "en"}).get_json()["error"]
    assert chinese["code"] == english["code"] == "unauthorized"
    assert chinese["message"] == "需要有效的令牌"
    assert english["message"] == "A valid bearer token is required"
    adm = make.token(w.admin)
    zh = assert_error(client.post(f"{API}/units", headers=adm, json={}), 422, "validation_error")
    en = assert_error(client.post(f"{API}/units", headers={**adm, "Accept-Language": "en-GB,en;q=0.8"},
                                  json={}), 422, "validation_error")
    assert set(zh) == set(en) == {"code", "name"}  # the field names are the same in every language
    assert zh["code"] == ["必填项缺失。"] and en["code"] == ["Missing data for required field."]
    assert client.post(f"{API}/units", headers=adm, json={}).get_json()["error"]["message"] == "输入有误"
    assert client.post(f"{API}/units", headers={**adm, "Accept-Language": "en"}, json={}
                       ).get_json()["error"]["message"] == "Invalid input"
    nothing = client.get(f"{API}/nope", headers={"Accept-Language": "en"}).get_json()["error"]
    assert nothing["code"] == "not_found" and nothing["message"] == "Nothing here: check the address"
    assert client.get(f"{API}/nope").get_json()["error"]["message"] == "找不到：请检查地址"
    # a domain error raised by a service, in both languages
    assert client.get(f"{API}/activities/424242", headers={**adm, "Accept-Language": "en"}
                      ).get_json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/activities/{w.activity.id}?lang=en", headers={"Accept-Language": "zh-CN"}
                      ).get_json()["error"]["message"] == "A valid bearer token is required"


def test_error_messages_follow_the_accounts_saved_language(client, make, session):
    admin = make.admin()
    admin.locale = "en"
    session.commit()
    headers = make.token(admin)
    fields = assert_error(client.post(f"{API}/units", headers=headers, json={}), 422)
    assert fields["name"] == ["Missing data for required field."]
    assert client.post(f"{API}/units", headers=headers, json={}).get_json()["error"]["message"] == "Invalid input"
    # ?lang= still wins for one request
    assert client.post(f"{API}/units?lang=zh_CN", headers=headers, json={}
                       ).get_json()["error"]["message"] == "输入有误"
