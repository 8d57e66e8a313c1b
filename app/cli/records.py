"""The record's commands: signing keys, transcripts, the audit chain, CSV imports, demo data, backup."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask_babel import gettext as _

from app.cli import audit_cli, command, fail, import_cli, keys_cli, transcripts_cli
from app.extensions import db
from app.i18n import pick
from app.services.audit import verify_chain
from app.services.errors import DomainError
from app.services.system import system_actor


@keys_cli.command("generate")
def keys_generate():
    """Create the signing key, the audit checkpoint key and (without SIGNING_CERT) the self-signed school
    certificate for the PDF signature, each if none exists (idempotent)."""
    from flask import current_app

    import credentials
    from app.services.audit import append_event
    from app.services.audit_checkpoints import ensure_signing_key

    directory = current_app.config["SIGNING_KEY_DIR"]
    before = _key_ids(directory)
    ring = credentials.KeyRing.generate_in_dir(directory)
    system = system_actor(db.session)
    if ring.active.kid not in before:
        append_event(db.session, system, "key.generate", "key", ring.active.kid, {"purpose": "transcripts"})
    ensure_signing_key(db.session, system)
    certificate = None
    if not current_app.config.get("SIGNING_CERT"):
        # `make run` has no bought certificate: a self-signed school root and signing certificate
        had = credentials.school_certificate_in_dir(directory)
        certificate = credentials.generate_school_certificate(directory, current_app.config["INSTITUTION_NAME"])
        if had is None:
            append_event(db.session, system, "key.generate", "certificate", format(certificate.cert.serial_number, "x"),
                         {"purpose": "pdf signature", "subject": certificate.cert.subject.rfc4514_string()})
    db.session.commit()
    click.echo(_("Signing key %(kid)s in %(directory)s (%(count)s key(s))",
                 kid=ring.active.kid, directory=directory, count=len(ring.keys)))
    if certificate is not None:
        click.echo(_("PDF signing certificate (self-signed school root): %(subject)s",
                     subject=certificate.cert.subject.rfc4514_string()))


def _key_ids(directory) -> set[str]:
    from pathlib import Path

    return {p.stem for p in Path(directory).glob("*.pem")}


@keys_cli.command("rotate")
def keys_rotate():
    """Make a new active key; old transcripts still verify with the retired ones."""
    from flask import current_app

    import credentials
    from app.services.audit import append_event

    directory = current_app.config["SIGNING_KEY_DIR"]
    ring = credentials.KeyRing.rotate_in_dir(directory)
    append_event(db.session, system_actor(db.session), "key.rotate", "key", ring.active.kid,
                 {"purpose": "transcripts", "retired": [k.kid for k in ring.retired]})
    db.session.commit()
    click.echo(_("New active key %(kid)s; retired: %(retired)s",
                 kid=ring.active.kid, retired=", ".join(k.kid for k in ring.retired)))


@keys_cli.command("revoke")
@click.argument("kid")
@click.option("--from", "from_day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The school's local date from which nothing the key signed verifies.")
def keys_revoke(kid, from_day):
    """Revoke a compromised key from a date; transcripts it signed earlier still verify.

    A key id may start with "-": write it after "--" (keys revoke --from DATE -- KID)."""
    from app.services.signing_keys import revoke_key

    try:
        ring = revoke_key(db.session, system_actor(db.session), kid, from_day.date())
    except DomainError as error:
        fail(error)
    db.session.commit()
    click.echo(_("Key %(kid)s revoked from %(day)s: nothing it signed on or after that day verifies.",
                 kid=kid, day=from_day.date().isoformat()))
    if kid == ring.active.kid:
        click.secho(_("It is the active key: run `%(command)s` before issuing again.",
                      command="flask --app app keys rotate"), fg="yellow")


@keys_cli.command("jwks")
def keys_jwks():
    """Print the public keys as JWKS (for offline verifiers)."""
    import json

    from app.services import verification

    try:
        click.echo(json.dumps(verification.jwks(), indent=2))
    except DomainError as error:
        fail(error)


@transcripts_cli.command("issue")
@click.option("--unit", "unit_code", default=None, help="Unit code, e.g. CS")
@click.option("--term", default=None, help="Only students with certified records in this term")
@click.option("--student-no", "student_nos", multiple=True, help="Issue for these students only")
def transcripts_issue(unit_code, term, student_nos):
    """Issue transcripts in a batch; one student's failure does not stop the rest."""
    from rich.progress import Progress

    from app.services import transcripts

    if unit_code and not term and not student_nos:
        # A whole unit is the graduation batch's work: idempotent, and the same batch the office's page runs.
        _run_batch(unit_code=unit_code, class_name=None, cohort=None, now=True, wait=False, resume_id=None)
        return
    numbers = list(student_nos) or transcripts.students_to_issue(db.session, unit_code, term)
    if not numbers:
        click.echo(_("No student with certified records matches"))
        return
    issued, failed = [], []
    with Progress(transient=False) as progress:
        task = progress.add_task(_("Issuing"), total=len(numbers))
        for number in numbers:
            try:
                issued.append(transcripts.issue_transcript(db.session, system_actor(db.session), number))
                db.session.commit()  # each transcript is one use case
            except DomainError as error:
                db.session.rollback()
                failed.append((number, error.message))
            except Exception as error:  # noqa: BLE001 — report it and go on with the batch
                db.session.rollback()
                failed.append((number, f"{type(error).__name__}: {error}"))
            progress.advance(task)
    click.secho(_("Issued %(issued)s transcripts, %(failed)s failed", issued=len(issued), failed=len(failed)),
                fg="green" if not failed else "yellow")
    for number, reason in failed:
        click.secho(f"  {number}: {reason}", fg="red")
    if issued:
        click.echo(_("e.g. %(link)s", link=issued[0].link))
        _checkpoint()  # the batch's events are pinned before anyone could rewrite them
    if failed:
        sys.exit(1)


