"""The student's year: sign-ups with a waiting line and a deadline, achievement claims with
their evidence files, appeals, notifications, the claims a transcript carries, and a record
that came from an upheld appeal.

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5f6a7b8c9d0'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None

OLD_SOURCES = "source IN ('list', 'import', 'check_in', 'late_entry')"
SOURCES = "source IN ('list', 'import', 'check_in', 'late_entry', 'appeal')"


def upgrade():
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('award', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("level IN ('national', 'provincial', 'school', 'college', 'club')", name=op.f('ck_claim_level_known')),
    sa.CheckConstraint("module IN ('ideology', 'practice', 'volunteering', 'innovation', 'culture_sports', 'leadership', 'skills')", name=op.f('ck_claim_module_known')),
    sa.CheckConstraint("status <> 'certified' OR reviewed_by_id IS NOT NULL", name=op.f('ck_claim_certified_has_reviewer')),
    sa.CheckConstraint("status IN ('submitted', 'certified', 'rejected', 'revoked')", name=op.f('ck_claim_status_known')),
    sa.CheckConstraint('hours > 0 AND hours <= 200', name=op.f('ck_claim_hours_in_range')),
    sa.CheckConstraint('reviewed_by_id IS NULL OR reviewed_by_id <> student_id', name=op.f('ck_claim_not_self_reviewed')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_claim_reviewed_by_id_user_account')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_claim_revoked_by_id_user_account')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_claim_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_status', ['status'], unique=False)
        batch_op.create_index('ix_claim_student_status', ['student_id', 'status'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('claim_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("media_type IN ('application/pdf', 'image/jpeg', 'image/png')", name=op.f('ck_claim_file_type_known')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_file_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_file'))
    )
    with op.batch_alter_table('claim_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_file_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_file_sha256'), ['sha256'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled')", name=op.f('ck_registration_status_known')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_registration_activity_id_activity')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_registration_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_activity_status', ['activity_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_student_id'), ['student_id'], unique=False)
        batch_op.create_index('uq_registration_live', ['activity_id', 'student_id'], unique=True, sqlite_where=sa.text("status IN ('registered', 'waitlisted')"), postgresql_where=sa.text("status IN ('registered', 'waitlisted')"))

    op.create_table('transcript_claim',
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_transcript_claim_claim_id_claim')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], name=op.f('fk_transcript_claim_transcript_id_transcript')),
    sa.PrimaryKeyConstraint('transcript_id', 'claim_id', name=op.f('pk_transcript_claim'))
    )
    with op.batch_alter_table('transcript_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_claim_claim_id'), ['claim_id'], unique=False)

    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('result_participation_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name=op.f('ck_appeal_status_known')),
    sa.CheckConstraint('(CASE WHEN participation_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN activity_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_appeal_one_subject')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_appeal_activity_id_activity')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_appeal_claim_id_claim')),
    sa.ForeignKeyConstraint(['participation_id'], ['participation.id'], name=op.f('fk_appeal_participation_id_participation')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_appeal_resolved_by_id_user_account')),
    sa.ForeignKeyConstraint(['result_participation_id'], ['participation.id'], name=op.f('fk_appeal_result_participation_id_participation')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_appeal_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_participation_id'), ['participation_id'], unique=False)
        batch_op.create_index('ix_appeal_status', ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_student_id'), ['student_id'], unique=False)

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_deadline', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_activity_status_starts', ['status', 'starts_at'], unique=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_activity_deadline_before_start'),
            "registration_deadline IS NULL OR registration_deadline <= starts_at",
        )

    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_participation_source_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_participation_source_known'), SOURCES)


def downgrade():
    op.execute("UPDATE participation SET source = 'list' WHERE source = 'appeal'")
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_participation_source_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_participation_source_known'), OLD_SOURCES)

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_activity_deadline_before_start'), type_='check')
        batch_op.drop_index('ix_activity_status_starts')
        batch_op.drop_column('registration_deadline')

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_student_id'))
        batch_op.drop_index('ix_appeal_status')
        batch_op.drop_index(batch_op.f('ix_appeal_participation_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_claim_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_activity_id'))

    op.drop_table('appeal')
    with op.batch_alter_table('transcript_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_claim_claim_id'))

    op.drop_table('transcript_claim')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_live', sqlite_where=sa.text("status IN ('registered', 'waitlisted')"), postgresql_where=sa.text("status IN ('registered', 'waitlisted')"))
        batch_op.drop_index(batch_op.f('ix_registration_student_id'))
        batch_op.drop_index('ix_registration_activity_status')

    op.drop_table('registration')
    with op.batch_alter_table('claim_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_file_sha256'))
        batch_op.drop_index(batch_op.f('ix_claim_file_claim_id'))

    op.drop_table('claim_file')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')

    op.drop_table('notification')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_student_status')
        batch_op.drop_index('ix_claim_status')

    op.drop_table('claim')
