"""The planning grid's steps and the figures each changed, for undo (issue 14, item 6).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:35:44

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import Money


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grid_edits',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cells >= 0', name=op.f('ck_grid_edits_cells_non_negative')),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_grid_edits_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_grid_edits_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_edits'))
    )
    with op.batch_alter_table('grid_edits', schema=None) as batch_op:
        batch_op.create_index('ix_grid_edits_steps', ['season_id', 'user_id', 'undone_at', 'created_at'], unique=False)

    op.create_table('grid_edit_cells',
    sa.Column('edit_id', sa.Uuid(), nullable=False),
    sa.Column('row_id', sa.Uuid(), nullable=False),
    sa.Column('field', sa.String(length=30), nullable=False),
    sa.Column('before', Money(), nullable=True),
    sa.Column('after', Money(), nullable=False),
    sa.Column('version_before', sa.Integer(), nullable=False),
    sa.Column('version_after', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['edit_id'], ['grid_edits.id'], name=op.f('fk_grid_edit_cells_edit_id_grid_edits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('edit_id', 'row_id', 'field', name=op.f('pk_grid_edit_cells'))
    )


def downgrade():
    op.drop_table('grid_edit_cells')
    with op.batch_alter_table('grid_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_edits_steps')

    op.drop_table('grid_edits')
