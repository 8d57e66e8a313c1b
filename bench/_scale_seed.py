"""What bench/scale.py adds to the big school (bench/_big_school.py) before it measures.

* `ensure_transcripts`: real transcripts for every student (the big school has none issued, and
  issuing 30,000 through the app takes an hour): each snapshot is built with the app's own
  `services.transcripts.build_snapshot` from the same records, claims, module list and credit
  requirement `issue_or_current` reads, digested and linked with `credentials` and the bench's
  signing keys, then bulk-inserted with its `transcript_record` / `transcript_claim` rows and the
  student's "transcript issued" notification, as the graduation batch leaves them. Kept under its
  own marker table (`bench_scale_transcripts`): made again only when the big school was seeded
  again (the marker went with it), the key or the public base URL changed, or VERSION here did.
* `ensure_roles`: one organizer and one leader with about 5,000 records waiting (the seed gives a
  club ~200): the organizer advises, the leader leads, enough clubs to get there.
* `sign_ins`: browser sessions and API tokens opened through `services.auth` (the sign-in the login
  form makes, minus the password: the seed's accounts have none) and the session cookie the app
  would have set, signed with the app's SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
VERSION = "scale-transcripts 1"
# The QR links are signed over this origin: the served instance must be configured with it
# (the verify view rebuilds the link from PUBLIC_BASE_URL, not from the Host header).
BASE_URL = "http://127.0.0.1:5080"
KEY_DIR = ROOT / "instance" / "bench_big_school_keys"
SECRET_KEY = "bench-scale"
WAITING = 5_000
CHUNK = 500

marker_metadata = sa.MetaData()
marker = sa.Table(
    "bench_scale_transcripts", marker_metadata,
    sa.Column("version", sa.String(40), primary_key=True),
    sa.Column("kid", sa.String(64), nullable=False),
    sa.Column("base_url", sa.String(200), nullable=False),
    sa.Column("transcripts", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)


def config(url: str) -> dict:
    """The settings the bench's app (in process and served) runs with: the same keys and origin."""
    return {"SQLALCHEMY_DATABASE_URI": url, "SIGNING_KEY_DIR": str(KEY_DIR), "PUBLIC_BASE_URL": BASE_URL,
            "SECRET_KEY": SECRET_KEY}


def make_app(url: str):
    import credentials
    from app import create_app

    KEY_DIR.mkdir(parents=True, exist_ok=True)
    credentials.KeyRing.generate_in_dir(str(KEY_DIR))  # idempotent: keeps an existing key
    return create_app(config(url))


def postgres_database(server: str) -> str:
    """The big school's PostgreSQL database for this branch: `bench_school`, unless it holds another
    branch's seed (another schema or seed VERSION: a branch adding tables re-seeds it from nothing).
    Then `bench_school_<schema fingerprint>`, so that two branches measuring on one server do not
    drop each other's database in turn. Call after waiting for a seed in progress."""
    import app.models  # noqa: F401 — every model on db.metadata
    from bench import _big_school as big

    shared = big.postgres_url(server)
    engine = sa.create_engine(shared)
    mine = big.fingerprint(engine.dialect)
    own = big.postgres_url(server, f"{big.PG_DATABASE}_{mine[:8]}")
    if big._pg_exists(own):  # made before, when the shared one held another branch's: its transcripts are there
        return own
    try:
        if not big._pg_exists(shared) or not sa.inspect(engine).has_table("bench_big_school"):
            return shared
        with engine.connect() as conn:
            theirs = conn.execute(select(big.marker.c.version, big.marker.c.fingerprint)).all()
    finally:
        engine.dispose()
    if not theirs or (big.VERSION, mine) in [tuple(row) for row in theirs]:
        return shared
    return own


# --------------------------------------------------------------------------- transcripts


def _kept(conn, kid: str) -> int | None:
    if not sa.inspect(conn).has_table(marker.name):
        return None
    row = conn.execute(select(marker).where(marker.c.version == VERSION)).mappings().first()
    if row is None or row["kid"] != kid or row["base_url"] != BASE_URL:
        return None
    from app.models import Transcript

    have = conn.execute(select(func.count()).select_from(Transcript)).scalar_one()
    return row["transcripts"] if have >= row["transcripts"] else None


