"""Sign-ups (报名): places, the waiting line, deadlines, who came and who did not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Notification, Registration
from app.services import check_in, registrations
from app.services.errors import Conflict
from app.timeutil import utcnow

API = "/api/v1"


@pytest.fixture
def upcoming(make, session):
    """An approved activity of the world's club next week with two places, and four students."""
    w = make.world()
    w.activity = make.activity(w.club, starts_at=utcnow() + timedelta(days=7), capacity=2)
    w.students = [*w.students, make.student(unit=w.unit), make.student(unit=w.unit)]
    session.commit()
    return w


def sign_up(client, make, activity, student):
    return client.post(f"{API}/activities/{activity.id}/registrations", headers=make.token(student))


def test_sign_up_takes_a_place_then_the_waiting_line(client, make, upcoming):
    w = upcoming
    answers = [sign_up(client, make, w.activity, s) for s in w.students[:4]]
    assert [a.status_code for a in answers] == [201] * 4
    assert [a.get_json() for a in answers] == [
        {"status": "registered", "position": None}, {"status": "registered", "position": None},
        {"status": "waitlisted", "position": 1}, {"status": "waitlisted", "position": 2},
    ]


def test_waitlisted_student_moves_up_when_someone_cancels(client, session, make, upcoming):
    w = upcoming
    for s in w.students[:4]:
        sign_up(client, make, w.activity, s)
    gone = client.delete(f"{API}/activities/{w.activity.id}/registrations/me", headers=make.token(w.students[0]))
    assert gone.status_code == 204
    listed = client.get(f"{API}/activities/{w.activity.id}/registrations", headers=make.token(w.leader)).get_json()
    assert [(r["student_no"], r["status"], r["position"]) for r in listed["items"]] == [
        (w.students[1].student_no, "registered", None),
        (w.students[2].student_no, "registered", None),  # moved up from the line
        (w.students[3].student_no, "waitlisted", 1),
    ]
    told = session.execute(select(Notification).where(
        Notification.user_id == w.students[2].id, Notification.kind == "registration.promoted")).scalars().all()
    assert len(told) == 1 and told[0].link == f"/activities/{w.activity.id}"
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(w.activity.id))
                              .order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["registration.cancel", "registration.promote"]


def test_signing_up_twice_is_refused_and_stores_nothing(client, session, make, upcoming):
    w = upcoming
    assert sign_up(client, make, w.activity, w.students[0]).status_code == 201
    again = sign_up(client, make, w.activity, w.students[0])
    assert again.status_code == 409 and "已报名" in again.get_json()["error"]["message"]
    assert session.execute(select(func.count(Registration.id))).scalar_one() == 1


def test_sign_up_after_the_start_or_the_deadline_is_refused(client, session, make, upcoming):
    w = upcoming
    started = make.activity(w.club, starts_at=utcnow() - timedelta(minutes=5))
    closed = make.activity(w.club, starts_at=utcnow() + timedelta(days=3),
                           registration_deadline=utcnow() - timedelta(hours=1))
    draft = make.activity(w.club, starts_at=utcnow() + timedelta(days=3), status="submitted")
    session.commit()
    for activity, words in ((started, "已开始"), (closed, "截止"), (draft, "已批准")):
        answer = sign_up(client, make, activity, w.students[0])
        assert answer.status_code == 409, activity
        assert words in answer.get_json()["error"]["message"]
    assert session.execute(select(func.count(Registration.id))).scalar_one() == 0


def test_organizers_and_other_students_cannot_sign_up_or_read_the_list(client, make, upcoming):
    w = upcoming
    assert sign_up(client, make, w.activity, w.advisor).status_code == 403
    other_club = make.club(advisors=[make.organizer()], leaders=[make.leader()])
    for outsider in (w.students[0], other_club.leaders[0], other_club.advisors[0]):
        answer = client.get(f"{API}/activities/{w.activity.id}/registrations", headers=make.token(outsider))
        assert answer.status_code == 403
    assert client.get(f"{API}/activities/{w.activity.id}/registrations",
                      headers=make.token(w.advisor)).status_code == 200


def test_withdrawing_without_a_sign_up_is_404(client, make, upcoming):
    w = upcoming
    answer = client.delete(f"{API}/activities/{w.activity.id}/registrations/me", headers=make.token(w.students[0]))
    assert answer.status_code == 404


def test_no_shows_are_counted_per_student(session, make, upcoming):
    w = upcoming
    came, stayed_away = w.students[0], w.students[1]
    past = []
    for days in (20, 10):
        activity = make.activity(w.club, starts_at=utcnow() - timedelta(days=days))
        past.append(activity)
        for s in (came, stayed_away):
            session.add(Registration(activity_id=activity.id, student_id=s.id, status="registered",
                                     created_at=activity.starts_at - timedelta(days=2)))
        make.participation(activity, came)
    session.commit()
    assert registrations.no_show_counts(session, [came.id, stayed_away.id]) == {stayed_away.id: 2}
    rows = registrations.list_registrations(session, w.leader, past[1].id)
    assert {(r.registration.student_id, r.came, r.no_shows) for r in rows} == {
        (came.id, True, 0), (stayed_away.id, False, 2)}


def test_a_registered_student_checks_in_even_when_walk_ins_filled_the_room(session, make):
    w = make.world()
    activity = make.activity(w.club, starts_at=utcnow() + timedelta(minutes=10), capacity=2)
    session.commit()
    registrations.register(session, w.students[0], activity.id)
    session.commit()
    code = check_in.venue_code(session, w.leader, activity.id).code
    check_in.check_in(session, w.students[1], activity.id, code)  # a walk-in takes the free place
    session.commit()
    walk_in = make.student(unit=w.unit)
    session.commit()
    with pytest.raises(Conflict):
        check_in.check_in(session, walk_in, activity.id, code)  # the last place is held
    session.rollback()
    assert check_in.check_in(session, w.students[0], activity.id, code).checked_in_at is not None


def test_everyone_signed_up_hears_when_the_activity_is_cancelled(session, make, upcoming):
    from app.services import activities

    w = upcoming
    for s in w.students[:3]:  # two places and one waiting
        registrations.register(session, s, w.activity.id)
    session.commit()
    activities.cancel_activity(session, w.leader, w.activity.id, "场地临时关闭")
    session.commit()
    told = session.execute(select(Notification.user_id, Notification.params).where(
        Notification.kind == "registration.activity_cancelled")).all()
    assert sorted(user_id for user_id, _ in told) == sorted(s.id for s in w.students[:3])
    assert {params["reason"] for _, params in told} == {"场地临时关闭"}
