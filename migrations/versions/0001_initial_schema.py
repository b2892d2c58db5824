"""Initial schema: the whole data model of SPEC §2.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 04:53:06.776533

"""
from alembic import op
import sqlalchemy as sa

from kyros_web.modelbase import Money


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('categories',
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('code = upper(code)', name=op.f('ck_categories_code_upper')),
    sa.CheckConstraint('length(code) >= 1', name=op.f('ck_categories_code_not_empty')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_categories_not_own_parent')),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('clusters',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    # Case-insensitive uniqueness (autogenerate does not render expression indexes).
    op.create_index('uq_clusters_name_lower', 'clusters', [sa.text('lower(name)')], unique=True)
    op.create_table('users',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'planner', 'buyer', 'viewer', name='user_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_email_lower', 'users', [sa.text('lower(email)')], unique=True)
    op.create_table('audit_events',
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('season_id', sa.Uuid(), nullable=True),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('locations',
    sa.Column('location_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum('store', 'warehouse', name='location_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('cluster_id', sa.Uuid(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(location_code) = 16', name=op.f('ck_locations_location_code_length')),
    sa.CheckConstraint('location_code = upper(location_code)', name=op.f('ck_locations_location_code_upper')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_locations_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('location_code', name=op.f('uq_locations_location_code'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_is_active'), ['is_active'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_type'), ['type'], unique=False)

    op.create_table('seasons',
    sa.Column('season_code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('created', 'locations_defined', 'plan_uploaded', 'otb_uploaded', 'range_uploaded', 'locked', name='season_status', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_seasons_end_after_start')),
    sa.CheckConstraint('length(season_code) = 9', name=op.f('ck_seasons_season_code_length')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_seasons_created_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seasons')),
    sa.UniqueConstraint('season_code', name=op.f('uq_seasons_season_code'))
    )
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seasons_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_seasons_status'), ['status'], unique=False)

    op.create_table('otb_plan',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('planned_sales', Money(), nullable=False),
    sa.Column('planned_markdowns', Money(), nullable=False),
    sa.Column('planned_closing_stock', Money(), nullable=False),
    sa.Column('opening_stock', Money(), nullable=False),
    sa.Column('on_order', Money(), nullable=False),
    sa.Column('approved_spend_limit', Money(), sa.Computed('planned_sales + planned_markdowns + planned_closing_stock - opening_stock - on_order', persisted=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('planned_sales >= 0 AND planned_markdowns >= 0 AND planned_closing_stock >= 0 AND opening_stock >= 0 AND on_order >= 0', name=op.f('ck_otb_plan_inputs_non_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_otb_plan_version_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_otb_plan_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_otb_plan_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_otb_plan_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_otb_plan_uploaded_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otb_plan')),
    sa.UniqueConstraint('season_id', 'location_id', 'category_id', 'month', name=op.f('uq_otb_plan_season_id_location_id_category_id_month'))
    )
    with op.batch_alter_table('otb_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_otb_plan_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_plan_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_plan_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_plan_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_otb_plan_uploaded_by'), ['uploaded_by'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('po_number', sa.String(length=50), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('po_value', Money(), nullable=False),
    sa.Column('source', sa.Enum('manual', 'csv', 'xlsx', 'api', 'erp', name='po_source', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('status', sa.Enum('open', 'partially_received', 'received', 'closed', 'cancelled', name='po_status', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('delivery_date >= order_date', name=op.f('ck_purchase_orders_delivery_after_order')),
    sa.CheckConstraint('length(po_number) >= 1', name=op.f('ck_purchase_orders_po_number_not_empty')),
    sa.CheckConstraint('po_value > 0', name=op.f('ck_purchase_orders_po_value_positive')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_purchase_orders_version_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_purchase_orders_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_purchase_orders_created_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_purchase_orders_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_purchase_orders_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('po_number', name=op.f('uq_purchase_orders_po_number'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_delivery_date'), ['delivery_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_location_id'), ['location_id'], unique=False)
        batch_op.create_index('ix_purchase_orders_otb_cell', ['season_id', 'location_id', 'category_id', 'delivery_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_supplier'), ['supplier'], unique=False)

    op.create_table('range_intents',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('core_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('fashion_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('price_band_mix', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('core_percent >= 0 AND core_percent <= 100', name=op.f('ck_range_intents_core_range')),
    sa.CheckConstraint('fashion_percent >= 0 AND fashion_percent <= 100', name=op.f('ck_range_intents_fashion_range')),
    sa.CheckConstraint('round(core_percent + fashion_percent, 2) = 100', name=op.f('ck_range_intents_core_fashion_sum')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_range_intents_version_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_range_intents_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_range_intents_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_range_intents_uploaded_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_range_intents')),
    sa.UniqueConstraint('season_id', 'category_id', name=op.f('uq_range_intents_season_id_category_id'))
    )
    with op.batch_alter_table('range_intents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_range_intents_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_range_intents_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_range_intents_uploaded_by'), ['uploaded_by'], unique=False)

    op.create_table('season_locations',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_season_locations_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_locations_season_id_seasons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_locations')),
    sa.UniqueConstraint('season_id', 'location_id', name=op.f('uq_season_locations_season_id_location_id'))
    )
    with op.batch_alter_table('season_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_season_locations_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_locations_season_id'), ['season_id'], unique=False)

    op.create_table('season_plans',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('planned_sales', Money(), nullable=False),
    sa.Column('planned_margin', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('inventory_turns', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('inventory_turns IS NULL OR inventory_turns >= 0', name=op.f('ck_season_plans_turns_non_negative')),
    sa.CheckConstraint('planned_margin > -100 AND planned_margin < 100', name=op.f('ck_season_plans_margin_range')),
    sa.CheckConstraint('planned_sales >= 0', name=op.f('ck_season_plans_planned_sales_non_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_season_plans_version_positive')),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_season_plans_approved_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_season_plans_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_season_plans_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_plans_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_season_plans_uploaded_by_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_plans')),
    sa.UniqueConstraint('season_id', 'location_id', 'category_id', name=op.f('uq_season_plans_season_id_location_id_category_id'))
    )
    with op.batch_alter_table('season_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_season_plans_approved'), ['approved'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_plans_approved_by'), ['approved_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_plans_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_plans_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_plans_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_plans_uploaded_by'), ['uploaded_by'], unique=False)

    op.create_table('season_transitions',
    sa.Column('season_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.Enum('created', 'locations_defined', 'plan_uploaded', 'otb_uploaded', 'range_uploaded', 'locked', name='transition_from', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('to_status', sa.Enum('created', 'locations_defined', 'plan_uploaded', 'otb_uploaded', 'range_uploaded', 'locked', name='transition_to', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_season_transitions_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_season_transitions_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_season_transitions'))
    )
    with op.batch_alter_table('season_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_season_transitions_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_season_transitions_user_id'), ['user_id'], unique=False)

    op.create_table('uploads',
    sa.Column('kind', sa.Enum('locations', 'categories', 'plans', 'otb', 'range', 'pos', 'grns', name='upload_kind', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('season_id', sa.Uuid(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_updated', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('previewed', 'committed', 'rejected', name='upload_status', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rows_total >= 0 AND rows_new >= 0 AND rows_updated >= 0 AND rows_unchanged >= 0 AND rows_rejected >= 0', name=op.f('ck_uploads_counts_non_negative')),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], name=op.f('fk_uploads_season_id_seasons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_uploads_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_season_id'), ['season_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_user_id'), ['user_id'], unique=False)

    op.create_table('grn_records',
    sa.Column('grn_number', sa.String(length=50), nullable=False),
    sa.Column('po_id', sa.Uuid(), nullable=False),
    sa.Column('grn_date', sa.Date(), nullable=False),
    sa.Column('received_value', Money(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(grn_number) >= 1', name=op.f('ck_grn_records_grn_number_not_empty')),
    sa.CheckConstraint('received_value > 0', name=op.f('ck_grn_records_received_value_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_grn_records_created_by_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_grn_records_po_id_purchase_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grn_records')),
    sa.UniqueConstraint('grn_number', name=op.f('uq_grn_records_grn_number'))
    )
    with op.batch_alter_table('grn_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grn_records_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_grn_records_grn_date'), ['grn_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_grn_records_po_id'), ['po_id'], unique=False)



def downgrade():
    with op.batch_alter_table('grn_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grn_records_po_id'))
        batch_op.drop_index(batch_op.f('ix_grn_records_grn_date'))
        batch_op.drop_index(batch_op.f('ix_grn_records_created_by'))

    op.drop_table('grn_records')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_uploads_status'))
        batch_op.drop_index(batch_op.f('ix_uploads_season_id'))
        batch_op.drop_index(batch_op.f('ix_uploads_kind'))

    op.drop_table('uploads')
    with op.batch_alter_table('season_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_season_transitions_user_id'))
        batch_op.drop_index(batch_op.f('ix_season_transitions_season_id'))

    op.drop_table('season_transitions')
    with op.batch_alter_table('season_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_season_plans_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_season_plans_season_id'))
        batch_op.drop_index(batch_op.f('ix_season_plans_location_id'))
        batch_op.drop_index(batch_op.f('ix_season_plans_category_id'))
        batch_op.drop_index(batch_op.f('ix_season_plans_approved_by'))
        batch_op.drop_index(batch_op.f('ix_season_plans_approved'))

    op.drop_table('season_plans')
    with op.batch_alter_table('season_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_season_locations_season_id'))
        batch_op.drop_index(batch_op.f('ix_season_locations_location_id'))

    op.drop_table('season_locations')
    with op.batch_alter_table('range_intents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_range_intents_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_range_intents_season_id'))
        batch_op.drop_index(batch_op.f('ix_range_intents_category_id'))

    op.drop_table('range_intents')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_supplier'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_status'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_source'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_season_id'))
        batch_op.drop_index('ix_purchase_orders_otb_cell')
        batch_op.drop_index(batch_op.f('ix_purchase_orders_location_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_delivery_date'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_created_by'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_category_id'))

    op.drop_table('purchase_orders')
    with op.batch_alter_table('otb_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_otb_plan_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_otb_plan_season_id'))
        batch_op.drop_index(batch_op.f('ix_otb_plan_month'))
        batch_op.drop_index(batch_op.f('ix_otb_plan_location_id'))
        batch_op.drop_index(batch_op.f('ix_otb_plan_category_id'))

    op.drop_table('otb_plan')
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seasons_status'))
        batch_op.drop_index(batch_op.f('ix_seasons_created_by'))

    op.drop_table('seasons')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_type'))
        batch_op.drop_index(batch_op.f('ix_locations_is_active'))
        batch_op.drop_index(batch_op.f('ix_locations_cluster_id'))

    op.drop_table('locations')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_season_id'))
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('clusters')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_parent_id'))

    op.drop_table('categories')
