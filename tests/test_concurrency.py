"""Concurrent writers: the database, not luck, keeps one record per student per activity,
and a sign-off raced by two organizers certifies each record once. SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy import update as sa_update

from app.extensions import db
from app.models import AuditEvent, Participation, User
from app.services import activities as activities_service
from app.services import check_in as venue
from app.services import dashboard, participations, progress, tallies
from app.services.audit import verify_chain
from app.services.errors import Invalid
from app.services.participations import Entry
from app.timeutil import utcnow

THREADS = 50


def _race(app, n: int, work) -> list:
    """Run work(i) in n threads, each in its own app context (its own session and
    connection), released together, each committed as its request would be; return each
    thread's result or exception."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
                db.session.commit()  # the request's unit of work
            except Exception as exc:  # kept and inspected by the test
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results


def test_fifty_threads_recording_the_same_student_store_one_row(app, make, session):
    w = make.world()
    leader_id, activity_id = w.leader.id, w.activity.id
    student_no, student_id = w.students[0].student_no, w.students[0].id
    session.commit()

    def record(i):
        leader = db.session.get(User, leader_id)
        created = participations.record_participations(
            db.session, leader, activity_id, [Entry(student_no=student_no, role="volunteer")]
        )
        return len(created)

    results = _race(app, THREADS, record)
    unexpected = [r for r in results if not isinstance(r, int | Invalid)]
    assert unexpected == [], f"writers failed with something other than a 422: {unexpected[:3]}"
    assert results.count(1) == 1, Counter(type(r).__name__ for r in results)
    for loser in (r for r in results if isinstance(r, Invalid)):
        assert set(loser.fields) <= {"entries.0.student_no", "entries"}, loser.fields
    session.expire_all()
    rows = session.execute(
        select(func.count()).select_from(Participation).where(
            Participation.activity_id == activity_id, Participation.student_id == student_id)
    ).scalar_one()
    assert rows == 1


def _first_commits_late(app, first, second, hold: float = 1.0) -> list:
    """Run first() and second() in two threads so that they overlap for certain: the first
    does all its work, then waits `hold` seconds before committing, while the second runs.
    Returns [result of first, result of second] (or the exceptions they raised)."""
    ready = threading.Event()
    results: list = [None, None]

    def run_first():
        with app.app_context():
            real = db.session()
            commit = real.commit

            def late_commit():
                ready.set()
                time.sleep(hold)
                commit()

            real.commit = late_commit
            try:
                results[0] = first()
                db.session.commit()  # the request's unit of work, held back by `hold`
            except Exception as exc:
                results[0] = exc
            finally:
                ready.set()
                db.session.remove()

    def run_second():
        ready.wait(timeout=30)
        with app.app_context():
            try:
                results[1] = second()
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                results[1] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_certify_certifies_each_record_once(app, make, session, backend, request):
    """Advisor and admin press "certify all" at the same moment: each record is certified once
    (one signer certifies N, the other 0) and the audit log says so once."""
    w = make.world()
    students = [make.student(unit=w.unit) for _ in range(6)]
    records = [make.participation(w.activity, s) for s in students]
    seed = make.activity(w.club)  # an earlier sign-off: the chain is not empty
    make.participation(seed, w.students[0])
    assert participations.certify(session, w.admin, seed.id) == 1
    advisor_id, admin_id, activity_id = w.advisor.id, w.admin.id, w.activity.id
    session.commit()

    def certify_as(user_id):
        return lambda: participations.certify(db.session, db.session.get(User, user_id),
                                              activity_id)

    results = _first_commits_late(app, certify_as(advisor_id), certify_as(admin_id))
    assert all(isinstance(r, int) for r in results), results
    assert results == [len(records), 0], "each record is certified by exactly one signer"
    session.expire_all()
    events = session.execute(
        select(AuditEvent).where(AuditEvent.action == "participation.certify",
                                 AuditEvent.object_id == str(activity_id))
    ).scalars().all()
    certified_ids = Counter(pid for e in events for pid in e.data["participation_ids"])
    assert certified_ids == Counter(r.id for r in records), "an id appears in two sign-offs"
    assert {session.get(Participation, r.id).certified_by_id for r in records} == {advisor_id}
    report = verify_chain(session)
    assert report.ok, report


def test_concurrent_sign_offs_keep_the_audit_chain_whole(app, make, session):
    """Ten sign-offs of ten activities at once: one unbroken chain, seq 1..N, no fork."""
    w = make.world()
    first = make.activity(w.club, status="submitted")
    activities = [make.activity(w.club) for _ in range(10)]
    for a in activities:
        make.participation(a, w.students[0])
    ids, admin_id = [a.id for a in activities], w.admin.id
    activities_service.approve_activity(session, w.admin, first.id)  # event #1
    session.commit()  # the approving request's unit of work

    def certify(i):
        return participations.certify(db.session, db.session.get(User, admin_id), ids[i])

    results = _race(app, len(ids), certify)
    assert results == [1] * len(ids), results
    session.expire_all()
    report = verify_chain(session)
    assert report.ok and report.events == len(ids) + 1, report
    seqs = session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars().all()
    assert seqs == list(range(1, len(ids) + 2))


