"""Data versions: a counter per season and one shared, moved by every write.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_versions',
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_data_versions')),
    )


def downgrade():
    op.drop_table('data_versions')
