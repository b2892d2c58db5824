"""The exceptions inbox (issue 17, item 4): a season's thresholds, stored once a planner
changes them, and the acknowledgements of its exceptions with the measure each had then.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:52:05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exception_acknowledgements',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('acknowledged_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('over_budget', 'low_open_to_buy', 'under_used', 'po_overdue', 'stock_chain', 'plan_gap', 'short_closed', 'sell_through')", name=op.f('ck_exception_acknowledgements_kind_known')),
    sa.CheckConstraint('length(note) >= 1', name=op.f('ck_exception_acknowledgements_note_not_empty')),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_exception_acknowledgements_acknowledged_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_exception_acknowledgements_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exception_acknowledgements')),
    sa.UniqueConstraint('season_id', 'kind', 'key', name=op.f('uq_exception_acknowledgements_season_id_kind_key'))
    )
    op.create_table('exception_thresholds',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('low_otb_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('under_used_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('short_closed_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('sell_through_points', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('low_otb_percent BETWEEN 0 AND 100', name=op.f('ck_exception_thresholds_low_otb_range')),
    sa.CheckConstraint('sell_through_points BETWEEN 0 AND 100', name=op.f('ck_exception_thresholds_sell_through_range')),
    sa.CheckConstraint('short_closed_percent BETWEEN 0 AND 100', name=op.f('ck_exception_thresholds_short_closed_range')),
    sa.CheckConstraint('under_used_percent BETWEEN 0 AND 100', name=op.f('ck_exception_thresholds_under_used_range')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_exception_thresholds_version_positive')),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_exception_thresholds_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_exception_thresholds_updated_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exception_thresholds')),
    sa.UniqueConstraint('season_id', name=op.f('uq_exception_thresholds_season_id'))
    )


def downgrade():
    op.drop_table('exception_thresholds')
    op.drop_table('exception_acknowledgements')
