"""The command line's own account: the role 'system'.

What a command did (a certification, a plan) is stamped with the system account, never
with a person's; app/services/system.py creates that account on first use.

Revision ID: c3d9f0a1b2e4
Revises: b7e1c2d3a4f5
"""

from alembic import op

revision = 'c3d9f0a1b2e4'
down_revision = 'b7e1c2d3a4f5'
branch_labels = None
depends_on = None

WITH_SYSTEM = "role IN ('admin', 'organizer', 'leader', 'student', 'system')"
PEOPLE_ONLY = "role IN ('admin', 'organizer', 'leader', 'student')"


def _role_known(condition):
    with op.batch_alter_table('user_account') as batch:
        batch.drop_constraint(batch.f('ck_user_account_role_known'), type_='check')
        batch.create_check_constraint(batch.f('ck_user_account_role_known'), condition)


def upgrade():
    _role_known(WITH_SYSTEM)


def downgrade():
    # Refused (the constraint fails) while the system account exists: what the command line
    # did is stamped with it, and those stamps are not thrown away by a downgrade.
    _role_known(PEOPLE_ONLY)
