"""On-site check-in: the venue's rotating code, check-in and check-out by scan, the late entry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Participation, ParticipationSource
from app.services import check_in
from app.services.errors import Conflict, Forbidden, Invalid
from app.timeutil import utcnow

API = "/api/v1"


@pytest.fixture
def on_now(make, session):
    """A club's approved activity that started an hour ago and ends in two, 4 h worth."""
    w = make.world()
    w.activity = make.activity(w.club, starts_at=utcnow() - timedelta(hours=1), hours="4")
    session.commit()
    return w


def shift_clock(monkeypatch, by: timedelta) -> None:
    moment = utcnow() + by
    monkeypatch.setattr(check_in, "utcnow", lambda: moment)


def test_check_in_code_expires_and_is_bound_to_its_activity(app, session, make, on_now, monkeypatch):
    w = on_now
    other = make.activity(w.club, starts_at=utcnow() - timedelta(hours=1), title="另一场")
    session.commit()
    code = check_in.venue_code(session, w.leader, w.activity.id).code
    with pytest.raises(Invalid) as refused:
        check_in.check_in(session, w.students[0], other.id, code)
    assert "code" in refused.value.fields
    with pytest.raises(Invalid):
        check_in.check_in(session, w.students[0], w.activity.id, check_in.venue_code(
            session, w.leader, w.activity.id, "out").code)  # the check-out code does not check in
    record = check_in.check_in(session, w.students[0], w.activity.id, code)
    assert record.source == ParticipationSource.CHECK_IN and record.checked_in_at is not None


def test_photo_of_the_code_is_useless_a_minute_later(app, session, on_now, monkeypatch):
    w = on_now
    photo = check_in.venue_code(session, w.leader, w.activity.id).code
    period = app.config["CHECK_IN_PERIOD_S"]
    shift_clock(monkeypatch, timedelta(seconds=period))  # the next period: still accepted
    assert check_in.check_in(session, w.students[0], w.activity.id, photo).id
    shift_clock(monkeypatch, timedelta(minutes=1))
    with pytest.raises(Invalid) as refused:
        check_in.check_in(session, w.students[1], w.activity.id, photo)
    assert "过期" in refused.value.fields["code"][0]  # expired
    assert session.execute(select(Participation).where(Participation.student_id == w.students[1].id)).first() is None


def test_replayed_code_records_a_student_once(session, on_now):
    w = on_now
    code = check_in.venue_code(session, w.leader, w.activity.id).code
    check_in.check_in(session, w.students[0], w.activity.id, code)
    with pytest.raises(Conflict):
        check_in.check_in(session, w.students[0], w.activity.id, code)


def test_missing_or_malformed_code_is_refused_with_a_reason(session, on_now):
    w = on_now
    for code in (None, "", "x" * 10, "<script>"):
        with pytest.raises(Invalid) as refused:
            check_in.check_in(session, w.students[0], w.activity.id, code)
        assert refused.value.fields["code"]


def test_check_in_outside_the_window_is_refused(session, make, on_now):
    w = on_now
    later = make.activity(w.club, starts_at=utcnow() + timedelta(days=2))
    session.commit()
    code = check_in.venue_code(session, w.leader, later.id).code
    with pytest.raises(Conflict):
        check_in.check_in(session, w.students[0], later.id, code)


def test_check_out_without_check_in_is_refused(session, on_now):
    w = on_now
    out = check_in.venue_code(session, w.leader, w.activity.id, "out").code
    with pytest.raises(Conflict):
        check_in.check_out(session, w.students[0], w.activity.id, out)


def test_check_out_sets_hours_to_the_span_capped_by_the_activity(session, on_now, monkeypatch):
    w = on_now
    check_in.check_in(session, w.students[0], w.activity.id, check_in.venue_code(session, w.leader, w.activity.id).code)
    shift_clock(monkeypatch, timedelta(minutes=95))
    out = check_in.venue_code(session, w.leader, w.activity.id, "out")  # shown at the time of leaving
    record = check_in.check_out(session, w.students[0], w.activity.id, out.code)
    assert record.hours == Decimal("1.5") and record.checked_out_at > record.checked_in_at
    with pytest.raises(Conflict):
        check_in.check_out(session, w.students[0], w.activity.id, out.code)
    assert check_in.span_hours(record.checked_in_at, record.checked_in_at + timedelta(hours=9), Decimal("4")) == 4
    assert check_in.span_hours(record.checked_in_at, record.checked_in_at, Decimal("4")) == Decimal("0.1")


def test_check_in_and_out_are_audited(session, on_now):
    w = on_now
    check_in.check_in(session, w.students[0], w.activity.id, check_in.venue_code(session, w.leader, w.activity.id).code)
    check_in.check_out(session, w.students[0], w.activity.id,
                       check_in.venue_code(session, w.leader, w.activity.id, "out").code)
    actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions[-2:] == ["participation.check_in", "participation.check_out"]


def test_capacity_holds_at_check_in(session, make, on_now):
    w = on_now
    w.activity.capacity = 1
    session.commit()
    code = check_in.venue_code(session, w.leader, w.activity.id).code
    check_in.check_in(session, w.students[0], w.activity.id, code)
    with pytest.raises(Conflict):
        check_in.check_in(session, w.students[1], w.activity.id, code)


