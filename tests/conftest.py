"""An app on a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL runs whenever a server answers at TEST_DATABASE_URL (default: the local
server's `test` database); a fresh database is created for the run and emptied between
tests. With REQUIRE_POSTGRES=1 (CI) an unreachable server fails the run instead of
skipping.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter

pytest_plugins = ["tests.browser"]  # the browser fixtures shared by e2e/ and sso/

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
_pg_state: dict = {}


def _driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _postgres_url() -> str | None:
    """Create this run's database once; None (with the reason kept) when no server answers."""
    if "url" in _pg_state:
        return _pg_state["url"]
    base = _driver_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    name = f"st_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means: no PostgreSQL here
        _pg_state["url"] = None
        _pg_state["why"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return None
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    _pg_state.update(url=url, admin=admin, name=name)
    return url


def pytest_sessionfinish(session, exitstatus):
    admin, name = _pg_state.get("admin"), _pg_state.get("name")
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_terminal_summary(terminalreporter):
    if _pg_state.get("url") is None and "why" in _pg_state:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"No PostgreSQL at TEST_DATABASE_URL ({_pg_state['why']}). "
            "Production runs PostgreSQL: start a server or set TEST_DATABASE_URL."
        )


BACKENDS = ["sqlite", "postgresql"]


def make_test_app(backend: str, tmp_path, extra: dict | None = None):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        url = _postgres_url()
        if url is None:
            message = f"PostgreSQL unavailable: {_pg_state['why']}"
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail(message + " (REQUIRE_POSTGRES=1)", pytrace=False)
            pytest.skip(message)
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_FAST": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SIGNING_KEY_DIR": str(tmp_path / "keys"),
        "TRANSCRIPT_DIR": str(tmp_path / "transcripts"),
        "PUBLIC_BASE_URL": "https://dekt.example.edu.cn",
        "INSTITUTION_NAME": "示范大学 Demo University",
    }
    config.update(extra or {})
    app = create_app(config)
    import credentials

    credentials.KeyRing.generate_in_dir(config["SIGNING_KEY_DIR"])
    with app.app_context():
        if backend == "postgresql":
            _db.engine.dispose()
            with _db.engine.begin() as conn:
                # Empty the run's database: drop and recreate is cheap enough per test.
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        _db.create_all()
        if app.config.get("RATELIMIT_ENABLED", True):
            # The limiter is one object per process: give each test app a fresh budget.
            limiter.reset()
    return app


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(backend, tmp_path):
    app = make_test_app(backend, tmp_path)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def session(app):
    return _db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(session):
    from tests.factories import Factory

    return Factory(session)
