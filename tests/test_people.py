"""The account lifecycle and one-time password links, through the API and the services:
list and search, edit, role changes, deactivate / reactivate, reset and activation links,
and the e-mail that carries them (a real SMTP server, aiosmtpd)."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, AuthToken, PasswordReset, Role, SchoolClass, User
from app.services import accounts, password_reset
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.leadership import set_leaders
from app.timeutil import utcnow
from tests.factories import PASSWORD

NEW_PASSWORD = "violet harbour lantern 91"


# ---- helpers ---------------------------------------------------------------------------------

def actions(session, object_id=None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.seq)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return list(session.execute(query).scalars())


def last_event(session, action: str) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()


def browser_sign_in(app, user, password=PASSWORD):
    browser = app.test_client()
    r = browser.post("/login", data={"username": user.username, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)
    return browser


def signed_in(browser) -> bool:
    """A signed-in browser opens its home; a signed-out one is sent to the sign-in page."""
    r = browser.get("/me")
    return r.status_code == 200


def token_of(url: str) -> str:
    assert "/password/reset/" in url
    return url.rsplit("/", 1)[1]


def make_class(session, unit, name="计科2301", cohort=2023) -> SchoolClass:
    school_class = SchoolClass(unit_id=unit.id, name=name, cohort=cohort)
    session.add(school_class)
    session.commit()
    return school_class


def patch(client, headers, user, **body):
    return client.patch(f"/api/v1/users/{user.id}", headers=headers, json=body)


def api_sign_in(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


# ---- deactivation ends sign-ins at once ----------------------------------------------------------

def test_deactivated_user_is_refused_at_once(app, client, session, make):
    admin, student = make.admin(), make.student()
    token = make.token(student)
    browser = browser_sign_in(app, student)
    assert client.get("/api/v1/me", headers=token).status_code == 200 and signed_in(browser)

    r = patch(client, make.token(admin), student, active=False)

    assert r.status_code == 200 and r.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert not signed_in(browser)
    assert api_sign_in(client, student.username, PASSWORD).status_code == 401
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuthToken).where(
        AuthToken.user_id == student.id, AuthToken.ended_at.is_(None))) == 0
    event_ = last_event(session, "user.deactivate")
    assert event_.object_id == str(student.id) and event_.actor_id == admin.id
    assert event_.data["ended_sign_ins"] == 2


def test_reactivated_user_must_sign_in_again(app, client, session, make):
    admin, student = make.admin(), make.student()
    headers = make.token(admin)
    token, browser = make.token(student), browser_sign_in(app, student)
    assert patch(client, headers, student, active=False).status_code == 200

    r = patch(client, headers, student, active=True)

    assert r.status_code == 200 and r.get_json()["active"] is True
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert not signed_in(browser)
    assert api_sign_in(client, student.username, PASSWORD).status_code == 200
    assert signed_in(browser_sign_in(app, student))
    lifecycle = [a for a in actions(session, student.id) if a not in ("user.sign_in", "user.sign_out")]
    assert lifecycle == ["user.deactivate", "user.reactivate"]


def test_deactivation_also_ends_open_password_links(client, session, make):
    admin, student = make.admin(), make.student()
    headers = make.token(admin)
    url = client.post(f"/api/v1/users/{student.id}/password-reset", headers=headers).get_json()["reset_url"]
    patch(client, headers, student, active=False)
    patch(client, headers, student, active=True)
    r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})
    assert r.status_code == 422
    assert client.post(f"/api/v1/users/{student.id}/password-reset", headers=headers).status_code == 200


# ---- one-time links ----------------------------------------------------------------------------

def test_reset_link_works_once(client, session, make):
    admin, student = make.admin(), make.student()
    r = client.post(f"/api/v1/users/{student.id}/password-reset", headers=make.token(admin))
    assert r.status_code == 200
    body = r.get_json()
    assert body["reset_url"].startswith("https://dekt.example.edu.cn/password/reset/")
    assert body["expires_at"] and body["emailed"] is None
    token = token_of(body["reset_url"])
    stored = session.execute(select(PasswordReset).where(PasswordReset.user_id == student.id)).scalar_one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert stored.created_by_id == admin.id
    link_event = last_event(session, "user.password_reset_link")
    assert token not in str(link_event.data) and link_event.data["user_ids"] == [student.id]

    first = client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD})
    again = client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": "another fine phrase 77"})

    assert first.status_code == 204
    assert again.status_code == 422
    assert again.get_json()["error"]["message"] == "链接已失效或已被使用"
    assert api_sign_in(client, student.username, NEW_PASSWORD).status_code == 200
    assert api_sign_in(client, student.username, "another fine phrase 77").status_code == 401
    set_event = last_event(session, "user.password_set")
    assert set_event.actor_id == student.id and set_event.object_id == str(student.id)
    assert "password" not in str(set_event.data).replace("password_set", "")


def test_expired_reset_link_is_refused(client, session, make):
    admin, student = make.admin(), make.student()
    before = student.password_hash
    link = password_reset.create_reset_link(session, admin, student.id)
    url, expires_at = link  # unpacks as (url, expires_at)
    assert timedelta(hours=71, minutes=59) < expires_at - utcnow() <= timedelta(hours=72)
    stored = session.execute(select(PasswordReset).where(PasswordReset.user_id == student.id)).scalar_one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()

    r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})

    assert r.status_code == 422 and "链接已失效" in r.get_json()["error"]["message"]
    assert r.get_json()["error"]["fields"] == {"token": [password_reset.USED]}
    session.expire_all()
    assert session.get(User, student.id).password_hash == before
    assert "user.password_set" not in actions(session)


def test_unknown_reset_link_is_refused(client, make):
    r = client.post("/api/v1/auth/password-reset", json={"token": "x" * 43, "new_password": NEW_PASSWORD})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["token"]


def test_link_lifetime_comes_from_the_settings(app, session, make):
    app.config["PASSWORD_RESET_HOURS"] = 2
    _, expires_at = password_reset.create_reset_link(session, make.admin(), make.student().id)
    assert timedelta(hours=1, minutes=59) < expires_at - utcnow() <= timedelta(hours=2)


def test_new_link_makes_earlier_ones_stop_working(client, session, make):
    admin, student = make.admin(), make.student()
    old_url, _ = password_reset.create_reset_link(session, admin, student.id)
    new_url, _ = password_reset.create_reset_link(session, admin, student.id)
    session.commit()  # services flush; the caller commits
    old = client.post("/api/v1/auth/password-reset", json={"token": token_of(old_url), "new_password": NEW_PASSWORD})
    new = client.post("/api/v1/auth/password-reset", json={"token": token_of(new_url), "new_password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (422, 204)


def test_reset_sets_password_and_ends_other_sessions(app, client, session, make):
    admin, student = make.admin(), make.student()
    token, browser = make.token(student), browser_sign_in(app, student)
    url, _ = password_reset.create_reset_link(session, admin, student.id)

    r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})

    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert not signed_in(browser)
    assert api_sign_in(client, student.username, PASSWORD).status_code == 401
    assert api_sign_in(client, student.username, NEW_PASSWORD).status_code == 200
    assert last_event(session, "user.password_set").data["ended_sign_ins"] == 2


def test_weak_password_is_refused_on_reset(client, session, make):
    admin, student = make.admin(), make.student(student_no="2025123456")
    before = student.password_hash
    url, _ = password_reset.create_reset_link(session, admin, student.id)
    session.commit()  # services flush; the caller commits
    for weak in ("password123", "12345678901", "2025123456", student.username + "2025!", "short"):
        r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": weak})
        assert r.status_code == 422, weak
        assert list(r.get_json()["error"]["fields"]) == ["new_password"], weak
    session.expire_all()
    assert session.get(User, student.id).password_hash == before
    # A refused password does not use the link up.
    r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})
    assert r.status_code == 204


def test_no_link_for_a_deactivated_user_and_none_works_for_one(client, session, make):
    admin, student = make.admin(), make.student()
    url, _ = password_reset.create_reset_link(session, admin, student.id)
    student.active = False  # straight in the database: the link's own check must refuse too
    session.commit()
    r = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})
    assert r.status_code == 409
    r = client.post(f"/api/v1/users/{student.id}/password-reset", headers=make.token(admin))
    assert r.status_code == 409
    assert client.post("/api/v1/users/999999/password-reset", headers=make.token(admin)).status_code == 404


def test_an_account_without_password_is_activated_by_its_link(client, session, make):
    admin = make.admin()
    r = client.post("/api/v1/users", headers=make.token(admin), json={
        "username": "new.student", "display_name": "新同学", "role": "student", "student_no": "2025777001"})
    assert r.status_code == 201 and r.get_json()["has_password"] is False
    assert "password_hash" not in r.get_json()
    user_id = r.get_json()["id"]
    assert api_sign_in(client, "new.student", "").status_code in (401, 422)
    url, _ = password_reset.create_reset_link(session, admin, user_id)
    assert client.post("/api/v1/auth/password-reset",
                       json={"token": token_of(url), "new_password": NEW_PASSWORD}).status_code == 204
    assert api_sign_in(client, "new.student", NEW_PASSWORD).status_code == 200
    listed = client.get("/api/v1/users?q=new.student", headers=make.token(admin)).get_json()["items"]
    assert listed[0]["has_password"] is True


# ---- roles and the admins ----------------------------------------------------------------------

def test_last_admin_cannot_be_deactivated_or_demoted(client, session, make):
    only = make.admin()
    with pytest.raises(Conflict, match="最后一个"):
        accounts.update_user(session, None, only.id, active=False)
    with pytest.raises(Conflict, match="不能停用或降级"):
        accounts.update_user(session, None, only.id, role=Role.ORGANIZER)
    session.rollback()
    # A deactivated admin does not count: the active one is still the last.
    off = make.admin()
    accounts.update_user(session, None, off.id, active=False)
    session.commit()  # services flush; the caller commits
    with pytest.raises(Conflict):
        accounts.update_user(session, None, only.id, active=False)
    session.rollback()
    # With a second active admin, one can go.
    other = make.admin()
    r = patch(client, make.token(other), only, role="organizer")
    assert r.status_code == 200 and r.get_json()["role"] == "organizer"
    session.expire_all()
    with pytest.raises(Conflict):
        accounts.update_user(session, None, other.id, active=False)
    session.rollback()
    assert session.get(User, other.id).active and session.get(User, other.id).role == Role.ADMIN


def test_admin_cannot_deactivate_themself(client, session, make):
    admin, _other = make.admin(), make.admin()
    headers = make.token(admin)
    r = patch(client, headers, admin, active=False)
    assert r.status_code == 409 and "不能停用自己的账号" in r.get_json()["error"]["message"]
    r = patch(client, headers, admin, role="student")
    assert r.status_code in (409, 422)
    r = patch(client, headers, admin, role="organizer")
    assert r.status_code == 409
    assert r.get_json()["error"]["fields"] == {"role": ["不能对自己操作"]}
    session.expire_all()
    assert session.get(User, admin.id).active and session.get(User, admin.id).role == Role.ADMIN
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # Their own name they may change.
    assert patch(client, headers, admin, display_name="校团委 陈老师").status_code == 200


def test_role_leader_is_not_set_by_hand(client, session, make):
    admin, student = make.admin(), make.student()
    headers = make.token(admin)
    r = patch(client, headers, student, role="leader")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["message"] == "社团负责人由社团任命产生"
    assert error["fields"] == {"role": ["社团负责人由社团任命产生"]}

    leader = make.leader()
    club = make.club(leaders=[leader])
    for role in ("organizer", "admin", "student"):
        r = patch(client, headers, leader, role=role)
        assert r.status_code == 409, role
        assert "请先在社团页面让其卸任" in r.get_json()["error"]["message"]
    session.expire_all()
    assert session.get(User, leader.id).role == Role.LEADER
    # Stepped down on the club, they are a student again and may become staff.
    set_leaders(session, admin, session.get(type(club), club.id), [])
    session.commit()
    assert session.get(User, leader.id).role == Role.STUDENT
    assert patch(client, headers, leader, role="organizer").status_code == 200
    assert last_event(session, "user.role_change").data == {"from": "student", "to": "organizer"}


def test_a_student_role_needs_a_student_number(client, session, make):
    admin, organizer = make.admin(), make.organizer()
    r = patch(client, make.token(admin), organizer, role="student")
    assert r.status_code == 422 and list(r.get_json()["error"]["fields"]) == ["role"]
    session.expire_all()
    assert session.get(User, organizer.id).role == Role.ORGANIZER


def test_class_must_be_of_the_users_unit_and_scope_only_for_organizers(client, session, make):
    admin = make.admin()
    cs, med = make.unit(), make.unit()
    cs_class = make_class(session, cs)
    student, organizer = make.student(unit=med), make.organizer()
    headers = make.token(admin)
    r = patch(client, headers, student, class_id=cs_class.id)
    assert r.status_code == 422 and list(r.get_json()["error"]["fields"]) == ["class_id"]
    r = patch(client, headers, student, class_id=999999)
    assert r.status_code == 422 and "class_id" in r.get_json()["error"]["fields"]
    r = patch(client, headers, student, unit_id=cs.id, class_id=cs_class.id)
    assert r.status_code == 200 and r.get_json()["class_id"] == cs_class.id
    # Moving the student to another unit while their class stays is refused, by the class.
    r = patch(client, headers, student, unit_id=med.id)
    assert r.status_code == 422 and list(r.get_json()["error"]["fields"]) == ["class_id"]
    r = patch(client, headers, student, scope_unit_id=cs.id)
    assert r.status_code == 422 and list(r.get_json()["error"]["fields"]) == ["scope_unit_id"]
    r = patch(client, headers, organizer, scope_unit_id=cs.id)
    assert r.status_code == 200 and r.get_json()["scope_unit_id"] == cs.id
    # The scope goes with the organizer's role, and the change is in the audit.
    r = patch(client, headers, organizer, role="admin")
    assert r.status_code == 200 and r.get_json()["scope_unit_id"] is None
    assert last_event(session, "user.update").data["changes"] == {"scope_unit_id": [cs.id, None]}


def test_patch_changes_only_what_is_sent(client, session, make):
    admin, unit = make.admin(), make.unit()
    student = make.student(unit=unit, name="王小明")
    headers = make.token(admin)
    assert patch(client, headers, student, email="wxm@stu.example.edu.cn").status_code == 200
    r = patch(client, headers, student, display_name="王晓明")
    body = r.get_json()
    assert r.status_code == 200
    assert (body["display_name"], body["email"], body["unit_id"], body["role"]) == (
        "王晓明", "wxm@stu.example.edu.cn", unit.id, "student")
    assert patch(client, headers, student, email=None).get_json()["email"] is None
    assert patch(client, headers, student, email="not-an-address").status_code == 422
    assert patch(client, headers, student, display_name="").status_code == 422
    r = patch(client, headers, student)  # nothing sent: nothing changes, nothing audited
    assert r.status_code == 200
    assert actions(session, student.id).count("user.update") == 3
    assert client.patch("/api/v1/users/999999", headers=headers, json={"active": False}).status_code == 404


def test_every_change_is_audited(client, session, make):
    admin, unit = make.admin(), make.unit()
    headers = make.token(admin)
    r = client.post("/api/v1/users", headers=headers, json={
        "username": "audited", "display_name": "审计", "role": "organizer", "password": "a long unusual phrase 4"})
    user_id = r.get_json()["id"]
    user = session.get(User, user_id)
    created = last_event(session, "user.create")
    assert created.data["role"] == "organizer" and created.data["has_password"] is True
    patch(client, headers, user, display_name="审计老师", unit_id=unit.id)
    patch(client, headers, user, role="admin")
    patch(client, headers, user, active=False)
    patch(client, headers, user, active=True)
    url = client.post(f"/api/v1/users/{user_id}/password-reset", headers=headers).get_json()["reset_url"]
    client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})

    assert actions(session, user_id) == [
        "user.create", "user.update", "user.role_change", "user.deactivate", "user.reactivate",
        "user.password_reset_link", "user.password_set",
    ]
    assert last_event(session, "user.update").data == {
        "changes": {"display_name": ["审计", "审计老师"], "unit_id": [None, unit.id]}}
    every = " ".join(str(e.data) for e in session.execute(select(AuditEvent)).scalars())
    assert "a long unusual phrase" not in every and NEW_PASSWORD not in every and token_of(url) not in every
    assert "argon2" not in every


# ---- finding people ----------------------------------------------------------------------------

def test_user_search_by_name_number_role_unit_class(client, session, make):
    admin = make.admin()
    cs, med = make.unit(), make.unit()
    cs1, cs2 = make_class(session, cs, "计科2301"), make_class(session, cs, "计科2302")
    zhang = make.student(name="张伟", unit=cs, student_no="2023010001", username="zhang.wei")
    zhang2 = make.student(name="张伟明", unit=med, student_no="2023040077")
    li = make.student(name="李晓雨", unit=cs, student_no="2023010002")
    teacher = make.organizer(name="王建国", unit=cs, username="Wang.LaoShi")
    for person, klass in ((zhang, cs1), (li, cs2)):
        person.class_id = klass.id
    session.commit()
    headers = make.token(admin)

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/v1/users?{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["total"] == len(body["items"])
        return [u["id"] for u in body["items"]]

    assert ids("q=张伟") == [zhang.id, zhang2.id]
    assert ids("q=010001") == [zhang.id]
    assert ids("q=wang.laoshi") == [teacher.id]  # any case
    assert ids("q=%25") == [] and ids("q=_") == []  # LIKE wildcards are plain characters
    assert ids("role=organizer") == [teacher.id]
    assert ids(f"unit_id={cs.id}&role=student") == [zhang.id, li.id]
    assert ids(f"class_id={cs2.id}") == [li.id]
    assert ids(f"q=张&unit_id={med.id}") == [zhang2.id]
    accounts.update_user(session, None, li.id, active=False)
    assert ids(f"unit_id={cs.id}&active=false") == [li.id]
    assert li.id not in ids(f"unit_id={cs.id}&active=true")
    r = client.get("/api/v1/users?per_page=2&page=2&role=student", headers=headers).get_json()
    assert r["total"] == 3 and [u["id"] for u in r["items"]] == [li.id]
    item = client.get("/api/v1/users?q=zhang.wei", headers=headers).get_json()["items"][0]
    assert {"class_id", "scope_unit_id", "active", "has_password"} <= set(item) and "password_hash" not in item
    assert item["class_id"] == cs1.id and item["has_password"] is True
    assert client.get("/api/v1/users?role=boss", headers=headers).status_code == 422


@pytest.mark.parametrize("who", ["organizer", "leader", "student"])
def test_only_admin_manages_people(client, session, make, who):
    admin, target = make.admin(), make.student(name="目标")
    actor = {"organizer": make.organizer, "leader": make.leader, "student": make.student}[who]()
    headers = make.token(actor)
    events_before = actions(session)
    before = (target.display_name, target.active, target.role)

    responses = [
        client.get("/api/v1/users", headers=headers),
        patch(client, headers, target, display_name="改名", active=False),
        patch(client, headers, actor, role="admin"),
        client.post(f"/api/v1/users/{target.id}/password-reset", headers=headers),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    assert all(r.get_json()["error"]["code"] == "forbidden" for r in responses)
    session.expire_all()
    fresh = session.get(User, target.id)
    assert (fresh.display_name, fresh.active, fresh.role) == before
    assert session.get(User, actor.id).role == who
    assert session.scalar(select(func.count()).select_from(PasswordReset)) == 0
    assert actions(session) == events_before
    for call in (lambda: accounts.list_users(session, actor), lambda: password_reset.reset_links(session, actor)):
        with pytest.raises(Forbidden):
            call()
    assert admin.active


# ---- a batch of links ----------------------------------------------------------------------------

def test_batch_links_take_a_few_statements_whatever_the_size(app, session, make):
    admin, unit = make.admin(), make.unit()
    klass = make_class(session, unit, cohort=2025)
    students = [make.student(unit=unit) for _ in range(30)]
    for s in students:
        s.password_hash = None
        s.class_id = klass.id
    students[0].password_hash = "set"  # has a password: left out unless asked
    session.commit()
    password_reset.create_reset_link(session, admin, students[1].id)  # an earlier link, to be ended

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        links = password_reset.reset_links(session, admin, unit_id=unit.id, cohort=2025)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)

    assert len(links) == 29 and students[0].id not in {u.id for u, _, _ in links}
    assert len(statements) <= 12, statements
    batch = last_event(session, "user.password_reset_link")
    assert batch.data["count"] == 29 and sorted(batch.data["user_ids"]) == sorted(u.id for u, _, _ in links)
    assert len(password_reset.reset_links(session, admin, unit_id=unit.id, only_without_password=False)) == 30
    assert password_reset.reset_links(session, admin, cohort=1999) == []
    with pytest.raises(Invalid):
        password_reset.reset_links(session, admin, class_id=999999)


def test_batch_makes_earlier_links_stop_working(client, session, make):
    admin, unit = make.admin(), make.unit()
    student = make.student(unit=unit)
    old_url, _ = password_reset.create_reset_link(session, admin, student.id)
    [(user, url, _)] = password_reset.reset_links(session, admin, unit_id=unit.id, only_without_password=False)
    session.commit()  # services flush; the caller commits
    assert user.id == student.id
    old = client.post("/api/v1/auth/password-reset", json={"token": token_of(old_url), "new_password": NEW_PASSWORD})
    new = client.post("/api/v1/auth/password-reset", json={"token": token_of(url), "new_password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (422, 204)


# ---- e-mail through a real SMTP server ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
            self.envelopes.append(envelope)
            return "250 Message accepted for delivery"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_reset_link_is_mailed_through_a_real_smtp_server(app, client, session, make, smtp_server):
    from email import message_from_bytes, policy

    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_DEFAULT_SENDER="tuanwei@example.edu.cn")
    admin, student = make.admin(), make.student(name="张伟")
    student.email = "zhangwei@stu.example.edu.cn"
    session.commit()

    r = client.post(f"/api/v1/users/{student.id}/password-reset", headers=make.token(admin))

    assert r.status_code == 200 and r.get_json()["emailed"] is True
    url = r.get_json()["reset_url"]
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["zhangwei@stu.example.edu.cn"]
    assert envelope.mail_from == "tuanwei@example.edu.cn"
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    text = mail.get_content()
    assert url in text and "张伟" in text and student.username in text
    # In the recipient's language: Chinese unless they chose English on the site.
    assert "设置密码" in text and "set the password" not in text
    assert "设置第二课堂成绩单密码" in mail["Subject"]
    # The mailed link works (once).
    assert client.post("/api/v1/auth/password-reset",
                       json={"token": token_of(url), "new_password": NEW_PASSWORD}).status_code == 204


def test_reset_link_is_mailed_in_the_language_the_recipient_chose(app, client, session, make, smtp_server):
    from email import message_from_bytes, policy

    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    admin, student = make.admin(), make.student(name="Zhang Wei")
    student.email, student.locale = "zhangwei@stu.example.edu.cn", "en"
    session.commit()

    # The admin reads the site in Chinese; the mail follows the student's choice.
    r = client.post(f"/api/v1/users/{student.id}/password-reset", headers=make.token(admin))

    assert r.status_code == 200 and r.get_json()["emailed"] is True
    [envelope] = inbox.envelopes
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    text = mail.get_content()
    assert "set the password" in text and "Zhang Wei" in text and "设置密码" not in text
    assert mail["Subject"] == "Set your Second Transcript password"


def test_batch_links_are_mailed_over_one_connection(app, session, make, smtp_server):
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    admin, unit = make.admin(), make.unit()
    people = [make.student(unit=unit) for _ in range(3)]
    people[0].email, people[1].email = "a@stu.example.edu.cn", "b@stu.example.edu.cn"
    session.commit()
    links = password_reset.reset_links(session, admin, unit_id=unit.id, only_without_password=False)
    assert password_reset.mail_links(links) == 2
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["a@stu.example.edu.cn", "b@stu.example.edu.cn"]
    assert inbox.envelopes[0].mail_from.startswith("noreply@dekt.example.edu.cn")


def test_unreachable_mail_server_still_returns_the_link(app, client, session, make, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    admin, student = make.admin(), make.student()
    student.email = "someone@stu.example.edu.cn"
    session.commit()

    r = client.post(f"/api/v1/users/{student.id}/password-reset", headers=make.token(admin))

    assert r.status_code == 200
    body = r.get_json()
    assert body["emailed"] is False and body["reset_url"]
    assert any("mail" in rec.getMessage() and "not sent" in rec.getMessage() for rec in caplog.records)
    assert body["reset_url"] not in caplog.text  # the link is a secret: never in the log
    assert client.post("/api/v1/auth/password-reset",
                       json={"token": token_of(body["reset_url"]), "new_password": NEW_PASSWORD}).status_code == 204
