"""Every home page shows one page of each list and reads a bounded number of statements (#17).

At a big school the office's queues hold thousands of activities and a graduating student has
hundreds of records. Each page below is opened with a few rows waiting and with more than a
page of them: the statements sent (the whole request: the sign-in's session and the menu's
unread count included) are the same bound both times, only one page of rows is in the HTML,
the total is shown, the next page shows the next rows, and a wrong page number still answers.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.models import ActivityStatus, ClubStatus, ParticipationStatus
from app.services.pages import PER_PAGE
from app.timeutil import utcnow
from tests.factories import PASSWORD

# The statements of one request of each page, whatever the rows waiting.
OFFICE_HOME_STATEMENTS = 11
ORGANIZER_HOME_STATEMENTS = 9
LEADER_HOME_STATEMENTS = 8
STUDENT_HOME_STATEMENTS = 12
RECORDS_API_STATEMENTS = 7
FEW, MANY = 3, PER_PAGE * 3  # MANY: three pages
WRONG_PAGES = ("0", "-1", "x", "2.5", "", "9" * 30)


def sign_in(client, user) -> None:
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def opened(client, count_queries, url: str) -> tuple[str, int]:
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True), counted.count


def shown(html: str, prefix: str) -> list[str]:
    """The rows of one list: the titles (all starting with `prefix`) in the page, in order."""
    return re.findall(rf"{prefix}\d{{3}}", html)


def in_all(total: int) -> str:
    return f"共 {total} 条"


# ---- the queues: plans awaiting approval, records awaiting sign-off -------------------------

def queues(make, w, n: int) -> None:
    """n plans submitted (the oldest first in the queue) and n ended activities with a record waiting."""
    now = utcnow()
    for i in range(n):
        make.activity(w.club, status=ActivityStatus.SUBMITTED, title=f"待批计划{i:03d}",
                      starts_at=now + timedelta(days=30), submitted_at=now - timedelta(hours=n - i))
        ended = make.activity(w.club, status=ActivityStatus.COMPLETED, title=f"待签活动{i:03d}",
                              starts_at=now - timedelta(days=200 - i))
        make.participation(ended, w.students[i % 2])


def approvals_on(html: str) -> list[str]:
    return shown(html, "待批计划")


def signoffs_on(html: str) -> list[str]:
    return shown(html, "待签活动")


@pytest.mark.parametrize("rows", [FEW, MANY])
def test_office_home_reads_the_same_statements_for_a_few_or_many_waiting(client, make, count_queries, rows):
    w = make.world()
    queues(make, w, rows)
    sign_in(client, w.admin)
    client.get("/admin")  # the first request reads the office's module list once
    html, statements = opened(client, count_queries, "/admin")
    assert statements == OFFICE_HOME_STATEMENTS
    assert len(approvals_on(html)) == len(signoffs_on(html)) == min(rows, PER_PAGE)


def test_office_home_shows_one_page_of_sign_off_queue_with_the_total(client, make, count_queries):
    w = make.world()
    queues(make, w, MANY)
    sign_in(client, w.admin)
    html, _ = opened(client, count_queries, "/admin")
    assert signoffs_on(html) == [f"待签活动{i:03d}" for i in range(PER_PAGE)]  # the oldest first
    assert approvals_on(html) == [f"待批计划{i:03d}" for i in range(PER_PAGE)]
    assert f"{MANY} 条" in html  # the records waiting over the whole queue
    assert f"{MANY} 项" in html  # the plans waiting
    assert html.count(in_all(MANY)) == 2  # each queue's pager
    assert 'href="/admin?signoff=2#signoff"' in html and 'href="/admin?approvals=2#approvals"' in html


def test_office_home_pages_each_queue_on_its_own(client, make, count_queries):
    w = make.world()
    queues(make, w, MANY)
    sign_in(client, w.admin)
    client.get("/admin")
    html, statements = opened(client, count_queries, "/admin?signoff=2&approvals=3")
    assert statements == OFFICE_HOME_STATEMENTS
    assert signoffs_on(html) == [f"待签活动{i:03d}" for i in range(PER_PAGE, 2 * PER_PAGE)]
    assert approvals_on(html) == [f"待批计划{i:03d}" for i in range(2 * PER_PAGE, 3 * PER_PAGE)]
    # The other queue's page is kept in the links of one.
    assert 'href="/admin?signoff=3&amp;approvals=3#signoff"' in html


@pytest.mark.parametrize("wrong", WRONG_PAGES)
def test_a_wrong_page_number_shows_the_first_or_last_page(client, make, wrong):
    w = make.world()
    queues(make, w, PER_PAGE + 2)
    sign_in(client, w.admin)
    response = client.get(f"/admin?signoff={wrong}&approvals={wrong}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    past_the_end = wrong == "9" * 30
    expected = ["待签活动020", "待签活动021"] if past_the_end else [f"待签活动{i:03d}" for i in range(PER_PAGE)]
    assert signoffs_on(html) == expected


def test_plans_of_a_suspended_club_leave_no_gap_in_a_page_of_the_queue(client, make, count_queries):
    w = make.world()
    suspended = make.club(advisors=[w.advisor], leaders=[w.leader], unit=w.unit)
    now = utcnow()
    for i in range(PER_PAGE + 5):  # older than every plan of the running club: first in the queue
        make.activity(suspended, status=ActivityStatus.SUBMITTED, title=f"停办计划{i:03d}",
                      starts_at=now + timedelta(days=30), submitted_at=now - timedelta(days=10))
    suspended.status = ClubStatus.SUSPENDED
    make.session.commit()
    queues(make, w, MANY)
    sign_in(client, w.advisor)
    html, _ = opened(client, count_queries, "/organizer")
    assert not shown(html, "停办计划")
    assert approvals_on(html) == [f"待批计划{i:03d}" for i in range(PER_PAGE)]
    assert f"{MANY} 项" in html


@pytest.mark.parametrize("rows", [FEW, MANY])
def test_organizer_home_reads_the_same_statements_for_a_few_or_many_waiting(client, make, count_queries, rows):
    w = make.world()
    queues(make, w, rows)
    other = make.club(advisors=[make.organizer()], leaders=[make.leader()])
    make.activity(other, status=ActivityStatus.SUBMITTED, title="别社计划999")
    sign_in(client, w.advisor)
    client.get("/organizer")
    html, statements = opened(client, count_queries, "/organizer")
    assert statements == ORGANIZER_HOME_STATEMENTS
    assert len(approvals_on(html)) == len(signoffs_on(html)) == min(rows, PER_PAGE)
    assert "别社计划" not in html


def test_organizer_home_shows_one_page_of_each_queue_and_the_next_on_request(client, make, count_queries):
    w = make.world()
    queues(make, w, MANY)
    sign_in(client, w.advisor)
    html, _ = opened(client, count_queries, "/organizer")
    assert signoffs_on(html) == [f"待签活动{i:03d}" for i in range(PER_PAGE)]
    assert html.count(in_all(MANY)) == 2
    html, _ = opened(client, count_queries, "/organizer?signoff=3&approvals=x")
    assert signoffs_on(html) == [f"待签活动{i:03d}" for i in range(2 * PER_PAGE, 3 * PER_PAGE)]
    assert approvals_on(html) == [f"待批计划{i:03d}" for i in range(PER_PAGE)]
    assert 'rel="next"' in html and 'href="/organizer?signoff=2&amp;approvals=x#signoff"' in html


def test_organizer_home_pages_the_clubs_they_advise(client, make, count_queries):
    organizer = make.organizer()
    unit = make.unit()
    for i in range(PER_PAGE + 3):
        make.club(advisors=[organizer], unit=unit, name=f"顾问社团{i:03d}")
    sign_in(client, organizer)
    html, statements = opened(client, count_queries, "/organizer")
    assert statements <= ORGANIZER_HOME_STATEMENTS
    assert shown(html, "顾问社团") == [f"顾问社团{i:03d}" for i in range(PER_PAGE)]
    assert in_all(PER_PAGE + 3) in html
    html, _ = opened(client, count_queries, "/organizer?clubs=2")
    assert shown(html, "顾问社团") == [f"顾问社团{i:03d}" for i in range(PER_PAGE, PER_PAGE + 3)]


def test_the_daily_digest_counts_the_whole_queues(make, session):
    from app.services.notifications import waiting_for

    w = make.world()
    queues(make, w, PER_PAGE + 4)
    counted = waiting_for(session, w.advisor)
    assert counted["plans"] == PER_PAGE + 4 and counted["records"] == PER_PAGE + 4


# ---- the leader's home ---------------------------------------------------------------------

def plans(make, w, n: int) -> None:
    """n activities of the leader's club, the newest first on the page (title 000)."""
    now = utcnow()
    for i in range(n):
        activity = make.activity(w.club, title=f"社团活动{i:03d}", starts_at=now + timedelta(days=n - i))
        make.participation(activity, w.students[0], status=ParticipationStatus.CERTIFIED)


