"""Migrations: `upgrade` on an empty database builds exactly the schema the models describe
(no pending autogenerate diff), on SQLite and on a fresh PostgreSQL database; it also goes
down to nothing and back up again.

conftest's `app` fixture builds its tables with create_all, so these tests make their own app.
"""

from __future__ import annotations

import logging
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import ROOT, create_app
from app.extensions import db
from tests import conftest

# the tables of the certified record (later issues add more; every model table is checked)
MODEL_TABLES = {
    "unit", "school_class", "user_account", "auth_token", "password_reset", "club", "club_advisor",
    "club_leader", "membership", "term", "activity", "participation", "audit_event", "audit_head",
}


@pytest.fixture
def keep_logging():
    """Alembic's env.py runs logging.fileConfig(), which disables every existing logger;
    put them back so later tests' log capture still works."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    state = {lg.name: (lg.disabled, lg.level, list(lg.handlers)) for lg in loggers}
    root = (logging.root.level, list(logging.root.handlers))
    yield
    for name, (disabled, level, handlers) in state.items():
        lg = logging.getLogger(name)
        lg.disabled, lg.level, lg.handlers = disabled, level, handlers
    logging.root.level, logging.root.handlers = root[0], root[1]


@pytest.fixture(params=conftest.BACKENDS)
def empty_database(request, tmp_path):
    """A URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    run_url = conftest._postgres_url()
    if run_url is None:
        pytest.skip(f"PostgreSQL unavailable: {conftest._pg_state['why']}")
    admin = conftest._pg_state["admin"]
    name = f"st_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(run_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def migrated_app(empty_database, tmp_path, keep_logging):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": empty_database,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_FAST": True,
        "RATELIMIT_ENABLED": False,
        "SIGNING_KEY_DIR": str(tmp_path / "keys"),
        "TRANSCRIPT_DIR": str(tmp_path / "transcripts"),
    })
    with app.app_context():
        assert sa.inspect(db.engine).get_table_names() == [], "the database must start empty"
        yield app
        db.session.remove()
        db.engine.dispose()


def _pending_diff(app) -> list:
    migrate = app.extensions["migrate"]
    opts = {"compare_type": True, **migrate.configure_args}
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_one_head_of_migrations():
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have diverged: heads {heads}"
    assert [r.down_revision for r in script.walk_revisions()][-1] is None


def test_upgrade_on_empty_database_matches_the_models(migrated_app):
    flask_migrate.upgrade()
    assert MODEL_TABLES <= set(db.metadata.tables)
    assert _tables() == set(db.metadata.tables) | {"alembic_version"}
    diff = _pending_diff(migrated_app)
    assert diff == [], f"models and migrations disagree: {diff}"

    result = migrated_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output

    # the database holds the invariants the code relies on, as the models declare them
    inspector = sa.inspect(db.engine)
    indexes = {ix["name"]: ix for ix in inspector.get_indexes("participation")}
    assert indexes["uq_participation_live"]["unique"]
    with db.engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO unit (code, name, created_at) "
                             "VALUES ('U1', '计算机学院', CURRENT_TIMESTAMP)"))
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO unit (code, name, created_at) "
                                 "VALUES ('U1', '重复', CURRENT_TIMESTAMP)"))
        conn.rollback()


def test_downgrade_to_nothing_and_back(migrated_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert _tables() <= {"alembic_version"}
    flask_migrate.upgrade()
    flask_migrate.upgrade()  # a second upgrade is a no-op
    assert _tables() == set(db.metadata.tables) | {"alembic_version"}
    assert _pending_diff(migrated_app) == []
