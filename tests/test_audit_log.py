"""An audit log that cannot be rewritten unnoticed: signed checkpoints kept outside the database
pin the chain (a truncation or a rewrite behind one is caught), the record's tables are checked
against the log, and only the admin reads it (API, page, CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, select, text
from sqlalchemy.types import JSON

from app.models import AuditEvent, AuditHead, Participation
from app.services import accounts, classes, clubs, leadership
from app.services.audit import _event_hash, verify_chain
from app.services.audit_checkpoints import checkpoints_path, create_checkpoint, read_checkpoints, verify_checkpoints
from app.services.audit_reconcile import reconcile
from app.timeutil import utcnow
from tests.factories import PASSWORD


def _units(session, admin, n: int) -> None:
    for i in range(n):
        accounts.create_unit(session, admin, f"U{i}{admin.id}", f"学院{i}")
    session.commit()


def _events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def _checkpoint(app) -> str:
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    return result.output


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _says_ok(output: str) -> bool:
    return re.search(r"\bOK\b", output) is not None


def _sql(session, statement: str, **params) -> None:
    session.execute(text(statement), params)
    session.commit()


# ---- checkpoints ------------------------------------------------------------------------------

def test_checkpoint_signs_the_head_with_a_key_outside_the_database(app, session, make):
    _units(session, make.admin(), 3)
    output = _checkpoint(app)
    key = Path(app.config["SIGNING_KEY_DIR"]) / "audit-checkpoint.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    head = session.get(AuditHead, 1)
    [checkpoint] = read_checkpoints()
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    assert f"#{head.seq}" in output
    assert _events(session)[-1].action == "key.generate"  # the key's making is itself in the log
    assert "#" in _checkpoint(app) and len(read_checkpoints()) == 1  # nothing new: nothing signed


def test_audit_truncation_behind_a_checkpoint_is_caught(app, session, make):
    _units(session, make.admin(), 6)
    _checkpoint(app)
    events = _events(session)
    keep, last_seq = events[-4], events[-1].seq
    _sql(session, "DELETE FROM audit_event WHERE seq > :seq", seq=keep.seq)
    _sql(session, "UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1", seq=keep.seq, hash=keep.hash)
    assert verify_chain(session).ok  # the chain alone cannot tell
    report = verify_checkpoints(session)
    assert not report.ok and f"#{last_seq}" in report.reason
    result = _verify(app)
    assert result.exit_code == 1 and f"#{last_seq}" in result.output and not _says_ok(result.output)


def test_audit_rewrite_with_recomputed_hashes_is_caught(app, session, make):
    _units(session, make.admin(), 5)
    _checkpoint(app)
    events = _events(session)
    victim = events[1]
    prev = victim.prev_hash
    for event in events[1:]:
        data = {**event.data, "name": "伪造学院"} if event.seq == victim.seq else event.data
        new_hash = _event_hash(event.seq, event.at.isoformat(), event.actor_id, event.action,
                               event.object_type, event.object_id, data, prev)
        session.execute(text("UPDATE audit_event SET data = :data, prev_hash = :prev, hash = :hash WHERE seq = :seq")
                        .bindparams(bindparam("data", type_=JSON)),
                        {"data": data, "prev": prev, "hash": new_hash, "seq": event.seq})
        prev = new_hash
    _sql(session, "UPDATE audit_head SET hash = :hash WHERE id = 1", hash=prev)
    assert verify_chain(session).ok  # every hash recomputed: the chain alone is fooled
    report = verify_checkpoints(session)
    signed = read_checkpoints()[-1].seq
    assert not report.ok and f"#{signed}" in report.reason
    result = _verify(app)
    assert result.exit_code == 1 and f"#{signed}" in result.output and not _says_ok(result.output)


def test_checkpoint_signature_forged_is_caught(app, session, make):
    _units(session, make.admin(), 2)
    _checkpoint(app)
    path = checkpoints_path()
    line = json.loads(path.read_text())
    head = session.get(AuditHead, 1)
    # Someone who rewrote the log moves the signed head to their own version: the signature is not theirs to make.
    line["hash"] = "f" * 64
    path.write_text(json.dumps(line) + "\n")
    _sql(session, "UPDATE audit_head SET hash = :hash WHERE id = 1", hash=head.hash)
    report = verify_checkpoints(session)
    assert not report.ok and f"#{line['seq']}" in report.reason and report.checked == 0
    assert _verify(app).exit_code == 1


def test_checkpoint_refuses_a_broken_chain(app, session, make):
    _units(session, make.admin(), 3)
    _sql(session, "DELETE FROM audit_event WHERE seq = 2")
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1 and read_checkpoints() == []


def test_checkpoints_are_published_and_in_the_backup(app, client, session, make, backend, tmp_path):
    _units(session, make.admin(), 2)
    _checkpoint(app)
    published = client.get("/.well-known/audit-checkpoints.json")
    assert published.status_code == 200
    document = published.get_json()
    assert document["keys"][0]["crv"] == "Ed25519" and "d" not in document["keys"][0]
    assert [c["seq"] for c in document["checkpoints"]] == [c.seq for c in read_checkpoints()]
    if backend != "sqlite":
        return  # pg_dump's copy is checked by the backup suite; the file beside it is the same code
    target = tmp_path / "backup" / "second.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    beside = target.with_name("second.db.audit-checkpoints.json")
    assert json.loads(beside.read_text())["checkpoints"] == document["checkpoints"]
    assert _verify(app, "--checkpoints", str(beside)).exit_code == 0


def test_verify_says_ok_when_all_is_whole(app, session, make):
    _units(session, make.admin(), 2)
    _checkpoint(app)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert _says_ok(result.output)


# ---- the tables against the log ----------------------------------------------------------------

def _ended_world(make, session):
    w = make.world()
    activity = make.activity(w.club, starts_at=utcnow() - timedelta(days=2))
    session.commit()
    return w, activity


def test_certification_through_the_service_matches_the_log(app, client, session, make):
    w, activity = _ended_world(make, session)
    record = make.participation(activity, w.students[0])
    session.commit()
    r = client.post(f"/api/v1/activities/{activity.id}/certify", headers=make.token(w.advisor), json={})
    assert r.status_code == 200, r.get_json()
    assert session.get(Participation, record.id).status == "certified"
    assert reconcile(session).ok


def test_certification_set_directly_in_the_table_is_caught(app, session, make):
    w, activity = _ended_world(make, session)
    record = make.participation(activity, w.students[0])
    session.commit()
    _sql(session, "UPDATE participation SET status = 'certified', certified_by_id = :who, certified_at = :at "
                  "WHERE id = :id", who=w.advisor.id, at=utcnow(), id=record.id)
    report = reconcile(session)
    assert not report.ok and f"#{record.id}" in report.reason
    result = _verify(app)
    assert result.exit_code == 1 and f"#{record.id}" in result.output


def test_certifier_changed_in_the_table_is_caught(app, client, session, make):
    w, activity = _ended_world(make, session)
    record = make.participation(activity, w.students[0])
    session.commit()
    assert client.post(f"/api/v1/activities/{activity.id}/certify", headers=make.token(w.advisor),
                       json={}).status_code == 200
    _sql(session, "UPDATE participation SET certified_by_id = :who WHERE id = :id", who=w.admin.id, id=record.id)
    assert not reconcile(session).ok


# ---- reading the log ---------------------------------------------------------------------------

def _browser(app, user):
    browser = app.test_client()
    r = browser.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302
    return browser


def test_only_admin_reads_the_audit_log(app, client, session, make):
    w = make.world()
    session.commit()
    others = [w.advisor, w.leader, w.students[0]]
    assert client.get("/api/v1/audit").status_code == 401
    for person in others:
        r = client.get("/api/v1/audit", headers=make.token(person))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
        # a bad filter does not tell them more than "forbidden"
        assert client.get("/api/v1/audit?object=nonsense", headers=make.token(person)).status_code == 403
    assert client.get("/api/v1/audit", headers=make.token(w.admin)).status_code == 200
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert app.test_client().get(path).status_code == 302  # to the sign-in page
        for person in others:
            assert _browser(app, person).get(path).status_code == 403
        assert _browser(app, w.admin).get(path).status_code == 200


def test_audit_api_filters_newest_first(app, client, session, make):
    w = make.world()
    admin = w.admin
    _units(session, admin, 3)
    club = clubs.patch_club(session, admin, w.club.id, status="suspended")
    session.commit()
    headers = make.token(admin)
    everything = client.get("/api/v1/audit", headers=headers).get_json()
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs, reverse=True) and everything["total"] == len(seqs)
    units = client.get("/api/v1/audit?action=unit.create", headers=headers).get_json()
    assert units["total"] == 3 and {e["action"] for e in units["items"]} == {"unit.create"}
    assert client.get("/api/v1/audit?action=unit", headers=headers).get_json()["total"] == 3
    one = client.get(f"/api/v1/audit?object=club:{club.id}", headers=headers).get_json()
    assert [e["action"] for e in one["items"]] == ["club.update"]
    assert one["items"][0]["actor"]["username"] == admin.username
    by_actor = client.get(f"/api/v1/audit?actor_id={admin.id}&per_page=2", headers=headers).get_json()
    assert by_actor["total"] == 4 and len(by_actor["items"]) == 2
    later = (utcnow() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit", headers=headers, query_string={"since": later}).get_json()["total"] == 0
    for bad in ({"object": "club"}, {"action": "DROP TABLE"}, {"since": "yesterday"}, {"actor_id": "x"},
                {"since": later, "until": utcnow().isoformat()}):
        r = client.get("/api/v1/audit", headers=headers, query_string=bad)
        assert r.status_code == 422, (bad, r.get_json())


def test_audit_page_shows_the_chain_and_exports_the_filtered_events(app, session, make):
    admin = make.admin()
    session.commit()
    _units(session, admin, 2)
    _checkpoint(app)
    browser = _browser(app, admin)
    page = browser.get("/admin/audit?action=unit.create").get_data(as_text=True)
    assert "unit.create" in page and "user.sign_in" not in page
    assert "/.well-known/audit-checkpoints.json" in page  # the last checkpoint, and where it is published
    bad = browser.get("/admin/audit?object=nonsense")
    assert bad.status_code == 422 and "club:3" in bad.get_data(as_text=True)
    exported = browser.get("/admin/audit.csv?action=unit.create")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and all(row[4] == "unit.create" for row in rows[1:])


# ---- every area writes its event -----------------------------------------------------------------

def _last(session, action: str) -> AuditEvent:
    return session.execute(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()


def test_a_club_status_change_writes_club_update(app, session, make):
    w = make.world()
    clubs.patch_club(session, w.admin, w.club.id, status="dissolved")
    event = _last(session, "club.update")
    assert event.object_id == str(w.club.id) and event.data["status"] == "dissolved"
    assert event.actor_id == w.admin.id


def test_changing_advisors_writes_club_update(app, session, make):
    w = make.world()
    other = make.organizer(unit=w.unit)
    clubs.patch_club(session, w.admin, w.club.id, advisor_ids=[other.id])
    assert _last(session, "club.update").data["advisor_ids"] == [other.id]


def test_a_unit_and_a_class_are_audited(app, session, make):
    admin = make.admin()
    unit = accounts.create_unit(session, admin, "LAW", "法学院")
    classes.create_class(session, admin, unit.id, "法学2501", 2025)
    assert _last(session, "unit.create").data == {"code": "LAW", "name": "法学院"}
    assert _last(session, "class.create").actor_id == admin.id


def test_membership_changes_are_audited(app, session, make):
    w = make.world()
    member = clubs.add_member(session, w.leader, w.club.id, w.students[0].student_no, "2026-2027-1")
    clubs.update_member(session, w.leader, w.club.id, member.id, role="副会长")
    clubs.remove_member(session, w.leader, w.club.id, member.id)
    actions = [e.action for e in _events(session) if e.object_type == "membership"]
    assert actions == ["membership.create", "membership.update", "membership.delete"]


def test_appointing_leaders_is_audited(app, session, make):
    w = make.world()
    leadership.appoint_leaders(session, w.advisor, w.club.id, [w.students[1].student_no])
    event = _last(session, "club.appoint_leaders")
    assert event.actor_id == w.advisor.id and event.object_id == str(w.club.id)


def test_sign_in_is_audited(app, session, make):
    admin = make.admin()
    session.commit()
    _browser(app, admin)
    assert _last(session, "user.sign_in").actor_id == admin.id


def test_keys_generate_and_rotate_are_audited_as_the_system(app, session, tmp_path):
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "fresh-keys")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    assert runner.invoke(args=["keys", "generate"]).exit_code == 0  # idempotent: no second event
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    events = [e for e in _events(session) if e.object_type == "key"]
    assert [(e.action, e.data["purpose"]) for e in events] == [
        ("key.generate", "transcripts"), ("key.generate", "audit-checkpoint"), ("key.rotate", "transcripts")]
    from app.services.system import system_actor

    assert {e.actor_id for e in events} == {system_actor(session).id}
    assert (tmp_path / "fresh-keys" / "audit-checkpoint.key").stat().st_mode & 0o777 == 0o600


def test_transcript_batch_is_checkpointed(app, session, make):
    w, activity = _ended_world(make, session)
    make.participation(activity, w.students[0], status="certified")
    session.commit()
    result = app.test_cli_runner().invoke(args=["transcripts", "issue", "--student-no", w.students[0].student_no])
    assert result.exit_code == 0, result.output
    head = session.get(AuditHead, 1)
    assert read_checkpoints()[-1].seq == head.seq


def test_create_checkpoint_service_returns_none_when_nothing_is_new(app, session, make):
    from app.services.system import system_actor

    _units(session, make.admin(), 1)
    assert create_checkpoint(session, system_actor(session)) is not None
    session.commit()
    assert create_checkpoint(session, system_actor(session)) is None


def test_demo_school_is_checkpointed_and_matches_its_log(app, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    head = session.get(AuditHead, 1)
    assert read_checkpoints()[-1].seq == head.seq
    result = _verify(app)
    assert result.exit_code == 0 and _says_ok(result.output), result.output


def test_a_saved_copy_of_the_checkpoints_outlives_a_replaced_key(app, client, session, make, tmp_path):
    """Whoever rewrites the log and also replaces the key and re-signs is caught by a copy kept elsewhere."""
    from app.services.system import system_actor

    _units(session, make.admin(), 3)
    _checkpoint(app)
    saved = tmp_path / "saved-checkpoints.json"
    saved.write_text(client.get("/.well-known/audit-checkpoints.json").get_data(as_text=True))
    keys = Path(app.config["SIGNING_KEY_DIR"])
    (keys / "audit-checkpoint.key").unlink()
    checkpoints_path().unlink()
    _sql(session, "DELETE FROM audit_event WHERE seq > 2")
    kept = _events(session)[-1]
    _sql(session, "UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1", seq=kept.seq, hash=kept.hash)
    create_checkpoint(session, system_actor(session))  # a fresh key signs the shortened log
    session.commit()
    assert verify_checkpoints(session).ok  # the local file now agrees with the forgery
    result = _verify(app, "--checkpoints", str(saved))
    assert result.exit_code == 1 and not _says_ok(result.output)
