"""The student roster import: no password ever, classes matched within the unit, all or nothing,
one audit event, a constant number of statements, and the web preview → confirm."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, AuthToken, SchoolClass, User
from app.services import imports
from app.services.audit import verify_chain
from app.services.errors import Forbidden, Invalid
from tests.factories import PASSWORD

HEADER = "学号,姓名,院系代码,班级,入学年级"


def roster(rows: list[str], header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


@pytest.fixture
def school(make, session):
    """Two units; each has a class called 2301班, and CS also has 软件2401."""
    cs, ee = make.unit(code="CS", name="计算机学院"), make.unit(code="EE", name="电子学院")
    classes = {
        "cs2301": SchoolClass(unit_id=cs.id, name="2301班", cohort=2023),
        "ee2301": SchoolClass(unit_id=ee.id, name="2301班", cohort=2023),
        "cs2401": SchoolClass(unit_id=cs.id, name="软件2401", cohort=2024),
    }
    session.add_all(classes.values())
    session.commit()
    return {"cs": cs, "ee": ee, **classes}


def students(session) -> dict[str, User]:
    session.expire_all()
    return {u.student_no: u for u in session.execute(select(User).where(User.role == "student")).scalars()}


def audit_events(session, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.execute(query).scalars())


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


# ------------------------------------------------------------------ the service


def test_imported_student_has_no_working_password(app, client, session, school):
    result = imports.import_students(session, None, roster(["2026000001,欧阳娜娜,CS,2301班,2023"]))
    assert result.count == 1
    student = students(session)["2026000001"]
    assert student.password_hash is None and student.active
    tokens_before = session.execute(select(func.count()).select_from(AuthToken)).scalar_one()
    for guess in ("", "2026000001", "2026000001!pass", "changeme1", "password", "12345678"):
        r = client.post("/api/v1/auth/token", json={"username": student.username, "password": guess})
        assert r.status_code in (401, 422), (guess, r.status_code)
        assert "token" not in (r.get_json() or {})
        with app.test_client() as browser:
            r = browser.post("/login", data={"username": student.username, "password": guess})
            assert r.status_code != 302, guess
            assert browser.get("/me").status_code == 302  # still signed out: sent to the sign-in page
    session.expire_all()
    assert session.execute(select(func.count()).select_from(AuthToken)).scalar_one() == tokens_before
    assert students(session)["2026000001"].password_hash is None


def test_roster_imports_students_into_their_classes(session, school):
    data = roster([
        "2026000001,欧阳娜娜,CS,2301班,2023",
        "2026000002,王小明,EE,2301班,",
        "2026000003,李雷,CS,软件2401,2024级",
        "2026000004,韩梅梅,CS,,",
        "2026000005,赵六,,,",
    ], encoding="gbk")
    result = imports.import_students(session, None, data)
    assert result.count == 5
    people = students(session)
    assert people["2026000001"].class_id == school["cs2301"].id
    assert people["2026000002"].class_id == school["ee2301"].id
    assert people["2026000003"].class_id == school["cs2401"].id
    assert people["2026000004"].class_id is None and people["2026000004"].unit_id == school["cs"].id
    assert people["2026000005"].unit_id is None
    assert all(u.username == u.student_no and u.password_hash is None for u in people.values())
    assert result.units == {"CS": 3, "EE": 1, "—": 1}


def test_roster_class_is_matched_within_the_unit(session, school):
    # 软件2401 is a class of CS, not of EE: a row of EE naming it is a bad row naming `class`.
    bad = roster(["2026000001,欧阳娜娜,CS,软件2401,", "2026000002,王小明,EE,软件2401,"])
    with pytest.raises(Invalid) as caught:
        imports.import_students(session, None, bad)
    assert set(caught.value.fields) == {"line 3"}
    assert [m.split(":")[0] for m in caught.value.fields["line 3"]] == ["class"]
    assert students(session) == {}
    # The same class name in two units: each student joins their own unit's class.
    imports.import_students(session, None, roster(["2026000001,欧阳娜娜,CS,2301班,", "2026000002,王小明,EE,2301班,"]))
    people = students(session)
    assert people["2026000001"].class_id == school["cs2301"].id
    assert people["2026000002"].class_id == school["ee2301"].id


def test_roster_with_one_bad_row_imports_nothing_and_lists_every_bad_row(session, school, make):
    make.student(student_no="2025999999")
    data = roster([
        "2026000001,欧阳娜娜,CS,2301班,2023",   # line 2: fine
        "2026000002,王小明,XX,2301班,",         # line 3: no such unit
        "2026000003,李雷,CS,9999班,",           # line 4: no such class in CS
        "2026000004,韩梅梅,CS,2301班,2024",     # line 5: the class is of 2023
        "20!6,赵六,CS,,",                       # line 6: a malformed number
        "2026000007,,CS,,",                     # line 7: no name
        "2026000008,钱七,,2301班,",             # line 8: a class without a unit
        "2025999999,孙八,CS,,",                 # line 9: the number is taken
        "2026000010,周九,CS,,abc",              # line 10: not a year
    ])
    preview = imports.preview_students(session, None, data)
    assert [r.ok for r in preview.rows] == [True] + [False] * 8
    fields = {(e.line, e.field) for e in preview.errors}
    assert fields == {(3, "unit"), (4, "class"), (5, "cohort"), (6, "student_no"), (7, "name"),
                      (8, "unit"), (9, "student_no"), (10, "cohort")}
    with pytest.raises(Invalid) as caught:
        imports.import_students(session, None, data)
    assert set(caught.value.fields) == {f"line {n}" for n in range(3, 11)}
    assert "未导入任何学生" in caught.value.message
    assert set(students(session)) == {"2025999999"}
    assert audit_events(session, "user.import") == []


def test_roster_with_a_password_column_is_refused(session, school):
    for header in ("学号,姓名,院系代码,密码", "student_no,name,unit,password", "学号,姓名,Password"):
        with pytest.raises(Invalid) as caught:
            imports.import_students(session, None, roster(["2026000001,欧阳娜娜,CS,secret123"], header))
        [message] = caught.value.fields["file"]
        assert "密码从不导入" in message and "名册不能包含密码列" in message
    # Even an empty password column: the file is refused before any row is read.
    with pytest.raises(Invalid):
        imports.preview_students(session, None, roster(["2026000001,欧阳娜娜,CS,"], "学号,姓名,院系代码,密码"))
    assert students(session) == {}


def test_roster_import_is_one_audit_event(session, school, make):
    admin = make.admin()
    before = len(audit_events(session))
    rows = [f"20260000{i:02d},学生{i},CS,2301班,2023" for i in range(1, 4)] + ["2026000099,王五,EE,,"]
    imports.import_students(session, admin, roster(rows))
    events = audit_events(session)
    assert len(events) == before + 1
    event = events[-1]
    assert event.action == "user.import" and event.actor_id == admin.id and event.object_type == "roster"
    assert event.data["count"] == 4
    assert event.data["units"] == {"CS": 3, "EE": 1}
    assert event.data["classes"] == {"CS / 2301班": 3}
    assert event.data["student_nos"] == ["2026000001", "2026000002", "2026000003", "2026000099"]
    assert verify_chain(session).ok


def test_duplicate_number_in_file_names_both_lines(session, school):
    data = roster(["2026000001,欧阳娜娜,CS,,", "2026000002,王小明,CS,,", "2026000001,李雷,CS,,"])
    with pytest.raises(Invalid) as caught:
        imports.import_students(session, None, data)
    fields = caught.value.fields
    assert set(fields) == {"line 2", "line 4"}
    assert any("与第 4 行重复" in m for m in fields["line 2"])
    assert any("与第 2 行重复" in m for m in fields["line 4"])
    # A username given twice (for different numbers) names both lines too.
    data = roster(["2026000001,欧阳娜娜,CS,,ouyang", "2026000002,王小明,CS,,ouyang"], "学号,姓名,院系代码,班级,用户名")
    preview = imports.preview_students(session, None, data)
    assert {(e.line, e.field) for e in preview.errors} == {(2, "username"), (3, "username")}
    assert students(session) == {}


def test_number_already_taken_is_a_bad_row(session, school, make):
    make.student(student_no="2026000001")
    make.organizer(username="wangxm")
    data = roster(["2026000001,欧阳娜娜,CS,,", "2026000002,王小明,CS,,wangxm", "2026000003,李雷,CS,,"],
                  "学号,姓名,院系代码,班级,用户名")
    preview = imports.preview_students(session, None, data)
    assert {(e.line, e.field) for e in preview.errors} == {(2, "student_no"), (3, "username")}
    with pytest.raises(Invalid):
        imports.import_students(session, None, data)
    assert set(students(session)) == {"2026000001"}


def test_only_admin_imports_the_roster(session, school, make):
    for who in (make.organizer(), make.leader(), make.student()):
        with pytest.raises(Forbidden):
            imports.preview_students(session, who, roster(["2026000001,欧阳娜娜,CS,,"]))
        with pytest.raises(Forbidden):
            imports.import_students(session, who, roster(["2026000001,欧阳娜娜,CS,,"]))
    assert "2026000001" not in students(session)


def test_roster_statements_do_not_grow_with_the_rows(session, school, app):
    """Parse, check, insert and audit in a fixed number of statements, not one per row."""

    def statements_for(first: int, n: int) -> int:
        rows = [f"{first + i},学生{i},CS,{'2301班' if i % 3 else '软件2401'},"
                + ("" if i % 2 else f",s{first + i}@example.edu.cn") for i in range(n)]
        data = roster(rows, "学号,姓名,院系代码,班级,用户名,邮箱")
        seen = []

        def count(*args, **kwargs):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = imports.import_students(session, None, data)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert result.count == n
        return len(seen)

    statements_for(2025000000, 3)  # the first audit event ever makes the chain's head (two statements, once)
    small = statements_for(2026000000, 300)
    large = statements_for(2027000000, 3000)
    assert small == large <= 12, (small, large)
    assert len(students(session)) == 3 + 300 + 3000


def test_cli_import_students_prints_the_count_and_how_to_activate(app, session, school, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(roster(["2026000001,欧阳娜娜,CS,2301班,2023", "2026000002,王小明,EE,2301班,2023"], encoding="gbk"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "students", str(path)])
    assert result.exit_code == 0, result.output
    assert "已导入 2 名学生" in result.output
    assert "flask --app app user reset-links --unit CS" in result.output
    assert "flask --app app user reset-links --unit EE" in result.output
    assert all(u.password_hash is None for u in students(session).values())
    # No default password any more: the option is gone.
    result = runner.invoke(args=["import", "students", str(path), "--password", "changeme1"])
    assert result.exit_code == 2 and "--password" in result.output
    path.write_bytes(roster(["2026000003,李雷,CS,2301班,2023"], "学号,姓名,院系代码,班级,密码"))
    result = runner.invoke(args=["import", "students", str(path)])
    assert result.exit_code == 1 and "密码从不导入" in result.output
    assert len(students(session)) == 2


# ------------------------------------------------------------------ the web page


def upload(client, data: bytes, name="名册.csv"):
    return client.post("/admin/people/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def payload_of(html: str) -> str:
    match = re.search(r'<input[^>]*name="payload"[^>]*value="([^"]+)"', html)
    assert match, "no confirm form on the page"
    return match.group(1)


def test_admin_previews_then_imports_the_roster_all_at_once(client, make, session, school):
    admin = make.admin()
    sign_in(client, admin)
    people = client.get("/admin/people").get_data(as_text=True)
    assert 'href="/admin/people/import"' in people
    page = client.get("/admin/people/import").get_data(as_text=True)
    assert '<label for="file">' in page and "/admin/people/import/template.csv" in page
    template = client.get("/admin/people/import/template.csv")
    assert template.mimetype == "text/csv" and template.data.decode("utf-8-sig").startswith("学号,姓名,院系代码,班级")

    data = roster(["2026000001,欧阳娜娜,CS,2301班,2023", "2026000002,王小明,EE,2301班,"], encoding="gbk")
    r = upload(client, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:2000]
    assert "欧阳娜娜" in html and "电子学院" in html and "2301班" in html and "✓" in html
    assert "确认导入 2 名学生" in html
    assert students(session) == {}  # a preview stores nothing
    payload = payload_of(html)
    r = client.post("/admin/people/import/confirm", data={"payload": payload})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/people")
    people = students(session)
    assert set(people) == {"2026000001", "2026000002"}
    assert all(u.password_hash is None for u in people.values())
    assert len(audit_events(session, "user.import")) == 1
    # Confirming again (back button): every row is now taken; nothing more is imported.
    r = client.post("/admin/people/import/confirm", data={"payload": payload})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "学号已存在" in html and "确认导入" not in html
    assert len(students(session)) == 2 and len(audit_events(session, "user.import")) == 1


def test_bad_roster_file_shows_every_bad_row_and_imports_nothing(client, make, session, school):
    sign_in(client, make.admin())
    data = roster(["2026000001,欧阳娜娜,CS,2301班,2023", "2026000002,王小明,EE,软件2401,",
                   "2026000003,李雷,XX,,", "2026000001,韩梅梅,CS,,"])
    r = upload(client, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for line in (2, 3, 4, 5):  # line 2 is named by the duplicate on line 5
        assert f"第 {line} 行" in html, line
    assert "没有院系代码 XX" in html and "与第 5 行重复" in html and "与第 2 行重复" in html
    assert "确认导入" not in html  # all or nothing: no confirm button
    assert students(session) == {}
    r = upload(client, roster(["2026000001,欧阳娜娜,CS,secret"], "学号,姓名,院系代码,密码"))
    assert r.status_code == 422 and "密码从不导入" in r.get_data(as_text=True)
    r = upload(client, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert r.status_code == 422 and 'id="file-msg" class="field-error"' in r.get_data(as_text=True)
    assert students(session) == {}


def test_changed_foreign_or_expired_roster_upload_imports_nothing(client, make, session, school, app, monkeypatch):
    admin, other_admin = make.admin(), make.admin()
    sign_in(client, admin)
    payload = payload_of(upload(client, roster(["2026000001,欧阳娜娜,CS,,"])).get_data(as_text=True))
    r = client.post("/admin/people/import/confirm", data={"payload": payload[:-3] + "abc"}, follow_redirects=True)
    assert "上传已失效" in r.get_data(as_text=True)
    owner, _, rest = payload.partition(".")
    r = client.post("/admin/people/import/confirm", data={"payload": f"{other_admin.id}.{rest}"},
                    follow_redirects=True)
    assert "上传已失效" in r.get_data(as_text=True)
    with app.test_client() as browser:  # another admin cannot confirm this admin's upload
        sign_in(browser, other_admin)
        r = browser.post("/admin/people/import/confirm", data={"payload": payload}, follow_redirects=True)
        assert "上传已失效" in r.get_data(as_text=True)
    monkeypatch.setattr("app.web.roster.PAYLOAD_MAX_AGE", -1)
    r = client.post("/admin/people/import/confirm", data={"payload": payload}, follow_redirects=True)
    assert "上传已失效" in r.get_data(as_text=True)
    assert students(session) == {} and audit_events(session, "user.import") == []


def test_large_roster_preview_shows_the_first_rows_every_bad_row_and_the_counts(client, make, session, school):
    sign_in(client, make.admin())
    rows = [f"{2026000000 + i},学生{i},CS,2301班," for i in range(1200)]
    rows[899] = "2026000899,学生899,CS,不存在班,"  # line 901
    html = upload(client, roster(rows)).get_data(as_text=True)
    assert "学生0<" in html and "学生199<" in html  # the first 200 rows
    assert "学生200<" not in html and "学生1199<" not in html
    assert "第 901 行" in html and "不存在班" in html  # every bad row
    assert "1,200 行" in html and "有误 1" in html
    assert "另有 699 行无误" in html and "另有 300 行无误" in html
    rows[899] = "2026000899,学生899,CS,2301班,"
    html = upload(client, roster(rows)).get_data(as_text=True)
    r = client.post("/admin/people/import/confirm", data={"payload": payload_of(html)})
    assert r.status_code == 302 and len(students(session)) == 1200


def test_only_admin_opens_the_roster_import(app, make, session, school):
    data = roster(["2026000001,欧阳娜娜,CS,,"])
    for who in (make.organizer(), make.leader(), make.student()):
        with app.test_client() as browser:
            sign_in(browser, who)
            assert browser.get("/admin/people/import").status_code == 403
            assert browser.get("/admin/people/import/template.csv").status_code == 403
            assert upload(browser, data).status_code == 403
            assert browser.post("/admin/people/import/confirm", data={"payload": "x"}).status_code == 403
    assert "2026000001" not in students(session)
