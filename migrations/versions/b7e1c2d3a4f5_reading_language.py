"""The language each account reads the site in.

Revision ID: b7e1c2d3a4f5
Revises: acec0404640a
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7e1c2d3a4f5'
down_revision = 'acec0404640a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('locale')
