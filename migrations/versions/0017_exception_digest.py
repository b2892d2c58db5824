"""The exceptions the daily digest has mailed (issue 17, item 5), so the next one tells only
of new ones.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 17:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exception_digest_entries',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_exception_digest_entries_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exception_digest_entries')),
    sa.UniqueConstraint('season_id', 'kind', 'key', name=op.f('uq_exception_digest_entries_season_id_kind_key'))
    )


def downgrade():
    op.drop_table('exception_digest_entries')
