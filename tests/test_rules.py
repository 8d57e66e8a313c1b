"""The product's rules, one test each, named as PRODUCT.md and API.md state them.

Everything goes through the JSON API (the contract) and, where it matters, the service layer
too (so the web and the CLI, which call the same services, cannot disagree). Every test runs
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Activity, AuditEvent, Club, Participation, User
from app.services import participations
from app.services.errors import Forbidden
from app.timeutil import utcnow

API = "/api/v1"


def post(client, url, headers, json=None):
    return client.post(API + url, headers=headers, json=json if json is not None else {})


def get(client, url, headers):
    return client.get(API + url, headers=headers)


def count(session, model, *where) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def status_of(session, record) -> str:
    session.expire_all()
    return session.get(Participation, record.id).status


def fields_of(response) -> dict:
    return response.get_json()["error"]["fields"]


def plan(**over) -> dict:
    body = {
        "title": "社区义诊志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00:00+08:00", "ends_at": "2026-10-20T12:00:00+08:00",
        "location": "幸福社区活动中心", "hours": 3,
    }
    body.update(over)
    return body


def records_of(client, make, student) -> dict:
    r = get(client, f"/students/{student.student_no}/records", make.token(student))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# ---- separation of duties -------------------------------------------------------------


def test_leader_cannot_certify_own_club_records(client, make, session):
    w = make.world()
    recs = [make.participation(w.activity, s) for s in w.students]
    certified = make.participation(make.activity(w.club), w.students[0], status="certified")
    lead = make.token(w.leader)

    r = post(client, f"/activities/{w.activity.id}/certify", lead)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = post(client, f"/activities/{w.activity.id}/certify", lead,
             {"participation_ids": [recs[0].id]})
    assert r.status_code == 403
    assert post(client, f"/participations/{recs[1].id}/reject", lead,
                {"reason": "没来"}).status_code == 403
    assert post(client, f"/participations/{certified.id}/revoke", lead,
                {"reason": "撤销"}).status_code == 403
    assert [status_of(session, r) for r in recs] == ["recorded", "recorded"]
    assert status_of(session, certified) == "certified"
    # the same rule holds in the service layer the web and CLI use
    with pytest.raises(Forbidden):
        participations.certify(session, w.leader, w.activity.id)
    assert count(session, AuditEvent) == 0


@pytest.mark.parametrize("who", ["advisor", "admin"])
def test_participant_cannot_certify_own_record(client, make, session, who):
    w = make.world()
    signer = w.advisor if who == "advisor" else w.admin
    own = make.participation(w.activity, signer, role="organizer")
    other = make.participation(w.activity, w.students[0])
    token = make.token(signer)

    # certify-all would include their own record: refused, and nothing at all certified
    r = post(client, f"/activities/{w.activity.id}/certify", token)
    assert r.status_code == 403, r.get_json()
    assert post(client, f"/activities/{w.activity.id}/certify", token,
                {"participation_ids": [own.id]}).status_code == 403
    assert post(client, f"/participations/{own.id}/reject", token,
                {"reason": "自己驳回自己"}).status_code == 403
    assert status_of(session, own) == "recorded" and status_of(session, other) == "recorded"

    # the other student's record alone is fine
    r = post(client, f"/activities/{w.activity.id}/certify", token,
             {"participation_ids": [other.id]})
    assert r.status_code == 200 and r.get_json() == {"certified": 1}
    assert status_of(session, own) == "recorded"

    # somebody else certifies their record; they still cannot revoke it themselves
    third = make.admin()
    r = post(client, f"/activities/{w.activity.id}/certify", make.token(third),
             {"participation_ids": [own.id]})
    assert r.get_json() == {"certified": 1}
    assert post(client, f"/participations/{own.id}/revoke", token,
                {"reason": "自己撤销"}).status_code == 403
    assert status_of(session, own) == "certified"
    with pytest.raises(Forbidden):
        participations.revoke(session, signer, own.id, "自己撤销")


# ---- certify / reject / revoke -----------------------------------------------------------


def test_certify_twice_certifies_nothing_new(client, make, session):
    w = make.world()
    recs = [make.participation(w.activity, s) for s in w.students]
    adv = make.token(w.advisor)
    r = post(client, f"/activities/{w.activity.id}/certify", adv, {"note": "材料齐全"})
    assert r.status_code == 200 and r.get_json() == {"certified": 2}
    session.expire_all()
    first = [session.get(Participation, p.id).certified_at for p in recs]
    assert all(first)

    r = post(client, f"/activities/{w.activity.id}/certify", adv)
    assert r.status_code == 200 and r.get_json() == {"certified": 0}
    r = post(client, f"/activities/{w.activity.id}/certify", adv,
             {"participation_ids": [p.id for p in recs]})
    assert r.status_code == 200 and r.get_json() == {"certified": 0}
    session.expire_all()
    assert [session.get(Participation, p.id).certified_at for p in recs] == first
    assert count(session, AuditEvent, AuditEvent.action == "participation.certify") == 1
    body = get(client, f"/activities/{w.activity.id}", adv).get_json()
    assert body["counts"]["certified"] == 2 and body["counts"]["recorded"] == 0


def test_revoked_record_no_longer_counts_hours(client, make, session):
    w = make.world()
    student = w.students[0]
    volunteering = make.participation(w.activity, student, status="certified", hours="4")
    culture = make.activity(w.club, module="culture_sports", hours="2.5")
    make.participation(culture, student, status="certified")
    before = records_of(client, make, student)
    assert before["total_certified_hours"] == 6.5
    assert before["hours_by_module"] == {"volunteering": 4.0, "culture_sports": 2.5}

    r = post(client, f"/participations/{volunteering.id}/revoke", make.token(w.advisor),
             {"reason": "活动照片与记录不符"})
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    assert r.get_json()["revoke_reason"] == "活动照片与记录不符"
    after = records_of(client, make, student)
    assert after["total_certified_hours"] == 2.5
    assert after["hours_by_module"] == {"culture_sports": 2.5}
    statuses = {item["activity_id"]: item["status"] for item in after["items"]}
    assert statuses == {w.activity.id: "revoked", culture.id: "certified"}


def test_only_certified_record_can_be_revoked(client, make, session):
    w = make.world()
    adv = make.token(w.advisor)
    for status in ("recorded", "rejected", "revoked"):
        record = make.participation(make.activity(w.club), w.students[0], status=status)
        r = post(client, f"/participations/{record.id}/revoke", adv, {"reason": "撤销"})
        assert r.status_code == 409, (status, r.get_json())
        assert r.get_json()["error"]["code"] == "conflict"
        assert status_of(session, record) == status
    assert count(session, AuditEvent) == 0
    certified = make.participation(w.activity, w.students[1], status="certified")
    r = post(client, f"/participations/{certified.id}/revoke", adv, {"reason": "撤销"})
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"


def test_certifying_cancelled_activity_is_409(client, make, session):
    w = make.world()
    activity = make.activity(w.club, status="cancelled")
    record = make.participation(activity, w.students[0])
    for token in (make.token(w.advisor), make.token(w.admin)):
        r = post(client, f"/activities/{activity.id}/certify", token)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
        r = post(client, f"/activities/{activity.id}/certify", token,
                 {"participation_ids": [record.id]})
        assert r.status_code == 409
    assert status_of(session, record) == "recorded"


def test_certify_draft_activity_is_409(client, make, session):
    w = make.world()
    adv = make.token(w.advisor)
    for status in ("draft", "submitted"):
        activity = make.activity(w.club, status=status)
        record = make.participation(activity, w.students[0])
        r = post(client, f"/activities/{activity.id}/certify", adv)
        assert r.status_code == 409, (status, r.get_json())
        assert status_of(session, record) == "recorded"


def test_certify_ids_must_belong_to_the_activity_and_be_open(client, make, session):
    w = make.world()
    mine = make.participation(w.activity, w.students[0])
    rejected = make.participation(w.activity, w.students[1], status="rejected")
    elsewhere = make.participation(make.activity(w.club), w.students[0])
    adv = make.token(w.advisor)
    r = post(client, f"/activities/{w.activity.id}/certify", adv,
             {"participation_ids": [mine.id, elsewhere.id]})
    assert r.status_code == 422 and "participation_ids" in fields_of(r)
    r = post(client, f"/activities/{w.activity.id}/certify", adv,
             {"participation_ids": [mine.id, rejected.id]})
    assert r.status_code == 409
    assert [status_of(session, p) for p in (mine, rejected, elsewhere)] == [
        "recorded", "rejected", "recorded"]


def test_reject_needs_reason(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    adv = make.token(w.advisor)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": None}):
        r = post(client, f"/participations/{record.id}/reject", adv, body)
        assert r.status_code == 422, (body, r.get_json())
        assert "reason" in fields_of(r), body
    assert status_of(session, record) == "recorded"
    r = post(client, f"/participations/{record.id}/reject", adv, {"reason": "签到表上没有此人"})
    assert r.status_code == 200
    assert r.get_json()["status"] == "rejected"
    assert r.get_json()["reject_reason"] == "签到表上没有此人"
    # a rejected record is closed: neither rejected again nor certified by id
    assert post(client, f"/participations/{record.id}/reject", adv,
                {"reason": "再次"}).status_code == 409


def test_rejected_record_can_be_recorded_again(client, make, session):
    w = make.world()
    student = w.students[0]
    record = make.participation(w.activity, student, hours="4")
    adv, lead = make.token(w.advisor), make.token(w.leader)
    assert post(client, f"/participations/{record.id}/reject", adv,
                {"reason": "时长填错"}).status_code == 200
    r = post(client, f"/activities/{w.activity.id}/participations", lead,
             {"entries": [{"student_no": student.student_no, "hours": 2}]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["created"] == 1
    assert post(client, f"/activities/{w.activity.id}/certify", adv).get_json() == {"certified": 1}
    data = records_of(client, make, student)
    assert sorted(i["status"] for i in data["items"]) == ["certified", "rejected"]
    assert data["total_certified_hours"] == 2.0


def test_revoked_record_is_replaced_by_a_corrected_one(client, make, session):
    w = make.world()
    student = w.students[0]
    wrong = make.participation(w.activity, student, status="certified", hours="8")
    adv, lead = make.token(w.advisor), make.token(w.leader)
    assert post(client, f"/participations/{wrong.id}/revoke", adv,
                {"reason": "时长应为 3 小时"}).status_code == 200
    r = post(client, f"/activities/{w.activity.id}/participations", lead,
             {"entries": [{"student_no": student.student_no, "hours": 3}]})
    assert r.status_code == 201, r.get_json()
    assert post(client, f"/activities/{w.activity.id}/certify", adv).get_json() == {"certified": 1}
    assert records_of(client, make, student)["total_certified_hours"] == 3.0


# ---- recording participation ---------------------------------------------------------------


def test_student_recorded_twice_in_one_batch_is_bad_entry(client, make, session):
    w = make.world()
    s0, s1 = w.students
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": s0.student_no}, {"student_no": s1.student_no},
                          {"student_no": s0.student_no, "role": "volunteer"}]})
    assert r.status_code == 422, r.get_json()
    assert set(fields_of(r)) == {"entries.2.student_no"}
    assert count(session, Participation) == 0


def test_already_recorded_student_is_bad_entry(client, make, session):
    w = make.world()
    s0, s1 = w.students
    make.participation(w.activity, s0)
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": s1.student_no}, {"student_no": s0.student_no}]})
    assert r.status_code == 422, r.get_json()
    assert set(fields_of(r)) == {"entries.1.student_no"}
    assert count(session, Participation) == 1  # s1 was not stored either
    # a certified record counts as recorded too
    other = make.activity(w.club)
    make.participation(other, s0, status="certified")
    r = post(client, f"/activities/{other.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": s0.student_no}]})
    assert r.status_code == 422 and set(fields_of(r)) == {"entries.0.student_no"}


def test_bad_entries_are_named_by_index_and_field(client, make, session):
    w = make.world()
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": [
                 {"student_no": w.students[0].student_no, "role": "spectator"},
                 {"student_no": w.students[1].student_no, "award": "奖" * 101},
                 {"student_no": ""},
                 {"student_no": w.advisor.username},
             ]})
    assert r.status_code == 422
    assert set(fields_of(r)) == {
        "entries.0.role", "entries.1.award", "entries.2.student_no", "entries.3.student_no"}
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": []})
    assert r.status_code == 422 and "entries" in fields_of(r)
    assert count(session, Participation) == 0


def test_recording_on_cancelled_activity_is_409(client, make, session):
    w = make.world()
    activity = make.activity(w.club, status="cancelled")
    r = post(client, f"/activities/{activity.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": w.students[0].student_no}]})
    assert r.status_code == 409
    assert count(session, Participation) == 0


def test_recorded_hours_default_to_the_activitys(client, make, session):
    w = make.world()  # the activity is worth 4 hours
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": w.students[0].student_no},
                          {"student_no": w.students[1].student_no, "hours": 1.5,
                           "role": "awardee", "award": "一等奖"}]})
    assert r.status_code == 201
    items = r.get_json()["items"]
    assert [(i["hours"], i["role"], i["award"], i["status"]) for i in items] == [
        (4.0, "participant", None, "recorded"), (1.5, "awardee", "一等奖", "recorded")]


# ---- activities ------------------------------------------------------------------------------


def test_activity_lifecycle_order(client, make, session):
    w = make.world()
    lead, adv = make.token(w.leader), make.token(w.advisor)
    r = post(client, f"/clubs/{w.club.id}/activities", lead, plan())
    assert r.status_code == 201 and r.get_json()["status"] == "draft"
    aid = r.get_json()["id"]

    def act(verb, token, body=None):
        return post(client, f"/activities/{aid}/{verb}", token, body)

    assert act("approve", adv).status_code == 409           # cannot approve a draft
    assert act("complete", lead).status_code == 409         # nor complete one
    assert act("submit", lead).get_json()["status"] == "submitted"
    assert act("submit", lead).status_code == 409           # cannot submit twice
    assert act("complete", lead).status_code == 409         # cannot complete a submitted plan
    assert act("approve", adv).get_json()["status"] == "approved"
    assert act("approve", adv).status_code == 409           # nor approve twice
    assert act("submit", lead).status_code == 409
    r = act("complete", lead, {"outcome": "服务居民 120 人次"})
    assert r.status_code == 200 and r.get_json()["status"] == "completed"
    assert act("cancel", adv, {"reason": "晚了"}).status_code == 409  # completed is final
    assert act("complete", lead).status_code == 409
    detail = get(client, f"/activities/{aid}", lead).get_json()
    assert detail["status"] == "completed" and detail["outcome"] == "服务居民 120 人次"
    assert detail["submitted_at"] and detail["approved_at"] and detail["completed_at"]
    assert detail["approved_by"]["id"] == w.advisor.id


def test_returned_plan_goes_back_to_draft_and_cancelled_is_final(client, make, session):
    w = make.world()
    lead, adv = make.token(w.leader), make.token(w.advisor)
    activity = make.activity(w.club, status="submitted")
    assert post(client, f"/activities/{activity.id}/return", adv,
                {"reason": ""}).status_code == 422
    r = post(client, f"/activities/{activity.id}/return", adv, {"reason": "请补充预算"})
    assert r.status_code == 200 and r.get_json()["status"] == "draft"
    assert post(client, f"/activities/{activity.id}/return", adv,
                {"reason": "again"}).status_code == 409
    r = post(client, f"/activities/{activity.id}/cancel", lead, {"reason": "场地取消"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    for verb in ("submit", "approve", "complete"):
        assert post(client, f"/activities/{activity.id}/{verb}", lead if verb != "approve"
                    else adv).status_code == 409, verb
    assert post(client, f"/activities/{activity.id}/cancel", adv,
                {"reason": "再取消"}).status_code == 409


def test_end_before_start_is_422_naming_ends_at(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    before = count(session, Activity)
    r = post(client, f"/clubs/{w.club.id}/activities", lead,
             plan(starts_at="2026-10-20T12:00:00+08:00", ends_at="2026-10-20T09:00:00+08:00"))
    assert r.status_code == 422
    assert "ends_at" in fields_of(r) and "starts_at" not in fields_of(r)
    assert count(session, Activity) == before
    # the same on edit: a draft moved to end before it starts
    draft = make.activity(w.club, status="draft")
    r = client.patch(f"{API}/activities/{draft.id}", headers=lead,
                     json=plan(starts_at="2026-10-21T12:00:00+08:00",
                               ends_at="2026-10-21T08:00:00+08:00"))
    assert r.status_code == 422 and "ends_at" in fields_of(r)


HOURS_CASES = [
    (0, False), (-1, False), (200.1, False), ("abc", False), (None, False), (True, False),
    (200, True), (0.5, True), ("12.5", True),
]


def test_hours_bounds(client, make, session):
    """Hours: 0 < hours ≤ 200, on an activity and on a participation entry."""
    w = make.world()
    lead = make.token(w.leader)
    activities = count(session, Activity)
    students = [make.student() for _ in HOURS_CASES]
    for (hours, ok), student in zip(HOURS_CASES, students, strict=True):
        r = post(client, f"/clubs/{w.club.id}/activities", lead, plan(hours=hours, title=f"志愿服务 {hours!r}"))
        if ok:
            assert r.status_code == 201, (hours, r.get_json())
            assert r.get_json()["hours"] == float(hours)
            activities += 1
        else:
            assert r.status_code == 422, (hours, r.get_json())
            assert set(fields_of(r)) == {"hours"}, hours
        assert count(session, Activity) == activities, hours
        if hours is None:
            continue  # an entry without hours takes the activity's; that is allowed
        r = post(client, f"/activities/{w.activity.id}/participations", lead,
                 {"entries": [{"student_no": student.student_no, "hours": hours,
                               "hours_reason": "负责全程组织"}]})
        if ok:
            assert r.status_code == 201, (hours, r.get_json())
            assert r.get_json()["items"][0]["hours"] == float(hours)
        else:
            assert r.status_code == 422, (hours, r.get_json())
            assert set(fields_of(r)) == {"entries.0.hours"}, hours
            assert count(session, Participation, Participation.student_id == student.id) == 0


def test_edited_plan_goes_back_to_draft_and_approved_plan_is_frozen(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    submitted = make.activity(w.club, status="submitted")
    r = client.patch(f"{API}/activities/{submitted.id}", headers=lead, json=plan(title="新标题"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "draft" and r.get_json()["title"] == "新标题"
    # once approved (records may be certified against its hours) the plan is not edited
    r = client.patch(f"{API}/activities/{w.activity.id}", headers=lead, json=plan(hours=100))
    assert r.status_code == 409
    session.expire_all()
    assert session.get(Activity, w.activity.id).hours == 4


def test_patch_changes_only_the_fields_sent(client, make, session):
    w = make.world()
    draft = make.activity(w.club, status="draft", capacity=30, objectives="服务 100 人次",
                          partners=["阳光敬老院"])
    r = client.patch(f"{API}/activities/{draft.id}", headers=make.token(w.leader),
                     json={"title": "只改标题"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["title"] == "只改标题"
    assert (body["capacity"], body["objectives"], body["partners"]) == (
        30, "服务 100 人次", ["阳光敬老院"])
    assert body["hours"] == 4.0 and body["status"] == "draft"
    # a partial edit is still checked against the fields it does not name
    r = client.patch(f"{API}/activities/{draft.id}", headers=make.token(w.leader),
                     json={"ends_at": "2020-01-01T00:00:00+08:00"})
    assert r.status_code == 422 and set(fields_of(r)) == {"ends_at"}
    for bad, field in (({"title": None}, "title"), ({"hours": 0}, "hours"),
                       ({"module": "sleeping"}, "module")):
        r = client.patch(f"{API}/activities/{draft.id}", headers=make.token(w.leader), json=bad)
        assert r.status_code == 422 and set(fields_of(r)) == {field}, (bad, r.get_json())
    session.expire_all()
    assert session.get(Activity, draft.id).title == "只改标题"


# ---- people and clubs --------------------------------------------------------------------------


def _user(**over):
    body = {"username": "wangxm", "password": "a long password", "display_name": "王小明",
            "role": "student", "student_no": "2025123456"}
    body.update(over)
    return body


def test_duplicate_username_or_student_no_409(client, make, session):
    adm = make.token(make.admin())
    assert post(client, "/users", adm, _user()).status_code == 201
    users = count(session, User)
    r = post(client, "/users", adm, _user(student_no="2025999999"))
    assert r.status_code == 409 and "username" in fields_of(r)
    r = post(client, "/users", adm, _user(username="wangxm2"))
    assert r.status_code == 409 and "student_no" in fields_of(r)
    assert count(session, User) == users
    # units and clubs: a duplicate code or name is a conflict as well
    assert post(client, "/units", adm, {"code": "CS", "name": "计算机学院"}).status_code == 201
    r = post(client, "/units", adm, {"code": "CS", "name": "另一个"})
    assert r.status_code == 409 and "code" in fields_of(r)


def test_student_needs_student_no_422(client, make, session):
    adm = make.token(make.admin())
    users = count(session, User)
    for role in ("student", "leader"):  # a leader is a student who leads a club
        for body in (_user(role=role, student_no=None), _user(role=role, student_no="")):
            body = {k: v for k, v in body.items() if v is not None}
            r = post(client, "/users", adm, body)
            assert r.status_code == 422, (role, r.get_json())
            assert "student_no" in fields_of(r)
    assert count(session, User) == users
    r = post(client, "/users", adm, _user(role="organizer", student_no=None, username="teacher1"))
    assert r.status_code == 201 and r.get_json()["role"] == "organizer"


def test_user_input_is_checked_field_by_field(client, make, session):
    adm = make.token(make.admin())
    r = post(client, "/users", adm, _user(role="superuser", password="short", username="a b"))
    assert r.status_code == 422
    assert {"role"} <= set(fields_of(r))
    r = post(client, "/users", adm, _user(password="short", username="a b"))
    assert r.status_code == 422
    assert {"password", "username"} <= set(fields_of(r))
    r = post(client, "/users", adm, _user(unit_id=999999))
    assert r.status_code == 422 and "unit_id" in fields_of(r)


def test_club_leader_must_be_a_student_and_advisor_an_organizer_422(client, make, session):
    w = make.world()
    adm = make.token(w.admin)
    student = w.students[0]
    base = {"name": "新社团", "unit_id": w.unit.id, "category": "文体"}
    clubs = count(session, Club)
    cases = [
        ({"leader_ids": [w.admin.id]}, "leader_ids"),
        ({"leader_ids": [w.advisor.id]}, "leader_ids"),
        ({"advisor_ids": [student.id]}, "advisor_ids"),
        ({"advisor_ids": [w.leader.id]}, "advisor_ids"),
        ({"leader_ids": [999999]}, "leader_ids"),
        ({"unit_id": 999999}, "unit_id"),
    ]
    for extra, field in cases:
        r = post(client, "/clubs", adm, {**base, **extra})
        assert r.status_code == 422, (extra, r.get_json())
        assert field in fields_of(r), (extra, fields_of(r))
    assert count(session, Club) == clubs


def test_unknown_objects_404(client, make, session):
    w = make.world()
    adm, lead = make.token(w.admin), make.token(w.leader)
    missing = 987654
    cases = [
        ("GET", f"/activities/{missing}", adm, None),
        ("GET", f"/activities/{missing}/participations", adm, None),
        ("POST", f"/activities/{missing}/participations", lead,
         {"entries": [{"student_no": w.students[0].student_no}]}),
        ("POST", f"/activities/{missing}/certify", adm, {}),
        ("POST", f"/activities/{missing}/approve", adm, {}),
        ("POST", f"/participations/{missing}/reject", adm, {"reason": "x"}),
        ("POST", f"/participations/{missing}/revoke", adm, {"reason": "x"}),
        ("GET", "/students/NOPE-0000/records", adm, None),
        ("GET", f"/students/{w.advisor.username}/records", adm, None),
        ("GET", f"/clubs/{missing}", adm, None),
        ("POST", f"/clubs/{missing}/activities", lead, plan()),
    ]
    for method, url, headers, body in cases:
        r = client.open(API + url, method=method, headers=headers, json=body)
        assert r.status_code == 404, (method, url, r.status_code, r.get_json())
        assert r.get_json()["error"]["code"] == "not_found"


def test_pagination(client, make, session):
    w = make.world()
    adm = make.token(w.admin)
    total = count(session, User)
    assert total >= 5
    r = get(client, "/users?per_page=2", adm)
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"items", "total"} and body["total"] == total and len(body["items"]) == 2
    last_page = (total + 1) // 2
    r = get(client, f"/users?per_page=2&page={last_page}", adm).get_json()
    assert len(r["items"]) == total - 2 * (last_page - 1)
    assert get(client, f"/users?per_page=2&page={last_page + 1}", adm).get_json() == {
        "items": [], "total": total}
    ids = [u["id"] for page in range(1, last_page + 1)
           for u in get(client, f"/users?per_page=2&page={page}", adm).get_json()["items"]]
    assert len(ids) == len(set(ids)) == total  # pages neither overlap nor skip
    assert get(client, "/users?per_page=200", adm).status_code == 200
    for query in ("per_page=201", "per_page=0", "page=0", "per_page=abc"):
        r = get(client, f"/users?{query}", adm)
        assert r.status_code == 422, query
        assert set(fields_of(r)) == {query.split("=")[0]}
    # the participations list pages the same way
    for s in w.students:
        make.participation(w.activity, s)
    r = get(client, f"/activities/{w.activity.id}/participations?per_page=1&page=2", adm)
    body = r.get_json()
    assert body["total"] == 2 and len(body["items"]) == 1
    assert body["items"][0]["student_no"] == w.students[1].student_no
    assert get(client, f"/activities/{w.activity.id}/participations?per_page=500",
               adm).status_code == 422


# ---- check-in ------------------------------------------------------------------------------


def test_check_in(client, make, session):
    from app.services.check_in import current_code

    w = make.world()
    s0, s1 = w.students
    now = utcnow()
    on = make.activity(w.club, starts_at=now - timedelta(minutes=10), capacity=1)

    def scan(activity, token):
        return post(client, f"/activities/{activity.id}/check-in", token, {"code": current_code(activity.id, "in")})

    r = scan(on, make.token(s0))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "recorded" and body["student_no"] == s0.student_no
    assert body["checked_in_at"]
    assert scan(on, make.token(s0)).status_code == 409
    assert scan(on, make.token(s1)).status_code == 409  # full
    assert scan(on, make.token(w.advisor)).status_code == 403
    assert count(session, Participation, Participation.activity_id == on.id) == 1

    opens_soon = make.activity(w.club, starts_at=now + timedelta(minutes=20))
    assert scan(opens_soon, make.token(s1)).status_code == 201
    later = make.activity(w.club, starts_at=now + timedelta(days=2))
    over = make.activity(w.club, starts_at=now - timedelta(days=2))
    draft = make.activity(w.club, status="draft", starts_at=now - timedelta(minutes=5))
    for activity in (later, over, draft):
        r = scan(activity, make.token(s1))
        assert r.status_code == 409, r.get_json()
    assert count(session, Participation, Participation.student_id == s1.id) == 1
    # a checked-in record is signed off like any other, once the activity is over
    assert post(client, f"/activities/{on.id}/certify", make.token(w.advisor)).status_code == 409
    on.starts_at, on.ends_at = now - timedelta(days=1), now - timedelta(days=1) + timedelta(hours=3)
    session.commit()
    r = post(client, f"/activities/{on.id}/certify", make.token(w.advisor))
    assert r.get_json() == {"certified": 1}


def test_passwords_and_tokens_never_leave_the_server(client, make, session):
    from app.models import AuthToken

    w = make.world()
    r = post(client, "/auth/token", {}, {"username": w.admin.username,
                                         "password": "correct horse 42"})
    assert r.status_code == 200, r.get_json()
    token = r.get_json()["token"]
    assert r.get_json()["expires_at"].endswith("+08:00")
    adm = {"Authorization": f"Bearer {token}"}
    assert get(client, "/me", adm).get_json()["id"] == w.admin.id
    created = post(client, "/users", adm, _user()).get_json()
    listed = get(client, "/users?per_page=200", adm).get_json()["items"]
    for user in [created, get(client, "/me", adm).get_json(), *listed]:
        assert not {"password", "password_hash"} & set(user), user
    session.expire_all()
    stored = session.execute(select(AuthToken.token_hash)).scalars().all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    hashes = session.execute(select(User.password_hash)).scalars().all()
    assert "a long password" not in hashes and all(h.startswith("$argon2") for h in hashes)