@transcripts_cli.command("batch")
@click.option("--unit", "unit_code", default=None, help="Every student of this unit (its code, e.g. CS)")
@click.option("--class", "class_name", default=None, help="Every student of this class (its name; with --unit "
              "when the name is not unique)")
@click.option("--cohort", type=int, default=None, help="Every student of this year of entry, e.g. 2022")
@click.option("--now", is_flag=True, help="Issue here, in this process, without a worker")
@click.option("--wait", is_flag=True, help="Wait for the workers, with a progress bar")
@click.option("--resume", "resume_id", type=int, default=None,
              help="Run batch ID again: its pending and failed students only")
@click.option("--watch", "watch_id", type=int, default=None, help="Follow batch ID until it ends")
def transcripts_batch(unit_code, class_name, cohort, now, wait, resume_id, watch_id):
    """The graduation batch: issue the transcripts of a unit, a class or a cohort on the job queue
    (`flask --app app worker`), or here with --now. Re-running issues only what is missing."""
    _run_batch(unit_code=unit_code, class_name=class_name, cohort=cohort, now=now, wait=wait, resume_id=resume_id,
               watch_id=watch_id)


def _run_batch(*, unit_code, class_name, cohort, now, wait, resume_id, watch_id=None) -> None:
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from app.jobs import worker_name
    from app.services import accounts, batch_work, batches

    system = system_actor(db.session)
    try:
        if watch_id is not None:
            batch = batches.get_batch(db.session, system, watch_id)
            wait = True
        elif resume_id is not None:
            batch = batches.resume_batch(db.session, system, resume_id)
        else:
            unit = accounts.find_unit(db.session, unit_code) if unit_code else None
            if class_name:
                klass = accounts.find_class(db.session, class_name, unit.id if unit else None)
                batch = batches.start_batch(db.session, system, class_id=klass.id)
            elif unit is not None:
                batch = batches.start_batch(db.session, system, unit_id=unit.id)
            else:
                batch = batches.start_batch(db.session, system, cohort=cohort)
        batch_id, total = batch.id, batch.total
        if now:
            db.session.info.pop("batches_to_run", None)  # this process runs it; no job for a worker
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.echo(_("Batch %(id)s: %(total)s students", id=batch_id, total=total))
    if not now and not wait:
        click.echo(_("Queued for the workers (`%(command)s`); follow it on the office's batch page or with "
                     "`%(wait)s`", command="flask --app app worker",
                     wait="flask --app app transcripts batch --watch " + str(batch_id)))
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(_("Issuing"), total=total)
        if now:
            batch_work.work(db.session, batch_id, worker_name(), on_student=lambda status: bar.advance(task))
        while True:
            state = batches.progress(db.session, system, batch_id)
            db.session.rollback()  # a fresh look at what the workers committed next time
            bar.update(task, completed=state.done + state.failed)
            if not state.live:
                break
            time.sleep(1)
    state = batches.progress(db.session, system, batch_id, details=True)
    click.secho(_("Batch %(id)s %(status)s: %(issued)s issued, %(skipped)s already current, %(failed)s failed",
                  id=batch_id, status=state.status_label, issued=state.issued, skipped=state.skipped,
                  failed=state.failed), fg="green" if not state.failed else "yellow")
    for number, name, error in state.errors:
        click.secho(f"  {number} {name}: {error}", fg="red")
    if state.issued:
        _checkpoint()  # the batch's events are pinned before anyone could rewrite them
    if state.failed or state.status != "done":
        sys.exit(1)


