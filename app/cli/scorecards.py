"""`flask scorecards rebuild [--term T]`: the per-term tallies made again from the records (after
restoring a backup, loading rows by hand, or to check them), one transaction."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from app.cli import Commands, fail
from app.extensions import db
from app.services.errors import DomainError

scorecards_cli = Commands("scorecards", help="The scorecards' and the dashboard's per-term tallies.")


@scorecards_cli.command("rebuild")
@click.option("--term", default=None, help="Only this term, e.g. 2025-2026-1 (default: every term)")
def rebuild(term):
    """Recompute every tally (of TERM) from the participation records, claims and rosters."""
    from app.services import tallies
    from app.services.scorecard import parse_term

    try:
        term = parse_term(term) if term else None
        counts = tallies.rebuild(db.session, term)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(error)
    click.echo(_("Tallies rebuilt (%(term)s): %(activities)d activities, %(club_terms)d club-terms, "
                 "%(student_terms)d student-terms, %(student_modules)d student-modules",
                 term=term or _("every term"), **counts))
