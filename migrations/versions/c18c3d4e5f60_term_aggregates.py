"""Per-term aggregates of certified records (#17), kept as the records change, for the scorecards and the office's figures.

The four tally tables (app/models/tallies.py), filled here from the rows already there with the
same sums services/tallies computes (plain SQL, so this revision keeps working whatever the app
code becomes); `flask scorecards rebuild` makes them again at any time. The students' standings
under the credit rules (student_standing) need the rules' arithmetic, which is Python: run
`flask scorecards rebuild` once after this upgrade; until then the dashboard sums the hours and
runs the arithmetic for each student without a standing, as it did before.

Revision ID: c18c3d4e5f60
Revises: c18b2c3d4e5f
"""
import sqlalchemy as sa
from alembic import op

revision = 'c18c3d4e5f60'
down_revision = 'c18b2c3d4e5f'
branch_labels = None
depends_on = None

ACTIVITY_TALLY = """
INSERT INTO activity_tally (activity_id, records, rejected, certified_hours, volunteer_role_hours, awards,
                            first_signoff_at)
SELECT activity_id, count(id),
       count(CASE WHEN status IN ('rejected', 'revoked') THEN 1 END),
       coalesce(sum(CASE WHEN status = 'certified' THEN hours END), 0),
       coalesce(sum(CASE WHEN status = 'certified' AND role = 'volunteer' THEN hours END), 0),
       count(CASE WHEN status = 'certified' AND award IS NOT NULL AND award <> '' THEN 1 END),
       min(coalesce(certified_at, rejected_at))
FROM participation GROUP BY activity_id
"""

# A claim counts in the term its date falls in: autumn from September (with January), spring from February.
CLAIM_TERM = """
CAST(CASE WHEN {m} >= 9 THEN {y} ELSE {y} - 1 END AS VARCHAR) || '-' ||
CAST(CASE WHEN {m} >= 9 THEN {y} + 1 ELSE {y} END AS VARCHAR) || '-' ||
CASE WHEN {m} >= 9 OR {m} = 1 THEN '1' ELSE '2' END
"""
PARTS = {
    "sqlite": ("CAST(strftime('%Y', occurred_on) AS INTEGER)", "CAST(strftime('%m', occurred_on) AS INTEGER)"),
    "postgresql": ("CAST(EXTRACT(YEAR FROM occurred_on) AS INTEGER)",
                   "CAST(EXTRACT(MONTH FROM occurred_on) AS INTEGER)"),
}

STUDENT_MODULE_TALLY = """
INSERT INTO student_module_tally (student_id, term, module, hours)
SELECT student_id, term, module, sum(hours) FROM (
    SELECT p.student_id AS student_id, a.term AS term, a.module AS module, p.hours AS hours
    FROM participation p JOIN activity a ON a.id = p.activity_id WHERE p.status = 'certified'
    UNION ALL
    SELECT student_id, {claim_term}, module, hours FROM claim WHERE status = 'certified'
) AS entries GROUP BY student_id, term, module
"""

STUDENT_TERM_TALLY = """
INSERT INTO student_term_tally (student_id, term, hours)
SELECT student_id, term, sum(hours) FROM student_module_tally GROUP BY student_id, term
"""

