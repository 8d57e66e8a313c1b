"""Who may do what: every rule of PRODUCT.md in one place, named like the brief.

Each predicate takes the acting user and the object. The command line acts as the system
actor (services.system.system_actor, role `system`); None still means the command line for
the services that have not moved to it yet. Services call these; views never decide
permissions themselves.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, select

from app.models import STUDENT_ROLES, Activity, Club, ClubStatus, Participation, Role, User, club_advisor


def _system(actor: User | None) -> bool:
    """The trusted command line: the system actor, or None (the services not yet moved to it)."""
    return actor is None or actor.role == Role.SYSTEM


def is_admin(actor: User | None) -> bool:
    return _system(actor) or actor.role == Role.ADMIN


def advises(actor: User | None, club: Club) -> bool:
    return actor is not None and actor.role == Role.ORGANIZER and actor in club.advisors


def leads(actor: User | None, club: Club) -> bool:
    return actor is not None and actor.role == Role.LEADER and actor in club.leaders


def oversees(actor: User | None, club: Club) -> bool:
    """An organizer's right over a club: they advise it, or it is of the college they oversee (院团委)."""
    if advises(actor, club):
        return True
    return (
        actor is not None and actor.role == Role.ORGANIZER
        and actor.scope_unit_id is not None and actor.scope_unit_id == club.unit_id
    )


def can_appoint_leaders(actor: User | None, club: Club) -> bool:
    """Appoint the club's leaders for a term (换届): the admin, or an organizer advising the club."""
    return is_admin(actor) or advises(actor, club)


def can_view_roster(actor: User | None, club: Club) -> bool:
    return is_admin(actor) or oversees(actor, club) or leads(actor, club)


def can_keep_roster(actor: User | None, club: Club) -> bool:
    """Add, change and remove members: the admin, the club's leaders and its advisors."""
    return is_admin(actor) or advises(actor, club) or leads(actor, club)


def can_manage_people(actor: User | None) -> bool:
    """Units, clubs, people and roles are the Youth League office's (admin)."""
    return is_admin(actor)


def club_runs_activities(club: Club) -> bool:
    """Only an active club with at least one advisor plans, runs, records or certifies
    (PRODUCT.md "The record"): a suspended or dissolved club, or one without an advisor to
    answer for it, is read-only. Services refuse with `services.lifecycle.require_running_club`;
    the lifecycle table asks this too, so no page offers a button the service would refuse."""
    return club.status == ClubStatus.ACTIVE and bool(club.advisors)


def running_club_ids() -> Select:
    """`club_runs_activities` as SQL, for a list paged in the database: a filter applied after
    the query would leave a page short of rows."""
    return select(Club.id).where(
        Club.status == ClubStatus.ACTIVE,
        exists().where(club_advisor.c.club_id == Club.id),
    )


def can_plan_activity(actor: User | None, club: Club) -> bool:
    """Create, edit, submit and complete activities: a leader of that club."""
    return _system(actor) or leads(actor, club)


def can_run_activity(actor: User | None, activity: Activity) -> bool:
    """Edit, submit and complete an activity: a leader of its club."""
    return can_plan_activity(actor, activity.club)


def can_approve_activity(actor: User | None, activity: Activity) -> bool:
    return is_admin(actor) or oversees(actor, activity.club)


def can_cancel_activity(actor: User | None, activity: Activity) -> bool:
    return can_plan_activity(actor, activity.club) or can_approve_activity(actor, activity)


def can_record_participation(actor: User | None, activity: Activity) -> bool:
    return can_plan_activity(actor, activity.club)


def can_view_participations(actor: User | None, activity: Activity) -> bool:
    club = activity.club
    return is_admin(actor) or oversees(actor, club) or leads(actor, club)


def can_certify(actor: User | None, activity: Activity) -> bool:
    """Sign-off: an organizer advising or overseeing the club, or admin; a leader never signs off."""
    if actor is not None and leads(actor, activity.club):
        return False
    return is_admin(actor) or oversees(actor, activity.club)


def is_participant(actor: User | None, participation: Participation) -> bool:
    """Separation of duties: nobody signs off a record in which they are the participant."""
    return actor is not None and participation.student_id == actor.id


def can_view_student_records(actor: User | None, student: User, *, in_scope: bool = False) -> bool:
    """The student themself, the admin, or an organizer for whom the student is in scope.

    `in_scope` is the caller's finding (services.scope.student_in_scope): the student is of
    the college the organizer oversees, or on the roster of (or took part in an activity of)
    a club they advise or oversee.
    """
    if is_admin(actor):
        return True
    if actor.role == Role.ORGANIZER:
        return in_scope
    return actor.role in STUDENT_ROLES and actor.id == student.id


def can_register(actor: User | None) -> bool:
    """Signing up is a student's own act; leaders are students too."""
    return actor is not None and actor.role in STUDENT_ROLES


def can_check_in(actor: User | None) -> bool:
    return actor is not None and actor.role in STUDENT_ROLES


def can_issue_transcript(actor: User | None, student: User) -> bool:
    """Issue and download: the student themself, or admin."""
    if is_admin(actor):
        return True
    return actor.role in STUDENT_ROLES and actor.id == student.id


def can_export_student_data(actor: User | None, student: User) -> bool:
    """My data (PIPL): all of a student's data as one archive — the student themself, or the admin.

    Narrower than the records: an organizer in scope sees the records, never the whole archive
    (evidence files, notifications, every transcript)."""
    if is_admin(actor):
        return True
    return actor.role in STUDENT_ROLES and actor.id == student.id


def can_revoke_transcript(actor: User | None) -> bool:
    return is_admin(actor)


def can_decide_who_looks(actor: User | None, student: User) -> bool:
    """The public check's validity and the share links: the holder alone (API.md: "the student").

    Not the admin: the choice of who may see a student's record outside the school is theirs;
    the admin still sees every transcript on the office's own pages."""
    return actor is not None and actor.role in STUDENT_ROLES and actor.id == student.id


def can_view_scorecard(actor: User | None, club: Club) -> bool:
    """Admin: every club; an organizer: clubs they advise or oversee; a leader: clubs they lead."""
    return is_admin(actor) or oversees(actor, club) or leads(actor, club)


def can_view_overview(actor: User | None) -> bool:
    """The school-wide ranking is the Youth League office's."""
    return is_admin(actor)


def can_show_check_in_code(actor: User | None, activity: Activity) -> bool:
    """The venue's check-in screen: a leader of the club (who runs it on site), or the admin."""
    return is_admin(actor) or leads(actor, activity.club)


def can_set_rules(actor: User | None) -> bool:
    """The credit rules and the module list are the Youth League office's (PRODUCT.md)."""
    return is_admin(actor)


def can_view_requirements(actor: User | None) -> bool:
    """The requirements report: the admin (the whole school) and organizers (their scope)."""
    return is_admin(actor) or actor.role == Role.ORGANIZER


def can_view_dashboard(actor: User | None) -> bool:
    """The school dashboard's figures cover every college and cohort: the Youth League office's."""
    return is_admin(actor)


def can_run_year_end(actor: User | None) -> bool:
    """The yearly certification (学年认定) is the office's."""
    return is_admin(actor)


def can_run_batches(actor: User | None) -> bool:
    """Start, watch, cancel and download a graduation batch: the Youth League office (admin) and the command line."""
    return is_admin(actor)