def _clear(session) -> None:
    """Every transcript and what points at one (the bench's issues included), before a new set."""
    tables = ("transcript_share", "transcript_record", "transcript_claim")
    for table in tables:
        session.execute(sa.text(f"DELETE FROM {table}"))
    if sa.inspect(session.connection()).has_table("graduation_batch_item"):
        session.execute(sa.text("UPDATE graduation_batch_item SET transcript_id = NULL"))
    session.execute(sa.text("UPDATE transcript SET superseded_by_id = NULL"))
    session.execute(sa.text("DELETE FROM transcript"))
    session.execute(sa.text("DELETE FROM notification WHERE kind = 'transcript.issued'"))
    session.execute(sa.delete(marker))


def ensure_transcripts(app, n: int = 30_000, log=print) -> dict:
    """At least `n` valid transcripts (one per student, spread over all students) at the app's DB."""
    from app.extensions import db
    from app.services import transcripts

    with app.app_context():
        ring = transcripts.keyring()
        engine = db.engine
        marker_metadata.create_all(engine)
        with engine.connect() as conn:
            kept = _kept(conn, ring.active.kid)
        if kept is not None and kept >= n:
            return {"transcripts": kept, "seeded": False}
        started = time.perf_counter()
        log(f"  {engine.dialect.name}: making {n:,} signed transcripts …")
        _clear(db.session)
        db.session.commit()
        made = _bulk_transcripts(db.session, n, log)
        _self_check(db.session, made)
        db.session.execute(insert(marker).values(
            version=VERSION, kid=ring.active.kid, base_url=BASE_URL, transcripts=len(made),
            seconds=round(time.perf_counter() - started, 1)))
        db.session.commit()
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE transcript"))
                conn.execute(sa.text("VACUUM ANALYZE transcript_record"))
                conn.execute(sa.text("VACUUM ANALYZE notification"))
        log(f"  {len(made):,} transcripts in {time.perf_counter() - started:.1f} s")
        return {"transcripts": len(made), "seeded": True}


