"""The homes of the big school (#17): /admin, /organizer, /leader and /me through the Flask test
client, signed in, p50/p95 of sequential requests and the statements of one request.

The big school (bench/_big_school.py) has 14,000 ended activities with 60,000 records waiting for
sign-off. The organizer t2 is made to advise clubs 1-25 (5,000 records waiting) and the leader of
club 1 to lead them; the student with the most records (308) and one with 33 are measured.
On SQLite a copy of the kept file is changed; on PostgreSQL, whose database other benches share,
the changes live in one transaction rolled back at the end (tests/dbisolation.rolled_back: each
request adds a SAVEPOINT and its RELEASE to the statements).

    .venv/bin/python bench/home_pages.py [--postgres [URL]] [--runs 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench._big_school import DEFAULT_PG, ensure, postgres_url, sqlite_url  # noqa: E402

PASSWORD = "correct horse 42"
ORGANIZER = 2  # t2 advises club 1
CLUBS = range(1, 26)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def people(session) -> dict[str, int]:
    """The measured people, given a password; the organizer and the leader given 25 clubs."""
    from app.services.passwords import hash_password

    run = session.execute
    leader = run(sa.text("SELECT user_id FROM club_leader WHERE club_id = 1")).scalar_one()
    most = run(sa.text("SELECT student_id FROM participation GROUP BY student_id "
                       "ORDER BY count(*) DESC, student_id LIMIT 1")).scalar_one()
    typical = run(sa.text("SELECT student_id FROM participation GROUP BY student_id "
                          "HAVING count(*) = 33 ORDER BY student_id LIMIT 1")).scalar_one()
    ids = {"admin": 1, "organizer": ORGANIZER, "leader": leader, "most": most, "typical": typical}
    run(sa.text("UPDATE user_account SET password_hash = :h WHERE id IN (:a, :o, :l, :m, :t)"),
        {"h": hash_password(PASSWORD), "a": 1, "o": ORGANIZER, "l": leader, "m": most, "t": typical})
    if run(sa.text("SELECT count(*) FROM club_advisor WHERE user_id = :o"), {"o": ORGANIZER}).scalar_one() == 1:
        for club in CLUBS[1:]:
            run(sa.text("INSERT INTO club_advisor (club_id, user_id) VALUES (:c, :o)"), {"c": club, "o": ORGANIZER})
            run(sa.text("INSERT INTO club_leader (club_id, user_id, term, appointed_at) "
                        "VALUES (:c, :l, '2025-2026-2', CURRENT_TIMESTAMP)"), {"c": club, "l": leader})
    session.commit()
    return ids


class Statements(list):
    """The statements sent on `engine` while the block runs."""

    def __init__(self, engine: sa.Engine):
        super().__init__()
        self.engine = engine

    def _seen(self, conn, cursor, statement, *args) -> None:
        self.append(statement)

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def measure(app, ids: dict[str, int], runs: int) -> None:
    from app.extensions import db
    from app.models import User

    cases = [("admin", "/admin"), ("admin", "/admin?signoff=300&approvals=2"), ("organizer", "/organizer"),
             ("organizer", "/organizer?signoff=40"), ("leader", "/leader"), ("leader", "/leader?page=30"),
             ("most", "/me"), ("most", "/me?records=2"), ("typical", "/me")]
    bind = db.engines[None]
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    for who, path in cases:
        client = app.test_client()
        username = db.session.get(User, ids[who]).username
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        assert client.get(path).status_code == 200, path
        with Statements(engine) as seen:
            response = client.get(path)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        print(f"{who:9s} {path:33s} {len(seen):3d} statements {len(response.data) / 1024:6.1f} KiB  "
              f"p50 {statistics.median(samples):6.1f} ms  p95 {p95(samples):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG), default=None)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="st-bench-homes-"))
    try:
        if args.postgres:
            url = postgres_url(args.postgres)
            ensure(url)
        else:
            ensure(sqlite_url())
            copy = folder / "school.db"
            shutil.copy(sa.engine.make_url(sqlite_url()).database, copy)
            url = f"sqlite:///{copy}"
        os.environ.update(DATABASE_URL=url, SIGNING_KEY_DIR=str(folder / "keys"))
        from app import create_app
        from app.extensions import db
        from tests.dbisolation import rolled_back

        app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        with app.app_context(), (rolled_back(app) if args.postgres else contextlib.nullcontext()):
            ids = people(db.session)
            print(f"{sa.engine.make_url(url).get_backend_name()}: student {ids['most']} has the most records")
            measure(app, ids, args.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