@pytest.mark.parametrize("rows", [FEW, MANY])
def test_leader_home_reads_the_same_statements_for_a_few_or_many_activities(client, make, count_queries, rows):
    w = make.world()
    plans(make, w, rows)
    sign_in(client, w.leader)
    client.get("/leader")
    html, statements = opened(client, count_queries, "/leader")
    assert statements == LEADER_HOME_STATEMENTS
    assert len(shown(html, "社团活动")) == min(rows, PER_PAGE)


def test_leader_home_shows_one_page_of_activities_with_the_total(client, make, count_queries):
    w = make.world()
    plans(make, w, MANY)
    sign_in(client, w.leader)
    html, _ = opened(client, count_queries, "/leader")
    assert shown(html, "社团活动") == [f"社团活动{i:03d}" for i in range(PER_PAGE)]
    assert in_all(MANY + 1) in html  # and the world's own activity
    html, _ = opened(client, count_queries, "/leader?page=2")
    assert shown(html, "社团活动") == [f"社团活动{i:03d}" for i in range(PER_PAGE, 2 * PER_PAGE)]
    for wrong in WRONG_PAGES:
        assert client.get(f"/leader?page={wrong}").status_code == 200


# ---- the student's home --------------------------------------------------------------------

def history(make, w, n: int) -> None:
    """n records of the student, every third rejected (an appeal is offered for each)."""
    now = utcnow()
    student = w.students[0]
    for i in range(n):
        activity = make.activity(w.club, title=f"参与活动{i:03d}", starts_at=now - timedelta(days=i + 1))
        status = ParticipationStatus.REJECTED if i % 3 == 0 else ParticipationStatus.CERTIFIED
        record = make.participation(activity, student, status=status, award="优秀" if i % 2 else None)
        if status == ParticipationStatus.REJECTED:
            record.rejected_at, record.reject_reason = now, "名单有误"
    make.session.commit()


