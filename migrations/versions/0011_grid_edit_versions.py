"""A grid step records the season's data version its commit made, so a worker whose cached OTB
pivot is a few steps old can add those steps instead of reading the season again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grid_edits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('season_version', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_grid_edits_version', ['season_id', 'season_version'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('grid_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_edits_version')
        batch_op.drop_column('season_version')
