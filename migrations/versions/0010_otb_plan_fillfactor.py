"""OTB rows leave room on their pages for their next version (PostgreSQL): a grid step that
changes every row of a season (a spread, its undo) then updates them in place (heap-only
tuples, no new index entries) instead of moving every row to a new page and adding an entry
to each of the table's indexes. Costs about twice the table's size; elsewhere a no-op.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FILLFACTOR = 50


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE otb_plan SET (fillfactor = {FILLFACTOR})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE otb_plan RESET (fillfactor)")
