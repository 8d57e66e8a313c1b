"""An app on an empty database for every test, on SQLite and on PostgreSQL.

The `app` fixture hands each test one app per backend and process, built once and reset
between tests as good as new (settings put back, its own keys and transcript folder, an empty
database): building an app costs more than most tests. `make_test_app` still builds a new one
for tests that need their own settings; tests that change the app object (add a route) are
listed in NEEDS_OWN_APP. `make test` runs one pytest-xdist worker per core, a file per worker.

PostgreSQL runs whenever a server answers at TEST_DATABASE_URL (default: the local
server's `test` database); a database is created for the run (one per process, so
pytest-xdist workers never share one) and its schema once. With REQUIRE_POSTGRES=1 (CI)
an unreachable server fails the run instead of skipping.

How a test gets an empty database (tests/dbisolation.py holds the mechanics):

* PostgreSQL, the `app` fixture: the test runs inside one transaction on one connection,
  rolled back at the end. The app's engine is that connection and the session joins it with
  `join_transaction_mode="create_savepoint"`, so the app's commits release savepoints and its
  rollbacks return to them; nothing reaches the database. Sequences are reset to 1 first, so
  ids count from 1 as on a fresh database.
* Tests that need real commits — threads with their own connections, a second engine, a
  subprocess (pg_dump, gunicorn), or code reading through its own `engine.connect()` (the
  verification path) — are marked `@pytest.mark.real_commits`: their app commits for real and
  the next test empties the tables first. Apps built by calling `make_test_app` directly
  (module-wide matrix apps, custom settings) commit for real too.
* SQLite: each test gets a database made from a template built once per run with create_all:
  the shared app's file is overwritten with it (its log removed first), a new app gets a copy
  (a copy is ~1 ms; create_all ~80 ms).

`count_queries` counts the statements a block sends, for statement budgets.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from tests import dbisolation
from tests.dbisolation import QueryCounter

pytest_plugins = ["tests.browser"]  # the browser fixtures shared by e2e/ and sso/

REAL_COMMITS = "real_commits"
OWN_APP = "own_app"
# tests/test_migrations.py makes its own databases on the run's server with these.
_postgres_url = dbisolation.postgres_url
_pg_state = dbisolation._pg


_VERIFY = "reads the transcript through its own engine.connect() (verification.public_view), blind to the test's rows"
_BACKUP = "pg_dump, another process, copies the database"
# Tests whose PostgreSQL app must commit for real, with why; kept here (not as decorators in the
# test files) so the list is one place. A test module or one test function (every parameter).
NEEDS_REAL_COMMITS = {
    "tests/test_concurrency.py": "threads, each with its own session and connection, race each other",
    "tests/test_withdrawals.py": _VERIFY,
    "tests/test_verify_cold.py": _VERIFY,
    "tests/test_resaved_and_reissue.py": _VERIFY,
    "tests/test_demo_and_cli.py::test_backup_writes_a_restorable_copy": _BACKUP,
    "tests/test_small_defects.py::test_a_backup_is_readable_by_the_owner_only": _BACKUP,
    "tests/test_small_defects.py::test_a_failed_backup_leaves_no_file_behind": _BACKUP,
    "tests/test_roster.py::test_roster_statements_do_not_grow_with_the_rows":
        "counts statements itself, SAVEPOINTs included (count_queries leaves them out)",
    "tests/test_leadership.py::test_appointed_student_leads_and_previous_leader_steps_down": _VERIFY,
    "tests/test_claims.py::test_certified_claim_counts_on_the_transcript": _VERIFY,
    **{f"tests/test_transcripts.py::{name}": _VERIFY for name in (
        "test_issue_download_scan_and_verify_genuine",
        "test_issuing_again_supersedes_and_old_link_says_superseded",
        "test_admin_revokes_and_verify_shows_it_at_once",
        "test_verify_api_shows_masked_number_and_records",
        "test_unknown_serial_is_404_in_json_and_page",
        "test_forged_link_is_not_genuine",
        "test_key_rotation_keeps_old_transcripts_verifying",
        "test_a_cached_page_still_shows_a_revocation_at_once",
        "test_a_link_in_the_old_form_still_verifies",
    )},
    **{f"tests/test_credit_rules.py::{name}": _VERIFY for name in (
        "test_the_transcript_says_whether_the_requirement_is_met_under_the_named_rules",
        "test_a_transcript_without_rules_says_nothing_of_a_requirement",
        "test_rule_change_does_not_change_issued_transcripts",
    )},
    "tests/test_key_lifecycle.py": _VERIFY,
    "tests/test_holder_controls.py": _VERIFY,
    "tests/test_verifier_steps.py": _VERIFY,
    **{f"tests/test_web_transcripts.py::{name}": _VERIFY for name in (
        "test_verify_page_is_chinese_by_default_and_english_for_accept_language_en",
        "test_verify_page_takes_lang_in_the_query_without_breaking_the_signed_link",
        "test_verify_landing_and_unknown_serial_in_english",
    )},
}


# Tests that change the app object itself get one of their own (the `app` fixture shares one).
NEEDS_OWN_APP = {
    "tests/test_web_admin.py::test_server_error_is_a_page_in_the_layout": "adds a route that fails",
    "tests/test_api_errors.py::test_500_is_json_without_internals": "adds a route that fails",
}


def _listed(item, listing: dict) -> bool:
    test = item.nodeid.split("[", 1)[0]
    return test in listing or test.split("::", 1)[0] in listing


# The files that keep one worker busy for a minute or more (browsers, real servers): collected
# first so that `make test` (pytest-xdist, --dist loadfile --no-loadscope-reorder) starts them at
# once beside the rest, instead of last on one worker while the other sits idle.
RUN_FIRST = (
    "tests/e2e/test_page_checks.py",
    "tests/sso/test_sso.py",
    "tests/e2e/test_check_in_screen.py",
    "tests/e2e/test_journey.py",
    "tests/test_openapi.py",
)


def pytest_collection_modifyitems(items):
    first = {path: rank for rank, path in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::", 1)[0], len(first)))  # stable
    for item in items:
        if _listed(item, NEEDS_REAL_COMMITS):
            item.add_marker(pytest.mark.real_commits)
        if _listed(item, NEEDS_OWN_APP):
            item.add_marker(pytest.mark.own_app)


def pytest_configure(config):
    config.addinivalue_line("markers", f"{OWN_APP}: the test gets an app of its own, not the shared one")
    config.addinivalue_line(
        "markers",
        f"{REAL_COMMITS}: the test's PostgreSQL app commits for real (threads, subprocesses, second "
        "connections) instead of running in a transaction rolled back at the end",
    )


def pytest_sessionfinish(session, exitstatus):
    dbisolation.drop_run_database()
    for app, _settings in _shared.values():
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
    for home in _shared_homes:
        shutil.rmtree(home, ignore_errors=True)


def _postgres_skip_reason(terminalreporter) -> str | None:
    """Why PostgreSQL tests were skipped, in this process or (pytest-xdist) in a worker's reports."""
    why = dbisolation.postgres_unavailable_reason()
    marker = "PostgreSQL unavailable: "
    for report in terminalreporter.stats.get("skipped", []) if why is None else ():
        text = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        if marker in text:
            return text.split(marker, 1)[1]
    return why


