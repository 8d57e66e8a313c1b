"""The office's requirements report read from the students' standings (#17): each standing keeps
what the report lists — the hours counted under the cohort's current rules, the hours required,
how many the student is short by (met was kept already).

The columns are added empty (NULL): the rules' arithmetic is Python, not SQL. An empty row is
no error: the report computes and writes the standings of the students it lists that have none
kept yet (so the first view of a cohort after this upgrade is slow, the next ones are not), and
`flask scorecards rebuild` fills every row at once — what an upgrading school runs after
`flask db upgrade`.

Revision ID: c18d4e5f6a7b
Revises: c18c3d4e5f60
"""
import sqlalchemy as sa
from alembic import op

revision = 'c18d4e5f6a7b'
down_revision = 'c18c3d4e5f60'
branch_labels = None
depends_on = None

COLUMNS = ('counted', 'required', 'short_by')


def upgrade():
    with op.batch_alter_table('student_standing', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=10, scale=1), nullable=True))


def downgrade():
    with op.batch_alter_table('student_standing', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
