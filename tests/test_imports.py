"""CSV imports as schools export them: UTF-8 with a BOM or GBK; one bad row imports nothing."""

from __future__ import annotations

import pytest

from app.models import Participation, User
from app.services import imports
from app.services.errors import Forbidden, Invalid


def participants_csv(rows: list[str], header: str = "学号,姓名,角色,学时,奖项") -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "utf-8"])
def test_csv_gbk_with_bom_imports(session, make, encoding):
    w = make.world()
    a, b = w.students
    text = participants_csv([
        f"{a.student_no},{a.display_name},志愿者,3.5,",
        f"{b.student_no},{b.display_name},,,优秀志愿者",
    ])
    created = imports.import_participations(session, w.leader, w.activity.id, text.encode(encoding))
    assert len(created) == 2
    by_student = {p.student_id: p for p in session.query(Participation)}
    assert by_student[a.id].role == "volunteer" and str(by_student[a.id].hours) == "3.5"
    assert by_student[b.id].award == "优秀志愿者" and by_student[b.id].hours == w.activity.hours


def test_csv_with_one_bad_row_imports_nothing_and_names_every_bad_line(session, make):
    w = make.world()
    a, b = w.students
    text = participants_csv([
        f"{a.student_no},,participant,2,",
        "20999999,查无此人,participant,2,",   # line 3: unknown student
        f"{b.student_no},,participant,-4,",   # line 4: negative hours
        f"{a.student_no},,participant,2,",    # line 5: same student twice
    ])
    preview = imports.preview_participations(session, w.leader, w.activity.id, text.encode("gbk"))
    assert {e.line for e in preview.errors} == {3, 4, 5}
    assert [r["ok"] for r in preview.rows] == [True, False, False, False]
    with pytest.raises(Invalid) as caught:
        imports.import_participations(session, w.leader, w.activity.id, text.encode("gbk"))
    assert set(caught.value.fields) == {"line 3", "line 4", "line 5"}
    assert session.query(Participation).count() == 0


def test_a_png_is_not_a_csv(session, make):
    w = make.world()
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    with pytest.raises(Invalid) as caught:
        imports.preview_participations(session, w.leader, w.activity.id, png)
    assert "file" in caught.value.fields


def test_missing_student_number_column_is_reported(session, make):
    w = make.world()
    with pytest.raises(Invalid) as caught:
        imports.preview_participations(session, w.leader, w.activity.id, "姓名\n张三\n".encode())
    assert "student_no" in caught.value.fields["file"][0]


def test_another_clubs_leader_cannot_import(session, make):
    w = make.world()
    stranger = make.leader()
    make.club(leaders=[stranger])
    text = participants_csv([f"{w.students[0].student_no},,,,"])
    with pytest.raises(Forbidden):
        imports.import_participations(session, stranger, w.activity.id, text.encode())


def test_roster_import_creates_students_all_or_nothing(session, make):
    unit = make.unit(code="CS")
    good = "学号,姓名,院系代码\n2026000001,欧阳娜娜,CS\n2026000002,王小明,CS\n"
    result = imports.import_students(session, None, good.encode("gbk"))
    assert result.count == 2 and result.student_nos == ["2026000001", "2026000002"]
    users = session.query(User).filter(User.student_no.in_(result.student_nos)).order_by(User.student_no).all()
    assert [u.display_name for u in users] == ["欧阳娜娜", "王小明"]
    assert all(u.unit_id == unit.id and u.role == "student" for u in users)
    assert all(u.password_hash is None for u in users)  # no default password: activation links or SSO
    bad = "学号,姓名,院系代码\n2026000003,李雷,CS\n2026000001,重复学号,CS\n2026000004,韩梅梅,NOPE\n"
    with pytest.raises(Invalid) as caught:
        imports.import_students(session, None, bad.encode("utf-8-sig"))
    assert set(caught.value.fields) == {"line 3", "line 4"}
    assert session.query(User).filter(User.student_no == "2026000003").count() == 0


def test_cli_import_participations_reports_lines_and_exit_code(app, session, make, tmp_path):
    w = make.world()
    path = tmp_path / "p.csv"
    path.write_bytes(participants_csv(["20999999,,,,"]).encode("gbk"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "participations", str(w.activity.id), str(path)])
    assert result.exit_code == 1 and "line 2" in result.output
    path.write_bytes(participants_csv([f"{s.student_no},,,," for s in w.students]).encode("utf-8-sig"))
    result = runner.invoke(args=["import", "participations", str(w.activity.id), str(path)])
    assert result.exit_code == 0, result.output
    assert "登记 2 条参与记录" in result.output
