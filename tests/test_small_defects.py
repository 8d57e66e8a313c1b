"""Small defects found on the way (issue 12): a date out of range or a capacity that is not a whole
number is a 422 naming the field with nothing stored; the database, its backups and the secret key
are readable by their owner only; pg_dump never sees the password on its command line."""

from __future__ import annotations

import os
import stat
import subprocess
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.config import _instance_secret
from app.extensions import db
from app.models import Activity, Club
from app.services import backup
from tests.conftest import make_test_app
from tests.factories import PASSWORD, Factory

API = "/api/v1"


def _activities(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(Activity)).scalar_one()


def _plan_form(**overrides) -> dict:
    values = {
        "title": "敬老院志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00", "ends_at": "2026-10-20T12:00",
        "location": "阳光敬老院", "hours": "3", "capacity": "30",
    }
    values.update(overrides)
    return values


def _plan_json(**overrides) -> dict:
    values = {
        "title": "敬老院志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00:00+08:00", "ends_at": "2026-10-20T12:00:00+08:00",
        "location": "阳光敬老院", "hours": 3, "capacity": 30,
    }
    values.update(overrides)
    return values


def _sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


@pytest.mark.parametrize("field, typed", [
    ("starts_at", "0001-01-01T00:00"),
    ("starts_at", "9999-12-31T23:59"),
    ("ends_at", "9999-12-31T23:59"),
    ("starts_at", "1900-05-01T09:00"),
])
def test_a_date_out_of_range_on_the_activity_form_is_shown_next_to_it_and_nothing_is_stored(
    client, make, session, field, typed
):
    w = make.world()
    before = _activities(session)
    _sign_in(client, w.leader)
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=_plan_form(**{field: typed}))
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[:500]
    assert f'id="{field}-msg" class="field-error"' in html
    assert "年之间" in html
    assert f'value="{typed}"' in html  # what was typed stays
    assert _activities(session) == before


def test_a_date_out_of_range_when_editing_an_activity_is_a_422_and_changes_nothing(client, make, session):
    w = make.world()
    draft = make.activity(w.club, status="draft")
    starts = draft.starts_at
    _sign_in(client, w.leader)
    r = client.post(f"/activities/{draft.id}/edit", data=_plan_form(starts_at="0001-01-01T00:00"))
    assert r.status_code == 422, r.get_data(as_text=True)[:500]
    assert 'id="starts_at-msg" class="field-error"' in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Activity, draft.id).starts_at == starts


@pytest.mark.parametrize("field, moment", [
    ("starts_at", "0001-01-01T00:00:00+08:00"),
    ("ends_at", "9999-12-31T23:59:59-08:00"),
    ("starts_at", "0001-01-01T00:00:00"),
])
def test_a_date_out_of_range_in_the_api_is_a_422_naming_the_field(client, make, session, field, moment):
    w = make.world()
    before = _activities(session)
    r = client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(w.leader),
                    json=_plan_json(**{field: moment}))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(r.get_json()["error"]["fields"]) == {field}
    assert _activities(session) == before


@pytest.mark.parametrize("capacity", [1.5, "1.5", True, False, -1, 0, "30", 10**6, [3], {"n": 3}])
def test_a_capacity_that_is_not_a_positive_whole_number_is_refused_by_the_api(
    client, make, session, capacity
):
    w = make.world()
    before = _activities(session)
    r = client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(w.leader),
                    json=_plan_json(capacity=capacity))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(r.get_json()["error"]["fields"]) == {"capacity"}
    assert _activities(session) == before


@pytest.mark.parametrize("capacity, stored", [(30, 30), (1, 1), (100000, 100000), (None, None)])
def test_a_whole_capacity_or_none_is_stored_as_given(client, make, session, capacity, stored):
    w = make.world()
    r = client.post(f"{API}/clubs/{w.club.id}/activities", headers=make.token(w.leader),
                    json=_plan_json(capacity=capacity))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["capacity"] == stored
    session.expire_all()
    assert session.get(Activity, r.get_json()["id"]).capacity == stored


def test_a_capacity_that_is_not_whole_cannot_be_patched_in(client, make, session):
    w = make.world()
    draft = make.activity(w.club, status="draft", capacity=20)
    r = client.patch(f"{API}/activities/{draft.id}", headers=make.token(w.leader), json={"capacity": 1.5})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(r.get_json()["error"]["fields"]) == {"capacity"}
    session.expire_all()
    assert session.get(Activity, draft.id).capacity == 20


@pytest.mark.parametrize("typed", ["1.5", "-1", "0", "1e3", "30 人", "true"])
def test_a_capacity_that_is_not_a_positive_whole_number_is_refused_on_the_page(client, make, session, typed):
    w = make.world()
    before = _activities(session)
    _sign_in(client, w.leader)
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=_plan_form(capacity=typed))
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[:500]
    assert 'id="capacity-msg" class="field-error"' in html
    assert _activities(session) == before