def pytest_terminal_summary(terminalreporter):
    why = _postgres_skip_reason(terminalreporter)
    if why is not None:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"No PostgreSQL at TEST_DATABASE_URL ({why}). "
            "Production runs PostgreSQL: start a server or set TEST_DATABASE_URL."
        )


BACKENDS = ["sqlite", "postgresql"]


def _config(url: str, tmp_path, extra: dict | None) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_FAST": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SIGNING_KEY_DIR": str(tmp_path / "keys"),
        "TRANSCRIPT_DIR": str(tmp_path / "transcripts"),
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "JOB_QUEUE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "PUBLIC_BASE_URL": "https://dekt.example.edu.cn",
        "INSTITUTION_NAME": "示范大学 Demo University",
    }
    config.update(extra or {})
    return config


def _postgres_or_skip() -> str:
    url = dbisolation.postgres_url()
    if url is None:
        message = f"PostgreSQL unavailable: {dbisolation.postgres_unavailable_reason()}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    return url


def make_test_app(backend: str, tmp_path, extra: dict | None = None, *, real_commits: bool = True):
    """A test app on an empty database with its own signing keys.

    With real_commits (the default for direct callers) the app commits for real; the `app`
    fixture passes False on PostgreSQL and wraps the test in a rolled-back transaction.
    """
    if backend == "sqlite":
        database = tmp_path / "test.db"
        copied = dbisolation.copy_sqlite_template(database, lambda url: _config(url, tmp_path, None))
        url = f"sqlite:///{database}"
    else:
        url, copied = _postgres_or_skip(), True
    config = _config(url, tmp_path, extra)
    app = create_app(config)
    import credentials

    credentials.KeyRing.generate_in_dir(config["SIGNING_KEY_DIR"])
    school_certificate_into(config["SIGNING_KEY_DIR"])
    with app.app_context():
        if backend == "postgresql":
            dbisolation.prepare_postgres(real_commits=real_commits)
        elif not copied:
            _db.create_all()  # a file the test made beforehand keeps its own bytes
        if app.config.get("RATELIMIT_ENABLED", True):
            # The limiter is one object per process: give each test app a fresh budget.
            limiter.reset()
    return app


