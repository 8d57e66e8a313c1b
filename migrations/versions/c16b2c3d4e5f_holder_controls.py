"""The holder decides who may look: the public check's switch and validity on each transcript
(existing ones open until 180 days after their issue, the default), and the share links a
student gives one recipient (the token's SHA-256 only).

Revision ID: c16b2c3d4e5f
Revises: c16a1b2c3d4e
"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = 'c16b2c3d4e5f'
down_revision = 'c16a1b2c3d4e'
branch_labels = None
depends_on = None

# services/holder.DEFAULT_VALIDITY at the time of writing; a migration keeps its own copy.
DEFAULT_DAYS = 180


def upgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('public_until', sa.Date(), nullable=True))
    # The school's calendar day of issue + 180: computed in Python so both databases agree
    # (issued_at is UTC; the school's zone is the app's setting, Asia/Shanghai by default).
    try:
        from flask import current_app
        zone = ZoneInfo(current_app.config["TIMEZONE"])
    except Exception:  # noqa: BLE001 — run outside the app: the default school zone
        zone = ZoneInfo("Asia/Shanghai")
    connection = op.get_bind()
    transcript = sa.table('transcript', sa.column('id', sa.Integer()), sa.column('issued_at', sa.DateTime(timezone=True)),
                          sa.column('public_until', sa.Date()))
    for row_id, issued_at in connection.execute(sa.select(transcript.c.id, transcript.c.issued_at)).all():
        if isinstance(issued_at, str):  # SQLite hands back the stored text
            issued_at = datetime.fromisoformat(issued_at)
        if issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=UTC)
        until = issued_at.astimezone(zone).date() + timedelta(days=DEFAULT_DAYS)
        connection.execute(transcript.update().where(transcript.c.id == row_id).values(public_until=until))
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.alter_column('public_until', existing_type=sa.Date(), nullable=False)

    op.create_table('transcript_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_transcript_share_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], name=op.f('fk_transcript_share_transcript_id_transcript')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_share')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_transcript_share_token_sha256'))
    )
    with op.batch_alter_table('transcript_share', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_share_transcript_id'), ['transcript_id'], unique=False)


def downgrade():
    with op.batch_alter_table('transcript_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_share_transcript_id'))
    op.drop_table('transcript_share')
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_column('public_until')
        batch_op.drop_column('public')
