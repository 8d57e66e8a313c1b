"""Credit rules (认定规则): the office's modules and each cohort's versioned rules; a student's progress
against them; the office's requirements report; the yearly certification (学年认定)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.models import AuditEvent, RuleSet, YearGrade
from app.services import credit_rules, progress, year_end
from app.services.errors import Forbidden, Invalid
from tests.pdfread import text_of

API = "/api/v1"
AUTUMN_2023 = datetime(2023, 10, 10, 1, tzinfo=UTC)
SPRING_2024 = datetime(2024, 4, 10, 1, tzinfo=UTC)
AUTUMN_2024 = datetime(2024, 10, 10, 1, tzinfo=UTC)

RULES = {
    "total_min_hours": 20,
    "modules": {"volunteering": {"min_hours": 4, "max_hours": 10}, "ideology": {"min_hours": 2}},
    "annual": {"pass_hours": 6, "excellent_hours": 12},
    "years_required": 1,
}


@pytest.fixture
def school(make):
    return build_school(make)


def build_school(make):
    """A college with a 2023 class of three students, a club run by an advisor, and the admin."""
    unit = make.unit()
    klass = make.school_class(unit, cohort=2023)
    advisor, leader = make.organizer(unit=unit), make.leader(unit=unit)
    club = make.club(advisors=[advisor], leaders=[leader], unit=unit)
    students = [make.student(school_class=klass) for _ in range(3)]
    return type("School", (), {"unit": unit, "klass": klass, "advisor": advisor, "club": club,
                               "students": students, "admin": make.admin(), "leader": leader})


def certify(make, school, student, module, hours, at=AUTUMN_2023):
    activity = make.activity(school.club, module=module, hours=str(hours), starts_at=at, status="completed")
    return make.participation(activity, student, status="certified", certifier=school.advisor)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def put_rules(client, make, admin, cohort=2023, body=RULES):
    return client.put(f"{API}/rules/{cohort}", headers=make.token(admin), json=body)


# -- rule sets ------------------------------------------------------------------------------


def test_every_change_of_the_rules_is_a_new_version(client, make, session, school):
    first = put_rules(client, make, school.admin)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["version"] == 1 and first.get_json()["name"] == "2023 v1"
    again = put_rules(client, make, school.admin)
    assert again.get_json()["version"] == 1  # the same rules: nothing new
    changed = put_rules(client, make, school.admin, body={**RULES, "total_min_hours": 24})
    assert changed.get_json()["version"] == 2
    assert session.execute(select(func.count(RuleSet.id))).scalar() == 2
    versions = [e.data["version"] for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "rules.set")).scalars()]
    assert versions == [1, 2]
    got = client.get(f"{API}/rules/2023", headers=make.token(school.students[0])).get_json()
    assert got["total_min_hours"] == 24.0 and got["modules"]["volunteering"] == {"min_hours": 4.0, "max_hours": 10.0}


@pytest.mark.parametrize(("body", "field"), [
    ({**RULES, "modules": {"volunteering": {"min_hours": 12, "max_hours": 10}}}, "modules.volunteering.min_hours"),
    ({**RULES, "total_min_hours": -1}, "total_min_hours"),
    ({**RULES, "total_min_hours": 99999}, "total_min_hours"),
    ({**RULES, "total_min_hours": "lots"}, "total_min_hours"),
    ({**RULES, "modules": {"astrology": {"min_hours": 2}}}, "modules.astrology"),
    ({**RULES, "annual": {"pass_hours": 12, "excellent_hours": 6}}, "annual.excellent_hours"),
    ({**RULES, "years_required": 40}, "years_required"),
    ({**RULES, "total_min_hours": 2.25}, "total_min_hours"),
])
def test_bad_rules_are_refused_by_field_and_change_nothing(client, make, session, school, body, field):
    response = put_rules(client, make, school.admin, body=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"], response.get_json()
    assert session.execute(select(func.count(RuleSet.id))).scalar() == 0


def test_rules_for_a_cohort_with_no_students_are_refused(client, make, school):
    response = put_rules(client, make, school.admin, cohort=2031)
    assert response.status_code == 422
    assert "cohort" in response.get_json()["error"]["fields"]


def test_bad_rules_are_explained_in_the_readers_language(client, make, school):
    response = client.put(f"{API}/rules/2023", headers={**make.token(school.admin), "Accept-Language": "en"},
                          json={**RULES, "total_min_hours": -1})
    assert response.get_json()["error"]["fields"]["total_min_hours"] == ["A number of hours from 0 to 2000"]
    zh = put_rules(client, make, school.admin, body={**RULES, "total_min_hours": -1}).get_json()
    assert "学时" in zh["error"]["fields"]["total_min_hours"][0]


@pytest.mark.parametrize("who", ["advisor", "leader", "student"])
def test_only_the_admin_sets_the_rules(client, make, session, school, who):
    actor = {"advisor": school.advisor, "leader": school.leader, "student": school.students[0]}[who]
    assert put_rules(client, make, actor).status_code == 403
    with pytest.raises(Forbidden):
        credit_rules.set_rules(session, actor, 2023, RULES)
    assert session.execute(select(func.count(RuleSet.id))).scalar() == 0


# -- the office's modules --------------------------------------------------------------------


def test_the_office_adds_a_module_and_activities_can_use_it(client, make, session, school):
    added = client.post(f"{API}/modules", headers=make.token(school.admin),
                        json={"key": "labour", "name_zh": "劳动教育", "name_en": "Labour education"})
    assert added.status_code == 201, added.get_json()
    listed = client.get(f"{API}/modules", headers=make.token(school.students[0])).get_json()["items"]
    keys = [m["key"] for m in listed]
    assert keys[-1] == "labour" and len(keys) == 8
    record = certify(make, school, school.students[0], "labour", 3)
    assert record.activity.module_label == "劳动教育"
    rules = put_rules(client, make, school.admin, body={**RULES, "modules": {"labour": {"min_hours": 2}}})
    assert rules.status_code == 200
    body = client.get(f"{API}/students/{school.students[0].student_no}/progress",
                      headers=make.token(school.students[0])).get_json()
    assert body["modules"]["labour"]["counted"] == 3.0 and body["modules"]["labour"]["met"] is True


def test_renaming_a_module_shows_everywhere_at_once(client, make, session, school):
    record = certify(make, school, school.students[0], "volunteering", 3)
    response = client.patch(f"{API}/modules/volunteering", headers=make.token(school.admin),
                            json={"name_zh": "志愿服务", "name_en": "Volunteer service"})
    assert response.status_code == 200, response.get_json()
    session.expire_all()
    session.info.clear()
    assert record.activity.module_label == "志愿服务"
    logged = session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "module")).scalar()
    assert logged == "module.rename"


@pytest.mark.parametrize(("body", "field"), [
    ({"key": "Labour!", "name_zh": "劳动", "name_en": "Labour"}, "key"),
    ({"key": "volunteering", "name_zh": "劳动", "name_en": "Labour"}, "key"),
    ({"key": "labour", "name_zh": "", "name_en": "Labour"}, "name_zh"),
    ({"key": "labour", "name_zh": "志愿公益", "name_en": "Labour"}, "name_zh"),
])
def test_a_bad_module_is_refused_by_field(client, make, school, body, field):
    response = client.post(f"{API}/modules", headers=make.token(school.admin), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_an_activity_in_an_unknown_module_is_refused(client, make, school):
    response = client.post(f"{API}/clubs/{school.club.id}/activities", headers=make.token(school.leader), json={
        "title": "读书会", "module": "astrology", "level": "club", "starts_at": "2026-12-20T09:00:00+08:00",
        "ends_at": "2026-12-20T11:00:00+08:00", "location": "图书馆", "hours": 2})
    assert response.status_code == 422
    assert "module" in response.get_json()["error"]["fields"]


# -- progress --------------------------------------------------------------------------------


def test_counted_hours_respect_the_module_cap(client, make, school):
    put_rules(client, make, school.admin)
    student = school.students[0]
    for _ in range(3):
        certify(make, school, student, "volunteering", 6)  # 18 h, capped at 10
    certify(make, school, student, "ideology", 3)
    body = client.get(f"{API}/students/{student.student_no}/progress", headers=make.token(student)).get_json()
    assert body["rules_version"] == "2023 v1"
    assert body["modules"]["volunteering"] == {"name": "志愿公益", "certified": 18.0, "counted": 10.0,
                                               "required": 4.0, "max_hours": 10.0, "met": True}
    assert body["total"] == {"counted": 13.0, "required": 20.0, "met": False}
    assert body["short_by"] == 7.0 and body["met"] is False


def test_progress_drops_when_a_record_is_revoked(client, make, session, school):
    put_rules(client, make, school.admin, body={**RULES, "total_min_hours": 8, "years_required": 0})
    student = school.students[0]
    certify(make, school, student, "ideology", 4)
    volunteering = certify(make, school, student, "volunteering", 5)
    url = f"{API}/students/{student.student_no}/progress"
    before = client.get(url, headers=make.token(student)).get_json()
    assert before["met"] is True and before["total"]["counted"] == 9.0
    revoked = client.post(f"{API}/participations/{volunteering.id}/revoke", headers=make.token(school.advisor),
                          json={"reason": "签到记录有误"})
    assert revoked.status_code == 200, revoked.get_json()
    after = client.get(url, headers=make.token(student)).get_json()
    assert after["total"]["counted"] == 4.0 and after["met"] is False
    assert after["modules"]["volunteering"]["met"] is False


def test_progress_counts_certified_claims_and_grades_each_year(client, make, session, school):
    from app.models import Claim

    put_rules(client, make, school.admin)
    student = school.students[0]
    certify(make, school, student, "ideology", 4, at=AUTUMN_2023)
    certify(make, school, student, "volunteering", 5, at=SPRING_2024)  # the same academic year
    certify(make, school, student, "ideology", 3, at=AUTUMN_2024)
    session.add(Claim(student_id=student.id, title="数学建模竞赛", module="innovation", level="national",
                      occurred_on=AUTUMN_2024.date(), hours=Decimal("4"), status="certified",
                      reviewed_by_id=school.advisor.id, reviewed_at=AUTUMN_2024))
    session.commit()
    body = client.get(f"{API}/students/{student.student_no}/progress", headers=make.token(student)).get_json()
    assert body["modules"]["innovation"]["counted"] == 4.0
    assert body["years"] == [
        {"year": "2023-2024", "hours": 9.0, "grade": "pass", "recorded_grade": None},
        {"year": "2024-2025", "hours": 7.0, "grade": "pass", "recorded_grade": None},
    ]
    assert body["years_passed"] == 2


def test_progress_without_rules_requires_nothing(client, make, school):
    student = school.students[0]
    certify(make, school, student, "ideology", 4)
    body = client.get(f"{API}/students/{student.student_no}/progress", headers=make.token(student)).get_json()
    assert body["rules_version"] is None and body["total"] == {"counted": 4.0, "required": 0.0, "met": True}


def test_a_student_cannot_read_someone_elses_progress(client, make, session, school):
    other = school.students[1]
    response = client.get(f"{API}/students/{other.student_no}/progress", headers=make.token(school.students[0]))
    assert response.status_code == 403
    with pytest.raises(Forbidden):
        progress.student_progress(session, school.students[0], other.student_no)


def test_an_organizer_sees_progress_only_in_scope(client, make, school):
    stranger = make.organizer(unit=make.unit())
    student = school.students[0]
    certify(make, school, student, "ideology", 2)
    url = f"{API}/students/{student.student_no}/progress"
    assert client.get(url, headers=make.token(stranger)).status_code == 403
    assert client.get(url, headers=make.token(school.advisor)).status_code == 200


# -- the requirements report -----------------------------------------------------------------


def test_report_lists_exactly_the_students_short_of_the_requirement(client, make, session, school):
    """Hand-computed: rules total 20 h, volunteering 4–10 h, ideology ≥ 2 h, one year ≥ 6 h.

    | student | ideology | volunteering | counted | met | short by |
    | A       | 4        | 18 → 10      | 14      | no  | 6        |
    | B       | 12       | 8            | 20      | yes | 0        |
    | C       | 0        | 3            | 3       | no  | 17       |
    | D (2024)| 30       | 0            | —       | not in the 2023 cohort              |
    """
    put_rules(client, make, school.admin)
    a, b, c = school.students
    for hours in (6, 6, 6):
        certify(make, school, a, "volunteering", hours)
    certify(make, school, a, "ideology", 4)
    certify(make, school, b, "ideology", 12)
    certify(make, school, b, "volunteering", 8)
    certify(make, school, c, "volunteering", 3)
    younger = make.student(school_class=make.school_class(school.unit, cohort=2024))
    certify(make, school, younger, "ideology", 30)
    headers = make.token(school.admin)
    short = client.get(f"{API}/reports/requirements?cohort=2023&met=false", headers=headers).get_json()
    assert [(r["student_no"], r["counted"], r["short_by"]) for r in short["items"]] == [
        (c.student_no, 3.0, 17.0), (a.student_no, 14.0, 6.0)]
    assert short["total"] == 2 and short["students"] == 3 and short["met_count"] == 1
    met = client.get(f"{API}/reports/requirements?cohort=2023&met=true", headers=headers).get_json()
    assert [(r["student_no"], r["counted"], r["required"], r["met"]) for r in met["items"]] == [
        (b.student_no, 20.0, 20.0, True)]
    by_name = client.get(f"{API}/reports/requirements?cohort=2023&sort=counted&desc=true", headers=headers).get_json()
    assert [r["student_no"] for r in by_name["items"]] == [b.student_no, a.student_no, c.student_no]
    elsewhere = client.get(f"{API}/reports/requirements?cohort=2023&unit_id={make.unit().id}",
                           headers=headers).get_json()
    assert elsewhere["items"] == []


def test_report_exports_csv_with_bom_and_xlsx(client, make, school):
    put_rules(client, make, school.admin)
    certify(make, school, school.students[0], "ideology", 4)
    headers = make.token(school.admin)
    response = client.get(f"{API}/reports/requirements?cohort=2023&format=csv", headers=headers)
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["学号", "姓名", "班级", "已计学时", "要求学时", "是否达标"]
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == {s.student_no for s in school.students}
    book = client.get(f"{API}/reports/requirements?cohort=2023&format=xlsx", headers=headers)
    sheet = load_workbook(io.BytesIO(book.data)).active
    assert sheet.max_row == 4 and sheet.cell(1, 1).value == "学号"


def test_an_organizer_reports_only_on_students_in_scope(client, make, school):
    put_rules(client, make, school.admin)
    other_unit = make.unit()
    outsider = make.student(school_class=make.school_class(other_unit, cohort=2023))
    body = client.get(f"{API}/reports/requirements?cohort=2023", headers=make.token(school.advisor)).get_json()
    numbers = {r["student_no"] for r in body["items"]}
    assert outsider.student_no not in numbers
    admin = client.get(f"{API}/reports/requirements?cohort=2023", headers=make.token(school.admin)).get_json()
    assert outsider.student_no in {r["student_no"] for r in admin["items"]}


def test_students_cannot_read_the_requirements_report(client, make, school):
    response = client.get(f"{API}/reports/requirements?cohort=2023", headers=make.token(school.students[0]))
    assert response.status_code == 403


def test_the_report_names_a_cohort_with_no_students(client, make, school):
    response = client.get(f"{API}/reports/requirements?cohort=2031", headers=make.token(school.admin))
    assert response.status_code == 422 and "cohort" in response.get_json()["error"]["fields"]


# -- the yearly certification ----------------------------------------------------------------


def test_year_end_writes_each_grade_once_and_audits_it(client, make, session, school):
    put_rules(client, make, school.admin)
    a, b, c = school.students
    certify(make, school, a, "ideology", 12, at=AUTUMN_2023)  # excellent
    certify(make, school, b, "ideology", 6, at=SPRING_2024)  # pass
    certify(make, school, c, "ideology", 6, at=AUTUMN_2024)  # another year: fail in 2023-2024
    run = client.post(f"{API}/year-end", headers=make.token(school.admin), json={"academic_year": "2023-2024"})
    assert run.status_code == 200, run.get_json()
    assert run.get_json() == {"academic_year": "2023-2024", "graded": 3, "changed": 3, "without_rules": 0,
                              "counts": {"excellent": 1, "pass": 1, "fail": 1}}
    grades = dict(session.execute(select(YearGrade.student_id, YearGrade.grade)).all())
    assert grades == {a.id: "excellent", b.id: "pass", c.id: "fail"}
    again = client.post(f"{API}/year-end", headers=make.token(school.admin), json={"academic_year": "2023-2024"})
    assert again.get_json()["changed"] == 0
    events = session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "grade.record")).scalar()
    assert events == 3
    listed = client.get(f"{API}/year-end/2023-2024?grade=fail", headers=make.token(school.admin)).get_json()
    assert [i["student_no"] for i in listed["items"]] == [c.student_no]
    assert listed["counts"] == {"excellent": 1, "pass": 1, "fail": 1}
    progress_body = client.get(f"{API}/students/{a.student_no}/progress", headers=make.token(a)).get_json()
    assert progress_body["years"][0]["recorded_grade"] == "excellent"


def test_year_end_regrades_a_student_whose_record_was_withdrawn(client, make, session, school):
    put_rules(client, make, school.admin)
    a = school.students[0]
    record = certify(make, school, a, "ideology", 7)
    year_end.run_year_end(session, school.admin, "2023-2024")
    session.commit()
    client.post(f"{API}/participations/{record.id}/revoke", headers=make.token(school.advisor),
                json={"reason": "重复记录"})
    result = year_end.run_year_end(session, school.admin, "2023-2024")
    session.commit()
    assert result.changed == 1
    assert session.execute(select(YearGrade.grade).where(YearGrade.student_id == a.id)).scalar() == "fail"
    last = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.record")
                           .order_by(AuditEvent.id.desc())).scalars().first()
    assert last.data["before"] == "pass" and last.data["grade"] == "fail"


@pytest.mark.parametrize("year", ["2023", "2023-2025", "3023-3024", ""])
def test_year_end_refuses_a_bad_academic_year(session, school, year):
    with pytest.raises(Invalid) as caught:
        year_end.run_year_end(session, school.admin, year)
    assert "academic_year" in caught.value.fields


@pytest.mark.parametrize("who", ["advisor", "student"])
def test_only_the_admin_runs_the_year_end(client, make, session, school, who):
    actor = {"advisor": school.advisor, "student": school.students[0]}[who]
    response = client.post(f"{API}/year-end", headers=make.token(actor), json={"academic_year": "2023-2024"})
    assert response.status_code == 403
    assert session.execute(select(func.count(YearGrade.id))).scalar() == 0


def test_the_command_line_runs_the_yearly_certification(app, make, session, school):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    session.commit()
    certify(make, school, school.students[0], "ideology", 12)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grades", "run", "2023-2024", "--cohort", "2023"])
    assert result.exit_code == 0, result.output
    assert "已认定 3 名学生" in result.output and "优秀" in result.output
    assert session.execute(select(func.count(YearGrade.id))).scalar() == 3
    refused = runner.invoke(args=["grades", "run", "2023"])
    assert refused.exit_code == 1 and "academic_year" in refused.output


# -- the transcript carries it ---------------------------------------------------------------


def issue_transcript(client, make, student):
    response = client.post(f"{API}/students/{student.student_no}/transcripts", headers=make.token(student))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def verify_page(client, link: str) -> str:
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}").get_data(as_text=True)


def test_the_transcript_says_whether_the_requirement_is_met_under_the_named_rules(client, make, school):
    put_rules(client, make, school.admin, body={**RULES, "total_min_hours": 8})
    student = school.students[0]
    certify(make, school, student, "ideology", 3)
    certify(make, school, student, "volunteering", 4, at=SPRING_2024)
    issued = issue_transcript(client, make, student)
    pdf = client.get(f"{API}/transcripts/{issued['serial']}/pdf", headers=make.token(student)).data
    text = squash(text_of(pdf))
    assert squash("未达到认定规则 2023 v1 的要求（已计 7.0 / 8.0 学时）") in text
    assert squash("Requirement not met under rule set 2023 v1 (counted 7.0 of 8.0 h)") in text
    assert squash("2023-2024 合格 Pass 7.0 h") in text and squash("Years passed: 1 of 1 required") in text
    verified = client.get(f"{API}/verify/{issued['serial']}").get_json()
    assert verified["requirement"] == {
        "rules": "2023 v1", "met": False, "counted": 7.0, "required": 8.0,
        "years": [{"year": "2023-2024", "hours": 7.0, "grade": "pass"}], "years_required": 1, "years_passed": 1}
    page = verify_page(client, issued["verify_url"])
    assert "未达到认定规则 2023 v1 的要求" in page and "2023-2024 合格 7.0 h" in page
    # the header names the class, whose cohort the rules are of
    assert f"<dt>班级</dt><dd>{school.klass.name}</dd>" in page
    assert squash(f"班级 Class {school.klass.name}") in text


def test_a_transcript_without_rules_says_nothing_of_a_requirement(client, make, school):
    student = school.students[0]
    certify(make, school, student, "ideology", 3)
    issued = issue_transcript(client, make, student)
    assert "requirement" not in client.get(f"{API}/verify/{issued['serial']}").get_json()
    assert "认定规则" not in verify_page(client, issued["verify_url"])
    pdf = client.get(f"{API}/transcripts/{issued['serial']}/pdf", headers=make.token(student)).data
    assert "Requirement" not in text_of(pdf)


def test_rule_change_does_not_change_issued_transcripts(client, make, session, school):
    put_rules(client, make, school.admin, body={**RULES, "total_min_hours": 8})
    student = school.students[0]
    certify(make, school, student, "ideology", 3)
    certify(make, school, student, "volunteering", 6)
    issued = issue_transcript(client, make, student)
    serial = issued["serial"]
    pdf_url = f"{API}/transcripts/{serial}/pdf"
    pdf_before = client.get(pdf_url, headers=make.token(student)).data
    json_before = client.get(f"{API}/verify/{serial}").get_json()
    page_before = verify_page(client, issued["verify_url"])
    assert json_before["requirement"]["rules"] == "2023 v1" and json_before["requirement"]["met"] is True
    # the office raises the bar, renames a module and adds one
    assert put_rules(client, make, school.admin, body={**RULES, "total_min_hours": 30}).get_json()["name"] == "2023 v2"
    assert client.patch(f"{API}/modules/volunteering", headers=make.token(school.admin),
                        json={"name_zh": "志愿服务", "name_en": "Volunteer service"}).status_code == 200
    assert client.post(f"{API}/modules", headers=make.token(school.admin),
                       json={"key": "labour", "name_zh": "劳动教育", "name_en": "Labour education"}).status_code == 201
    session.expire_all()
    session.info.clear()
    # what was issued reads exactly as before: the file, the JSON, the page (its module names too)
    assert client.get(pdf_url, headers=make.token(student)).data == pdf_before
    assert client.get(f"{API}/verify/{serial}").get_json() == json_before
    page_after = verify_page(client, issued["verify_url"])
    assert page_after == page_before and "志愿公益" in page_after and "志愿服务<" not in page_after
    assert "已达到认定规则 2023 v1 的要求" in page_after
    # a transcript issued now carries the new rules and names
    certify(make, school, student, "labour", 2)
    fresh = issue_transcript(client, make, student)
    text = squash(text_of(client.get(f"{API}/transcripts/{fresh['serial']}/pdf", headers=make.token(student)).data))
    assert squash("未达到认定规则 2023 v2 的要求（已计 11.0 / 30.0 学时）") in text
    assert squash("志愿服务 Volunteer service") in text and squash("劳动教育 Labour education") in text
    assert "3/8" in text  # modules used, of the office's eight
