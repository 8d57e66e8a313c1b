"""People pages: the office searches, edits, deactivates and makes a password link; the owner
of a link sets their password on the public page."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from app.models import PasswordReset, Role, SchoolClass, User
from app.services import password_reset
from app.timeutil import utcnow
from tests.factories import PASSWORD

NEW_PASSWORD = "violet harbour lantern 91"


def sign_in(client, user, password=PASSWORD):
    r = client.post("/login", data={"username": user.username, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def make_class(session, unit, name, cohort=2023) -> SchoolClass:
    school_class = SchoolClass(unit_id=unit.id, name=name, cohort=cohort)
    session.add(school_class)
    session.commit()
    return school_class


def edit_data(user, **over) -> dict:
    data = {"display_name": user.display_name, "email": user.email or "", "role": user.role,
            "unit_id": str(user.unit_id or ""), "class_id": str(user.class_id or ""),
            "scope_unit_id": str(user.scope_unit_id or "")}
    data.update(over)
    return data


def test_people_page_searches_by_name_number_role_unit_class_and_status(client, session, make):
    admin = make.admin()
    cs, med = make.unit(name="计算机学院"), make.unit(name="医学院")
    klass = make_class(session, cs, "计科2301")
    zhang = make.student(name="张伟", unit=cs, student_no="2023010001")
    zhang.class_id = klass.id
    li = make.student(name="李晓雨", unit=med, student_no="2023040001")
    teacher = make.organizer(name="王建国", unit=cs)
    session.commit()
    sign_in(client, admin)

    def names(query: str) -> set[str]:
        r = client.get(f"/admin/people?{query}")
        assert r.status_code == 200
        rows = re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', r.get_data(as_text=True))
        return set(rows)

    assert names("q=张") == {"张伟"}
    assert names("q=040001") == {"李晓雨"}
    assert names("role=organizer") == {"王建国"}
    assert names(f"unit_id={med.id}") == {"李晓雨"}
    assert names(f"unit_id={cs.id}&class_id={klass.id}") == {"张伟"}
    page = client.get(f"/admin/people?unit_id={cs.id}").get_data(as_text=True)
    assert 'name="class_id"' in page and "计科2301" in page  # the class filter offers the unit's classes
    li.active = False
    session.commit()
    assert names("active=0") == {"李晓雨"}
    assert "李晓雨" not in names("active=1")
    page = client.get("/admin/people").get_data(as_text=True)
    assert f'href="/admin/users/{teacher.id}"' in page
    assert '<div class="table-wrap">' in page  # a phone scrolls the table, never the page
    assert "没有符合条件" in client.get("/admin/people?q=nobody-like-this").get_data(as_text=True)


def test_people_page_is_paginated(client, make):
    admin = make.admin()
    for _ in range(22):
        make.student()
    sign_in(client, admin)
    page = client.get("/admin/people?role=student").get_data(as_text=True)
    assert "第 1 / 2 页" in page and 'rel="next"' in page and "role=student" in page.split('rel="next"')[0][-200:]
    assert "第 2 / 2 页" in client.get("/admin/people?role=student&page=2").get_data(as_text=True)


def test_create_form_makes_an_account_without_password_and_opens_it(client, session, make):
    admin, unit = make.admin(), make.unit()
    klass = make_class(session, unit, "临床2501", 2025)
    sign_in(client, admin)
    r = client.post("/admin/people", data={
        "display_name": "新同学", "username": "xin.tongxue", "role": "student", "student_no": "2025990009",
        "unit_id": str(unit.id), "class_id": str(klass.id), "email": "", "password": ""})
    user = session.execute(select(User).where(User.username == "xin.tongxue")).scalar_one()
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/people")
    assert user.password_hash is None and user.class_id == klass.id
    assert "待激活" in text(client.get(r.headers["Location"]))
    page = text(client.get(f"/admin/users/{user.id}"))
    assert "待激活" in page and "生成密码设置链接" in page


def test_edit_page_saves_and_offers_no_leader_role(client, session, make):
    admin, cs, med = make.admin(), make.unit(), make.unit()
    klass = make_class(session, med, "护理2401", 2024)
    student = make.student(unit=cs, name="赵同学")
    sign_in(client, admin)
    page = client.get(f"/admin/users/{student.id}").get_data(as_text=True)
    role_select = page.split('name="role"')[1].split("</select>")[0]
    assert 'value="student"' in role_select and 'value="leader"' not in role_select
    assert 'name="scope_unit_id"' not in page  # only organizers oversee a college

    r = client.post(f"/admin/users/{student.id}", data=edit_data(
        student, display_name="赵同学改", email="zhao@stu.example.edu.cn", unit_id=str(med.id),
        class_id=str(klass.id)))

    assert r.status_code == 302
    session.expire_all()
    fresh = session.get(User, student.id)
    assert (fresh.display_name, fresh.email, fresh.unit_id, fresh.class_id) == (
        "赵同学改", "zhao@stu.example.edu.cn", med.id, klass.id)
    assert "已保存" in text(client.get(r.headers["Location"]))


def test_edit_page_names_the_field_of_a_bad_value(client, session, make):
    admin, cs, med = make.admin(), make.unit(), make.unit()
    klass = make_class(session, med, "护理2401", 2024)
    student = make.student(unit=cs)
    sign_in(client, admin)
    r = client.post(f"/admin/users/{student.id}", data=edit_data(student, class_id=str(klass.id)))
    assert r.status_code == 422 and 'id="class_id-msg"' in r.get_data(as_text=True)
    r = client.post(f"/admin/users/{student.id}", data=edit_data(student, role="leader"))
    assert r.status_code == 422 and "社团负责人由社团任命产生" in text(r)
    session.expire_all()
    assert session.get(User, student.id).class_id is None and session.get(User, student.id).role == Role.STUDENT


def test_leader_role_is_shown_not_offered(client, session, make):
    admin, leader = make.admin(), make.leader(name="李组长")
    club = make.club(leaders=[leader], name="青年志愿者协会")
    sign_in(client, admin)
    page = text(client.get(f"/admin/users/{leader.id}"))
    assert 'name="role"' not in page and "青年志愿者协会" in page and f"/clubs/{club.id}" in page
    # Saving the page keeps the leader a leader.
    data = edit_data(leader, display_name="李组长二")
    del data["role"]
    r = client.post(f"/admin/users/{leader.id}", data=data)
    assert r.status_code == 302
    session.expire_all()
    assert session.get(User, leader.id).role == Role.LEADER and session.get(User, leader.id).display_name == "李组长二"


def test_organizer_scope_is_set_on_the_edit_page(client, session, make):
    admin, med = make.admin(), make.unit()
    organizer = make.organizer()
    sign_in(client, admin)
    assert 'name="scope_unit_id"' in client.get(f"/admin/users/{organizer.id}").get_data(as_text=True)
    r = client.post(f"/admin/users/{organizer.id}", data=edit_data(organizer, scope_unit_id=str(med.id)))
    assert r.status_code == 302
    session.expire_all()
    assert session.get(User, organizer.id).scope_unit_id == med.id


def test_deactivate_and_reactivate_from_the_page(app, client, session, make):
    admin, student = make.admin(), make.student(name="钱同学")
    theirs = app.test_client()
    sign_in(theirs, student)
    sign_in(client, admin)
    page = client.get(f"/admin/users/{student.id}").get_data(as_text=True)
    form_tag = re.search(rf'<form[^>]*action="/admin/users/{student.id}/deactivate"[^>]*>', page).group(0)
    assert "data-confirm=" in form_tag  # the browser asks before it is sent

    r = client.post(f"/admin/users/{student.id}/deactivate")

    assert r.status_code == 302
    assert "已停用" in text(client.get(r.headers["Location"]))
    assert theirs.get("/me").status_code == 302  # their browser is signed out at once
    session.expire_all()
    assert session.get(User, student.id).active is False
    page = client.get(f"/admin/users/{student.id}").get_data(as_text=True)
    assert f"/admin/users/{student.id}/reactivate" in page and "password-link" not in page
    assert client.post(f"/admin/users/{student.id}/reactivate").status_code == 302
    session.expire_all()
    assert session.get(User, student.id).active is True
    assert theirs.get("/me").status_code == 302  # reactivating restores no session


def test_admin_cannot_deactivate_themself_on_the_page(client, session, make):
    admin = make.admin()
    make.admin()
    sign_in(client, admin)
    r = client.post(f"/admin/users/{admin.id}/deactivate")
    assert r.status_code == 409 and "不能停用自己" in text(r)
    session.expire_all()
    assert session.get(User, admin.id).active
    assert client.get("/admin").status_code == 200


def test_password_link_is_shown_once_and_works_on_the_public_page(client, session, make):
    admin, student = make.admin(), make.student(name="孙同学")
    sign_in(client, admin)

    r = client.post(f"/admin/users/{student.id}/password-link")

    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    page = text(r)
    [url] = set(re.findall(r"https://dekt\.example\.edu\.cn/password/reset/[A-Za-z0-9_-]+", page))
    assert "只显示这一次" in page and "有效" in page and "没有邮箱" in page  # not e-mailed, and why
    assert url not in text(client.get(f"/admin/users/{student.id}"))  # never shown again
    path = url.removeprefix("https://dekt.example.edu.cn")

    public = client.application.test_client()  # the student's own browser, not signed in
    form = public.get(path)
    assert form.status_code == 200 and student.username in text(form) and 'name="new_password"' in text(form)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    weak = public.post(path, data={"new_password": "password123", "confirm": "password123"})
    assert weak.status_code == 422 and 'id="new_password-msg"' in weak.get_data(as_text=True)
    differ = public.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422
    done = public.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "密码已设置" in text(public.get("/login"))
    sign_in(public, student, NEW_PASSWORD)
    again = client.application.test_client().get(path)
    assert again.status_code == 410 and "链接已失效" in text(again)


def test_expired_link_page_says_so(client, session, make):
    admin, student = make.admin(), make.student()
    url, _ = password_reset.create_reset_link(session, admin, student.id)
    link = session.execute(select(PasswordReset)).scalar_one()
    link.expires_at = utcnow()
    session.commit()
    path = url.removeprefix("https://dekt.example.edu.cn")
    for r in (client.get(path), client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
        assert r.status_code == 410
        page = text(r)
        assert "链接已失效" in page and "链接已失效或已被使用" in page
        assert 'name="new_password"' not in page
    assert client.get("/password/reset/not-a-token").status_code == 410
    session.expire_all()
    assert session.get(User, student.id).password_hash == student.password_hash


def test_mailed_link_says_so_on_the_page(app, client, session, make):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)  # nothing listens: sending fails
    admin, student = make.admin(), make.student()
    student.email = "s@stu.example.edu.cn"
    session.commit()
    sign_in(client, admin)
    r = client.post(f"/admin/users/{student.id}/password-link")
    assert r.status_code == 200 and "邮件发送失败" in text(r) and "/password/reset/" in text(r)


@pytest.mark.parametrize("who", ["organizer", "leader", "student"])
def test_only_the_admin_opens_the_people_pages(client, session, make, who):
    target = make.student(name="目标")
    sign_in(client, getattr(make, who)())
    assert client.get("/admin/people").status_code == 403
    assert client.get(f"/admin/users/{target.id}").status_code == 403
    assert client.post(f"/admin/users/{target.id}", data=edit_data(target, display_name="改")).status_code == 403
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 403
    assert client.post(f"/admin/users/{target.id}/password-link").status_code == 403
    session.expire_all()
    fresh = session.get(User, target.id)
    assert fresh.display_name == "目标" and fresh.active
    assert session.execute(select(PasswordReset)).first() is None


def test_the_menu_names_the_admin_while_they_open_a_students_account(client, make):
    admin, student = make.admin(name="校团委 陈老师"), make.student(name="张伟")
    sign_in(client, admin)
    html = client.get(f"/admin/users/{student.id}").get_data(as_text=True)
    menu = html.split('class="who"')[1].split("</li>")[0]
    assert "校团委 陈老师" in menu and "校团委管理员" in menu and "学生" not in menu
    assert "学生" in html.split("</header>")[1]  # the page itself says who the student is
