"""Purchase orders indexed in the PO list's order (newest first) within a season.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_purchase_orders_list_order', 'purchase_orders',
                    ['season_id', 'order_date', 'po_number'])


def downgrade():
    op.drop_index('ix_purchase_orders_list_order', table_name='purchase_orders')
