"""An organizer's scope: the clubs they advise and, for a college League secretary (院团委), the
clubs and students of that college. Inside it they approve, sign off and read records; outside
it they get 403 and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from app.models import Activity, AuditEvent, Membership, Participation
from tests.test_web_auth import sign_in

API = "/api/v1"
PAST = datetime(2026, 10, 10, 1, 0, tzinfo=UTC)


def audit_count(session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def status(session, model, row_id):
    session.expire_all()
    return session.get(model, row_id).status


class College:
    """Two colleges, a club in each with its own advisor and leader; a 院团委 secretary of the first."""

    def __init__(self, make, session):
        self.cs, self.econ = make.unit(code="CS", name="计算机学院"), make.unit(code="ECON", name="经管学院")
        self.secretary = make.organizer(unit=self.cs, name="院团委书记")
        self.secretary.scope_unit_id = self.cs.id
        session.commit()
        self.cs_club = make.club(advisors=[make.organizer(unit=self.cs)], leaders=[make.leader(unit=self.cs)],
                                 unit=self.cs, name="机器人创新社")
        self.econ_club = make.club(advisors=[make.organizer(unit=self.econ)], leaders=[make.leader(unit=self.econ)],
                                   unit=self.econ, name="创业俱乐部")
        self.cs_plan = make.activity(self.cs_club, status="submitted", title="机器人竞赛备赛")
        self.econ_plan = make.activity(self.econ_club, status="submitted", title="创业计划书工作坊")
        self.cs_done = make.activity(self.cs_club, starts_at=PAST, title="挑战杯路演")
        self.econ_done = make.activity(self.econ_club, starts_at=PAST, title="企业参访")
        self.cs_student = make.student(unit=self.cs)
        self.econ_student = make.student(unit=self.econ)
        self.econ_in_cs_club = make.student(unit=self.econ)
        self.cs_record = make.participation(self.cs_done, self.econ_in_cs_club)
        self.econ_record = make.participation(self.econ_done, self.econ_student)
        self.econ_certified = make.participation(self.econ_done, make.student(unit=self.econ), status="certified")


def test_college_organizer_sees_only_their_college(client, make, session):
    c = College(make, session)
    h = make.token(c.secretary)

    # the sign-off queue and the approvals on the home page: the college's clubs only
    sign_in(client, c.secretary)
    home = client.get("/organizer").get_data(as_text=True)
    assert "机器人竞赛备赛" in home and "挑战杯路演" in home and "机器人创新社" in home
    assert "创业计划书工作坊" not in home and "企业参访" not in home and "创业俱乐部" not in home
    assert client.get(f"/activities/{c.cs_done.id}/signoff").status_code == 200
    assert client.get(f"/activities/{c.econ_done.id}/signoff").status_code == 403
    assert client.get(f"/clubs/{c.cs_club.id}").status_code == 200

    # the other college: 403 and nothing changed
    before = audit_count(session)
    assert client.post(f"{API}/activities/{c.econ_plan.id}/approve", headers=h).status_code == 403
    assert client.post(f"{API}/activities/{c.econ_done.id}/certify", headers=h, json={}).status_code == 403
    assert client.post(f"{API}/participations/{c.econ_record.id}/reject", headers=h,
                       json={"reason": "未到场"}).status_code == 403
    assert client.post(f"{API}/participations/{c.econ_certified.id}/revoke", headers=h,
                       json={"reason": "材料造假"}).status_code == 403
    assert client.get(f"{API}/activities/{c.econ_done.id}/participations", headers=h).status_code == 403
    assert client.get(f"{API}/clubs/{c.econ_club.id}/scorecard", headers=h).status_code == 403
    assert client.get(f"{API}/students/{c.econ_student.student_no}/records", headers=h).status_code == 403
    assert client.get(f"{API}/clubs/{c.econ_club.id}/members", headers=h).status_code == 403
    assert status(session, Activity, c.econ_plan.id) == "submitted"
    assert status(session, Participation, c.econ_record.id) == "recorded"
    assert status(session, Participation, c.econ_certified.id) == "certified"
    assert audit_count(session) == before

    # their own college: yes
    assert client.post(f"{API}/activities/{c.cs_plan.id}/approve", headers=h).status_code == 200
    assert status(session, Activity, c.cs_plan.id) == "approved"
    certified = client.post(f"{API}/activities/{c.cs_done.id}/certify", headers=h, json={})
    assert certified.status_code == 200 and certified.get_json()["certified"] == 1
    assert session.get(Participation, c.cs_record.id).certified_by_id == c.secretary.id
    assert client.get(f"{API}/activities/{c.cs_done.id}/participations", headers=h).status_code == 200
    assert client.get(f"{API}/clubs/{c.cs_club.id}/scorecard", headers=h).status_code == 200
    assert client.get(f"{API}/clubs/{c.cs_club.id}/members", headers=h).status_code == 200
    for student in (c.cs_student, c.econ_in_cs_club):  # of the college; or in one of its clubs' activities
        r = client.get(f"{API}/students/{student.student_no}/records", headers=h)
        assert r.status_code == 200, r.get_json()

    # the scorecards page ranks the college's clubs only (the school's ranking stays the admin's)
    assert client.get(f"{API}/scorecards", headers=h).status_code == 403
    page = client.get("/scorecards").get_data(as_text=True)
    assert "机器人创新社" in page and "创业俱乐部" not in page

    # overseeing is not advising: the college's clubs' leaders are appointed by their advisors
    assert client.put(f"{API}/clubs/{c.cs_club.id}/leaders", headers=h,
                      json={"student_nos": [c.cs_student.student_no]}).status_code == 403


def test_organizer_cannot_read_a_student_outside_their_scope(client, make, session):
    w = make.world()
    other = make.club(advisors=[make.organizer(unit=w.unit)], unit=w.unit)
    on_roster, took_part, stranger, elsewhere = (make.student(unit=w.unit) for _ in range(4))
    session.add(Membership(club_id=w.club.id, user_id=on_roster.id, term="2025-2026-2", role="成员"))
    session.add(Membership(club_id=other.id, user_id=elsewhere.id, term="2026-2027-1", role="成员"))
    session.commit()
    make.participation(w.activity, took_part, status="rejected")
    make.participation(make.activity(other), elsewhere, status="certified")
    h = make.token(w.advisor)

    def read(student):
        return client.get(f"{API}/students/{student.student_no}/records", headers=h)

    assert read(on_roster).status_code == 200
    assert read(took_part).status_code == 200
    assert read(w.leader).status_code == 200  # leads the club they advise
    for outside in (stranger, elsewhere):
        r = read(outside)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    # the college's secretary reaches every student of the college, however unrelated
    secretary = make.organizer()
    secretary.scope_unit_id = w.unit.id
    session.commit()
    r = client.get(f"{API}/students/{stranger.student_no}/records", headers=make.token(secretary))
    assert r.status_code == 200 and r.get_json()["items"] == []
    # the admin and the student themself as before; another student not
    assert client.get(f"{API}/students/{stranger.student_no}/records", headers=make.token(w.admin)).status_code == 200
    assert client.get(f"{API}/students/{stranger.student_no}/records", headers=make.token(stranger)).status_code == 200
    assert client.get(f"{API}/students/{stranger.student_no}/records",
                      headers=make.token(on_roster)).status_code == 403
    assert client.get(f"{API}/students/20990000/records", headers=h).status_code == 404


def test_organizer_home_names_the_college_they_oversee(client, make, session):
    c = College(make, session)
    sign_in(client, c.secretary)
    html = client.get("/organizer").get_data(as_text=True)
    assert "计算机学院" in html and f"{c.cs.name}的社团" in html  # "Clubs of <the college>"
    assert "我指导的社团" not in html  # "Clubs I advise": advises nothing themself
    plain = make.organizer(unit=c.cs)
    client.post("/logout")
    sign_in(client, plain)
    html = client.get("/organizer").get_data(as_text=True)
    assert f"{c.cs.name}的社团" not in html and "机器人竞赛备赛" not in html


def test_demo_school_has_a_college_secretary_and_a_handover(app, session, client):
    from app.services.demo import DEMO_PASSWORD

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    logins = runner.invoke(args=["demo-logins"])
    assert logins.exit_code == 0 and "cs.tuanwei" in logins.output
    from app.models import Club, Unit, User

    secretary = session.execute(select(User).where(User.username == "cs.tuanwei")).scalar_one()
    cs = session.execute(select(Unit).where(Unit.code == "CS")).scalar_one()
    assert secretary.role == "organizer" and secretary.scope_unit_id == cs.id
    signed_in = client.post("/login", data={"username": "cs.tuanwei", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    home = client.get("/organizer").get_data(as_text=True)
    cs_clubs = session.execute(select(Club.name).where(Club.unit_id == cs.id)).scalars().all()
    assert cs_clubs and all(name in home for name in cs_clubs)
    assert "青年志愿者协会" not in home  # a MED club
    volunteers = session.execute(select(Club).where(Club.name == "青年志愿者协会")).scalar_one()
    history = client.get(f"/clubs/{volunteers.id}").get_data(as_text=True)
    assert "历任负责人" in history and "李晓雨" in history
