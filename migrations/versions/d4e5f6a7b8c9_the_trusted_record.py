"""The trusted record: where a record came from, hours above the activity's with a reason,
the reason a plan was sent back, transcripts that know their records (and become amended),
and indexes for reading the audit log.

Transcripts issued before this revision are linked to the records that were certified at
their moment of issue (certified then, and not revoked before it), which is what they carry.

Revision ID: d4e5f6a7b8c9
Revises: c3d9f0a1b2e4
"""

import sqlalchemy as sa
from alembic import op

revision = 'd4e5f6a7b8c9'
down_revision = 'c3d9f0a1b2e4'
branch_labels = None
depends_on = None

SOURCES = "source IN ('list', 'import', 'check_in', 'late_entry')"
WITH_AMENDED = "status IN ('valid', 'superseded', 'amended', 'revoked')"
WITHOUT_AMENDED = "status IN ('valid', 'superseded', 'revoked')"


def upgrade():
    op.create_table(
        'transcript_record',
        sa.Column('transcript_id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['participation_id'], ['participation.id'],
                                name=op.f('fk_transcript_record_participation_id_participation')),
        sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'],
                                name=op.f('fk_transcript_record_transcript_id_transcript')),
        sa.PrimaryKeyConstraint('transcript_id', 'participation_id', name=op.f('pk_transcript_record')),
    )
    with op.batch_alter_table('transcript_record') as batch:
        batch.create_index(batch.f('ix_transcript_record_participation_id'), ['participation_id'])

    with op.batch_alter_table('activity') as batch:
        batch.add_column(sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('returned_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('return_reason', sa.Text(), nullable=True))
        batch.create_foreign_key(batch.f('fk_activity_returned_by_id_user_account'), 'user_account',
                                 ['returned_by_id'], ['id'])

    with op.batch_alter_table('audit_event') as batch:
        batch.create_index('ix_audit_event_action', ['action'])
        batch.create_index('ix_audit_event_at', ['at'])
        batch.create_index('ix_audit_event_object', ['object_type', 'object_id'])

    with op.batch_alter_table('participation') as batch:
        batch.add_column(sa.Column('hours_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=12), nullable=False, server_default='list'))
        batch.add_column(sa.Column('late_entry_reason', sa.Text(), nullable=True))
        batch.create_check_constraint(batch.f('ck_participation_source_known'), SOURCES)
        batch.create_check_constraint(
            batch.f('ck_participation_late_entry_has_reason'),
            "source <> 'late_entry' OR late_entry_reason IS NOT NULL",
        )
    # What came from a scan says so (checked_in_at was only ever set by check-in).
    op.execute("UPDATE participation SET source = 'check_in' WHERE checked_in_at IS NOT NULL")

    with op.batch_alter_table('transcript') as batch:
        batch.add_column(sa.Column('amended_at', sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(batch.f('ck_transcript_status_known'), type_='check')
        batch.create_check_constraint(batch.f('ck_transcript_status_known'), WITH_AMENDED)

    op.execute(
        "INSERT INTO transcript_record (transcript_id, participation_id) "
        "SELECT t.id, p.id FROM transcript t JOIN participation p ON p.student_id = t.student_id "
        "WHERE p.certified_at IS NOT NULL AND p.certified_at <= t.issued_at "
        "AND (p.revoked_at IS NULL OR p.revoked_at > t.issued_at)"
    )


def downgrade():
    # An amended transcript was valid or superseded before the withdrawal that amended it.
    op.execute("UPDATE transcript SET status = CASE WHEN superseded_at IS NULL THEN 'valid' "
               "ELSE 'superseded' END WHERE status = 'amended'")
    with op.batch_alter_table('transcript') as batch:
        batch.drop_constraint(batch.f('ck_transcript_status_known'), type_='check')
        batch.create_check_constraint(batch.f('ck_transcript_status_known'), WITHOUT_AMENDED)
        batch.drop_column('amended_at')

    with op.batch_alter_table('participation') as batch:
        batch.drop_constraint(batch.f('ck_participation_late_entry_has_reason'), type_='check')
        batch.drop_constraint(batch.f('ck_participation_source_known'), type_='check')
        batch.drop_column('late_entry_reason')
        batch.drop_column('source')
        batch.drop_column('hours_reason')

    with op.batch_alter_table('audit_event') as batch:
        batch.drop_index('ix_audit_event_object')
        batch.drop_index('ix_audit_event_at')
        batch.drop_index('ix_audit_event_action')

    with op.batch_alter_table('activity') as batch:
        batch.drop_constraint(batch.f('fk_activity_returned_by_id_user_account'), type_='foreignkey')
        batch.drop_column('return_reason')
        batch.drop_column('returned_by_id')
        batch.drop_column('returned_at')

    with op.batch_alter_table('transcript_record') as batch:
        batch.drop_index(batch.f('ix_transcript_record_participation_id'))
    op.drop_table('transcript_record')