@pytest.mark.parametrize("rows", [FEW, MANY])
def test_student_home_reads_the_same_statements_for_a_few_or_many_records(client, make, count_queries, rows):
    w = make.world()
    history(make, w, rows)
    sign_in(client, w.students[0])
    client.get("/me")
    html, statements = opened(client, count_queries, "/me")
    assert statements == STUDENT_HOME_STATEMENTS
    assert len(shown(html, "参与活动")) == min(rows, PER_PAGE)


def test_student_home_shows_one_page_of_records_and_sums_them_all(client, make, count_queries):
    w = make.world()
    history(make, w, MANY)
    sign_in(client, w.students[0])
    html, _ = opened(client, count_queries, "/me")
    assert shown(html, "参与活动") == [f"参与活动{i:03d}" for i in range(PER_PAGE)]
    assert in_all(MANY) in html
    certified = [i for i in range(MANY) if i % 3]
    # The certified hours and activities count every record, not only the page's.
    assert f"<strong>{len(certified) * 4}.0</strong>" in html
    assert f"<strong>{len(certified)}</strong>" in html
    assert f"<strong>{sum(1 for i in certified if i % 2)}</strong>" in html  # awards
    rejected_on_page = sum(1 for i in range(PER_PAGE) if i % 3 == 0)
    assert html.count("/appeals/new?participation_id=") == rejected_on_page
    html, _ = opened(client, count_queries, "/me?records=2")
    assert shown(html, "参与活动") == [f"参与活动{i:03d}" for i in range(PER_PAGE, 2 * PER_PAGE)]
    for wrong in WRONG_PAGES:
        assert client.get(f"/me?records={wrong}&transcripts={wrong}").status_code == 200


@pytest.mark.parametrize("rows", [FEW, MANY])
def test_a_students_records_in_the_api_are_one_page_with_the_hours_of_all(client, make, count_queries, rows):
    w = make.world()
    history(make, w, rows)
    student, token = w.students[0], make.token(w.students[0])
    url = f"/api/v1/students/{student.student_no}/records?per_page={PER_PAGE}"
    client.get(url, headers=token)
    with count_queries() as counted:
        body = client.get(url, headers=token).get_json()
    assert counted.count == RECORDS_API_STATEMENTS
    assert len(body["items"]) == min(rows, PER_PAGE) and body["total"] == rows
    assert body["total_certified_hours"] == 4 * sum(1 for i in range(rows) if i % 3)
    second = client.get(url + "&page=2", headers=token).get_json()
    expected = [f"参与活动{i:03d}" for i in range(PER_PAGE, min(rows, 2 * PER_PAGE))]
    assert [r["activity"] for r in second["items"]] == expected  # past the end: empty
    assert client.get(url + "&page=0", headers=token).status_code == 422
