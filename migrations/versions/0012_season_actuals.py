"""Actuals reported in season (issue 16, item 1): what each location sold and held in each
leaf category and month, and the `actuals` upload kind that brings them in.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:10:00

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import Money


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

KINDS = ('locations', 'categories', 'plans', 'otb', 'range', 'pos', 'grns')


def _upload_kind(*kinds):
    return sa.Enum(*kinds, name='upload_kind', native_enum=False, create_constraint=True,
                   length=30)


def upgrade():
    op.create_table('season_actuals',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('net_sales', Money(), nullable=False),
    sa.Column('markdowns', Money(), nullable=False),
    sa.Column('closing_stock', Money(), nullable=False),
    sa.Column('units_sold', sa.Integer(), nullable=True),
    sa.Column('closing_units', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('markdowns >= 0 AND closing_stock >= 0', name=op.f('ck_season_actuals_money_non_negative')),
    sa.CheckConstraint('(units_sold IS NULL OR units_sold >= 0) AND (closing_units IS NULL OR closing_units >= 0)', name=op.f('ck_season_actuals_units_non_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_season_actuals_version_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_season_actuals_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_season_actuals_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_actuals_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_season_actuals_uploaded_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_actuals')),
    sa.UniqueConstraint('season_id', 'location_id', 'category_id', 'month', name=op.f('uq_season_actuals_season_id_location_id_category_id_month'))
    )
    with op.batch_alter_table('season_actuals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_season_actuals_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_actuals_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_actuals_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_actuals_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_actuals_uploaded_by'), ['uploaded_by'], unique=False)

    # An upload's kind is checked against the list of kinds: the list gains `actuals`.
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_upload_kind(*KINDS),
                              type_=_upload_kind(*KINDS, 'actuals'), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_upload_kind(*KINDS, 'actuals'),
                              type_=_upload_kind(*KINDS), existing_nullable=False)

    with op.batch_alter_table('season_actuals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_season_actuals_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_season_actuals_season_id'))
        batch_op.drop_index(batch_op.f('ix_season_actuals_month'))
        batch_op.drop_index(batch_op.f('ix_season_actuals_location_id'))
        batch_op.drop_index(batch_op.f('ix_season_actuals_category_id'))

    op.drop_table('season_actuals')
