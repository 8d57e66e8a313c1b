"""Indexes for a school of 30,000 students (#17): the sign-off queue (the records still
waiting, per activity) and open check-ins / activities to complete (by status and end).

Revision ID: c18a1b2c3d4e
Revises: c17a1b2c3d4e
"""
import sqlalchemy as sa
from alembic import op

revision = 'c18a1b2c3d4e'
down_revision = 'c17a1b2c3d4e'
branch_labels = None
depends_on = None

RECORDED = sa.text("status = 'recorded'")


def upgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_status_ends', ['status', 'ends_at'], unique=False)
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.create_index('ix_participation_recorded_activity', ['activity_id'], unique=False,
                              sqlite_where=RECORDED, postgresql_where=RECORDED)


def downgrade():
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_recorded_activity')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_status_ends')
