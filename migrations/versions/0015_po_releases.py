"""A buyer may ask for a PO over its cell's budget to be released (issue 17, item 2): the
requests, and a PO status "awaiting_release" (it consumes nothing and receives nothing until a
planner or an admin decides).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 17:05:00

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import Money


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

STATUSES = ('open', 'partially_received', 'received', 'closed', 'cancelled')


def _po_status(*statuses):
    return sa.Enum(*statuses, name='po_status', native_enum=False, create_constraint=True,
                   length=30)


def upgrade():
    op.create_table('po_releases',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('po_id', sa.Uuid(), nullable=False),
    sa.Column('over_by', Money(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'recorded', 'withdrawn')", name=op.f('ck_po_releases_status_known')),
    sa.CheckConstraint('decided_by IS NULL OR decided_by <> requested_by', name=op.f('ck_po_releases_four_eyes')),
    sa.CheckConstraint('over_by > 0', name=op.f('ck_po_releases_over_by_positive')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_po_releases_decided_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_po_releases_po_id_purchase_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_po_releases_requested_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_po_releases_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_releases'))
    )
    with op.batch_alter_table('po_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_po_releases_po_id'), ['po_id'], unique=False)
        batch_op.create_index('ix_po_releases_waiting', ['status', 'season_id'], unique=False)

    # A PO's status is checked against the list of statuses: the list gains awaiting_release.
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_po_status(*STATUSES),
                              type_=_po_status(*STATUSES, 'awaiting_release'),
                              existing_nullable=False)



def downgrade():
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_po_status(*STATUSES, 'awaiting_release'),
                              type_=_po_status(*STATUSES), existing_nullable=False)
    with op.batch_alter_table('po_releases', schema=None) as batch_op:
        batch_op.drop_index('ix_po_releases_waiting')
        batch_op.drop_index(batch_op.f('ix_po_releases_po_id'))

    op.drop_table('po_releases')