# An election counts for the term whose dates it falls in: 1 is 1 September to 31 January, 2 is
# 1 February to 31 August (timeutil.term_bounds); ISO dates compare as text.
CLUB_TERM_TALLY = """
INSERT INTO club_term_tally (club_id, term, active, active_roster, roster, elections)
SELECT k.club_id, k.term, coalesce(a.active, 0), coalesce(a.on_roster, 0), coalesce(r.roster, 0),
       coalesce(r.elections, 0)
FROM (SELECT club_id, term FROM activity UNION SELECT club_id, term FROM membership) AS k
LEFT JOIN (
    SELECT t.club_id AS club_id, t.term AS term, count(*) AS active, count(m.id) AS on_roster
    FROM (SELECT DISTINCT a.club_id AS club_id, a.term AS term, p.student_id AS student_id
          FROM activity a JOIN participation p ON p.activity_id = a.id
          WHERE a.status <> 'cancelled' AND p.status IN ('recorded', 'certified')) AS t
    LEFT JOIN membership m ON m.club_id = t.club_id AND m.term = t.term AND m.user_id = t.student_id
    GROUP BY t.club_id, t.term
) AS a ON a.club_id = k.club_id AND a.term = k.term
LEFT JOIN (
    SELECT club_id, term, count(*) AS roster,
           sum(CASE WHEN elected_on IS NOT NULL AND CAST(elected_on AS VARCHAR) BETWEEN
                    (CASE WHEN substr(term, 11, 1) = '1' THEN substr(term, 1, 4) || '-09-01'
                          ELSE substr(term, 6, 4) || '-02-01' END)
                    AND (CASE WHEN substr(term, 11, 1) = '1' THEN substr(term, 6, 4) || '-01-31'
                              ELSE substr(term, 6, 4) || '-08-31' END)
               THEN 1 ELSE 0 END) AS elections
    FROM membership GROUP BY club_id, term
) AS r ON r.club_id = k.club_id AND r.term = k.term
"""


def upgrade():
    op.create_table('activity_tally',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('certified_hours', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('volunteer_role_hours', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('awards', sa.Integer(), nullable=False),
    sa.Column('first_signoff_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_tally_activity_id_activity'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_activity_tally'))
    )
    op.create_table('club_term_tally',
    sa.Column('club_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=11), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('active_roster', sa.Integer(), nullable=False),
    sa.Column('roster', sa.Integer(), nullable=False),
    sa.Column('elections', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['club_id'], ['club.id'], name=op.f('fk_club_term_tally_club_id_club'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('club_id', 'term', name=op.f('pk_club_term_tally'))
    )
    with op.batch_alter_table('club_term_tally', schema=None) as batch_op:
        batch_op.create_index('ix_club_term_tally_term', ['term'], unique=False)
    op.create_table('student_term_tally',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=11), nullable=False),
    sa.Column('hours', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                            name=op.f('fk_student_term_tally_student_id_user_account')),
    sa.PrimaryKeyConstraint('student_id', 'term', name=op.f('pk_student_term_tally'))
    )
    with op.batch_alter_table('student_term_tally', schema=None) as batch_op:
        batch_op.create_index('ix_student_term_tally_term', ['term', 'student_id', 'hours'], unique=False)
    op.create_table('student_module_tally',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=11), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('hours', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                            name=op.f('fk_student_module_tally_student_id_user_account')),
    sa.PrimaryKeyConstraint('student_id', 'term', 'module', name=op.f('pk_student_module_tally'))
    )
    with op.batch_alter_table('student_module_tally', schema=None) as batch_op:
        batch_op.create_index('ix_student_module_tally_term', ['term', 'module', 'student_id'], unique=False)

    op.create_table('student_standing',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                            name=op.f('fk_student_standing_student_id_user_account')),
    sa.PrimaryKeyConstraint('student_id', name=op.f('pk_student_standing'))
    )

    bind = op.get_bind()
    year, month = PARTS[bind.dialect.name]
    claim_term = CLAIM_TERM.format(y=year, m=month)
    for statement in (ACTIVITY_TALLY, STUDENT_MODULE_TALLY.format(claim_term=claim_term), STUDENT_TERM_TALLY,
                      CLUB_TERM_TALLY):
        op.execute(sa.text(statement))


def downgrade():
    op.drop_table('student_standing')
    with op.batch_alter_table('student_module_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_student_module_tally_term')
    op.drop_table('student_module_tally')
    with op.batch_alter_table('student_term_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_student_term_tally_term')
    op.drop_table('student_term_tally')
    with op.batch_alter_table('club_term_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_club_term_tally_term')
    op.drop_table('club_term_tally')
    op.drop_table('activity_tally')
