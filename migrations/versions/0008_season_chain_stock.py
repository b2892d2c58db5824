"""Seasons choose whether an OTB row's closing stock carries into the next month's opening
stock (issue 14); on for every season, the existing ones included.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_stock', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.drop_column('chain_stock')
