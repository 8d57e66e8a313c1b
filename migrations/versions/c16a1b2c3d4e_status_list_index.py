"""Every transcript's position in the Bitstring Status Lists (the credential's revocation bit).
Existing transcripts get 0, 1, 2, … in the order they were issued; new ones a random free position
(services/transcripts).

Revision ID: c16a1b2c3d4e
Revises: f6a7b8c9d0e1
"""
import sqlalchemy as sa
from alembic import op

revision = 'c16a1b2c3d4e'
down_revision = 'f6a7b8c9d0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_list_index', sa.Integer(), nullable=True))
    connection = op.get_bind()
    transcript = sa.table('transcript', sa.column('id', sa.Integer()), sa.column('status_list_index', sa.Integer()))
    ids = connection.execute(sa.select(transcript.c.id).order_by(transcript.c.id)).scalars().all()
    for index, row_id in enumerate(ids):
        connection.execute(transcript.update().where(transcript.c.id == row_id).values(status_list_index=index))
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.alter_column('status_list_index', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_transcript_status_list_index'), ['status_list_index'])


def downgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_transcript_status_list_index'), type_='unique')
        batch_op.drop_column('status_list_index')
