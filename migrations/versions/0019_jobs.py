"""Background jobs (issue 19): the jobs table (status, progress, heartbeat, an export's
file), and uploads that wait for their check or were cancelled.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 03:00:27.843924

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

UPLOAD_STATUSES = ('previewed', 'committed', 'rejected')


def _upload_status(*statuses):
    return sa.Enum(*statuses, name='upload_status', native_enum=False, create_constraint=True,
                   length=30)


def upgrade():
    op.create_table('jobs',
    sa.Column('kind', sa.Enum('preview', 'commit', 'season_pack', 'season_data', name='job_kind', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', 'cancelled', name='job_status', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('upload_id', sa.Uuid(), nullable=True),
    sa.Column('season_id', sa.Uuid(), nullable=True),
    sa.Column('data_version', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_checked', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('rows_expected', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=120), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'running' OR started_at IS NOT NULL", name=op.f('ck_jobs_running_has_start')),
    sa.CheckConstraint("status NOT IN ('succeeded', 'failed', 'cancelled') OR finished_at IS NOT NULL", name=op.f('ck_jobs_finished_has_time')),
    sa.CheckConstraint('rows_read >= 0 AND rows_checked >= 0 AND rows_written >= 0', name=op.f('ck_jobs_progress_non_negative')),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_jobs_season_id_seasons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_jobs_upload_id_uploads'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_export', ['season_id', 'kind', 'data_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
        batch_op.create_index('ix_jobs_upload_id_created_at', ['upload_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)

    # An upload's status is checked against the list: it gains pending and cancelled.
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_upload_status(*UPLOAD_STATUSES),
                              type_=_upload_status('pending', *UPLOAD_STATUSES, 'cancelled'),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.alter_column('status',
                              existing_type=_upload_status('pending', *UPLOAD_STATUSES,
                                                           'cancelled'),
                              type_=_upload_status(*UPLOAD_STATUSES), existing_nullable=False)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))
        batch_op.drop_index('ix_jobs_upload_id_created_at')
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
        batch_op.drop_index('ix_jobs_export')

    op.drop_table('jobs')
