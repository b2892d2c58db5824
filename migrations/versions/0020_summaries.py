"""A season's figures kept summed per location × month and per category × month as writes
land (issue 19, item 4: kyros_web/analytics/summaries.py); the seasons already stored are summed once.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 02:59:47.655765

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import MoneySum


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('season_figures',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('dim', sa.String(length=1), nullable=False),
    sa.Column('key_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('sales', MoneySum(), nullable=False),
    sa.Column('mxs', sa.Numeric(), nullable=False),
    sa.Column('otb', MoneySum(), nullable=False),
    sa.Column('adjustments', MoneySum(), nullable=False),
    sa.Column('committed', MoneySum(), nullable=False),
    sa.Column('received', MoneySum(), nullable=False),
    sa.Column('open', MoneySum(), nullable=False),
    sa.Column('over', MoneySum(), nullable=False),
    sa.Column('over_cells', sa.Integer(), nullable=False),
    sa.Column('received_due', MoneySum(), nullable=False),
    sa.Column('otb_sales', MoneySum(), nullable=False),
    sa.Column('markdowns', MoneySum(), nullable=False),
    sa.Column('opening', MoneySum(), nullable=False),
    sa.Column('txs', sa.Numeric(), nullable=False),
    sa.Column('turns_sales', MoneySum(), nullable=False),
    sa.Column('plan_rows', sa.Integer(), nullable=False),
    sa.Column('otb_rows', sa.Integer(), nullable=False),
    sa.Column('pos', sa.Integer(), nullable=False),
    sa.Column('open_pos', sa.Integer(), nullable=False),
    sa.Column('over_pos', sa.Integer(), nullable=False),
    sa.Column('facts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_figures_season_id_seasons'), ondelete='CASCADE')
    )
    with op.batch_alter_table('season_figures', schema=None) as batch_op:
        batch_op.create_index('ix_season_figures_group', ['season_id', 'dim', 'key_id'], unique=False)

    op.create_table('season_forecast_figures',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('dim', sa.String(length=1), nullable=False),
    sa.Column('key_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('actualised', sa.SmallInteger(), nullable=False),
    sa.Column('ps', MoneySum(), nullable=False),
    sa.Column('pm', MoneySum(), nullable=False),
    sa.Column('pc', MoneySum(), nullable=False),
    sa.Column('po', MoneySum(), nullable=False),
    sa.Column('oo', MoneySum(), nullable=False),
    sa.Column('otb', MoneySum(), nullable=False),
    sa.Column('adj', MoneySum(), nullable=False),
    sa.Column('committed', MoneySum(), nullable=False),
    sa.Column('opening', MoneySum(), nullable=False),
    sa.Column('sales', MoneySum(), nullable=False),
    sa.Column('a_m', MoneySum(), nullable=False),
    sa.Column('a_c', MoneySum(), nullable=False),
    sa.Column('in_season_open', MoneySum(), nullable=False),
    sa.Column('margin_sales', MoneySum(), nullable=False),
    sa.Column('margin_stock', MoneySum(), nullable=False),
    sa.Column('margin_sxm', sa.Numeric(), nullable=False),
    sa.Column('margin_stxm', sa.Numeric(), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_forecast_figures_season_id_seasons'), ondelete='CASCADE')
    )
    with op.batch_alter_table('season_forecast_figures', schema=None) as batch_op:
        batch_op.create_index('ix_season_forecast_figures_group', ['season_id', 'dim', 'key_id'], unique=False)

    # The seasons already stored are summed by 0021, once the tables have every column the
    # app's statements fill (this used to sum them here, with the app's code of the day).


def downgrade():
    with op.batch_alter_table('season_forecast_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_season_forecast_figures_group')

    op.drop_table('season_forecast_figures')
    with op.batch_alter_table('season_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_season_figures_group')

    op.drop_table('season_figures')