@pytest.fixture
def umask_022():
    """The common default umask, under which files are created 0644 unless asked otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sqlite_database_and_its_wal_and_shm_files_are_readable_by_the_owner_only(tmp_path, umask_022):
    app = make_test_app("sqlite", tmp_path)
    with app.app_context():
        Factory(db.session).world()
        database = tmp_path / "test.db"
        sidecars = [p for p in (tmp_path / "test.db-wal", tmp_path / "test.db-shm") if p.exists()]
        assert sidecars, "WAL mode keeps -wal and -shm files while connected"
        for path in (database, *sidecars):
            assert _mode(path) == 0o600, (path.name, oct(_mode(path)))
        db.session.remove()
        db.engine.dispose()


def test_an_older_world_readable_sqlite_database_is_narrowed_to_the_owner(tmp_path, umask_022):
    import sqlite3

    database = tmp_path / "test.db"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    app = make_test_app("sqlite", tmp_path)
    with app.app_context():
        assert _mode(database) == 0o600
        assert db.session.execute(select(func.count()).select_from(Club)).scalar_one() == 0
        db.session.remove()
        db.engine.dispose()


def test_a_backup_is_readable_by_the_owner_only(app, make, backend, tmp_path, umask_022):
    import shutil

    if backend == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    make.world()
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    old.write_bytes(b"")
    old.chmod(0o644)
    for target in (fresh, old):
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
        assert _mode(target) == 0o600, (target.name, oct(_mode(target)))


def test_a_failed_backup_leaves_no_file_behind(app, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "_sqlite_backup", lambda *_: (_ for _ in ()).throw(OSError("disk full")))
    monkeypatch.setattr(backup, "pg_dump_command", lambda *_: (["false"], dict(os.environ)))
    monkeypatch.setattr(backup.shutil, "which", lambda _: "/usr/bin/pg_dump")
    target = tmp_path / "out.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and "错误" in result.output
    assert not target.exists()


def test_the_generated_secret_key_is_readable_by_the_owner_only_and_kept(tmp_path, umask_022):
    instance = tmp_path / "instance"
    key = _instance_secret(instance)
    assert len(key) == 64 and _mode(instance / "secret_key") == 0o600
    assert _instance_secret(instance) == key


PASSWORD_IN_URL = "s3cr:t@/p%w"


def test_pg_dump_gets_the_password_in_its_environment_never_in_its_arguments(tmp_path):
    url = sa.engine.URL.create("postgresql+psycopg", username="dekt", password=PASSWORD_IN_URL,
                               host="db.example.edu.cn", port=5433, database="second_transcript",
                               query={"sslmode": "require"})
    argv, env = backup.pg_dump_command(url, tmp_path / "out.dump")
    assert env["PGPASSWORD"] == PASSWORD_IN_URL
    secret_forms = {PASSWORD_IN_URL, quote(PASSWORD_IN_URL, safe=""), "s3cr"}
    for arg in argv:
        assert not any(secret in arg for secret in secret_forms), arg
    assert argv[0] == "pg_dump" and "--format=custom" in argv and str(tmp_path / "out.dump") in argv
    (dbname,) = [a.removeprefix("--dbname=") for a in argv if a.startswith("--dbname=")]
    named = sa.engine.make_url(dbname)
    assert (named.drivername, named.username, named.password, named.host, named.port, named.database) == (
        "postgresql", "dekt", None, "db.example.edu.cn", 5433, "second_transcript")
    assert named.query == {"sslmode": "require"}


def test_the_backup_command_runs_pg_dump_with_the_password_out_of_sight(tmp_path, monkeypatch):
    seen = {}

    def run(argv, env, **_):
        seen.update(argv=argv, env=env)
        (tmp_path / "out.dump").write_bytes(b"PGDMP")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(backup.subprocess, "run", run)
    monkeypatch.setattr(backup.shutil, "which", lambda _: "/usr/bin/pg_dump")
    engine = sa.create_engine(sa.engine.URL.create(
        "postgresql+psycopg", username="dekt", password=PASSWORD_IN_URL, host="127.0.0.1", database="st"))
    assert backup.backup_database(engine, tmp_path / "out.dump") == 5
    assert not any("s3cr" in arg for arg in seen["argv"])
    assert seen["env"]["PGPASSWORD"] == PASSWORD_IN_URL
    assert _mode(tmp_path / "out.dump") == 0o600
    engine.dispose()


@pytest.mark.parametrize("bad", [1.5, "1", True, [1], {"id": 1}])
def test_an_id_in_a_json_body_must_be_a_whole_number_not_cast_to_one(client, make, session, bad):
    """1.5 used to name row 1; an id that is not a JSON integer now names the field, nothing changes."""
    w = make.world()
    admin = make.token(w.admin)
    clubs = session.execute(select(func.count()).select_from(Club)).scalar_one()
    cases = [
        (f"{API}/clubs", {"name": "新社团", "category": "文体", "unit_id": bad}, "unit_id"),
        (f"{API}/clubs", {"name": "新社团", "category": "文体", "unit_id": w.unit.id, "advisor_ids": [bad]},
         "advisor_ids.0"),
        (f"{API}/classes", {"unit_id": bad, "name": "计科2501班", "cohort": 2025}, "unit_id"),
    ]
    for url, body, field in cases:
        r = client.post(url, headers=admin, json=body)
        assert r.status_code == 422, (url, body, r.get_json())
        assert field in r.get_json()["error"]["fields"], r.get_json()
    r = client.patch(f"{API}/users/{w.students[0].id}", headers=admin, json={"unit_id": bad})
    assert r.status_code == 422 and "unit_id" in r.get_json()["error"]["fields"]
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Club)).scalar_one() == clubs
    assert w.students[0].unit_id == w.unit.id


def test_an_id_in_a_query_string_is_still_read_as_a_number(client, make):
    w = make.world()
    admin = make.token(w.admin)
    r = client.get(f"{API}/users?unit_id={w.unit.id}", headers=admin)
    assert r.status_code == 200 and r.get_json()["total"] >= 3
    assert client.get(f"{API}/users?unit_id=1.5", headers=admin).status_code == 422
