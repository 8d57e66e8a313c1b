"""How each test gets an empty database cheaply: the mechanics behind tests/conftest.py.

PostgreSQL
    One database per test process (`postgres_url`), its schema made once (`prepare_postgres`).
    A test then either runs inside `rolled_back(app)` — one connection, one outer transaction
    rolled back at the end — or commits for real, after which the next test empties the tables.

    `rolled_back` follows SQLAlchemy 2's "Joining a Session into an External Transaction" recipe
    in the form Flask-SQLAlchemy's maintainers give for version 3 (pallets-eco/flask-sqlalchemy
    #1171): the app's entry in `db.engines` becomes the test's Connection, so the session (and
    `db.engine`) use it, and the session's `join_transaction_mode="create_savepoint"` turns the
    app's commit into RELEASE SAVEPOINT and its rollback into ROLLBACK TO SAVEPOINT.
    Anything that needs an Engine of its own (`engine.connect()`, another thread, another
    process) cannot see the test's uncommitted rows: such tests are marked `real_commits`.

SQLite
    `copy_sqlite_template` writes a copy of a database file made once per run with create_all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from app.extensions import db

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# SAVEPOINT bookkeeping of a rolled-back test, which a real run has no statement for.
_SAVEPOINT_SQL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")
_pg: dict = {}
_sqlite: dict = {}


# ---- PostgreSQL: the run's database ---------------------------------------------------------

def _driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def postgres_url() -> str | None:
    """Create this process's database once; None (with the reason kept) when no server answers."""
    if "url" in _pg:
        return _pg["url"]
    base = _driver_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    name = f"st_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means: no PostgreSQL here
        _pg["url"] = None
        _pg["why"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return None
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    _pg.update(url=url, admin=admin, name=name)
    return url


def postgres_unavailable_reason() -> str | None:
    return _pg.get("why") if _pg.get("url") is None else None


def drop_run_database() -> None:
    admin, name = _pg.get("admin"), _pg.get("name")
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def prepare_postgres(*, real_commits: bool) -> None:
    """In the new app's context: the schema once per run, then an empty database with ids from 1.

    After an app that committed for real the tables are emptied (DELETE, child tables first:
    cheaper than TRUNCATE for a few rows); after a rolled-back test only the sequences, which
    PostgreSQL never rolls back, are set back.
    """
    engine = db.engine
    if not _pg.get("schema"):
        db.create_all()
        with engine.connect() as conn:
            _pg["sequences"] = conn.execute(sa.text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
                "WHERE schemaname = current_schema()")).scalars().all()
        _pg["tables"] = [table.name for table in reversed(db.metadata.sorted_tables)]
        _pg["schema"] = True
    else:
        sql = []
        if _pg.get("dirty"):
            sql += [f'DELETE FROM "{name}"' for name in _pg["tables"]]
        if _pg["sequences"]:
            sql.append("SELECT " + ", ".join(f"setval('{seq}', 1, false)" for seq in _pg["sequences"]))
        with engine.begin() as conn:
            # An app of an earlier test still inside a transaction would hold locks: say so, don't hang.
            conn.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(sa.text("; ".join(sql)))
    _pg["dirty"] = real_commits


@contextlib.contextmanager
def rolled_back(app: Flask) -> Iterator[None]:
    """Run the block (inside `app`'s context) in one transaction that is rolled back at the end."""
    engines = db.engines  # this app's own mapping: its default entry is what the session binds to
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection  # type: ignore[index]
    db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        db.session.remove()  # closing the session rolls back its own savepoint, if one is open
        db.session.configure(join_transaction_mode="conditional_savepoint")  # SQLAlchemy's default
        engines[None] = engine  # type: ignore[index]
        outer.rollback()
        connection.close()


# ---- SQLite ---------------------------------------------------------------------------------

def copy_sqlite_template(target: Path, config_for: Callable[[str], dict]) -> bool:
    """Write an empty schema-complete database at `target` (owner-only, 0600); False if a file is there.

    The template is made once per run by the app itself (create_all, the app's pragmas: WAL),
    checkpointed so the main file holds everything, and kept in memory.
    """
    if target.exists():
        return False
    data = _sqlite.get("template")
    if data is None:
        from app import create_app

        folder = Path(tempfile.mkdtemp(prefix="st-sqlite-template-"))
        try:
            path = folder / "template.db"
            app = create_app(config_for(f"sqlite:///{path}"))
            with app.app_context():
                db.create_all()
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                db.engine.dispose()
            data = path.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        _sqlite["template"] = data
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return True


def reset_sqlite_file(path: Path) -> None:
    """Put the template back in an existing database file (its engine disposed first).

    The write-ahead log and its index go first: left beside the new file, SQLite would replay
    the last test's changes into it.
    """
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(_sqlite["template"])


# ---- counting statements --------------------------------------------------------------------

class QueryCounter:
    """Counts the statements sent on an engine while the `with` block runs.

    It listens on the Engine (also when the app's bind is a rolled-back test's Connection), so
    it sees every connection's statements, and leaves out the SAVEPOINT bookkeeping a
    rolled-back test adds: the count is the one a real run has.
    """

    def __init__(self, bind: sa.Engine | sa.Connection):
        self.engine = bind.engine if isinstance(bind, sa.Connection) else bind
        self.statements: list[str] = []

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(_SAVEPOINT_SQL):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def __repr__(self) -> str:
        listing = "\n".join(f"  {s.splitlines()[0][:160]}" for s in self.statements)
        return f"<{self.count} statements:\n{listing}>"
