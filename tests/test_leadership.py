"""Leadership is a post (换届): the admin or a club's advisor appoints students for a term, the
previous leaders step down and keep every record; the club's roster is kept on its page and
through the API by its leaders, its advisors and the admin, and every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import LEADER_IN_POST, AuditEvent, Club, Membership, Participation, Role, User, club_leader
from app.timeutil import term_of, utcnow
from tests.test_web_auth import sign_in

API = "/api/v1"
PLAN = {
    "title": "换届后的第一次志愿服务", "module": "volunteering", "level": "club",
    "starts_at": "2027-03-20T09:00:00+08:00", "ends_at": "2027-03-20T12:00:00+08:00",
    "location": "阳光敬老院", "hours": 3,
}


def events(session, action: str) -> list[AuditEvent]:
    return list(session.execute(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    ).scalars())


def in_post(session, club_id: int) -> list[int]:
    return sorted(session.execute(
        select(club_leader.c.user_id).where(club_leader.c.club_id == club_id, LEADER_IN_POST)
    ).scalars())


def role_of(session, user_id: int) -> str:
    session.expire_all()
    return session.get(User, user_id).role


def appoint(client, make, who, club_id, numbers, term=None):
    body = {"student_nos": numbers, **({"term": term} if term else {})}
    return client.put(f"{API}/clubs/{club_id}/leaders", headers=make.token(who), json=body)


# ---- appointing -------------------------------------------------------------------------------


def test_appointed_student_leads_and_previous_leader_steps_down(client, make, session):
    w = make.world()
    old, new = w.leader, w.students[0]
    other = make.club(advisors=[w.advisor], unit=w.unit)
    done = make.activity(other, title="旧负责人参加的讲座")
    make.participation(done, old, status="certified", certifier=w.advisor)
    issued = client.post(f"{API}/students/{old.student_no}/transcripts", headers=make.token(old))
    assert issued.status_code == 201, issued.get_json()
    serial = issued.get_json()["serial"]
    records_before = client.get(f"{API}/students/{old.student_no}/records", headers=make.token(w.admin)).get_json()
    rows_before = session.execute(select(Participation.id, Participation.status, Participation.hours)
                                  .where(Participation.student_id == old.id)).all()
    previous = session.execute(select(club_leader.c.term).where(club_leader.c.user_id == old.id)).scalar_one()

    r = appoint(client, make, w.advisor, w.club.id, [new.student_no], term="2026-2027-2")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [u["id"] for u in body["leaders"]] == [new.id]
    assert body["appointed"] == [new.student_no] and body["stepped_down"] == [old.student_no]
    assert body["term"] == "2026-2027-2" and body["warnings"] == []

    # the new leader plans an activity of the club; the previous one no longer can
    assert role_of(session, new.id) == Role.LEADER
    planned = client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(new), json=PLAN)
    assert planned.status_code == 201, planned.get_json()
    refused = client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(old), json=PLAN)
    assert refused.status_code == 403
    assert role_of(session, old.id) == Role.STUDENT  # leads nothing else

    # their records and transcript are untouched
    assert client.get(f"{API}/students/{old.student_no}/records",
                      headers=make.token(w.admin)).get_json() == records_before
    assert session.execute(select(Participation.id, Participation.status, Participation.hours)
                           .where(Participation.student_id == old.id)).all() == rows_before
    assert client.get(f"{API}/verify/{serial}").get_json()["status"] == "valid"

    # the history lists both, with their terms
    history = client.get(f"{API}/clubs/{w.club.id}/leaders?history=1", headers=make.token(new)).get_json()
    assert history["total"] == 2
    current, past = history["items"]
    assert (current["student_no"], current["term"], current["in_post"], current["ended_at"]) == (
        new.student_no, "2026-2027-2", True, None)
    assert (past["student_no"], past["term"], past["in_post"]) == (old.student_no, previous, False)
    assert past["ended_at"] and past["appointed_at"]
    now_only = client.get(f"{API}/clubs/{w.club.id}/leaders", headers=make.token(new)).get_json()
    assert [p["student_no"] for p in now_only["items"]] == [new.student_no]

    [event] = events(session, "club.appoint_leaders")
    assert event.actor_id == w.advisor.id and event.object_id == str(w.club.id)
    assert event.data == {"term": "2026-2027-2", "appointed": [new.student_no], "stepped_down": [old.student_no]}


def test_admin_patch_with_leader_ids_appoints_for_the_current_term(client, make, session):
    w = make.world()
    new = w.students[1]
    r = client.patch(f"{API}/clubs/{w.club.id}", headers=make.token(w.admin), json={"leader_ids": [new.id]})
    assert r.status_code == 200, r.get_json()
    assert in_post(session, w.club.id) == [new.id]
    assert role_of(session, new.id) == Role.LEADER and role_of(session, w.leader.id) == Role.STUDENT
    term = session.execute(select(club_leader.c.term).where(
        club_leader.c.user_id == new.id, LEADER_IN_POST)).scalar_one()
    assert term == term_of(utcnow())
    [event] = events(session, "club.appoint_leaders")
    assert event.data["appointed"] == [new.student_no] and event.data["stepped_down"] == [w.leader.student_no]
    # a patch without leader_ids leaves the appointments alone
    client.patch(f"{API}/clubs/{w.club.id}", headers=make.token(w.admin), json={"charter": "新章程"})
    assert in_post(session, w.club.id) == [new.id] and len(events(session, "club.appoint_leaders")) == 1
    assert events(session, "club.update")[-1].data.keys() == {"charter_sha256"}


def test_advisor_appoints_leaders_of_their_club_only(client, make, session):
    w = make.world()
    elsewhere = make.club(advisors=[make.organizer(unit=w.unit)], leaders=[make.leader(unit=w.unit)], unit=w.unit)
    before = in_post(session, elsewhere.id)
    refused = appoint(client, make, w.advisor, elsewhere.id, [w.students[0].student_no])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert in_post(session, elsewhere.id) == before and role_of(session, w.students[0].id) == Role.STUDENT
    mine = appoint(client, make, w.advisor, w.club.id, [w.students[0].student_no, w.leader.student_no])
    assert mine.status_code == 200
    assert in_post(session, w.club.id) == sorted([w.students[0].id, w.leader.id])
    assert mine.get_json()["stepped_down"] == []
    assert len(events(session, "club.appoint_leaders")) == 1


def test_leader_cannot_appoint_leaders(client, make, session):
    w = make.world()
    for who in (w.leader, w.students[0]):
        r = appoint(client, make, who, w.club.id, [w.students[1].student_no])
        assert r.status_code == 403
    assert in_post(session, w.club.id) == [w.leader.id]
    assert events(session, "club.appoint_leaders") == []
    sign_in(client, w.leader)
    page = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert "任命负责人" not in page
    assert client.post(f"/clubs/{w.club.id}/leaders", data={
        "student_nos": w.students[1].student_no, "confirm": "1"}).status_code == 403
    assert in_post(session, w.club.id) == [w.leader.id]


def test_deactivated_student_cannot_be_appointed(client, make, session):
    w = make.world()
    gone, teacher = w.students[0], make.organizer(unit=w.unit)
    gone.active = False
    session.commit()
    for numbers, reason in (([gone.student_no], "停用"), (["20990000"], "没有这个学生")):
        r = appoint(client, make, w.admin, w.club.id, numbers)
        assert r.status_code == 422, r.get_json()
        fields = r.get_json()["error"]["fields"]
        assert list(fields) == ["student_nos"] and reason in fields["student_nos"][0]
    r = client.patch(f"{API}/clubs/{w.club.id}", headers=make.token(w.admin), json={"leader_ids": [teacher.id]})
    assert r.status_code == 422 and "不是学生" in r.get_json()["error"]["fields"]["leader_ids"][0]
    r = client.patch(f"{API}/clubs/{w.club.id}", headers=make.token(w.admin), json={"leader_ids": [gone.id]})
    assert r.status_code == 422 and "leader_ids" in r.get_json()["error"]["fields"]
    bad_term = appoint(client, make, w.admin, w.club.id, [w.students[1].student_no], term="2027-2029-1")
    assert bad_term.status_code == 422 and "term" in bad_term.get_json()["error"]["fields"]
    assert in_post(session, w.club.id) == [w.leader.id]
    assert role_of(session, gone.id) == Role.STUDENT
    assert events(session, "club.appoint_leaders") == []


def test_student_leading_two_clubs_stays_leader_until_both_end(client, make, session):
    w = make.world()
    star = w.students[0]
    second = make.club(advisors=[w.advisor], unit=w.unit)
    assert appoint(client, make, w.advisor, w.club.id, [star.student_no, w.leader.student_no]).status_code == 200
    assert appoint(client, make, w.advisor, second.id, [star.student_no]).status_code == 200
    assert role_of(session, star.id) == Role.LEADER
    assert appoint(client, make, w.advisor, w.club.id, [w.leader.student_no]).status_code == 200
    assert role_of(session, star.id) == Role.LEADER  # still leads the second club
    assert client.post(f"{API}/clubs/{second.id}/activities", headers=make.token(star), json=PLAN).status_code == 201
    assert client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(star), json=PLAN).status_code == 403
    assert appoint(client, make, w.admin, second.id, []).status_code == 200
    assert role_of(session, star.id) == Role.STUDENT and in_post(session, second.id) == []


def test_suspended_club_gets_leaders_from_the_admin_with_a_warning(client, make, session):
    w = make.world()
    session.get(Club, w.club.id).status = "suspended"
    session.commit()
    refused = appoint(client, make, w.advisor, w.club.id, [w.students[0].student_no])
    assert refused.status_code == 409 and in_post(session, w.club.id) == [w.leader.id]
    r = appoint(client, make, w.admin, w.club.id, [w.students[0].student_no])
    assert r.status_code == 200
    assert r.get_json()["warnings"] and "暂停" in r.get_json()["warnings"][0]
    assert in_post(session, w.club.id) == [w.students[0].id]
    assert events(session, "club.appoint_leaders")[-1].data["club_status"] == "suspended"


def test_reappointed_leader_gets_a_new_term_in_the_history(client, make, session):
    w = make.world()
    first = session.execute(select(club_leader.c.term).where(club_leader.c.user_id == w.leader.id)).scalar_one()
    assert appoint(client, make, w.admin, w.club.id, [w.leader.student_no], term="2027-2028-1").status_code == 200
    terms = session.execute(select(club_leader.c.term, club_leader.c.ended_at.is_(None))
                            .where(club_leader.c.user_id == w.leader.id).order_by(club_leader.c.id)).all()
    assert terms == [(first, False), ("2027-2028-1", True)]
    assert role_of(session, w.leader.id) == Role.LEADER
    assert events(session, "club.appoint_leaders")[-1].data["continued"] == [w.leader.student_no]


def test_advisor_appoints_on_the_club_page_after_a_preview(client, make, session):
    w = make.world()
    new = w.students[0]
    sign_in(client, w.advisor)
    page = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert "任命负责人" in page and 'id="roster"' in page
    preview = client.post(f"/clubs/{w.club.id}/leaders", data={"student_nos": f"{new.student_no}，", "term": ""})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "请确认" in html and 'class="stepping-down">' + w.leader.display_name in html
    assert in_post(session, w.club.id) == [w.leader.id]  # a preview changes nothing
    done = client.post(f"/clubs/{w.club.id}/leaders", data={
        "student_nos": new.student_no, "term": term_of(utcnow()), "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#leaders")
    assert in_post(session, w.club.id) == [new.id]
    html = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert "历任负责人" in html and w.leader.display_name in html
    bad = client.post(f"/clubs/{w.club.id}/leaders", data={"student_nos": "20990000", "confirm": "1"})
    assert bad.status_code == 422 and "没有这个学生" in bad.get_data(as_text=True)
    assert in_post(session, w.club.id) == [new.id]


# ---- the roster ---------------------------------------------------------------------------------


def roster(session, club_id):
    session.expire_all()
    return sorted(session.execute(
        select(Membership.user_id, Membership.term, Membership.role).where(Membership.club_id == club_id)
    ).all())


def test_roster_is_kept_through_the_api_by_leader_advisor_and_admin(client, make, session):
    w = make.world()
    url = f"{API}/clubs/{w.club.id}/members"
    ids = []
    for keeper, student in zip((w.leader, w.advisor, w.admin), (w.students[0], w.students[1], make.student()),
                               strict=True):
        r = client.post(url, headers=make.token(keeper), json={
            "student_no": student.student_no, "term": "2026-2027-1", "role": "干事"})
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
        changed = client.patch(f"{url}/{r.get_json()['id']}", headers=make.token(keeper), json={"role": "副会长"})
        assert changed.status_code == 200 and changed.get_json()["role"] == "副会长"
    moved = client.patch(f"{url}/{ids[0]}", headers=make.token(w.advisor), json={"term": "2026-2027-2"})
    assert moved.status_code == 200 and moved.get_json()["term"] == "2026-2027-2"
    assert client.delete(f"{url}/{ids[2]}", headers=make.token(w.leader)).status_code == 204
    assert roster(session, w.club.id) == sorted([
        (w.students[0].id, "2026-2027-2", "副会长"), (w.students[1].id, "2026-2027-1", "副会长")])
    assert len(events(session, "membership.create")) == 3
    assert len(events(session, "membership.update")) == 4
    [removed] = events(session, "membership.delete")
    assert removed.actor_id == w.leader.id and removed.object_id == str(ids[2]) and removed.data["role"] == "副会长"
    moved_event = events(session, "membership.update")[-1]
    assert moved_event.data["before"] == {"term": "2026-2027-1"} and moved_event.data["term"] == "2026-2027-2"


def test_roster_keeping_is_refused_to_everyone_else_and_nothing_changes(client, make, session):
    w = make.world()
    member = Membership(club_id=w.club.id, user_id=w.students[0].id, term="2026-2027-1", role="成员")
    session.add(member)
    session.commit()
    member_id = member.id
    elsewhere = make.club(advisors=[make.organizer(unit=w.unit)], leaders=[make.leader(unit=w.unit)], unit=w.unit)
    college = make.organizer(unit=w.unit)
    college.scope_unit_id = w.unit.id  # oversees the college: sees the roster, does not keep it
    session.commit()
    before = roster(session, w.club.id)
    url = f"{API}/clubs/{w.club.id}/members"
    for outsider in (elsewhere.leaders[0], elsewhere.advisors[0], w.students[1], college):
        h = make.token(outsider)
        assert client.post(url, headers=h, json={"student_no": w.students[1].student_no,
                                                 "term": "2026-2027-1"}).status_code == 403
        assert client.patch(f"{url}/{member_id}", headers=h, json={"role": "会长"}).status_code == 403
        assert client.delete(f"{url}/{member_id}", headers=h).status_code == 403
        sign_in(client, outsider)
        assert client.post(f"/clubs/{w.club.id}/members", data={
            "student_no": w.students[1].student_no, "term": "2026-2027-1", "role": "成员"}).status_code == 403
        assert client.post(f"/clubs/{w.club.id}/members/{member_id}/role", data={"role": "会长"}).status_code == 403
        assert client.post(f"/clubs/{w.club.id}/members/{member_id}/remove").status_code == 403
        client.post("/logout")
    assert client.get(url, headers=make.token(college)).status_code == 200
    assert client.get(url, headers=make.token(w.students[1])).status_code == 403
    # another club's member id through this club's path is not found
    theirs = Membership(club_id=elsewhere.id, user_id=w.students[1].id, term="2026-2027-1", role="成员")
    session.add(theirs)
    session.commit()
    assert client.delete(f"{url}/{theirs.id}", headers=make.token(w.leader)).status_code == 404
    assert roster(session, w.club.id) == before
    count = session.execute(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action.like("membership.%"))).scalar_one()
    assert count == 0


def test_roster_rules_name_the_field(client, make, session):
    w = make.world()
    url = f"{API}/clubs/{w.club.id}/members"
    lead = make.token(w.leader)
    gone = w.students[1]
    gone.active = False
    session.commit()
    r = client.post(url, headers=lead, json={"student_no": gone.student_no, "term": "2026-2027-1"})
    assert r.status_code == 422 and "停用" in r.get_json()["error"]["fields"]["student_no"][0]
    r = client.post(url, headers=lead, json={"student_no": w.students[0].student_no, "term": "2026-2027-1",
                                             "role": "x" * 33})
    assert r.status_code == 422 and "role" in r.get_json()["error"]["fields"]
    ok = client.post(url, headers=lead, json={"student_no": w.students[0].student_no, "term": "2026-2027-1"})
    other = client.post(url, headers=lead, json={"student_no": w.students[0].student_no, "term": "2026-2027-2"})
    assert ok.status_code == other.status_code == 201
    clash = client.patch(f"{url}/{other.get_json()['id']}", headers=lead, json={"term": "2026-2027-1"})
    assert clash.status_code == 409 and "term" in clash.get_json()["error"]["fields"]
    assert client.patch(f"{url}/{ok.get_json()['id']}", headers=lead, json={"role": ""}).status_code == 422
    assert client.delete(f"{url}/999999", headers=lead).status_code == 404
    assert len(events(session, "membership.update")) == 0


def test_leader_keeps_the_roster_on_the_club_page(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    term = term_of(utcnow())
    html = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert 'id="roster"' in html and "添加成员" in html and "任命负责人" not in html
    added = client.post(f"/clubs/{w.club.id}/members", data={
        "student_no": w.students[0].student_no, "role": "副会长", "term": term})
    assert added.status_code == 302 and "#roster" in added.headers["Location"]
    [member] = session.execute(select(Membership).where(Membership.club_id == w.club.id)).scalars()
    html = client.get(f"/clubs/{w.club.id}?term={term}").get_data(as_text=True)
    assert w.students[0].display_name in html and "副会长" in html and "data-confirm" in html
    again = client.post(f"/clubs/{w.club.id}/members", data={
        "student_no": w.students[0].student_no, "role": "成员", "term": term})
    assert again.status_code == 409 and "已在本学期名册中" in again.get_data(as_text=True)
    unknown = client.post(f"/clubs/{w.club.id}/members", data={"student_no": "20990000", "role": "", "term": term})
    assert unknown.status_code == 422 and "field-error" in unknown.get_data(as_text=True)
    changed = client.post(f"/clubs/{w.club.id}/members/{member.id}/role", data={"role": "会长"})
    assert changed.status_code == 302
    assert roster(session, w.club.id) == [(w.students[0].id, term, "会长")]
    removed = client.post(f"/clubs/{w.club.id}/members/{member.id}/remove?term={term}")
    assert removed.status_code == 302
    assert roster(session, w.club.id) == []
    assert [e.action for e in session.execute(select(AuditEvent).where(AuditEvent.action.like("membership.%"))
                                              .order_by(AuditEvent.seq)).scalars()] == [
        "membership.create", "membership.update", "membership.delete"]
    # a student of the school sees the club and its leaders, not its roster
    client.post("/logout")
    sign_in(client, w.students[1])
    html = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert w.leader.display_name in html and 'id="roster"' not in html and w.leader.student_no not in html


def test_admin_keeps_the_roster_of_a_past_term_on_the_page(client, make, session):
    w = make.world()
    session.add(Membership(club_id=w.club.id, user_id=w.students[0].id, term="2025-2026-2", role="干事"))
    session.commit()
    sign_in(client, w.admin)
    html = client.get(f"/clubs/{w.club.id}?term=2025-2026-2").get_data(as_text=True)
    assert w.students[0].display_name in html and '<option value="2025-2026-2" selected>' in html
    current = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert "这个学期的名册还是空的" in current
    r = client.post(f"/clubs/{w.club.id}/members", data={
        "student_no": w.students[1].student_no, "role": "成员", "term": "2025-2026-2"})
    assert r.status_code == 302 and "term=2025-2026-2" in r.headers["Location"]
    assert len(roster(session, w.club.id)) == 2