def _bulk_transcripts(session, n: int, log) -> list[int]:
    """Build and insert; returns the students who got one."""
    from sqlalchemy.orm import joinedload, selectinload

    import credentials
    import credentials.vc
    from app.models import (
        Claim,
        ClaimStatus,
        Notification,
        Transcript,
        TranscriptClaim,
        TranscriptRecord,
        User,
    )
    from app.services import credit_arithmetic as arithmetic
    from app.services import transcripts
    from app.services.credit_rules import arithmetic_rules, current_rules
    from app.services.modules import module_keys
    from app.services.progress import Hours, hours_of
    from app.timeutil import to_local, utcnow

    rng = random.Random(17)
    ring = transcripts.keyring()
    from flask import current_app

    base = current_app.config["PUBLIC_BASE_URL"]
    everyone = list(session.execute(
        select(User.id).where(User.role.in_(("student", "leader"))).order_by(User.id)).scalars())
    step = max(1, len(everyone) // n)
    chosen = everyone[::step][:n]
    modules = transcripts.snapshot_modules(session)
    keys = module_keys(session)
    # Positions in the status lists as new_status_index picks them: random within a list that is
    # filled to half at most.
    half = credentials.vc.LIST_SIZE // 2
    positions = []
    for first in range(0, len(chosen), half):
        slots = rng.sample(range(credentials.vc.LIST_SIZE), min(half, len(chosen) - first))
        positions += [(first // half) * credentials.vc.LIST_SIZE + s for s in slots]
    pdf = pdf_sha = None
    now = utcnow().replace(microsecond=0)
    made: list[int] = []
    t0 = time.perf_counter()
    for start in range(0, len(chosen), CHUNK):
        ids = chosen[start:start + CHUNK]
        students = {u.id: u for u in session.execute(
            select(User).where(User.id.in_(ids))
            .options(joinedload(User.unit), joinedload(User.school_class))).scalars()}
        records = defaultdict(list, transcripts.carried_records(session, ids))  # what issuing reads, for the chunk
        claims = defaultdict(list)  # claims.certified_claims, for the chunk
        for c in session.execute(
                select(Claim).where(Claim.student_id.in_(ids), Claim.status == ClaimStatus.CERTIFIED)
                .options(selectinload(Claim.reviewed_by)).order_by(Claim.occurred_on, Claim.id)).scalars():
            claims[c.student_id].append(c)
        hours = hours_of(session, ids)  # progress_for's arithmetic input, for the chunk
        rules: dict = {}  # a cohort's rules in force, read again per chunk (the commit expires them)
        rows, carried, carried_claims, notes = [], [], [], []
        for sid in ids:
            student = students[sid]
            if not records[sid] and not claims[sid]:
                continue  # issuing would answer 409
            cohort = student.school_class.cohort if student.school_class else None
            if cohort not in rules:
                rules[cohort] = current_rules(session, cohort)
            requirement = None
            if rules[cohort] is not None:  # transcripts.snapshot_requirement, from the chunk's sums
                h = hours.get(sid, Hours({}, {}))
                r = arithmetic.progress(arithmetic_rules(rules[cohort]), h.by_module, h.by_year, keys)
                requirement = credentials.Requirement(
                    rules=rules[cohort].name, met=r.met, counted=r.counted, required=r.required,
                    years=tuple((year, hrs, grade) for year, (hrs, grade) in r.years.items()),
                    years_required=r.years_required, years_passed=r.years_passed)
            # Issued over the last 30 days, as a graduation season spreads them.
            issued_at = now - timedelta(seconds=rng.randrange(30 * 86400))
            serial = transcripts.new_serial()
            snapshot = transcripts.build_snapshot(student, records[sid], serial, issued_at, claims[sid],
                                                  modules=modules, requirement=requirement)
            digest = credentials.snapshot_digest(snapshot)
            link = credentials.make_link(base, serial, digest, snapshot.issued_at, ring.active)
            if pdf is None:
                # One PDF rendered and signed for real, its bytes reused for every row: the verify
                # page and the JSON read the snapshot and the link, never the PDF (and rendering
                # 30,000 would take an hour, which is what this seed avoids).
                pdf = credentials.render_pdf(snapshot, link, ring.active, zh=transcripts.pdf_translator(),
                                             certificate=transcripts.school_certificate())
                pdf_sha = hashlib.sha256(pdf).hexdigest()
            rows.append({
                "serial": serial, "student_id": sid, "issued_at": issued_at, "issued_by_id": None,
                "snapshot": credentials.canonical_bytes(snapshot).decode("utf-8"), "digest": digest,
                "key_id": ring.active.kid, "link": link, "pdf": pdf, "pdf_sha256": pdf_sha,
                "record_count": len(records[sid]) + len(claims[sid]), "total_hours": snapshot.total_hours,
                "status": "valid", "status_list_index": positions[len(made)], "public": True,
                "public_until": to_local(issued_at).date() + transcripts.PUBLIC_VALIDITY,
            })
            carried += [(serial, p.id) for p in records[sid]]
            carried_claims += [(serial, c.id) for c in claims[sid]]
            notes.append({"user_id": sid, "kind": "transcript.issued", "params": {"serial": serial},
                          "link": f"/transcripts/{serial}", "created_at": issued_at})
            made.append(sid)
        session.execute(insert(Transcript.__table__), rows)
        ids_of = dict(session.execute(select(Transcript.serial, Transcript.id).where(
            Transcript.serial.in_([r["serial"] for r in rows]))).all())
        if carried:
            session.execute(insert(TranscriptRecord.__table__),
                            [{"transcript_id": ids_of[s], "participation_id": p} for s, p in carried])
        if carried_claims:
            session.execute(insert(TranscriptClaim.__table__),
                            [{"transcript_id": ids_of[s], "claim_id": c} for s, c in carried_claims])
        session.execute(insert(Notification.__table__), notes)
        session.commit()
        session.expunge_all()  # the chunk's ORM objects: memory stays flat over 30,000 students
        if (start // CHUNK) % 10 == 9:
            log(f"    {len(made):,} transcripts, {time.perf_counter() - t0:.0f} s")
    return made


def _self_check(session, made: list[int]) -> None:
    """A few of them through the app's own code: issuing again finds nothing changed (so the bulk
    build is byte for byte what issue_or_current builds), and the verification says valid."""
    from app.models import Transcript, User
    from app.services import claims as claim_service
    from app.services import transcripts, verification

    for sid in random.Random(3).sample(made, min(12, len(made))):
        student = session.get(User, sid)
        current = session.execute(select(Transcript).where(Transcript.student_id == sid, Transcript.status == "valid")
                                  .order_by(Transcript.id.desc()).limit(1)).scalar_one()
        same = transcripts.build_snapshot(
            student, transcripts._certified_records(session, student), current.serial, current.issued_at,
            claim_service.certified_claims(session, sid), modules=transcripts.snapshot_modules(session),
            requirement=transcripts.snapshot_requirement(session, student))
        stored = session.execute(select(Transcript.snapshot).where(Transcript.id == current.id)).scalar_one()
        assert transcripts.credentials.canonical_bytes(same).decode("utf-8") == stored, sid
        view = verification.public_view(session, current.serial, current.link)
        assert view.status == "valid" and view.link_ok, (sid, view.status, view.reason)
    session.rollback()


# --------------------------------------------------------------------------- roles


def ensure_roles(app, log=print) -> dict:
    """An organizer and a leader with ~WAITING records waiting; idempotent (rows added once)."""
    from app.extensions import db
    from app.models import Activity, Participation, User, club_advisor, club_leader

    with app.app_context():
        s = db.session
        waiting = dict(s.execute(
            select(Activity.club_id, func.count()).join(Participation, Participation.activity_id == Activity.id)
            .where(Participation.status == "recorded", Activity.status == "completed")
            .group_by(Activity.club_id).order_by(Activity.club_id)).all())
        clubs, total = [], 0
        for club, count in waiting.items():
            if total >= WAITING:
                break
            clubs.append(club)
            total += count
        organizer = s.execute(select(club_advisor.c.user_id).where(club_advisor.c.club_id == clubs[0])).scalar()
        leader = s.execute(select(club_leader.c.user_id).where(club_leader.c.club_id == clubs[0])).scalar()
        have_a = set(s.execute(select(club_advisor.c.club_id).where(club_advisor.c.user_id == organizer)).scalars())
        have_l = set(s.execute(select(club_leader.c.club_id).where(
            club_leader.c.user_id == leader, club_leader.c.ended_at.is_(None))).scalars())
        term = s.execute(select(club_leader.c.term).where(club_leader.c.club_id == clubs[0])).scalar()
        appointed = s.execute(select(club_leader.c.appointed_at).limit(1)).scalar()
        new_a = [{"club_id": c, "user_id": organizer} for c in clubs if c not in have_a]
        new_l = [{"club_id": c, "user_id": leader, "term": term, "appointed_at": appointed}
                 for c in clubs if c not in have_l]
        if new_a:
            s.execute(insert(club_advisor), new_a)
        if new_l:
            s.execute(insert(club_leader), new_l)
        s.commit()
        if new_a or new_l:
            log(f"  organizer {organizer} and leader {leader}: {len(clubs)} clubs, {total:,} records waiting")
        names = dict(s.execute(select(User.id, User.username).where(User.id.in_((organizer, leader)))).all())
        return {"organizer": names[organizer], "leader": names[leader], "clubs": len(clubs), "waiting": total}


# --------------------------------------------------------------------------- sign-ins


def sign_ins(app, usernames: list[str]) -> dict[str, dict]:
    """{username: {cookie, token, student_no}}: a browser session (its cookie as the login form's
    response sets it) and an API token for each, both opened by services.auth."""
    from flask import session as flask_session
    from flask_login import login_user

    from app.extensions import db
    from app.models import TokenKind, User
    from app.services import auth
    from app.web.auth import SESSION_KEY

    out: dict[str, dict] = {}
    with app.app_context():
        users = {u.username: u for u in db.session.execute(
            select(User).where(User.username.in_(usernames))).scalars()}
        for name in usernames:
            user = users[name]
            with app.test_request_context("/login", method="POST", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                token = auth.open_web_session(db.session, user, method="password", client="127.0.0.1")
                flask_session[SESSION_KEY] = token  # what web.auth.begin_session does
                login_user(user)
                cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
            api_token, _expires = auth._open(db.session, user, TokenKind.API, "password", "127.0.0.1")
            out[name] = {"cookie": f"{app.config.get('SESSION_COOKIE_NAME') or 'session'}={cookie}",
                         "token": api_token, "student_no": user.student_no, "id": user.id}
        db.session.commit()
    return out
