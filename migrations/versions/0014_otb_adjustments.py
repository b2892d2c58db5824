"""Moving open to buy with approval (issue 17, item 1): the requests, and the lines an approved
request writes into the cells of its two scopes (the uploaded OTB rows stay as they were).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:31:26

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import Money


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('otb_adjustments',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('amount', Money(), nullable=False),
    sa.Column('from_location_id', sa.Uuid(), nullable=True),
    sa.Column('from_cluster_id', sa.Uuid(), nullable=True),
    sa.Column('from_category_id', sa.Uuid(), nullable=True),
    sa.Column('from_month', sa.Date(), nullable=True),
    sa.Column('to_location_id', sa.Uuid(), nullable=True),
    sa.Column('to_cluster_id', sa.Uuid(), nullable=True),
    sa.Column('to_category_id', sa.Uuid(), nullable=True),
    sa.Column('to_month', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'pending') = (decided_by IS NULL)", name=op.f('ck_otb_adjustments_decided_when_done')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_otb_adjustments_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_otb_adjustments_amount_positive')),
    sa.CheckConstraint('decided_by IS NULL OR decided_by <> requested_by', name=op.f('ck_otb_adjustments_four_eyes')),
    sa.CheckConstraint('from_location_id IS NULL OR from_cluster_id IS NULL', name=op.f('ck_otb_adjustments_from_one_place')),
    sa.CheckConstraint('to_location_id IS NULL OR to_cluster_id IS NULL', name=op.f('ck_otb_adjustments_to_one_place')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_otb_adjustments_decided_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_category_id'], ['categories.id'], name=op.f('fk_otb_adjustments_from_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_cluster_id'], ['clusters.id'], name=op.f('fk_otb_adjustments_from_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_otb_adjustments_from_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_otb_adjustments_requested_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_otb_adjustments_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_category_id'], ['categories.id'], name=op.f('fk_otb_adjustments_to_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_cluster_id'], ['clusters.id'], name=op.f('fk_otb_adjustments_to_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_otb_adjustments_to_location_id_locations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otb_adjustments')),
    sa.UniqueConstraint('season_id', 'number', name=op.f('uq_otb_adjustments_season_id_number'))
    )
    with op.batch_alter_table('otb_adjustments', schema=None) as batch_op:
        batch_op.create_index('ix_otb_adjustments_waiting', ['status', 'season_id'], unique=False)
        for column in ('from_location_id', 'from_category_id', 'to_location_id', 'to_category_id'):
            batch_op.create_index(batch_op.f(f'ix_otb_adjustments_{column}'), [column], unique=False)

    op.create_table('otb_adjustment_lines',
    sa.Column('adjustment_id', sa.Uuid(), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', Money(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_otb_adjustment_lines_amount_not_zero')),
    sa.ForeignKeyConstraint(['adjustment_id'], ['otb_adjustments.id'], name=op.f('fk_otb_adjustment_lines_adjustment_id_otb_adjustments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_otb_adjustment_lines_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_otb_adjustment_lines_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_otb_adjustment_lines_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otb_adjustment_lines')),
    sa.UniqueConstraint('adjustment_id', 'location_id', 'category_id', 'month', name='uq_otb_adjustment_lines_one_per_cell')
    )
    with op.batch_alter_table('otb_adjustment_lines', schema=None) as batch_op:
        batch_op.create_index('ix_otb_adjustment_lines_cell', ['season_id', 'location_id', 'category_id', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_adjustment_lines_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_adjustment_lines_category_id'), ['category_id'], unique=False)



def downgrade():
    with op.batch_alter_table('otb_adjustment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_otb_adjustment_lines_category_id'))
        batch_op.drop_index(batch_op.f('ix_otb_adjustment_lines_location_id'))
        batch_op.drop_index('ix_otb_adjustment_lines_cell')

    op.drop_table('otb_adjustment_lines')
    with op.batch_alter_table('otb_adjustments', schema=None) as batch_op:
        for column in ('from_location_id', 'from_category_id', 'to_location_id', 'to_category_id'):
            batch_op.drop_index(batch_op.f(f'ix_otb_adjustments_{column}'))
        batch_op.drop_index('ix_otb_adjustments_waiting')

    op.drop_table('otb_adjustments')
