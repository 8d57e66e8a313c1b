"""The graduation batch on the job queue (#17): one row per batch and one per student in it.

A batch (its scope, status and counts), its chunks (what a worker claims, with a heartbeat so a
dead worker's chunk is claimed again) and its items (one per student: pending, issued with the
transcript, skipped, failed with the error).

Revision ID: c18b2c3d4e5f
Revises: c18a1b2c3d4e
"""
import sqlalchemy as sa
from alembic import op

revision = 'c18b2c3d4e5f'
down_revision = 'c18a1b2c3d4e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('graduation_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=12), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('cohort', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('chunk_size', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('recheck_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IN ('unit', 'class', 'cohort')", name=op.f('ck_graduation_batch_scope_known')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'cancelled', 'failed')",
                       name=op.f('ck_graduation_batch_status_known')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['user_account.id'],
                            name=op.f('fk_graduation_batch_cancelled_by_id_user_account')),
    sa.ForeignKeyConstraint(['class_id'], ['school_class.id'], name=op.f('fk_graduation_batch_class_id_school_class')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_graduation_batch_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_graduation_batch_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graduation_batch'))
    )
    with op.batch_alter_table('graduation_batch', schema=None) as batch_op:
        batch_op.create_index('ix_graduation_batch_status', ['status'], unique=False)

    op.create_table('graduation_batch_chunk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claims', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'done')", name=op.f('ck_graduation_batch_chunk_status_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['graduation_batch.id'],
                            name=op.f('fk_graduation_batch_chunk_batch_id_graduation_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graduation_batch_chunk')),
    sa.UniqueConstraint('batch_id', 'number', name='chunk_number_in_batch')
    )
    with op.batch_alter_table('graduation_batch_chunk', schema=None) as batch_op:
        batch_op.create_index('ix_graduation_batch_chunk_claimable', ['batch_id', 'status'], unique=False)

    op.create_table('graduation_batch_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('chunk', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'issued', 'failed', 'skipped')",
                       name=op.f('ck_graduation_batch_item_status_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['graduation_batch.id'],
                            name=op.f('fk_graduation_batch_item_batch_id_graduation_batch')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                            name=op.f('fk_graduation_batch_item_student_id_user_account')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'],
                            name=op.f('fk_graduation_batch_item_transcript_id_transcript')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graduation_batch_item')),
    sa.UniqueConstraint('batch_id', 'student_id', name='student_once_in_batch')
    )
    with op.batch_alter_table('graduation_batch_item', schema=None) as batch_op:
        batch_op.create_index('ix_graduation_batch_item_chunk', ['batch_id', 'chunk', 'status'], unique=False)
        batch_op.create_index('ix_graduation_batch_item_status', ['batch_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('graduation_batch_item', schema=None) as batch_op:
        batch_op.drop_index('ix_graduation_batch_item_status')
        batch_op.drop_index('ix_graduation_batch_item_chunk')
    op.drop_table('graduation_batch_item')
    with op.batch_alter_table('graduation_batch_chunk', schema=None) as batch_op:
        batch_op.drop_index('ix_graduation_batch_chunk_claimable')
    op.drop_table('graduation_batch_chunk')
    with op.batch_alter_table('graduation_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_graduation_batch_status')
    op.drop_table('graduation_batch')