def test_first_audit_events_written_at_once_both_succeed(app, make, session, backend, request):
    """On an empty audit log two organizers approve two plans at the same moment: both
    approvals succeed and the chain holds two events."""
    w = make.world()
    other = make.club(advisors=[make.organizer()], leaders=[make.leader()])
    a1, a2 = make.activity(w.club, status="submitted"), make.activity(other, status="submitted")
    pairs = [(w.advisor.id, a1.id), (other.advisors[0].id, a2.id)]
    session.commit()

    def approve(user_id, activity_id):
        return lambda: activities_service.approve_activity(
            db.session, db.session.get(User, user_id), activity_id).status

    results = _first_commits_late(app, approve(*pairs[0]), approve(*pairs[1]))
    assert results == ["approved", "approved"], results
    session.expire_all()
    report = verify_chain(session)
    assert report.ok and report.events == 2, report


def test_concurrent_check_ins_respect_capacity(app, make, session):
    """Two students check in to the last free place at the same moment: one gets it."""
    w = make.world()
    activity = make.activity(w.club, starts_at=utcnow() - timedelta(minutes=5), capacity=1)
    s0, s1 = (s.id for s in w.students)
    activity_id = activity.id
    session.commit()

    with app.test_request_context():
        code = venue.venue_code(session, w.leader, activity_id).code

    def check_in(user_id):
        def run():
            record = venue.check_in(db.session, db.session.get(User, user_id), activity_id, code)
            return record.status
        return run

    results = _first_commits_late(app, check_in(s0), check_in(s1))
    session.expire_all()
    live = session.execute(
        select(func.count()).select_from(Participation).where(
            Participation.activity_id == activity_id)
    ).scalar_one()
    assert live == 1, f"capacity 1, {live} checked in: {results}"
    assert sorted(str(r) for r in results).count("recorded") == 1


def test_two_sign_offs_of_one_club_term_at_once_both_succeed_and_tally_every_record(app, make, session):
    """Two advisors sign off two activities of the same club and term, with the same students, at
    the same moment, before any tally row exists: neither fails on the row both make (INSERT … ON
    CONFLICT DO NOTHING), and the one that waits for the row's lock recomputes after the other's
    commit, so the tallies count both sign-offs — what the records give."""
    from app.models import ActivityTally, ClubTermTally, StudentModuleTally, StudentTermTally
    from app.services import scorecard

    w = make.world()
    second = make.activity(w.club)
    students = [make.student(unit=w.unit) for _ in range(5)]
    for activity in (w.activity, second):
        for s in students:
            make.participation(activity, s)
    for model in (ActivityTally, ClubTermTally, StudentModuleTally, StudentTermTally):
        session.execute(sa_delete(model))
    session.commit()
    advisor_id, admin_id, term = w.advisor.id, w.admin.id, w.activity.term

    def certify(user_id, activity_id):
        return lambda: participations.certify(db.session, db.session.get(User, user_id), activity_id)

    def certify_unaudited(activity_id):
        """The records certified through the ORM alone: no audit event, whose chain's head would
        queue the two writers before they reach the tallies."""
        def work():
            records = db.session.execute(select(Participation).where(Participation.activity_id == activity_id))
            for record in records.scalars():
                record.status, record.certified_at, record.certified_by_id = "certified", utcnow(), advisor_id
            # As a read of the tallies would: the first writer then holds the rows' locks until
            # its late commit, while the second settles.
            tallies.settle(db.session)
            return 5
        return work

    races = [lambda: _race(app, 2, lambda i: (certify(advisor_id, w.activity.id), certify(admin_id, second.id))[i]()),
             lambda: _first_commits_late(app, certify_unaudited(w.activity.id), certify_unaudited(second.id))]
    for race in races:
        results = race()
        assert results == [5, 5], results
        session.expire_all()
        cards = {ref: scorecard.compute(session, [term], club_ids=[w.club.id], from_records=ref)[(w.club.id, term)]
                 for ref in (False, True)}
        assert cards[False].facts == cards[True].facts
        assert cards[False].facts.certified_hours == 40.0 and cards[False].facts.active == 5
        ids = [s.id for s in students]
        hours = {ref: {k: v.by_module for k, v in progress.hours_of(session, ids, from_records=ref).items()}
                 for ref in (False, True)}
        assert hours[False] == hours[True] == {i: {"volunteering": 8} for i in ids}
        assert dashboard.term_trend(session, [term]) == dashboard.term_trend(session, [term], from_records=True)
        # back to awaiting sign-off, for the next race on rows that now exist
        session.execute(sa_update(Participation).where(Participation.activity_id.in_([w.activity.id, second.id]))
                        .values(status="recorded", certified_at=None, certified_by_id=None))
        for activity_id in (w.activity.id, second.id):
            tallies.touch_activity(session, activity_id)
        session.commit()
