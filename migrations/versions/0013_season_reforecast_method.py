"""Each season chooses how its in-season reforecast forecasts the months still to come
(issue 16, item 2): "trend" (the default, every existing season included) or "plan".

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reforecast_method', sa.String(length=10),
                                      server_default='trend', nullable=False))
        batch_op.create_check_constraint(op.f('ck_seasons_reforecast_method_known'),
                                         "reforecast_method IN ('trend', 'plan')")


def downgrade():
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_seasons_reforecast_method_known'), type_='check')
        batch_op.drop_column('reforecast_method')
