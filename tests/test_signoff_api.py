"""The sign-off journey through the API: plan → approve → record → certify, and its rules."""

from __future__ import annotations


def post(client, url, headers, json=None):
    return client.post(url, headers=headers, json=json if json is not None else {})


def test_leader_plans_and_organizer_approves(client, make):
    w = make.world()
    lead, adv = make.token(w.leader), make.token(w.advisor)
    r = post(client, f"/api/v1/clubs/{w.club.id}/activities", lead, {
        "title": "敬老院志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00:00+08:00", "ends_at": "2026-10-20T12:00:00+08:00",
        "location": "阳光敬老院", "hours": 3, "partners": ["阳光敬老院"],
    })
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "draft" and body["term"] == "2026-2027-1" and body["hours"] == 3.0
    aid = body["id"]
    assert post(client, f"/api/v1/activities/{aid}/submit", lead).get_json()["status"] == "submitted"
    assert post(client, f"/api/v1/activities/{aid}/approve", adv).get_json()["status"] == "approved"
    r = post(client, f"/api/v1/activities/{aid}/participations", lead, {"entries": [
        {"student_no": s.student_no, "role": "volunteer"} for s in w.students]})
    assert r.status_code == 201 and r.get_json()["created"] == 2
    r = post(client, f"/api/v1/activities/{aid}/certify", adv)
    assert r.get_json() == {"certified": 2}
    r = client.get(f"/api/v1/students/{w.students[0].student_no}/records", headers=make.token(w.students[0]))
    data = r.get_json()
    assert data["total_certified_hours"] == 3.0
    assert data["items"][0]["certified_by"] == w.advisor.display_name


def test_batch_with_one_bad_entry_stores_nothing(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    r = post(client, f"/api/v1/activities/{w.activity.id}/participations", lead, {"entries": [
        {"student_no": w.students[0].student_no},
        {"student_no": "NOPE-0000"},
        {"student_no": w.students[1].student_no, "hours": 500},
    ]})
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"entries.1.student_no", "entries.2.hours"}
    from app.models import Participation

    assert session.query(Participation).count() == 0


def test_malformed_json_is_400_in_error_shape(client, make):
    w = make.world()
    r = client.post(f"/api/v1/activities/{w.activity.id}/participations",
                    headers={**make.token(w.leader), "Content-Type": "application/json"}, data="{nope")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"


def test_wrong_content_type_is_415(client, make):
    w = make.world()
    r = client.post(f"/api/v1/activities/{w.activity.id}/participations",
                    headers={**make.token(w.leader), "Content-Type": "text/plain"}, data="hello")
    assert r.status_code == 415
    assert r.get_json()["error"]["code"] == "unsupported_media_type"


def test_leader_edits_a_draft_partially_and_a_submitted_plan_returns_to_draft(client, make):
    w = make.world()
    draft = make.activity(w.club, status="draft", partners=["市图书馆"], capacity=30)
    lead = make.token(w.leader)
    r = client.patch(f"/api/v1/activities/{draft.id}", headers=lead, json={"title": "图书馆整理志愿活动（改）"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["title"] == "图书馆整理志愿活动（改）" and body["partners"] == ["市图书馆"] and body["capacity"] == 30
    assert post(client, f"/api/v1/activities/{draft.id}/submit", lead).status_code == 200
    r = client.patch(f"/api/v1/activities/{draft.id}", headers=lead, json={"hours": 2.5})
    assert r.get_json()["status"] == "draft" and r.get_json()["hours"] == 2.5
    approved = make.activity(w.club, status="approved")
    r = client.patch(f"/api/v1/activities/{approved.id}", headers=lead, json={"title": "改不了"})
    assert r.status_code == 409


def test_the_same_plan_saved_twice_is_one_activity(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    body = {"title": "社区环保宣传", "module": "volunteering", "level": "club", "location": "社区广场",
            "starts_at": "2026-12-05T09:00:00+08:00", "ends_at": "2026-12-05T11:00:00+08:00", "hours": 2}
    first = post(client, f"/api/v1/clubs/{w.club.id}/activities", lead, body)
    again = post(client, f"/api/v1/clubs/{w.club.id}/activities", lead, body)
    assert first.status_code == 201 and again.status_code == 409
    assert "title" in again.get_json()["error"]["fields"]
    from app.models import Activity

    assert session.query(Activity).filter_by(title="社区环保宣传").count() == 1
    later = post(client, f"/api/v1/clubs/{w.club.id}/activities", lead,
                 {**body, "starts_at": "2026-12-12T09:00:00+08:00", "ends_at": "2026-12-12T11:00:00+08:00"})
    assert later.status_code == 201  # the same title another week is another activity