@audit_cli.command("verify")
@click.option("--checkpoints", "checkpoints_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Check against this copy of the checkpoints (a backup's, or a saved "
                   "/.well-known/audit-checkpoints.json) instead of the key directory's")
def audit_verify(checkpoints_file):
    """Check the audit log: its hash chain, the chain against every signed checkpoint, and the
    record's tables against the log. Exit 1 with the first problem."""
    from pathlib import Path

    from app.services.audit_checkpoints import verify_checkpoints
    from app.services.audit_reconcile import reconcile

    report = verify_chain(db.session)
    if not report.ok:
        click.secho(_("BROKEN at event #%(seq)s: %(reason)s", seq=report.broken_seq, reason=report.reason),
                    fg="red", err=True)
        sys.exit(1)
    try:
        anchored = verify_checkpoints(db.session, Path(checkpoints_file) if checkpoints_file else None)
    except DomainError as error:
        fail(error)
    if not anchored.ok:
        click.secho(_("BROKEN against the signed checkpoints: %(reason)s", reason=anchored.reason),
                    fg="red", err=True)
        sys.exit(1)
    tables = reconcile(db.session)
    if not tables.ok:
        click.secho(_("BROKEN: the record does not match its log: %(reason)s", reason=tables.reason),
                    fg="red", err=True)
        sys.exit(1)
    click.secho(_("OK: %(count)s events, chain intact", count=report.events), fg="green")
    click.echo(_("%(n)s signed checkpoints match; %(records)s records and transcripts match the log",
                 n=anchored.checked, records=tables.checked))


@audit_cli.command("checkpoint")
def audit_checkpoint():
    """Sign the chain's head and publish it (run it from cron, e.g. every hour)."""
    if not _checkpoint():
        sys.exit(1)


def _checkpoint() -> bool:
    """Sign the committed head; say what was signed. False (and why) when it cannot be."""
    from app.services.audit_checkpoints import checkpoints_path, create_checkpoint, last_checkpoint

    try:
        made = create_checkpoint(db.session, system_actor(db.session))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.secho(_("Error: %(message)s", message=error.message), fg="red", err=True)
        return False
    if made is None:
        last = last_checkpoint()
        click.echo(_("No new event since the last checkpoint (event #%(seq)s)", seq=last.seq if last else 0))
    else:
        click.secho(_("Checkpoint signed: event #%(seq)s, %(hash)s, in %(path)s",
                      seq=made.seq, hash=made.hash[:16], path=str(checkpoints_path())), fg="green")
    return True


