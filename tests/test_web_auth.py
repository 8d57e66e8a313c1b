"""Pages: sign in and out, each role's home, and who may open which page."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


def sign_in(client, user, password=PASSWORD):
    return client.post("/login", data={"username": user.username, "password": password})


def page(client, url):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def test_sign_in_redirects_to_role_home_and_sign_out_ends_session(client, make):
    student = make.student(name="张小明")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r, html = page(client, "/login")
    assert r.status_code == 200 and r.content_type == "text/html; charset=utf-8"
    assert '<label for="username">' in html and '<label for="password">' in html
    r = sign_in(client, student)
    assert r.status_code == 302 and r.headers["Location"].endswith("/me")
    r, html = page(client, "/")
    assert r.headers["Location"].endswith("/me")
    r, html = page(client, "/me")
    assert r.status_code == 200 and "张小明" in html
    r = client.post("/logout")
    assert r.status_code == 302
    r = client.get("/me")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_wrong_password_says_so_and_signs_nobody_in(client, make):
    student = make.student()
    r = sign_in(client, student, "wrong password")
    html = r.get_data(as_text=True)
    assert r.status_code == 401 and "用户名或密码错误" in html
    assert client.get("/me").status_code == 302


def test_empty_login_form_names_the_fields(client):
    r = client.post("/login", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert html.count("必填") == 2


def test_next_goes_back_only_to_this_site(client, make):
    organizer = make.organizer()
    r = client.post("/login", data={"username": organizer.username, "password": PASSWORD,
                                    "next": "https://evil.example/"})
    assert r.headers["Location"].endswith("/organizer")
    client.post("/logout")
    r = client.post("/login", data={"username": organizer.username, "password": PASSWORD,
                                    "next": "/clubs/1"})
    assert r.headers["Location"].endswith("/clubs/1")


@pytest.mark.parametrize("role, home", [
    ("admin", "/admin"), ("organizer", "/organizer"), ("leader", "/leader"), ("student", "/me"),
])
def test_each_role_lands_on_its_home(client, make, role, home):
    user = make.user(role)
    r = sign_in(client, user)
    assert r.headers["Location"].endswith(home)
    r, html = page(client, home)
    assert r.status_code == 200, html
    assert user.display_name in html


def test_admin_home_shows_counts_and_queues(client, make):
    w = make.world()
    make.activity(w.club, status="submitted", title="待批的读书会")
    make.participation(w.activity, w.students[0])
    sign_in(client, w.admin)
    r, html = page(client, "/admin")
    assert "待批的读书会" in html and "待认证记录" in html and w.activity.title in html
    for url, expected in [("/admin/units", w.unit.name), ("/admin/clubs", w.club.name),
                          ("/admin/people", w.students[0].display_name)]:
        r, html = page(client, url)
        assert r.status_code == 200 and expected in html


def test_organizer_home_lists_only_advised_clubs_queues(client, make):
    w = make.world()
    other = make.club(advisors=[make.organizer()], leaders=[make.leader()])
    make.activity(w.club, status="submitted", title="我社的计划")
    make.activity(other, status="submitted", title="别社的计划")
    make.participation(w.activity, w.students[0])
    sign_in(client, w.advisor)
    r, html = page(client, "/organizer")
    assert "我社的计划" in html and "别社的计划" not in html
    assert f"/activities/{w.activity.id}/signoff" in html


def test_empty_homes_say_what_to_do_next(client, make):
    sign_in(client, make.organizer())
    assert "没有待审批的活动" in page(client, "/organizer")[1]
    client.post("/logout")
    sign_in(client, make.leader())
    assert "你还不是任何社团的负责人" in page(client, "/leader")[1]
    client.post("/logout")
    sign_in(client, make.student())
    assert "还没有参与记录" in page(client, "/me")[1]


def test_leader_home_lists_clubs_activities_and_plan_button(client, make):
    w = make.world()
    make.activity(w.club, status="draft", title="草稿活动")
    sign_in(client, w.leader)
    r, html = page(client, "/leader")
    assert w.club.name in html and "草稿活动" in html and "草稿" in html
    assert f"/clubs/{w.club.id}/activities/new" in html


def test_student_home_shows_hours_per_module_and_status(client, make):
    w = make.world()
    student = w.students[0]
    make.participation(w.activity, student, status="certified", hours="4")
    culture = make.activity(w.club, module="culture_sports", hours="2", title="合唱比赛")
    make.participation(culture, student, award="一等奖")
    sign_in(client, student)
    r, html = page(client, "/me")
    for zh in ("思想成长", "实践实习", "志愿公益", "创新创业", "文体活动", "工作履历", "技能特长"):
        assert zh in html
    assert "4.0" in html and "已认证" in html and "待认证" in html and "合唱比赛" in html


def test_student_checks_in_to_ongoing_activity(client, make, session):
    from datetime import timedelta

    from app.models import Participation
    from app.timeutil import utcnow

    w = make.world()
    started = utcnow() - timedelta(minutes=10)
    ongoing = make.activity(w.club, starts_at=started, title="正在进行的讲座")
    sign_in(client, w.students[0])
    r, html = page(client, "/me")
    # listed with how to check in: by scanning the venue's code (no button that checks in from anywhere)
    assert "正在进行的讲座" in html and "扫描现场屏幕上的二维码" in html
    assert f"/activities/{ongoing.id}/check-in" not in html
    from app.services.check_in import current_code

    code = current_code(ongoing.id, "in")
    r = client.post(f"/c/{ongoing.id}", data={"c": code, "d": "in"})
    assert r.status_code == 200 and "签到成功" in r.get_data(as_text=True)
    assert session.query(Participation).filter_by(activity_id=ongoing.id).count() == 1
    r = client.post(f"/c/{ongoing.id}", data={"c": code, "d": "in"})
    assert r.status_code == 409 and "你已签到" in r.get_data(as_text=True)
    assert session.query(Participation).filter_by(activity_id=ongoing.id).count() == 1


@pytest.mark.parametrize("url", ["/admin", "/admin/units", "/admin/clubs", "/admin/people"])
def test_student_cannot_open_admin_pages(client, make, url):
    sign_in(client, make.student())
    r, html = page(client, url)
    assert r.status_code == 403
    assert "无权访问" in html and "第二课堂成绩单" in html  # the error page is in the layout


def test_student_cannot_create_a_unit(client, make, session):
    from app.models import Unit

    sign_in(client, make.student())
    r = client.post("/admin/units", data={"code": "X1", "name": "偷建的学院"})
    assert r.status_code == 403
    assert session.query(Unit).count() == 0


@pytest.mark.parametrize("url", ["/organizer", "/leader"])
def test_student_cannot_open_staff_homes(client, make, url):
    sign_in(client, make.student())
    assert client.get(url).status_code == 403


def test_not_found_page_is_in_the_layout(client, make):
    sign_in(client, make.student())
    r, html = page(client, "/activities/999999")
    assert r.status_code == 404 and "找不到" in html and "<nav" in html


def test_pages_need_sign_in(client, make):
    w = make.world()
    for url in ["/admin", "/me", f"/clubs/{w.club.id}", f"/activities/{w.activity.id}",
                f"/activities/{w.activity.id}/signoff"]:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_password_guessing_on_the_sign_in_page_is_rate_limited(backend, tmp_path):
    from tests.conftest import make_test_app

    settings = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}
    app = make_test_app(backend, tmp_path, settings)
    client = app.test_client()
    codes = [client.post("/login", data={"username": "admin", "password": f"guess{i}"}).status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]
    r = client.post("/login", data={"username": "admin", "password": "again"})
    assert r.status_code == 429 and "请求太频繁" in r.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only attempts count
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_a_chosen_language_is_kept_on_the_next_page_and_after_signing_in_again(client, make, session):
    from flask_babel import refresh

    from app.models import User

    def fresh(url):
        # The tests share one app context, where Flask-Babel caches the locale: forget it, as a
        # new request does, so that each page chooses its language again.
        refresh()
        return page(client, url)[1]

    student = make.student(name="张小明")
    sign_in(client, student)
    html = fresh("/me")
    assert '<html lang="zh-CN"' in html and "退出" in html  # Chinese by default
    html = fresh("/me?lang=en")
    assert '<html lang="en"' in html and "Sign out" in html
    html = fresh("/me")  # no parameter: still English
    assert '<html lang="en"' in html and "Sign out" in html
    session.expire_all()
    assert session.get(User, student.id).locale == "en"  # remembered on the account
    client.post("/logout")
    with client.session_transaction() as browser_session:
        assert "lang" not in browser_session  # signing out forgets the browser's choice...
    refresh()
    sign_in(client, student)
    html = fresh("/me")
    assert '<html lang="en"' in html and "Sign out" in html  # ...the account keeps it
