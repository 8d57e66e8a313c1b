"""Issue #13's certification rules: hours certified only for what happened, by a club that runs."""

from __future__ import annotations

from datetime import timedelta

from app.models import AuditEvent, Participation
from app.services import activities, participations
from app.timeutil import utcnow

API = "/api/v1"


def post(client, path, headers, body=None, lang="en"):
    return client.post(API + path, json=body or {}, headers={**headers, "Accept-Language": lang})


def records(session, activity):
    return session.query(Participation).filter_by(activity_id=activity.id).count()


def test_cannot_certify_before_the_activity_ends(client, make, session):
    w = make.world()
    soon = make.activity(w.club, starts_at=utcnow() - timedelta(hours=1))  # ends in two hours
    make.participation(soon, w.students[0])
    r = post(client, f"/activities/{soon.id}/certify", make.token(w.advisor))
    assert r.status_code == 409 and "ends" in r.get_json()["error"]["message"]
    record = session.query(Participation).filter_by(activity_id=soon.id).one()
    r = post(client, f"/participations/{record.id}/reject", make.token(w.advisor), {"reason": "不在场"})
    assert r.status_code == 409
    session.expire_all()
    assert record.status == "recorded"


def test_hours_over_the_activity_need_a_reason(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    s0 = w.students[0]
    r = post(client, f"/activities/{w.activity.id}/participations", lead,
             {"entries": [{"student_no": s0.student_no, "hours": 150}]})
    assert r.status_code == 422
    assert "entries.0.hours_reason" in r.get_json()["error"]["fields"]
    assert records(session, w.activity) == 0
    r = post(client, f"/activities/{w.activity.id}/participations", lead,
             {"entries": [{"student_no": s0.student_no, "hours": 6, "hours_reason": "提前布置会场"}]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["items"][0]["hours_reason"] == "提前布置会场"


def test_dissolved_club_is_read_only(client, make, session):
    w = make.world()
    w.club.status = "dissolved"
    session.commit()
    r = post(client, f"/activities/{w.activity.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": w.students[0].student_no}]})
    assert r.status_code == 409 and "read-only" in r.get_json()["error"]["message"]
    r = post(client, f"/activities/{w.activity.id}/complete", make.token(w.leader), {})
    assert r.status_code == 409
    assert records(session, w.activity) == 0


def test_suspended_club_cannot_certify(client, make, session):
    w = make.world()
    make.participation(w.activity, w.students[0])
    w.club.status = "suspended"
    session.commit()
    r = post(client, f"/activities/{w.activity.id}/certify", make.token(w.advisor))
    assert r.status_code == 409


def test_club_without_advisor_cannot_plan(make, session):
    leader = make.leader()
    club = make.club(leaders=[leader])
    try:
        activities.club_for_planning(session, leader, club.id)
    except Exception as error:  # noqa: BLE001 - the domain's Conflict
        assert getattr(error, "status", None) == 409 and "指导老师" in error.message  # the advisor
    else:
        raise AssertionError("a club without an advisor planned an activity")


def test_participants_only_on_an_approved_activity(client, make, session):
    w = make.world()
    for status in ("draft", "submitted"):
        plan = make.activity(w.club, status=status)
        r = post(client, f"/activities/{plan.id}/participations", make.token(w.leader),
                 {"entries": [{"student_no": w.students[0].student_no}]})
        assert r.status_code == 409, status
        assert records(session, plan) == 0


def test_capacity_holds_for_the_list_and_the_csv(client, make, session):
    w = make.world()
    small = make.activity(w.club, capacity=1)
    r = post(client, f"/activities/{small.id}/participations", make.token(w.leader),
             {"entries": [{"student_no": s.student_no} for s in w.students]})
    assert r.status_code == 409 and "1 place" in r.get_json()["error"]["message"]
    assert records(session, small) == 0
    from app.services import imports
    data = ("student_no\n" + "\n".join(s.student_no for s in w.students) + "\n").encode()
    preview = imports.preview_participations(session, w.leader, small.id, data)
    assert not preview.ok and [e.line for e in preview.errors] == [3]


def test_a_full_activity_refuses_the_leaders_form_with_409_and_says_why(client, make, session):
    from tests.factories import PASSWORD

    w = make.world()
    small = make.activity(w.club, capacity=1)
    make.participation(small, w.students[0])
    session.commit()
    client.post("/login", data={"username": w.leader.username, "password": PASSWORD})
    r = client.post(f"/activities/{small.id}/participants", headers={"Accept-Language": "en"},
                    data={"student_no": w.students[1].student_no, "role": "participant"})
    assert r.status_code == 409
    assert "The activity takes 1 people and 0 places are left; nothing was stored" in r.get_data(as_text=True)
    assert records(session, small) == 1


def test_returned_plan_shows_its_reason_to_the_leader(client, make, session):
    w = make.world()
    plan = make.activity(w.club, status="submitted")
    r = post(client, f"/activities/{plan.id}/return", make.token(w.advisor), {"reason": "预算请再细化"})
    assert r.status_code == 200
    session.commit()
    shown = client.get(f"{API}/activities/{plan.id}", headers=make.token(w.leader)).get_json()
    assert shown["return_reason"] == "预算请再细化"
    from app.services.pages.leader import leader_home
    home = leader_home(session, w.leader)
    assert home.clubs[0].returned == {plan.id: "预算请再细化"}


def test_signoff_queue_shows_only_ended_activities(make, session):
    from app.services.pages.organizer import signoff_queue
    w = make.world()
    coming = make.activity(w.club, starts_at=utcnow() + timedelta(days=1))
    make.participation(w.activity, w.students[0])
    make.participation(coming, w.students[1])
    assert [a.id for a, _n in signoff_queue(session, w.advisor).items] == [w.activity.id]


def test_queue_flags_hours_above_the_activity_and_a_short_check_in_span(make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0], hours="6")
    record.source = "check_in"
    record.checked_in_at = w.activity.starts_at
    record.checked_out_at = w.activity.starts_at + timedelta(hours=1)
    session.commit()
    assert participations.record_flags(record) == ["hours_above_activity", "short_check_in_span"]


def test_every_lifecycle_step_is_audited(client, make, session):
    w = make.world()
    lead, adv = make.token(w.leader), make.token(w.advisor)
    plan = make.activity(w.club, status="draft")
    assert post(client, f"/activities/{plan.id}/submit", lead).status_code == 200
    assert post(client, f"/activities/{plan.id}/approve", adv).status_code == 200
    assert post(client, f"/activities/{plan.id}/complete", lead, {}).status_code == 200
    actions = {e.action for e in session.query(AuditEvent).all()}
    assert {"activity.submitted", "activity.approved", "activity.completed"} <= actions