@import_cli.command("students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_students(file):
    """Import a roster CSV: student number, name, [unit code, class, cohort, username, e-mail]; never passwords."""
    from app.services import imports

    with open(file, "rb") as fh:
        data = fh.read()
    try:
        result = imports.import_students(db.session, system_actor(db.session), data)
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.secho(_("Imported %(count)s students (no password yet)", count=result.count), fg="green")
    click.echo(_("Students activate their accounts by a one-time link (or sign in by SSO); "
                 "print the links with:"))
    for code in sorted(c for c in result.units if c != "—") or ["CODE"]:
        click.echo(f"  flask --app app user reset-links --unit {code}")


@import_cli.command("participations")
@click.argument("activity_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_participations(activity_id, file):
    """Record an activity's participants from CSV: student number, [role, hours, award]."""
    from app.services import imports

    with open(file, "rb") as fh:
        data = fh.read()
    try:
        created = imports.import_participations(db.session, system_actor(db.session), activity_id, data)
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.secho(_("Recorded %(count)s participations for activity %(id)s", count=len(created), id=activity_id),
                fg="green")


@command("demo-data")
def demo_data():
    """Fill an empty database with a believable school (does nothing if people exist)."""
    from app.services import demo

    if demo.load_demo(db.session):
        db.session.commit()
        click.secho(_("Demo school loaded"), fg="green")
        _checkpoint()
    else:
        click.echo(_("The database already has people; demo data left as it is"))


@command("demo-logins")
def demo_logins():
    """Print the demo accounts."""
    from flask import current_app

    from app.services import demo

    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("")
    click.secho(_("Second Transcript — %(url)s", url=base), bold=True)
    click.echo(_("Demo logins (password for all: %(password)s)", password=demo.DEMO_PASSWORD))
    for login in demo.DEMO_LOGINS:
        click.echo(f"  {login.role:<10} {login.username:<12} {login.name:<10} {pick(login.note)}")
    link = demo.demo_verify_link(db.session)
    if link:
        click.echo(_("A demo transcript's verify link (what its QR code opens):"))
        click.echo(f"  {link}")
    click.echo("")


@transcripts_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def transcripts_verify(file):
    """Is this PDF byte for byte one we issued, and does its own signature check out?"""
    import credentials
    from app.services import upload_check, verification
    from app.services.transcripts import trust_roots

    with open(file, "rb") as fh:
        data = fh.read()
    ours = upload_check.verify_upload(db.session, data, everything=True)  # the operator sees all
    offline = credentials.verify_pdf(data, verification.jwks(), trust_roots=trust_roots())
    click.echo(_("Issued by this service: yes — %(reason)s", reason=ours.reason) if ours.genuine
               else _("Issued by this service: no — %(reason)s", reason=ours.reason))
    offline_reason = pick((offline.reason_zh or offline.reason, offline.reason))
    click.echo(_("Signature (offline): valid — %(reason)s", reason=offline_reason) if offline.genuine
               else _("Signature (offline): invalid — %(reason)s", reason=offline_reason))
    if ours.status:
        click.echo(_("Status: %(status)s  serial: %(serial)s", status=ours.status, serial=ours.serial))
    sys.exit(0 if ours.genuine and offline.genuine else 1)


@command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
def backup(target):
    """Back up the database: a consistent SQLite copy, or pg_dump's custom format for PostgreSQL."""
    from app.services.audit_checkpoints import published
    from app.services.backup import backup_database, backup_evidence, checkpoints_beside, evidence_beside

    try:
        size = backup_database(db.engine, target, published())
        evidence = backup_evidence(current_app.config["EVIDENCE_DIR"], target)
    except (RuntimeError, OSError) as error:
        click.secho(_("Error: %(message)s", message=str(error)), fg="red", err=True)
        sys.exit(1)
    size_text = f"{size:,}"
    click.secho(_("Backed up to %(target)s (%(size)s bytes)", target=target, size=size_text), fg="green")
    click.echo(_("Audit checkpoints copied to %(path)s", path=str(checkpoints_beside(target))))
    click.echo(_("Evidence files: %(num)s new copied to %(path)s", num=evidence, path=str(evidence_beside(target))))
