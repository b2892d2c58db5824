"""Locations indexed by name and code, the order the grids list their rows in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_locations_name_code', 'locations', ['name', 'location_code'])


def downgrade():
    op.drop_index('ix_locations_name_code', table_name='locations')
