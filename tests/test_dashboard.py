"""The school dashboard (#15, the office's view): participation rate per college and module in a term,
the hours distribution, the trend over terms and the attainment per cohort, as figures (service and
JSON) and as a page with server-drawn SVG charts, each followed by its data table. Every figure here
is computed by hand from the small school below."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Claim, Participation
from app.services import credit_rules, dashboard, requirements
from app.services.errors import Forbidden, Invalid
from tests.test_credit_rules import AUTUMN_2023, RULES, SPRING_2024, build_school, certify
from tests.test_web_transcripts import sign_in

API = "/api/v1"
AUTUMN = "2023-2024-1"
SPRING = "2023-2024-2"


def _claim(session: Session, school, student, module: str, hours: str, on: date) -> Claim:
    claim = Claim(student_id=student.id, title="校外竞赛", module=module, level="national", occurred_on=on,
                  hours=Decimal(hours), status="certified", reviewed_by_id=school.advisor.id,
                  reviewed_at=AUTUMN_2023)
    session.add(claim)
    session.commit()
    return claim


@pytest.fixture
def school(make, session):
    """College A: class 2023 (s0, s1, s2 and x, whose account is closed) and the leader L (no class);
    college B: class 2024 (t0, t1).

    Autumn 2023 (2023-2024-1): s0 volunteering 4 + 3; s1 volunteering 2, ideology 6; s2 a volunteering
    record not yet certified, a certified ideology claim of 5 h (November) and a culture claim of
    1 h (January, still the autumn term); t0 volunteering 10; x volunteering 4.
    Spring 2024 (2023-2024-2): t0 ideology 8.
    """
    s = build_school(make)
    s.x = make.student(school_class=s.klass)
    s.college_b = make.unit()
    s.klass_b = make.school_class(s.college_b, cohort=2024)
    s.t0, s.t1 = make.student(school_class=s.klass_b), make.student(school_class=s.klass_b)
    s0, s1, s2 = s.students
    certify(make, s, s0, "volunteering", 4)
    certify(make, s, s0, "volunteering", 3)
    certify(make, s, s1, "volunteering", 2)
    certify(make, s, s1, "ideology", 6)
    pending = make.activity(s.club, module="volunteering", hours="4", starts_at=AUTUMN_2023, status="completed")
    make.participation(pending, s2)
    _claim(session, s, s2, "ideology", "5", date(2023, 11, 5))
    _claim(session, s, s2, "culture_sports", "1", date(2024, 1, 15))
    certify(make, s, s.t0, "volunteering", 10)
    certify(make, s, s.t0, "ideology", 8, at=SPRING_2024)
    certify(make, s, s.x, "volunteering", 4)
    s.x.active = False
    session.commit()
    return s


def test_participation_rate_counts_each_student_once_per_college_and_module(session, school):
    found = dashboard.school_dashboard(session, school.admin, AUTUMN)
    rows = {c.unit_id: c for c in found.colleges}
    a, b = rows[school.unit.id], rows[school.college_b.id]
    # A: s0, s1, s2 and L are active (x is not): s0's two records are one participant.
    assert a.students == 4 and b.students == 2
    assert a.participants["volunteering"] == 2 and a.rate("volunteering") == 50.0
    assert a.participants["ideology"] == 2 and a.rate("ideology") == 50.0  # s1's record, s2's claim
    assert a.rate("culture_sports") == 25.0  # a claim of January belongs to the autumn term
    assert a.rate("practice") == 0.0 and a.level("practice") == 0 and a.level("volunteering") == 3
    assert b.rate("volunteering") == 50.0 and b.rate("ideology") == 0.0
    assert list(a.participants) == [m.key for m in found.modules]
    spring = {c.unit_id: c for c in dashboard.school_dashboard(session, school.admin, SPRING).colleges}
    assert spring[school.college_b.id].rate("ideology") == 50.0
    assert spring[school.unit.id].rate("volunteering") == 0.0


def test_hours_distribution_puts_every_student_in_one_bin(session, school):
    found = dashboard.school_dashboard(session, school.admin, AUTUMN)
    # active students' totals: s0 7, s1 8, s2 6 (5 + 1; the pending record does not count), L 0,
    # t0 18, t1 0; x is closed. A bin holds low <= hours < high, so s1's 8 h is in 8–16.
    assert [(b.label, b.students) for b in found.hours_bins] == [
        ("0", 2), ("0\u20138", 2), ("8\u201316", 1), ("16\u201324", 1), ("24\u201332", 0), ("32\u201340", 0),
        ("40+", 0)]
    assert found.students == sum(b.students for b in found.hours_bins) == 6
    assert found.hours_bins[0].share == round(100 * 2 / 6, 1)


def test_trend_follows_certified_hours_per_term(session, school):
    found = dashboard.school_dashboard(session, school.admin, SPRING)
    assert found.terms == ["2021-2022-1", "2021-2022-2", "2022-2023-1", "2022-2023-2", AUTUMN, SPRING]
    trend = {p.term: (p.hours, p.students) for p in found.trend}
    # autumn: 4 + 3 + 2 + 6 + 5 + 1 + 10 + 4 (x's record is the term's, closed account or not)
    assert trend[AUTUMN] == (Decimal("35.0"), 5)
    assert trend[SPRING] == (Decimal("8.0"), 1)
    assert trend["2021-2022-1"] == (Decimal("0.0"), 0)
    assert found.this_term.term == SPRING and AUTUMN in found.term_choices


def test_a_revoked_record_leaves_every_figure(session, school):
    record = session.execute(select(Participation).where(
        Participation.student_id == school.t0.id, Participation.hours == Decimal("10"))).scalar_one()
    record.status = "revoked"
    session.commit()
    found = dashboard.school_dashboard(session, school.admin, AUTUMN)
    assert {c.unit_id: c for c in found.colleges}[school.college_b.id].rate("volunteering") == 0.0
    assert found.this_term.hours == Decimal("25.0") and found.this_term.students == 4
    assert [b.students for b in found.hours_bins[:4]] == [2, 2, 2, 0]  # t0: the 8 h of spring are left


def test_attainment_rate_per_cohort_matches_the_requirements_report(session, school, make):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    credit_rules.set_rules(session, school.admin, 2024, {**RULES, "total_min_hours": 10,
                                                          "modules": {"volunteering": {"min_hours": 4}}})
    session.commit()
    certify(make, school, school.students[0], "ideology", 13, at=SPRING_2024)  # s0: 7 + 13 = 20, met
    found = dashboard.school_dashboard(session, school.admin, AUTUMN)
    # 2023: s0, s1, s2 and x (the report counts every student of the cohort's classes); s0 meets.
    # 2024: t0 (10 + 8 = 18 of 10) meets, t1 does not.
    assert [(c.cohort, c.students, c.met, c.rate) for c in found.cohorts] == [(2023, 4, 1, 25.0), (2024, 2, 1, 50.0)]
    for c in found.cohorts:
        report = requirements.report(session, school.admin, cohort=c.cohort)
        assert (c.students, c.met) == (report.students, report.met_count)


def test_dashboard_is_for_the_office_only(client, make, session, school):
    for who in (school.advisor, school.leader, school.students[0]):
        with pytest.raises(Forbidden):
            dashboard.school_dashboard(session, who)
        assert client.get(f"{API}/reports/dashboard", headers=make.token(who)).status_code == 403
    assert client.get(f"{API}/reports/dashboard").status_code == 401
    sign_in(client, school.advisor)
    assert client.get("/reports/dashboard").status_code == 403


def test_a_malformed_term_is_refused_by_name(client, make, session, school):
    with pytest.raises(Invalid):
        dashboard.school_dashboard(session, school.admin, "2023-1")
    answer = client.get(f"{API}/reports/dashboard?term=2023-2025-1", headers=make.token(school.admin))
    assert answer.status_code == 422 and "term" in answer.get_json()["error"]["fields"]
    sign_in(client, school.admin)
    page = client.get("/reports/dashboard?term=soon")
    assert page.status_code == 422 and 'role="alert"' in page.get_data(as_text=True)


def test_the_dashboard_json_gives_the_same_figures(client, make, school):
    answer = client.get(f"{API}/reports/dashboard?term={AUTUMN}", headers=make.token(school.admin))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["term"] == AUTUMN and body["terms"][-1] == AUTUMN and body["students"] == 6
    assert body["modules"][0] == {"key": "ideology", "name": body["modules"][0]["name"]}
    college = next(c for c in body["participation"] if c["unit_id"] == school.unit.id)
    assert college["students"] == 4 and college["college"] == school.unit.name
    assert college["modules"]["volunteering"] == {"participants": 2, "rate": 50.0}
    assert college["modules"]["culture_sports"] == {"participants": 1, "rate": 25.0}
    assert body["hours_distribution"][2] == {"low": 8, "high": 16, "label": "8\u201316", "students": 1,
                                             "share": round(100 / 6, 1)}
    assert body["hours_distribution"][-1]["high"] is None
    assert body["trend"][-1] == {"term": AUTUMN, "hours": 35.0, "students": 5}
    assert body["attainment"] == []  # no cohort has rules yet


def test_dashboard_page_renders_svg_charts(client, session, school):
    credit_rules.set_rules(session, school.admin, 2023, RULES)
    session.commit()
    sign_in(client, school.admin)
    answer = client.get(f"/reports/dashboard?term={AUTUMN}&lang=en")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    charts = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="(chart-[a-z]+)" role="img" viewBox="[^"]+"',
                        page)
    assert charts == ["chart-distribution", "chart-trend", "chart-attainment"]
    main = page.split("<main")[1].split("</main>")[0]
    assert main.count("<title>") == 3 and main.count("aria-label=") == 3
    assert "<script" not in main  # nothing drawn by script
    # the heat map: college A's volunteering cell, shaded, with its rate
    assert re.search(r'<td class="h h3" data-module="volunteering"[^>]*>50%</td>', page)
    # each chart's data table: the 8–16 bin, the autumn term, the 2023 cohort
    assert re.search(r"<th scope=\"row\">8\u201316</th><td class=\"num\">1</td>", page)
    assert re.search(rf"<th scope=\"row\">{AUTUMN}</th><td class=\"num\">35(\.0)?</td><td class=\"num\">5</td>", page)
    assert "Cohort 2023" in page and 'data-value="35"' in page
    assert f'<option value="{AUTUMN}" selected>' in page
    assert 'href="/reports/dashboard"' in page  # the admin's menu


def test_the_dashboard_asks_the_same_number_of_queries_for_more_students(session, school, make, count_queries):
    dashboard.school_dashboard(session, school.admin, AUTUMN)  # the module list is read once per session
    with count_queries() as before:
        dashboard.school_dashboard(session, school.admin, AUTUMN)
    for _ in range(5):
        student = make.student(school_class=school.klass)
        certify(make, school, student, "volunteering", 2)
    session.expire_all()
    assert school.admin.role == "admin"  # loaded again before counting
    with count_queries() as after:
        dashboard.school_dashboard(session, school.admin, AUTUMN)
    assert after.count == before.count
