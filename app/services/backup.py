"""Database backups that are consistent while the service keeps running.

A backup holds every record and password hash, so it is written readable by its owner only
(0600), and `pg_dump` is given the database password in its environment, never on its
command line (where `ps` shows it to every user of the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import URL, Engine

PRIVATE = 0o600


def checkpoints_beside(target: str | os.PathLike[str]) -> Path:
    """Where a backup's copy of the audit checkpoints goes: next to it, named after it."""
    target = Path(target)
    return target.with_name(target.name + ".audit-checkpoints.json")


def backup_database(engine: Engine, target: str | os.PathLike[str], checkpoints: dict | None = None) -> int:
    """Write a backup to `target`; returns its size in bytes.

    SQLite: the online backup API (a consistent copy even with writers). PostgreSQL:
    `pg_dump --format=custom`, restorable with pg_restore. With `checkpoints` (the published
    document of the audit checkpoints) a copy is written beside it, so the restored database
    can be checked against heads signed before it was taken (`flask audit verify --checkpoints`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    url = engine.url
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise RuntimeError(_("No backup method for %(backend)s", backend=url.get_backend_name()))
    if url.get_backend_name() == "postgresql" and shutil.which("pg_dump") is None:
        raise RuntimeError(_("pg_dump not found: install the PostgreSQL client (apt-get install postgresql-client)"))
    created = _private_file(target)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(url.database, target)
        else:
            argv, env = pg_dump_command(url, target)
            result = subprocess.run(argv, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(_("pg_dump failed: %(detail)s", detail=result.stderr.strip()[-500:]))
    except BaseException:
        if created:
            target.unlink(missing_ok=True)
        raise
    if checkpoints is not None:
        # The caller read it before the copy began, so every head it names is in the copy.
        checkpoints_beside(target).write_text(json.dumps(checkpoints, indent=2, sort_keys=True) + "\n", "utf-8")
    return target.stat().st_size


def evidence_beside(target: str | os.PathLike[str]) -> Path:
    """Where a backup's copy of the claims' evidence files goes: a folder next to it."""
    target = Path(target)
    return target.with_name(target.name + ".evidence")


def backup_evidence(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Copy the evidence files (named by their SHA-256) beside the backup; returns how many are new.

    Called after the database copy: a file is written before the claim naming it is committed,
    so every file the copy names is already on disk. A file already in the folder (same name,
    same content) is not copied again, so a nightly backup to the same place copies only the day's.
    """
    source, folder = Path(source), evidence_beside(target)
    copied = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.glob("*/*")):
        if path.name.startswith(".") or not path.is_file():
            continue  # a write still in progress (.incoming-…)
        copy = folder / path.parent.name / path.name
        if copy.exists():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(path, copy)
        os.chmod(copy, PRIVATE)
        copied += 1
    return copied


def _private_file(path: Path) -> bool:
    """Make `path` exist with mode 0600 before anything is written to it; True if it is new.

    Created 0600 in one step (no moment at the umask's 0644); an old file being overwritten is
    narrowed to 0600 too. SQLite's backup and pg_dump then write into it, keeping the mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        created = True
    except FileExistsError:
        fd = os.open(path, os.O_WRONLY)
        created = False
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    return created


def _sqlite_backup(database: str, target: Path) -> None:
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def pg_dump_command(url: URL, target: str | os.PathLike[str]) -> tuple[list[str], dict[str, str]]:
    """`pg_dump`'s argv and environment for `url`: the password travels only in PGPASSWORD."""
    env = dict(os.environ)
    if url.password is not None:  # else libpq's own PGPASSWORD / ~/.pgpass, as for the service
        env["PGPASSWORD"] = str(url.password)
    # URL.set() ignores password=None: build the URL anew without it.
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query).render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", "--file", str(target), f"--dbname={plain}"], env