def test_only_a_leader_of_the_club_sees_the_code(session, make, on_now):
    w = on_now
    other_leader = make.leader()
    make.club(advisors=[make.organizer()], leaders=[other_leader])
    for outsider in (w.students[0], w.advisor, other_leader):
        with pytest.raises(Forbidden):
            check_in.venue_code(session, outsider, w.activity.id)
    assert check_in.venue_code(session, w.admin, w.activity.id).code


def test_api_code_check_in_and_check_out(client, make, session, on_now):
    w = on_now
    r = client.get(f"{API}/activities/{w.activity.id}/check-in-code", headers=make.token(w.leader))
    assert r.status_code == 200, r.json
    body = r.json
    assert parse_qs(urlsplit(body["url"]).query)["c"] == [body["code"]] and body["period_s"] == 15
    student = make.token(w.students[0])
    assert client.post(f"{API}/activities/{w.activity.id}/check-in", json={}, headers=student).status_code == 422
    r = client.post(f"{API}/activities/{w.activity.id}/check-in", json={"code": body["code"]}, headers=student)
    assert r.status_code == 201 and r.json["source"] == "check_in"
    out = client.get(f"{API}/activities/{w.activity.id}/check-in-code?direction=out",
                     headers=make.token(w.leader)).json["code"]
    r = client.post(f"{API}/activities/{w.activity.id}/check-out", json={"code": out}, headers=student)
    assert r.status_code == 200 and r.json["checked_out_at"] and r.json["checked_in_at"]
    r = client.post(f"{API}/activities/{w.activity.id}/check-out", json={"code": out}, headers=student)
    assert r.status_code == 409


def test_late_entry_needs_a_reason_and_the_window(session, make, on_now):
    w = on_now
    with pytest.raises(Invalid) as refused:
        check_in.late_entry(session, w.leader, w.activity.id, w.students[0].student_no, "")
    assert "reason" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        check_in.late_entry(session, w.leader, w.activity.id, w.students[0].student_no, "手机没电", hours="9")
    assert "hours" in refused.value.fields
    record = check_in.late_entry(session, w.leader, w.activity.id, w.students[0].student_no, "手机没电")
    assert record.source == ParticipationSource.LATE_ENTRY and record.late_entry_reason == "手机没电"
    long_ago = make.activity(w.club, starts_at=utcnow() - timedelta(days=30))
    session.commit()
    with pytest.raises(Conflict):
        check_in.late_entry(session, w.leader, long_ago.id, w.students[1].student_no, "手机没电")
    future = make.activity(w.club, starts_at=utcnow() + timedelta(days=3))
    session.commit()
    with pytest.raises(Conflict):
        check_in.late_entry(session, w.leader, future.id, w.students[1].student_no, "手机没电")


def test_other_club_leader_cannot_late_enter(session, make, on_now):
    w = on_now
    other_leader = make.leader()
    make.club(advisors=[make.organizer()], leaders=[other_leader])
    for outsider in (other_leader, w.students[0], w.advisor):
        with pytest.raises(Forbidden):
            check_in.late_entry(session, outsider, w.activity.id, w.students[1].student_no, "没扫上")


def test_late_entry_through_the_api_shows_as_such(client, make, session, on_now):
    w = on_now
    r = client.post(f"{API}/activities/{w.activity.id}/late-entries", headers=make.token(w.leader),
                    json={"student_no": w.students[0].student_no, "reason": "扫码失败"})
    assert r.status_code == 201 and r.json["source"] == "late_entry" and r.json["late_entry_reason"] == "扫码失败"
    r = client.post(f"{API}/activities/{w.activity.id}/late-entries", headers=make.token(w.leader),
                    json={"student_no": "nobody", "reason": "扫码失败"})
    assert r.status_code == 422 and "student_no" in r.json["error"]["fields"]


def test_phone_scan_page_signs_in_then_confirms(client, make, session, on_now):
    from tests.factories import PASSWORD

    w = on_now
    url = check_in.venue_code(session, w.leader, w.activity.id).url
    path = urlsplit(url).path + "?" + urlsplit(url).query
    r = client.get(path)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    client.post("/login", data={"username": w.students[0].username, "password": PASSWORD})
    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Check in now" in page.get_data(as_text=True)
    code = parse_qs(urlsplit(url).query)["c"][0]
    done = client.post(f"/c/{w.activity.id}", data={"c": code, "d": "in"}, headers={"Accept-Language": "en"})
    assert done.status_code == 200 and "Checked in at" in done.get_data(as_text=True)
    again = client.post(f"/c/{w.activity.id}", data={"c": "expiredxx1", "d": "in"}, headers={"Accept-Language": "en"})
    said = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "This code has expired or is not this activity&#39;s" in said  # the reason alone, no field name
    assert "code:" not in said and "Check in now" not in said


def test_venue_screen_shows_a_qr_code_and_refreshes(client, make, session, on_now):
    from tests.factories import PASSWORD

    w = on_now
    client.post("/login", data={"username": w.leader.username, "password": PASSWORD})
    page = client.get(f"/activities/{w.activity.id}/check-in/screen")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="qr"' in html and "check_in.js" in html
    state = client.get(f"/activities/{w.activity.id}/check-in/code.json").json
    assert state["svg"].startswith("<svg") and state["count"] == 0 and f"/c/{w.activity.id}?c=" in state["url"]
