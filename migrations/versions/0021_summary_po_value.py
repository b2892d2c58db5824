"""The value ordered per summary group (`po_value`), so the PO list's totals come from the
summaries (issue 19, item 4); every season is summed again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 14:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

from kyros_web.modelbase import MoneySum


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('season_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('po_value', MoneySum(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('season_figures', schema=None) as batch_op:
        batch_op.alter_column('po_value', server_default=None)

    # Every season summed again by the statements the writes use (the summaries of 0020 are
    # filled here, once the table has all its columns).
    from kyros_web.analytics import summaries
    summaries.refresh_all(Session(bind=op.get_bind()))


def downgrade():
    with op.batch_alter_table('season_figures', schema=None) as batch_op:
        batch_op.drop_column('po_value')
