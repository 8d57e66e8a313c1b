"""The audit log: every approval, sign-off, rejection and revocation is an event in a hash
chain, and any edit made behind the application's back is found and named by its seq."""

from __future__ import annotations

import json
import re

from sqlalchemy import bindparam, select, text
from sqlalchemy.types import JSON

from app.models import AuditEvent
from app.services.audit import verify_chain

API = "/api/v1"


def post(client, url, headers, json_body=None):
    return client.post(API + url, headers=headers, json=json_body if json_body is not None else {})


def _sign_offs(client, make):
    """Drive the API through approve, certify, reject, revoke, cancel and return."""
    w = make.world()
    adv, lead = make.token(w.advisor), make.token(w.leader)
    plan = make.activity(w.club, status="submitted")
    assert post(client, f"/activities/{plan.id}/approve", adv).status_code == 200
    s0, s1 = w.students
    r = post(client, f"/activities/{w.activity.id}/participations", lead,
             {"entries": [{"student_no": s0.student_no}, {"student_no": s1.student_no}]})
    first, second = (item["id"] for item in r.get_json()["items"])
    assert post(client, f"/participations/{second}/reject", adv,
                {"reason": "未签到"}).status_code == 200
    assert post(client, f"/activities/{w.activity.id}/certify", adv,
                {"note": "已核对签到表"}).get_json() == {"certified": 1}
    assert post(client, f"/participations/{first}/revoke", adv,
                {"reason": "重复记录"}).status_code == 200
    returned = make.activity(w.club, status="submitted")
    assert post(client, f"/activities/{returned.id}/return", adv,
                {"reason": "请补充预算"}).status_code == 200
    assert post(client, f"/activities/{plan.id}/cancel", lead,
                {"reason": "场地冲突"}).status_code == 200
    return w, first, second


def _events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def test_sign_offs_write_events_in_a_chain(client, make, session):
    w, first, second = _sign_offs(client, make)
    chain = _events(session)
    events = [e for e in chain if e.action != "participation.record"]  # the leader's own entry
    assert [e.action for e in events] == [
        "activity.approved", "participation.reject", "participation.certify",
        "participation.revoke", "activity.returned", "activity.cancelled",
    ]
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(e.actor_id == w.advisor.id for e in events[:-1])
    assert events[-1].actor_id == w.leader.id
    assert events[1].data["reason"] == "未签到" and events[1].object_id == str(second)
    assert events[2].data["participation_ids"] == [first]
    assert events[3].data["reason"] == "重复记录"
    for prev, event in zip(chain, chain[1:], strict=False):
        assert event.prev_hash == prev.hash
    report = verify_chain(session)
    assert report.ok and report.events == len(chain)


def _tamper(session, sql: str, **params) -> None:
    statement = text(sql)
    if "data" in params:
        statement = statement.bindparams(bindparam("data", type_=JSON))
    session.execute(statement, params)
    session.commit()


def test_audit_chain_detects_edited_event(client, make, session):
    _sign_offs(client, make)
    events = _events(session)
    assert verify_chain(session).ok
    victim = next(e for e in events if e.action == "participation.reject")
    forged = {**victim.data, "reason": "学生本人要求"}
    _tamper(session, "UPDATE audit_event SET data = :data WHERE seq = :seq",
            data=forged, seq=victim.seq)
    session.expire_all()
    assert session.execute(
        select(AuditEvent.data).where(AuditEvent.seq == victim.seq)
    ).scalar_one()["reason"] == "学生本人要求"
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_seq == victim.seq
    assert "改动" in report.reason


def test_audit_chain_detects_edited_actor_and_rehashed_event(client, make, session):
    """Changing who acted is found; so is recomputing that event's own hash to cover it up
    (the next event no longer follows)."""
    w, _, _ = _sign_offs(client, make)
    events = _events(session)
    target = events[2]
    _tamper(session, "UPDATE audit_event SET actor_id = :actor WHERE seq = :seq",
            actor=w.admin.id, seq=target.seq)
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == target.seq

    from app.services.audit import _event_hash

    session.expire_all()
    edited = session.execute(select(AuditEvent).where(AuditEvent.seq == target.seq)).scalar_one()
    rehashed = _event_hash(edited.seq, edited.at.isoformat(), edited.actor_id, edited.action,
                           edited.object_type, edited.object_id, edited.data, edited.prev_hash)
    _tamper(session, "UPDATE audit_event SET hash = :h WHERE seq = :seq",
            h=rehashed, seq=target.seq)
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == target.seq + 1


def test_audit_chain_detects_deleted_events(client, make, session):
    _sign_offs(client, make)
    events = _events(session)
    last = events[-1].seq
    _tamper(session, "DELETE FROM audit_event WHERE seq = :seq", seq=last)
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == last

    # a hole in the middle is named too
    _tamper(session, "DELETE FROM audit_event WHERE seq = :seq", seq=2)
    report = verify_chain(session)
    assert not report.ok and report.broken_seq == 2


def _cli_output(result) -> str:
    return result.output or ""  # click ≥ 8.2: stdout and stderr interleaved


def _says_ok(output: str) -> bool:
    return re.search(r"\bOK\b", output) is not None


def test_flask_audit_verify_cli(app, client, make, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, _cli_output(result)
    assert _says_ok(_cli_output(result)) and "0 条事件" in _cli_output(result)

    _sign_offs(client, make)
    count = len(_events(session))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, _cli_output(result)
    assert _says_ok(_cli_output(result)) and f"{count} 条事件" in _cli_output(result)

    victim = _events(session)[3]
    _tamper(session, "UPDATE audit_event SET data = :data WHERE seq = :seq",
            data={**victim.data, "reason": json.dumps("改过")}, seq=victim.seq)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    output = _cli_output(result)
    assert "断裂" in output and f"#{victim.seq}" in output and not _says_ok(output)
