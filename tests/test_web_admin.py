"""Pages: the Youth League office creates units, people and clubs; errors and pagination."""

from __future__ import annotations

import re

from app.models import Club, Unit, User
from tests.conftest import make_test_app
from tests.factories import PASSWORD


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def test_admin_creates_unit_user_and_club_with_advisors_and_leaders(client, make, session):
    admin = make.admin()
    organizer, leader = make.organizer(name="王老师"), make.leader(name="李组长")
    sign_in(client, admin)
    r = client.post("/admin/units", data={"code": "CS", "name": "计算机学院"})
    assert r.status_code == 302
    unit = session.query(Unit).filter_by(code="CS").one()
    r = client.post("/admin/people", data={
        "display_name": "赵同学", "username": "zhao", "role": "student", "student_no": "2025990001",
        "unit_id": str(unit.id), "email": "", "password": "long enough 1"})
    assert r.status_code == 302
    assert session.query(User).filter_by(username="zhao").one().unit_id == unit.id
    html = client.get("/admin/clubs").get_data(as_text=True)
    assert "王老师" in html and "李组长" in html  # offered as advisor / leader choices
    r = client.post("/admin/clubs", data={
        "name": "数学建模协会", "category": "学术科技", "unit_id": str(unit.id),
        "advisor_ids": [str(organizer.id)], "leader_ids": [str(leader.id)],
        "founded_on": "2020-09-01", "charter": "第一条"})
    assert r.status_code == 302
    club = session.query(Club).filter_by(name="数学建模协会").one()
    assert [u.id for u in club.advisors] == [organizer.id]
    assert [u.id for u in club.leaders] == [leader.id]
    html = client.get(f"/clubs/{club.id}").get_data(as_text=True)
    assert "王老师" in html and "李组长" in html and "第一条" in html


def test_empty_admin_forms_name_every_field_and_store_nothing(client, make, session):
    sign_in(client, make.admin())
    r = client.post("/admin/units", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="code-msg"' in html and 'id="name-msg"' in html
    r = client.post("/admin/people", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for name in ("username", "password", "display_name", "role"):
        assert f'id="{name}-msg"' in html, name
    r = client.post("/admin/clubs", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for name in ("name", "category", "unit_id"):
        assert f'id="{name}-msg"' in html, name
    assert session.query(Unit).count() == 0 and session.query(Club).count() == 0
    assert session.query(User).count() == 1


def test_club_with_a_student_as_advisor_is_refused(client, make, session):
    unit, student = make.unit(), make.student()
    sign_in(client, make.admin())
    r = client.post("/admin/clubs", data={
        "name": "错误社团", "category": "学术科技", "unit_id": str(unit.id),
        "advisor_ids": [str(student.id)]})
    assert r.status_code == 422 and 'id="advisor_ids-msg"' in r.get_data(as_text=True)
    assert session.query(Club).count() == 0


def test_duplicate_username_is_a_message_by_the_field(client, make, session):
    existing = make.student()
    sign_in(client, make.admin())
    r = client.post("/admin/people", data={
        "display_name": "重名", "username": existing.username, "role": "organizer",
        "password": "long enough 1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and 'id="username-msg"' in html and "用户名已存在" in html


def test_people_list_is_paginated_and_filtered(client, make):
    admin = make.admin()
    for _ in range(22):
        make.student()
    sign_in(client, admin)
    html = client.get("/admin/people").get_data(as_text=True)
    assert "第 1 / 2 页" in html and 'rel="next"' in html
    html = client.get("/admin/people?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in html and 'rel="prev"' in html
    html = client.get("/admin/people?role=admin").get_data(as_text=True)
    assert admin.display_name in html and "共 1 条" in html


def test_forms_carry_csrf_tokens_and_posts_without_one_are_refused(backend, tmp_path):
    app = make_test_app(backend, tmp_path, {"WTF_CSRF_ENABLED": True})
    from app.extensions import db
    from tests.factories import Factory

    with app.app_context():
        try:
            student = Factory(db.session).student()
            client = app.test_client()
            r = client.post("/login", data={"username": student.username, "password": PASSWORD})
            assert r.status_code == 400 and "表单已过期" in r.get_data(as_text=True)
            html = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
            r = client.post("/login", data={"username": student.username, "password": PASSWORD,
                                            "csrf_token": token})
            assert r.status_code == 302
            html = client.get("/me").get_data(as_text=True)
            assert 'name="csrf_token"' in html  # the sign-out form carries one too
        finally:
            db.session.remove()
            db.engine.dispose()


def test_server_error_is_a_page_in_the_layout(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("kaput")

    app.add_url_rule("/boom-for-test", "boom_for_test", boom)
    r = client.get("/boom-for-test")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and "服务器出错了" in html and "kaput" not in html
    assert r.content_type == "text/html; charset=utf-8"
