"""Credit rules and progress: the office's module list (what it renamed or added), each cohort's
versioned rule sets, and the yearly certification's grades. A record's module is checked against
the office's list by the services, so the fixed list of seven leaves the CHECK constraints.

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6a7b8c9d0e1'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None

NATIONAL = ("module IN ('ideology', 'practice', 'volunteering', 'innovation', 'culture_sports', "
            "'leadership', 'skills')")


def upgrade():
    op.create_table('credit_module',
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_credit_module'))
    )
    op.create_table('rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('total_min_hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('pass_hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('excellent_hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('years_required', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('pass_hours >= 0 AND excellent_hours >= pass_hours', name=op.f('ck_rule_set_annual_ordered')),
    sa.CheckConstraint('total_min_hours >= 0', name=op.f('ck_rule_set_total_not_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_rule_set_version_positive')),
    sa.CheckConstraint('years_required >= 0', name=op.f('ck_rule_set_years_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_rule_set_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_set')),
    sa.UniqueConstraint('cohort', 'version', name='uq_rule_set_cohort_version')
    )
    op.create_table('year_grade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('academic_year', sa.String(length=9), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('grade', sa.String(length=10), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('graded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('graded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("grade IN ('excellent', 'pass', 'fail')", name=op.f('ck_year_grade_grade_known')),
    sa.ForeignKeyConstraint(['graded_by_id'], ['user_account.id'], name=op.f('fk_year_grade_graded_by_id_user_account')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], name=op.f('fk_year_grade_rule_set_id_rule_set')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_year_grade_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_year_grade')),
    sa.UniqueConstraint('student_id', 'academic_year', name='uq_year_grade_student_year')
    )
    with op.batch_alter_table('year_grade', schema=None) as batch_op:
        batch_op.create_index('ix_year_grade_year', ['academic_year', 'grade'], unique=False)
        batch_op.create_index(batch_op.f('ix_year_grade_graded_by_id'), ['graded_by_id'], unique=False)

    for table in ('activity', 'claim'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_module_known'), type_='check')
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_module_given'), 'length(module) > 0')



def downgrade():
    for table in ('activity', 'claim'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_module_given'), type_='check')
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_module_known'), NATIONAL)
    with op.batch_alter_table('year_grade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_year_grade_graded_by_id'))
        batch_op.drop_index('ix_year_grade_year')

    op.drop_table('year_grade')
    op.drop_table('rule_set')
    op.drop_table('credit_module')