_school_certificate: list = []


def school_certificate_into(directory) -> None:
    """The PDF signing certificate `keys generate` would make, written into a test's key folder:
    one per process, copied (making RSA keys costs a tenth of a second each)."""
    import credentials

    if not _school_certificate:
        _school_certificate.append(credentials.make_school_certificate("示范大学 Demo University"))
    credentials.save_school_certificate(_school_certificate[0], directory)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _shared_app(backend: str, tmp_path, *, real_commits: bool):
    """This process's app for `backend`, made once, handed to the test as if new.

    Building an app (blueprints, the OpenAPI document, the URL map) costs more than most tests,
    so the `app` fixture reuses one per backend and gives each test what a new one would have:
    the settings as made (whatever the last test changed is put back), its own signing keys and
    transcript folder under tmp_path, and an empty database — on SQLite the worker's one file
    overwritten with the template, on PostgreSQL the run's database emptied as prepare_postgres
    does. Tests that change the app itself (add a route) are marked `own_app` and get a new one.
    """
    shared = _shared.get(backend)
    if shared is None:
        home = Path(tempfile.mkdtemp(prefix=f"st-shared-{backend}-"))
        _shared_homes.append(home)
        app = make_test_app(backend, home, real_commits=real_commits)
        shared = _shared[backend] = (app, dict(app.config))
    else:
        app, settings = shared
        app.config.clear()
        app.config.update(settings)
        with app.app_context():
            _db.session.remove()
            if backend == "sqlite":
                _db.engine.dispose()
                dbisolation.reset_sqlite_file(Path(_db.engine.url.database))
            else:
                dbisolation.prepare_postgres(real_commits=real_commits)
    app, settings = shared
    app.config.update(SIGNING_KEY_DIR=str(tmp_path / "keys"), TRANSCRIPT_DIR=str(tmp_path / "transcripts"))
    import credentials

    credentials.KeyRing.generate_in_dir(app.config["SIGNING_KEY_DIR"])
    school_certificate_into(app.config["SIGNING_KEY_DIR"])
    # The limiter is one object per process and each init_app sets whether it is on: an app
    # another test made with limits on left it on. This app's setting, and a fresh budget.
    limiter.enabled = app.config.get("RATELIMIT_ENABLED", True)
    if limiter.enabled:
        limiter.reset()
    return app


_shared: dict[str, tuple] = {}
_shared_homes: list[Path] = []


@pytest.fixture
def app(request, backend, tmp_path):
    rolled_back = backend == "postgresql" and request.node.get_closest_marker(REAL_COMMITS) is None
    if request.node.get_closest_marker(OWN_APP):
        app = make_test_app(backend, tmp_path, real_commits=not rolled_back)
    else:
        app = _shared_app(backend, tmp_path, real_commits=not rolled_back)
    with app.app_context():
        if rolled_back:
            with dbisolation.rolled_back(app):
                yield app
        else:
            yield app
            _db.session.remove()
        if request.node.get_closest_marker(OWN_APP) or backend == "sqlite":
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


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counted: ...` then `counted.count` (and `counted.statements`).

    Counts every statement sent on the app's database while the block runs: the session's and
    any Core connection's, on both backends and in a rolled-back test too.
    """
    return lambda: QueryCounter(_db.engine)
