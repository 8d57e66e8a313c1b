"""Notifications: the service (text in the reader's language, one's own only, the digest), the API
(GET /api/v1/notifications, POST …/{id}/read) and the page with the header's unread count.

The e-mail copy through the job queue and a real SMTP server: tests/test_notification_mail.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from app.models import Notification
from app.models.appeals import Appeal
from app.models.claims import Claim
from app.services import notifications
from app.services.errors import NotFound, Unauthorized
from app.timeutil import utcnow
from tests.factories import PASSWORD

CJK = re.compile(r"[\u4e00-\u9fff]")
API = "/api/v1/notifications"

# The values each kind carries, as a service would give them.
SAMPLE = {
    "activity": "社区志愿服务", "hours": Decimal("4.0"), "reason": "未到场", "title": "全国大学生数学竞赛",
    "subject": "社区志愿服务", "starts_at": "2026-10-20T01:00:00+00:00", "position": 3,
    "serial": "ST-2026-ABCD", "records": 2, "claims": 1, "appeals": 0, "plans": 1,
}


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302


def tell(session, user, kind="record.certified", link="/me", **params):
    values = {name: SAMPLE[name] for name in notifications.KINDS[kind]}
    row = notifications.notify(session, user, kind, link=link, **{**values, **params})
    session.commit()
    return row


# ---- the service -------------------------------------------------------------------------------

def test_notify_keeps_the_kind_and_its_values_and_the_text_follows_the_reader(session, make):
    student = make.student()
    row = tell(session, student, activity="敬老院志愿服务", hours=Decimal("3.5"))

    assert (row.user_id, row.kind, row.link, row.read_at, row.emailed_at) == (student.id, "record.certified", "/me",
                                                                              None, None)
    assert row.params == {"activity": "敬老院志愿服务", "hours": "3.5"}
    title, body = notifications.text_of(row)  # the site's default: Chinese
    assert CJK.search(title) and "敬老院志愿服务" in body and "3.5" in body
    with force_locale("en"):
        title, body = notifications.text_of(row)
    assert title == "Your record was certified"
    assert body == 'Your participation in "敬老院志愿服务" was certified: 3.5 hours.'


def test_every_kind_reads_in_both_languages_with_its_values(session, make):
    student = make.student()
    for kind in notifications.KINDS:
        row = tell(session, student, kind)
        for language in ("zh_Hans_CN", "en"):
            with force_locale(language):
                title, body = notifications.text_of(row)
            assert title and body and "%(" not in title + body, (kind, language)
            assert bool(CJK.search(title + body.replace("社区志愿服务", "").replace("未到场", "")
                                   .replace("全国大学生数学竞赛", ""))) == (language != "en"), (kind, language)
            for name in notifications.KINDS[kind]:
                if name != "starts_at":
                    assert str(SAMPLE[name]) in body, (kind, language, name)
    # A sign-up's start is shown in the school's time (UTC+8), not as the stored ISO text.
    row = tell(session, student, "registration.confirmed")
    assert "2026-10-20 09:00" in notifications.text_of(row)[1]


def test_an_unknown_kind_is_refused_and_a_missing_value_reads_as_empty(session, make):
    student = make.student()
    with pytest.raises(ValueError):
        notifications.notify(session, student, "record.lost")
    row = notifications.notify(session, student.id, "record.certified", activity="篮球赛")
    title, body = notifications.text_of(row)
    assert "篮球赛" in body and "%(" not in body


def test_one_sees_and_marks_only_ones_own(session, make):
    student, other = make.student(), make.student()
    mine = [tell(session, student) for _ in range(3)]
    theirs = tell(session, other)

    page = notifications.list_notifications(session, student)
    assert [n.id for n in page.items] == [n.id for n in reversed(mine)]
    assert (page.total, page.unread) == (3, 3)
    assert notifications.mark_read(session, student, mine[0].id).read_at is not None
    first_read = mine[0].read_at
    assert notifications.mark_read(session, student, mine[0].id).read_at == first_read  # again: unchanged
    with pytest.raises(NotFound):
        notifications.mark_read(session, student, theirs.id)
    with pytest.raises(Unauthorized):
        notifications.list_notifications(session, None)
    assert notifications.unread_count(session, student) == 2
    assert notifications.mark_all_read(session, student) == 2
    session.commit()
    assert notifications.unread_count(session, student) == 0
    assert notifications.unread_count(session, other) == 1


def test_signing_off_tells_the_student(client, make, session):
    w = make.world()
    records = [make.participation(w.activity, s) for s in w.students]
    adv = make.token(w.advisor)

    assert client.post(f"/api/v1/activities/{w.activity.id}/certify", headers=adv,
                       json={"participation_ids": [records[0].id]}).status_code == 200
    assert client.post(f"/api/v1/participations/{records[1].id}/reject", headers=adv,
                       json={"reason": "未到场"}).status_code == 200
    assert client.post(f"/api/v1/participations/{records[0].id}/revoke", headers=adv,
                       json={"reason": "材料造假"}).status_code == 200

    rows = session.query(Notification).order_by(Notification.id).all()
    assert [(n.user_id, n.kind) for n in rows] == [
        (w.students[0].id, "record.certified"), (w.students[1].id, "record.rejected"),
        (w.students[0].id, "record.revoked"),
    ]
    assert rows[0].params == {"activity": w.activity.title, "hours": "4.0"}
    assert rows[1].params == {"activity": w.activity.title, "reason": "未到场"}
    assert rows[2].params == {"activity": w.activity.title, "reason": "材料造假"}
    assert {n.link for n in rows} == {"/me"}


def test_a_refused_sign_off_tells_nobody(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    r = client.post(f"/api/v1/participations/{record.id}/reject", headers=make.token(w.advisor), json={"reason": ""})
    assert r.status_code == 422
    r = client.post(f"/api/v1/activities/{w.activity.id}/certify", headers=make.token(w.leader), json={})
    assert r.status_code == 403
    assert session.query(Notification).count() == 0


# ---- the organizers' digest --------------------------------------------------------------------

def _waiting_world(session, make):
    """An advisor with a record awaiting sign-off, a plan awaiting approval, a claim and an appeal
    of a student in their scope; another organizer with nothing waiting."""
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    make.activity(w.club, status="submitted", starts_at=utcnow() + timedelta(days=9))
    session.add(Claim(student_id=w.students[0].id, title="数学竞赛一等奖", module="innovation", level="national",
                      occurred_on=date(2026, 11, 1), hours=Decimal("6")))
    session.add(Appeal(student_id=w.students[0].id, participation_id=record.id, reason="我到场了"))
    # A claim of a student nobody here oversees is not the advisor's.
    session.add(Claim(student_id=make.student().id, title="别的", module="innovation", level="school",
                      occurred_on=date(2026, 11, 1), hours=Decimal("2")))
    session.commit()
    idle = make.organizer()
    return w, idle


def test_the_digest_counts_what_waits_for_each_organizer_once_a_day(session, make):
    w, idle = _waiting_world(session, make)

    assert notifications.waiting_for(session, w.advisor) == {"records": 1, "claims": 1, "appeals": 1, "plans": 1}
    assert notifications.send_digests(session, utcnow()) == 1
    session.commit()
    [digest] = session.query(Notification).filter_by(kind="digest").all()
    assert (digest.user_id, digest.link) == (w.advisor.id, "/organizer")
    assert digest.params == {"records": "1", "claims": "1", "appeals": "1", "plans": "1"}
    with force_locale("en"):
        assert notifications.text_of(digest) == ("Waiting for you", "Records awaiting sign-off: 1; claims awaiting "
                                                 "review: 1; open appeals: 1; plans awaiting approval: 1.")
    # The same day again: nobody gets a second one; the organizer with nothing waiting gets none.
    assert notifications.send_digests(session, utcnow()) == 0
    assert session.query(Notification).filter_by(user_id=idle.id).count() == 0


def test_the_digest_command_runs_it_now(app, session, make):
    _waiting_world(session, make)
    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output and CJK.search(result.output)
    assert session.query(Notification).filter_by(kind="digest").count() == 1


# ---- the API -----------------------------------------------------------------------------------

def test_api_lists_ones_own_newest_first_with_the_unread_count(client, make, session):
    student, other = make.student(), make.student()
    rows = [tell(session, student, "record.certified"), tell(session, student, "claim.rejected"),
            tell(session, student, "transcript.amended", link="/me/transcripts")]
    tell(session, other)
    notifications.mark_read(session, student, rows[0].id)
    session.commit()

    r = client.get(API, headers=make.token(student))
    assert r.status_code == 200
    body = r.get_json()
    assert (body["total"], body["unread"]) == (3, 2)
    assert [i["id"] for i in body["items"]] == [rows[2].id, rows[1].id, rows[0].id]
    first = body["items"][0]
    assert set(first) == {"id", "kind", "title", "body", "link", "created_at", "read"}
    assert (first["kind"], first["link"], first["read"]) == ("transcript.amended", "/me/transcripts", False)
    assert SAMPLE["serial"] in first["body"] and CJK.search(first["title"])
    assert first["created_at"].endswith("+08:00")
    assert body["items"][2]["read"] is True

    r = client.get(f"{API}?page=2&per_page=2", headers=make.token(student))
    body = r.get_json()
    assert [i["id"] for i in body["items"]] == [rows[0].id] and (body["total"], body["unread"]) == (3, 2)
    assert client.get(f"{API}?per_page=500", headers=make.token(student)).status_code == 422


def test_api_speaks_the_accounts_language(client, make, session):
    student = make.student()
    student.locale = "en"
    tell(session, student)
    [item] = client.get(API, headers=make.token(student)).get_json()["items"]
    assert item["title"] == "Your record was certified"


def test_api_reads_ones_own_and_not_anothers(client, make, session):
    student, other = make.student(), make.student()
    mine, theirs = tell(session, student), tell(session, other)

    r = client.post(f"{API}/{mine.id}/read", headers=make.token(student))
    assert r.status_code == 204 and r.get_data() == b""
    assert client.post(f"{API}/{mine.id}/read", headers=make.token(student)).status_code == 204  # again
    r = client.post(f"{API}/{theirs.id}/read", headers=make.token(student))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.post(f"{API}/999999/read", headers=make.token(student)).status_code == 404
    session.expire_all()
    assert session.get(Notification, mine.id).read_at is not None
    assert session.get(Notification, theirs.id).read_at is None
    assert client.get(API, headers=make.token(student)).get_json()["unread"] == 0


def test_api_without_a_token_is_401(client, make, session):
    row = tell(session, make.student())
    for r in (client.get(API), client.post(f"{API}/{row.id}/read")):
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    session.expire_all()
    assert session.get(Notification, row.id).read_at is None


# ---- the page and the header's count -----------------------------------------------------------

def test_the_header_shows_the_unread_count_and_the_page_lists_them(client, make, session):
    student = make.student()
    older = tell(session, student, "record.rejected", link="/me")
    newer = tell(session, student, "claim.certified", link="/claims/7")
    sign_in(client, student)

    html = client.get("/me").get_data(as_text=True)
    assert 'href="/notifications"' in html
    assert 'aria-label="通知（2 条未读）"' in html and '<span class="badge count" aria-hidden="true">2</span>' in html

    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("全国大学生数学竞赛") < html.index("未到场")  # newest first
    assert html.count('class="unread"') == 2
    assert f'action="/notifications/{newer.id}/read"' in html and "全部标为已读" in html

    # Opening one marks it read and leads where it points.
    r = client.post(f"/notifications/{older.id}/read")
    assert r.status_code == 302 and r.headers["Location"] == "/me"
    html = client.get("/me").get_data(as_text=True)
    assert 'aria-label="通知（1 条未读）"' in html

    r = client.post("/notifications/read-all")
    assert r.status_code == 302 and r.headers["Location"] == "/notifications"
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'class="unread"' not in html and "badge count" not in html and "全部标为已读" not in html


def test_opening_anothers_notification_is_404_and_an_outside_link_is_not_followed(client, make, session):
    student, other = make.student(), make.student()
    theirs = tell(session, other)
    odd = tell(session, student, link="//evil.example.com/x")
    sign_in(client, student)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    session.expire_all()
    assert session.get(Notification, theirs.id).read_at is None
    r = client.post(f"/notifications/{odd.id}/read")
    assert r.status_code == 302 and r.headers["Location"] == "/notifications"


def test_an_empty_list_says_so_in_english_too(client, make):
    student = make.student()
    sign_in(client, student)
    html = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "No notifications yet." in html and "badge count" not in html


def test_the_unread_count_costs_one_statement_whatever_the_number(client, make, session, count_queries):
    student = make.student()
    sign_in(client, student)

    def statements_on_notification() -> int:
        with count_queries() as counted:
            assert client.get("/me").status_code == 200
        return sum(1 for s in counted.statements if re.search(r"\bnotification\b", s))

    assert statements_on_notification() == 1
    for _ in range(5):
        tell(session, student)
    assert statements_on_notification() == 1
