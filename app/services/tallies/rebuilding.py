"""Every tally made again from the records, set-based (`flask scorecards rebuild`, the big
school's seed): a few grouped INSERT … SELECT statements, not a recomputation per key."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Activity,
    ActivityTally,
    Claim,
    ClaimStatus,
    Club,
    ClubTermTally,
    Participation,
    ParticipationStatus,
    StudentModuleTally,
    StudentTermTally,
)
from app.services.tallies import standing
from app.services.tallies.recompute import ACTIVITY_COLUMNS, activity_sums, claim_term_sql, club_term_rows


def rebuild(session: Session, term: str | None = None) -> dict[str, int]:
    """The tallies of `term` (None: every term) from the records; how many rows each has now."""
    session.flush()
    in_term = select(Activity.id).where(Activity.term == term) if term else select(Activity.id)
    session.execute(delete(ActivityTally).where(ActivityTally.activity_id.in_(in_term)))
    session.execute(insert(ActivityTally).from_select(
        list(ACTIVITY_COLUMNS), activity_sums(Participation.activity_id.in_(in_term))))

    session.execute(delete(ClubTermTally).where(ClubTermTally.term == term) if term else delete(ClubTermTally))
    clubs = set(session.execute(select(Club.id)).scalars())
    rows = [{"club_id": c, "term": t, **values} for (c, t), values in sorted(club_term_rows(session, None).items())
            if c in clubs and (term is None or t == term)]
    if rows:
        session.execute(insert(ClubTermTally), rows)

    for model in (StudentModuleTally, StudentTermTally):
        session.execute(delete(model).where(model.term == term) if term else delete(model))
    claim_term = claim_term_sql()
    records = (select(Participation.student_id.label("student_id"), Activity.term.label("term"),
                      Activity.module.label("module"), Participation.hours.label("hours"))
               .join(Activity, Activity.id == Participation.activity_id)
               .where(Participation.status == ParticipationStatus.CERTIFIED))
    claims = select(Claim.student_id, claim_term, Claim.module, Claim.hours).where(
        Claim.status == ClaimStatus.CERTIFIED)
    if term:
        records = records.where(Activity.term == term)
        claims = claims.where(claim_term == term)
    entries = union_all(records, claims).subquery("entries")
    session.execute(insert(StudentModuleTally).from_select(
        ["student_id", "term", "module", "hours"],
        select(entries.c.student_id, entries.c.term, entries.c.module, func.sum(entries.c.hours))
        .group_by(entries.c.student_id, entries.c.term, entries.c.module)))
    modules = select(StudentModuleTally.student_id, StudentModuleTally.term, func.sum(StudentModuleTally.hours))
    if term:
        modules = modules.where(StudentModuleTally.term == term)
    session.execute(insert(StudentTermTally).from_select(
        ["student_id", "term", "hours"],
        modules.group_by(StudentModuleTally.student_id, StudentModuleTally.term)))
    standing.standings(session, None)  # every student: the rules read all terms
    session.flush()
    count = {}
    for name, model in (("activities", ActivityTally), ("club_terms", ClubTermTally),
                        ("student_terms", StudentTermTally), ("student_modules", StudentModuleTally)):
        query = select(func.count()).select_from(model)
        if term and model is ActivityTally:
            query = query.where(ActivityTally.activity_id.in_(in_term))
        elif term:
            query = query.where(model.term == term)
        count[name] = session.execute(query).scalar_one()
    return count
