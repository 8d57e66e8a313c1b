"""The test harness itself: a rolled-back PostgreSQL test leaves nothing behind, the app's own
commits and rollbacks behave as in production inside it, ids count from 1, and `count_queries`
counts what a real run sends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Unit
from tests import dbisolation
from tests.conftest import make_test_app


def _units_seen_by_a_new_connection() -> int:
    engine = db.engine.engine  # the Engine also when the app's bind is the test's Connection
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Unit)).scalar_one()


def test_a_rolled_back_test_commits_nothing(tmp_path):
    app = make_test_app("postgresql", tmp_path, real_commits=False)
    with app.app_context():
        with dbisolation.rolled_back(app):
            db.session.add(Unit(code="U1", name="计算机学院"))
            db.session.commit()  # releases a savepoint only
            db.session.add(Unit(code="U2", name="数学学院"))
            db.session.rollback()  # back to the savepoint: U1 stays, U2 goes
            assert db.session.scalars(select(Unit.code)).all() == ["U1"]
            assert _units_seen_by_a_new_connection() == 0, "a commit reached the database"
        assert _units_seen_by_a_new_connection() == 0
        db.engine.dispose()


def test_a_failed_statement_leaves_the_test_usable(make, session):
    make.unit(code="U7")
    session.add(Unit(code="U7", name="重复"))
    with pytest.raises(Exception, match="(?i)unique"):
        session.commit()
    session.rollback()
    assert session.scalars(select(Unit.code)).all() == ["U7"]


@pytest.mark.parametrize("round_", [1, 2])
def test_ids_count_from_one_in_every_test(make, round_):
    assert make.unit().id == 1


def test_count_queries_counts_statements_not_savepoints(count_queries, make, session):
    make.unit()
    with count_queries() as counted:
        session.scalars(select(Unit)).all()
        session.add(Unit(code="U9", name="物理学院"))
        session.commit()
    # one SELECT and one INSERT on both backends, rolled back or not
    assert counted.count == 2, counted
    assert counted.statements[0].lstrip().upper().startswith("SELECT")


def test_real_commits_reach_the_database(tmp_path, backend):
    app = make_test_app(backend, tmp_path)
    with app.app_context():
        db.session.add(Unit(code="U1", name="计算机学院"))
        db.session.commit()
        assert _units_seen_by_a_new_connection() == 1
        db.session.remove()
        db.engine.dispose()
    (tmp_path / "again").mkdir()
    again = make_test_app(backend, tmp_path / "again")  # the next test's database is empty again
    with again.app_context():
        assert _units_seen_by_a_new_connection() == 0
        db.engine.dispose()
