"""The holder decides who may look (PRODUCT.md, API.md PATCH /transcripts/{serial}): the public
check is open for a validity the student chooses (180 days by default), extended, closed and
reopened; a closed or lapsed check says only that the holder closed it — on the page, in the
JSON, on the fast path and in the upload check; a share link opens it for one recipient."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Transcript, TranscriptShare
from app.services import holder
from app.timeutil import to_local, utcnow
from tests.factories import PASSWORD

TITLE = "敬老院志愿服务"


@pytest.fixture
def holder_world(make):
    """A student with a certified record on an issued transcript."""
    w = make.world()
    student = w.students[0]
    activity = make.activity(w.club, title=TITLE)
    make.participation(activity, student, status="certified", certifier=w.advisor)
    return w, student


def _issue(client, make, student) -> dict:
    r = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _patch(client, make, user, serial, body):
    return client.patch(f"/api/v1/transcripts/{serial}", headers=make.token(user), json=body)


def _follow(client, link: str):
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)


def _sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302


def _personal(student) -> tuple[str, ...]:
    from app.services.verification import mask_student_no

    return (student.display_name, student.student_no, mask_student_no(student.student_no), TITLE)


def _assert_nothing_personal(body: str, student) -> None:
    for secret in _personal(student):
        assert secret not in body, f"{secret!r} shown by a closed check"


def _events(session, action: str) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).scalar_one()


def _today() -> date:
    return to_local(utcnow()).date()


def test_closed_check_shows_no_personal_data(app, client, make, holder_world, session):
    w, student = holder_world
    body = _issue(client, make, student)
    serial, link = body["serial"], body["verify_url"]
    assert body["public"] is True and body["public_until"] == (_today() + timedelta(days=180)).isoformat()
    public = app.test_client()  # an employer: no session cookie, so the fast path may answer
    for _ in range(2):  # the second visit comes from the page cache (the fast path)
        html = _follow(public, link).get_data(as_text=True)
        assert student.display_name in html and TITLE in html
    opened = public.get(f"/api/v1/verify/{serial}").get_json()
    assert opened["public"] is True and opened["public_until"] == (_today() + timedelta(days=180)).isoformat()

    r = _patch(client, make, student, serial, {"public": False})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"serial": serial, "public": False, "public_until": opened["public_until"]}

    for _ in range(2):  # closing shows at once, on the fast path too
        page = _follow(public, link)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "持有人已关闭" in html
        _assert_nothing_personal(html, student)
    html = public.get(f"/v/{serial}").get_data(as_text=True)  # the serial typed in: the Flask view
    _assert_nothing_personal(html, student)
    # ?lang= is remembered in the session: a client of its own
    english = app.test_client().get(f"/v/{serial}?lang=en").get_data(as_text=True)
    assert "The holder has closed the public check" in english
    _assert_nothing_personal(english, student)

    answer = public.get(f"/api/v1/verify/{serial}")
    assert answer.status_code == 200 and answer.get_json() == {"status": "valid", "serial": serial, "public": False}
    _assert_nothing_personal(answer.get_data(as_text=True), student)

    # The upload check: the file is ours, but the answer adds nothing the holder has closed.
    pdf = client.get(f"/api/v1/transcripts/{serial}/pdf", headers=make.token(student)).data
    import io
    verdict = public.post("/api/v1/verify/pdf", data={"file": (io.BytesIO(pdf), "t.pdf")},
                          content_type="multipart/form-data").get_json()
    assert verdict["genuine"] is True and "持有人已关闭" in verdict["reason"]
    _assert_nothing_personal(str(verdict), student)
    upload = public.post("/verify/upload", data={"file": (io.BytesIO(pdf), "t.pdf")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert "持有人已关闭" in upload
    _assert_nothing_personal(upload, student)
    assert _events(session, "transcript.public_check") == 1


def test_lapsed_after_public_until_then_reopen_shows_again(app, client, make, holder_world, monkeypatch):
    _, student = holder_world
    body = _issue(client, make, student)
    serial = body["serial"]
    public = app.test_client()
    later = utcnow() + timedelta(days=181)
    monkeypatch.setattr(holder, "utcnow", lambda: later)  # a fixed "now" past the 180 days
    assert public.get(f"/api/v1/verify/{serial}").get_json() == {"status": "valid", "serial": serial,
                                                                  "public": False}
    _assert_nothing_personal(_follow(public, body["verify_url"]).get_data(as_text=True), student)
    # Reopening a lapsed check opens it for a fresh 180 days from the (fixed) today.
    r = _patch(client, make, student, serial, {"public": True})
    fresh = (to_local(later).date() + timedelta(days=180)).isoformat()
    assert r.status_code == 200 and r.get_json() == {"serial": serial, "public": True, "public_until": fresh}
    shown = public.get(f"/api/v1/verify/{serial}").get_json()
    assert shown["public"] is True and shown["public_until"] == fresh and shown["student"]["name"]
    for _ in range(2):
        assert TITLE in _follow(public, body["verify_url"]).get_data(as_text=True)


def test_close_then_reopen_and_extend_on_the_students_page(app, client, make, holder_world, session):
    _, student = holder_world
    body = _issue(client, make, student)
    serial = body["serial"]
    public = app.test_client()
    _sign_in(client, student)
    page = client.get(f"/transcripts/{serial}")
    assert page.status_code == 200 and "关闭公开查验" in page.get_data(as_text=True)
    r = client.post(f"/transcripts/{serial}/public", data={"action": "close"}, follow_redirects=True)
    assert r.status_code == 200 and "重新开放公开查验" in r.get_data(as_text=True)
    assert public.get(f"/api/v1/verify/{serial}").get_json()["public"] is False
    client.post(f"/transcripts/{serial}/public", data={"action": "reopen"})
    assert public.get(f"/api/v1/verify/{serial}").get_json()["public"] is True
    default = _today() + timedelta(days=180)
    client.post(f"/transcripts/{serial}/public", data={"action": "extend"})
    session.expire_all()
    transcript = session.execute(select(Transcript).where(Transcript.serial == serial)).scalar_one()
    assert transcript.public and transcript.public_until == default + timedelta(days=180)
    chosen = _today() + timedelta(days=10)
    r = client.post(f"/transcripts/{serial}/public", data={"action": "set", "public_until": chosen.isoformat()})
    assert r.status_code == 302
    assert public.get(f"/api/v1/verify/{serial}").get_json()["public_until"] == chosen.isoformat()
    # A past date on the page: the field says why, nothing changes.
    r = client.post(f"/transcripts/{serial}/public",
                    data={"action": "set", "public_until": (_today() - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and 'id="public_until-msg"' in r.get_data(as_text=True)
    r = client.post(f"/transcripts/{serial}/public", data={"action": "set", "public_until": "soon"})
    assert r.status_code == 422
    assert public.get(f"/api/v1/verify/{serial}").get_json()["public_until"] == chosen.isoformat()
    # close, reopen, extend, set: four audited changes
    assert _events(session, "transcript.public_check") == 4


def test_share_link_opens_while_closed_and_stops_after_expiry_and_withdrawal(
        app, client, make, holder_world, session, monkeypatch):
    _, student = holder_world
    serial = _issue(client, make, student)["serial"]
    _patch(client, make, student, serial, {"public": False})
    recipient = app.test_client()
    until = _today() + timedelta(days=7)
    r = client.post(f"/api/v1/transcripts/{serial}/shares", headers=make.token(student),
                    json={"label": "某公司人事部", "expires_on": until.isoformat()})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["live"] is True and made["expires_on"] == until.isoformat() and made["label"] == "某公司人事部"
    token = made["url"].rsplit("/", 1)[1]
    stored = session.execute(select(TranscriptShare)).scalar_one()
    assert stored.token_sha256 != token and token not in stored.token_sha256  # only its hash is kept
    page = _follow(recipient, made["url"])
    assert page.status_code == 200 and TITLE in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token must not leave in a Referer
    assert "持有人已关闭" not in page.get_data(as_text=True)
    # The public still sees nothing.
    _assert_nothing_personal(recipient.get(f"/v/{serial}").get_data(as_text=True), student)

    # After its expiry: gone.
    end_of_it = utcnow() + timedelta(days=8)
    monkeypatch.setattr(holder, "utcnow", lambda: end_of_it)
    gone = _follow(recipient, made["url"])
    assert gone.status_code == 404
    _assert_nothing_personal(gone.get_data(as_text=True), student)
    monkeypatch.undo()

    # A second link, withdrawn on the student's page: gone at once.
    _sign_in(client, student)
    r = client.post(f"/transcripts/{serial}/shares", data={"label": "导师", "nonce": "n1"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    url = html.split("/share/", 1)[1].split("<", 1)[0]
    assert _follow(recipient, f"/share/{url}").status_code == 200
    again = client.post(f"/transcripts/{serial}/shares", data={"label": "导师", "nonce": "n1"})
    assert again.status_code == 302  # the same form posted again makes no second link
    listed = client.get(f"/api/v1/transcripts/{serial}/shares", headers=make.token(student)).get_json()
    assert [s["label"] for s in listed] == ["导师", "某公司人事部"] and "url" not in listed[0]
    second = listed[0]["id"]
    r = client.post(f"/transcripts/{serial}/shares/{second}/withdraw", follow_redirects=True)
    assert "已撤回分享链接" in r.get_data(as_text=True)
    assert _follow(recipient, f"/share/{url}").status_code == 404
    # The first one, through the API.
    assert client.delete(f"/api/v1/transcripts/{serial}/shares/{made['id']}",
                         headers=make.token(student)).status_code == 204
    assert client.delete(f"/api/v1/transcripts/{serial}/shares/{made['id']}",
                         headers=make.token(student)).status_code == 409
    assert _events(session, "transcript.share") == 2 and _events(session, "transcript.unshare") == 2
    assert recipient.get("/share/not-a-token").status_code == 404


def test_only_the_student_decides_and_admin_and_student_see_everything(app, client, make, holder_world, session):
    w, student = holder_world
    serial = _issue(client, make, student)["serial"]
    other = make.student()
    for user in (other, w.advisor, w.admin, w.students[1]):
        assert _patch(client, make, user, serial, {"public": False}).status_code == 403
        assert client.post(f"/api/v1/transcripts/{serial}/shares", headers=make.token(user),
                           json={}).status_code == 403
        assert client.get(f"/api/v1/transcripts/{serial}/shares", headers=make.token(user)).status_code == 403
    assert client.patch(f"/api/v1/transcripts/{serial}", json={"public": False}).status_code == 401
    assert _patch(client, make, student, "NOPE-NOPE-NOPE", {"public": False}).status_code == 404
    share = client.post(f"/api/v1/transcripts/{serial}/shares", headers=make.token(student), json={}).get_json()
    assert share["expires_on"] == (_today() + timedelta(days=30)).isoformat()
    assert client.delete(f"/api/v1/transcripts/{serial}/shares/{share['id']}",
                         headers=make.token(other)).status_code == 403
    # another transcript's share id under this serial does not exist
    other_w = make.world()
    make.participation(other_w.activity, other_w.students[0], status="certified", certifier=other_w.advisor)
    theirs = _issue(client, make, other_w.students[0])["serial"]
    assert client.delete(f"/api/v1/transcripts/{theirs}/shares/{share['id']}",
                         headers=make.token(other_w.students[0])).status_code == 404
    assert _events(session, "transcript.public_check") == 0 and _events(session, "transcript.unshare") == 0

    _patch(client, make, student, serial, {"public": False})
    # The pages: someone else's student and an advisor are refused; the admin sees it, no controls.
    for user in (other, w.advisor):
        c = app.test_client()
        _sign_in(c, user)
        assert c.get(f"/transcripts/{serial}").status_code == 403
        assert c.post(f"/transcripts/{serial}/public", data={"action": "reopen"}).status_code == 403
        assert c.post(f"/transcripts/{serial}/shares", data={"nonce": "x"}).status_code == 403
        assert c.post(f"/transcripts/{serial}/shares/{share['id']}/withdraw").status_code == 403
        _assert_nothing_personal(c.get(f"/v/{serial}").get_data(as_text=True), student)
    office = app.test_client()
    _sign_in(office, w.admin)
    html = office.get(f"/transcripts/{serial}").get_data(as_text=True)
    assert student.display_name in html and "只有学生本人决定" in html and "关闭公开查验" not in html
    assert office.post(f"/transcripts/{serial}/public", data={"action": "reopen"}).status_code == 403
    assert TITLE in office.get(f"/v/{serial}").get_data(as_text=True)  # the admin sees everything
    own = app.test_client()
    _sign_in(own, student)
    assert TITLE in own.get(f"/v/{serial}").get_data(as_text=True)  # and so does the student
    assert public_json(app, serial) == {"status": "valid", "serial": serial, "public": False}
    _assert_nothing_personal(app.test_client().get(f"/v/{serial}").get_data(as_text=True), student)


def public_json(app, serial: str) -> dict:
    return app.test_client().get(f"/api/v1/verify/{serial}").get_json()


@pytest.mark.parametrize(("body", "field"), [
    ({"public_until": "2001-01-01"}, "public_until"),
    ({"public_until": (date.today() + timedelta(days=6 * 365)).isoformat()}, "public_until"),
    ({"public_until": "tomorrow"}, "public_until"),
    ({"public_until": 20270101}, "public_until"),
    ({"public": "yes"}, "public"),
    ({"public": 1}, "public"),
    ({"public": None}, "public"),
])
def test_bad_input_is_422_naming_the_field_and_changes_nothing(client, make, holder_world, session, body, field):
    _, student = holder_world
    serial = _issue(client, make, student)["serial"]
    before = client.get(f"/api/v1/verify/{serial}").get_json()
    r = _patch(client, make, student, serial, body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()
    assert client.get(f"/api/v1/verify/{serial}").get_json() == before
    assert _events(session, "transcript.public_check") == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"expires_on": "2001-01-01"}, "expires_on"),
    ({"expires_on": "next week"}, "expires_on"),
    ({"label": "x" * 121}, "label"),
])
def test_bad_share_input_is_422_by_field(client, make, holder_world, session, body, field):
    _, student = holder_world
    serial = _issue(client, make, student)["serial"]
    r = client.post(f"/api/v1/transcripts/{serial}/shares", headers=make.token(student), json=body)
    assert r.status_code == 422 and field in r.get_json()["error"]["fields"], r.get_json()
    assert session.execute(select(func.count()).select_from(TranscriptShare)).scalar_one() == 0
