"""`flask --app app user …`: create without a password, list, edit, deactivate / activate, and
the activation links of a roster as CSV (each link works once)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.models import AuditEvent, SchoolClass, User
from tests.factories import PASSWORD

NEW_PASSWORD = "violet harbour lantern 91"
HEADER = ["学号", "姓名", "用户名", "链接", "有效期至"]


def run(app, *args):
    return app.test_cli_runner().invoke(args=["user", *args])


def by_name(session, username) -> User:
    session.expire_all()
    return session.execute(select(User).where(User.username == username)).scalar_one()


def use_link(client, url, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/password-reset", json={"token": url.rsplit("/", 1)[1], "new_password": password})


def roster(session, make):
    """A unit with two classes of 2025 and one of 2024; every student without a password."""
    unit = make.unit(code="CS")
    classes = {}
    for name, cohort in (("计科2501", 2025), ("计科2502", 2025), ("计科2401", 2024)):
        classes[name] = SchoolClass(unit_id=unit.id, name=name, cohort=cohort)
        session.add(classes[name])
    session.commit()
    people = []
    for i, name in enumerate(["计科2501", "计科2501", "计科2502", "计科2401"]):
        student = make.student(unit=unit, name=f"学生{i}", student_no=f"20250100{i:02d}")
        student.class_id, student.password_hash = classes[name].id, None
        people.append(student)
    session.commit()
    return unit, classes, people


def test_create_without_password_says_it_needs_an_activation_link(app, session, make):
    unit = make.unit(code="MED")
    session.add(SchoolClass(unit_id=unit.id, name="临床2501", cohort=2025))
    session.commit()
    result = run(app, "create", "lin.chuang", "--role", "student", "--student-no", "2025040001",
                 "--name", "林床", "--unit", "MED", "--class", "临床2501", "--email", "lc@stu.example.edu.cn")
    assert result.exit_code == 0, result.output
    assert "激活链接" in result.output and "reset-link lin.chuang" in result.output
    user = by_name(session, "lin.chuang")
    assert user.password_hash is None and user.school_class.name == "临床2501" and user.email == "lc@stu.example.edu.cn"
    assert session.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))).scalars().all() \
        == ["user.create"]
    unknown = run(app, "create", "x.y", "--role", "student", "--student-no", "2025040002", "--unit", "MED",
                  "--class", "no-such-class")
    assert unknown.exit_code == 1 and "no-such-class" in unknown.output


def test_list_shows_a_table_filtered_by_role_unit_class_and_text(app, session, make):
    unit, classes, people = roster(session, make)
    make.organizer(name="王建国")
    result = run(app, "list", "--unit", "CS", "--class", "计科2501")
    assert result.exit_code == 0, result.output
    assert "学生0" in result.output and "学生1" in result.output and "学生2" not in result.output
    assert "共 2 人" in result.output and "未设密码" in result.output
    result = run(app, "list", "--role", "organizer")
    assert "王建国" in result.output and "学生0" not in result.output
    result = run(app, "list", "-q", "2025010003")
    assert "学生3" in result.output and "共 1 人" in result.output


def test_edit_deactivate_and_activate(app, client, session, make):
    unit, classes, people = roster(session, make)
    student = make.student(name="旧名", unit=unit)
    token = make.token(student)
    result = run(app, "edit", student.username, "--name", "新名", "--email", "x@stu.example.edu.cn",
                 "--class", "计科2502")
    assert result.exit_code == 0, result.output
    fresh = by_name(session, student.username)
    assert (fresh.display_name, fresh.email, fresh.class_id) == ("新名", "x@stu.example.edu.cn", classes["计科2502"].id)
    leader = run(app, "edit", student.username, "--role", "leader")
    assert leader.exit_code == 2  # not even offered: leaders are appointed on the club

    result = run(app, "deactivate", student.username)
    assert result.exit_code == 0 and "已停用" in result.output
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert not by_name(session, student.username).active
    assert run(app, "activate", student.username).exit_code == 0
    assert by_name(session, student.username).active
    assert client.get("/api/v1/me", headers=token).status_code == 401  # they sign in again
    assert run(app, "deactivate", "nobody-by-this-name").exit_code == 1


def test_the_last_admin_is_kept_from_the_command_line(app, session, make):
    admin = make.admin()
    result = run(app, "deactivate", admin.username)
    assert result.exit_code == 1 and "最后一个启用的管理员" in result.output
    assert by_name(session, admin.username).active


def test_reset_link_prints_a_link_that_works_once(app, client, session, make):
    student = make.student()
    result = run(app, "reset-link", student.username)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://dekt.example.edu.cn/password/reset/")
    assert use_link(client, url).status_code == 204
    assert use_link(client, url).status_code == 422
    assert client.post("/api/v1/auth/token", json={"username": student.username, "password": NEW_PASSWORD}
                       ).status_code == 200


def test_reset_links_write_a_csv_of_a_rosters_links_each_working_once(app, client, session, make, tmp_path):
    unit, classes, people = roster(session, make)
    people[3].password_hash = make.student().password_hash  # already activated: left out by default
    session.commit()
    target = tmp_path / "links.csv"

    result = run(app, "reset-links", "--unit", "CS", "-o", str(target))

    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["2025010000", "2025010001", "2025010002"]
    assert [r[1] for r in rows[1:]] == ["学生0", "学生1", "学生2"]
    assert all(r[4][:4].isdigit() and len(r[4]) == 16 for r in rows[1:])  # 2026-01-02 09:00
    assert "3 个链接" in result.stderr
    for row in rows[1:]:
        assert use_link(client, row[3]).status_code == 204
        assert use_link(client, row[3]).status_code == 422
        assert client.post("/api/v1/auth/token", json={"username": row[2], "password": NEW_PASSWORD}
                           ).status_code == 200
    batch = session.execute(select(AuditEvent).where(AuditEvent.action == "user.password_reset_link")).scalar_one()
    assert batch.data["count"] == 3


def test_reset_links_by_class_and_cohort_and_all_to_stdout(app, client, session, make):
    unit, classes, people = roster(session, make)
    people[0].password_hash = make.student().password_hash
    session.commit()

    by_class = run(app, "reset-links", "--unit", "CS", "--class", "计科2501")
    by_cohort = run(app, "reset-links", "--cohort", "2025", "--all")

    rows = list(csv.reader(io.StringIO(by_class.stdout)))
    assert rows[0] == HEADER and [r[0] for r in rows[1:]] == ["2025010001"]
    rows = list(csv.reader(io.StringIO(by_cohort.stdout)))
    assert [r[0] for r in rows[1:]] == ["2025010000", "2025010001", "2025010002"]
    # The newer batch replaced the class's link: the first one no longer works.
    first = list(csv.reader(io.StringIO(by_class.stdout)))[1][3]
    assert use_link(client, first).status_code == 422
    assert use_link(client, rows[2][3]).status_code == 204
    # With a password, a student's sign-in still works until they use their link.
    assert client.post("/api/v1/auth/token", json={"username": people[0].username, "password": PASSWORD}
                       ).status_code == 200
    empty = run(app, "reset-links", "--cohort", "1999")
    assert empty.exit_code == 0 and list(csv.reader(io.StringIO(empty.stdout))) == [HEADER]


def test_what_the_command_line_does_is_stamped_with_the_system_actor(app, session, make):
    make.unit(code="MED")
    result = run(app, "create", "sys.made", "--role", "student", "--student-no", "2025040009", "--unit", "MED")
    assert result.exit_code == 0, result.output
    session.expire_all()
    user = by_name(session, "sys.made")
    system = by_name(session, "system")
    assert system.role == "system" and not system.active and system.password_hash is None
    actors = session.execute(select(AuditEvent.actor_id).where(AuditEvent.object_id == str(user.id))).scalars().all()
    assert actors == [system.id]
