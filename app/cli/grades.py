"""`flask grades run YEAR`: the yearly certification (学年认定), the page's one path."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from app.cli import Commands, fail
from app.extensions import db
from app.models.rules import Grade
from app.services.errors import DomainError
from app.services.system import system_actor

grades_cli = Commands("grades", help="The yearly certification of the credit rules.")


@grades_cli.command("run")
@click.argument("academic_year")
@click.option("--cohort", type=int, default=None, help="Only this cohort, e.g. 2023")
def grades_run(academic_year, cohort):
    """Grade every student's certified hours of ACADEMIC_YEAR (e.g. 2025-2026) under their cohort's rules."""
    from app.services import year_end

    try:
        result = year_end.run_year_end(db.session, system_actor(db.session), academic_year, cohort)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(error)
    click.echo(_("%(year)s: %(graded)d students graded, %(changed)d grades written",
                 year=result.academic_year, graded=result.graded, changed=result.changed))
    for grade in Grade:
        click.echo(f"  {grade.label:<6} {result.counts.get(grade.value, 0)}")
    if result.without_rules:
        click.echo(_("%(n)d students of cohorts without credit rules were not graded", n=result.without_rules))
