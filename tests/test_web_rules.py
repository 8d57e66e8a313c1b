"""The credit-rule pages, as a browser posts them: the office sets a cohort's rules and its modules,
a student reads their progress, the office lists who meets the rules and runs the yearly grades."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import CreditModule, RuleSet, YearGrade
from app.services import credit_rules
from tests.test_credit_rules import AUTUMN_2023, RULES, build_school, certify
from tests.test_web_transcripts import sign_in


@pytest.fixture
def school(make):
    return build_school(make)


FORM = {"total_min_hours": "20", "pass_hours": "6", "excellent_hours": "12", "years_required": "1",
        "volunteering_min": "4", "volunteering_max": "10", "ideology_min": "2"}


def test_the_office_sets_a_cohorts_rules_on_the_page(client, session, school):
    sign_in(client, school.admin)
    assert "2023" in client.get("/admin/rules").get_data(as_text=True)
    answer = client.post("/admin/rules/2023", data=FORM)
    assert answer.status_code == 302
    saved = credit_rules.current_rules(session, 2023)
    assert saved.version == 1 and saved.modules == {"ideology": {"min_hours": "2.0"},
                                                    "volunteering": {"min_hours": "4.0", "max_hours": "10.0"}}
    page = client.get("/admin/rules/2023").get_data(as_text=True)
    assert 'value="20.0"' in page and "2023 v1" in page


def test_a_minimum_above_the_cap_stays_on_the_form_named_and_saves_nothing(client, session, school):
    sign_in(client, school.admin)
    answer = client.post("/admin/rules/2023", data={**FORM, "volunteering_min": "12"})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "高于该模块的上限" in page and 'id="volunteering_min-msg"' in page
    assert session.execute(select(func.count(RuleSet.id))).scalar() == 0


def test_the_office_adds_and_renames_modules_on_the_page(client, session, school):
    sign_in(client, school.admin)
    added = client.post("/admin/rules", data={"key": "labour", "name_zh": "劳动教育", "name_en": "Labour education"})
    assert added.status_code == 302
    renamed = client.post("/admin/modules/volunteering", data={"m-volunteering-name_zh": "志愿服务",
                                                                "m-volunteering-name_en": "Volunteer service"})
    assert renamed.status_code == 302
    assert {m.key for m in session.execute(select(CreditModule)).scalars()} == {"labour", "volunteering"}
    page = client.get("/admin/rules/2023").get_data(as_text=True)
    assert "劳动教育" in page and "志愿服务" in page and 'name="labour_min"' in page


def test_a_student_sees_the_hours_to_go_per_module(client, session, school):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    session.commit()
    student = school.students[0]
    sign_in(client, student)
    page = client.get(f"/students/{student.student_no}/progress").get_data(as_text=True)
    assert "2023 v1" in page and "还差 20.0 学时" in page  # total
    assert "还差 4.0 学时" in page  # volunteering


def test_a_student_cannot_open_someone_elses_progress_page(client, school):
    sign_in(client, school.students[0])
    assert client.get(f"/students/{school.students[1].student_no}/progress").status_code == 403


def test_the_requirements_page_lists_those_short_and_exports(client, make, session, school):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    session.commit()
    for _ in range(4):
        certify(make, school, school.students[0], "ideology", 6)
    certify(make, school, school.students[0], "volunteering", 4)
    sign_in(client, school.admin)
    page = client.get("/reports/requirements?cohort=2023&met=no").get_data(as_text=True)
    assert school.students[1].student_no in page and school.students[0].student_no not in page
    assert "1 / 3" in page
    csv = client.get("/reports/requirements.csv?cohort=2023")
    assert csv.status_code == 200 and csv.data.startswith("\ufeff".encode())
    assert "attachment" in csv.headers["Content-Disposition"]


def test_students_cannot_open_the_requirements_page(client, school):
    sign_in(client, school.students[0])
    assert client.get("/reports/requirements?cohort=2023").status_code == 403


def test_the_office_runs_the_yearly_certification_on_the_page(client, make, session, school):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    session.commit()
    certify(make, school, school.students[0], "ideology", 12, at=AUTUMN_2023)
    sign_in(client, school.admin)
    answer = client.post("/admin/year-end", data={"academic_year": "2023-2024", "cohort": "2023"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert session.execute(select(func.count(YearGrade.id))).scalar() == 3
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert school.students[0].student_no in page and "优秀" in page


@pytest.mark.parametrize("who", ["advisor", "student"])
def test_only_the_office_opens_the_rule_and_year_end_pages(client, school, who):
    sign_in(client, school.advisor if who == "advisor" else school.students[0])
    assert client.get("/admin/rules").status_code == 403
    assert client.get("/admin/rules/2023").status_code == 403
    assert client.get("/admin/year-end").status_code == 403
