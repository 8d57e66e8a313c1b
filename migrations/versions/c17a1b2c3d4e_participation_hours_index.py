"""The certified hours of a student, read from an index alone: progress and the requirements
report (#15) sum a student's records by the activity's module and year.

Revision ID: c17a1b2c3d4e
Revises: c16b2c3d4e5f
"""
from alembic import op

revision = 'c17a1b2c3d4e'
down_revision = 'c16b2c3d4e5f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.create_index('ix_participation_student_hours', ['student_id', 'status', 'activity_id', 'hours'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_student_hours')
