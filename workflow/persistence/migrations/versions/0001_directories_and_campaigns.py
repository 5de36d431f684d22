"""Directories (departments, officers, enterprises, items) and campaigns.

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('admin_name', sa.String(length=50), nullable=True),
    sa.Column('admin_email', sa.String(length=254), nullable=True),
    sa.Column('leader_name', sa.String(length=50), nullable=True),
    sa.Column('leader_email', sa.String(length=254), nullable=True),
    sa.Column('responsible_section', sa.String(length=100), nullable=True),
    sa.Column('contact_name', sa.String(length=50), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('in_latest_directory', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departments'))
    )
    op.create_table('directory_imports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('marked_not_latest', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=254), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_imports'))
    )
    op.create_table('enterprises',
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=True),
    sa.Column('registered_capital', sa.Numeric(18, 6), nullable=True),
    sa.Column('established_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('legal_representative', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('industry', sa.String(length=200), nullable=True),
    sa.Column('credit_risk', sa.String(length=1), nullable=True),
    sa.Column('in_latest_directory', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uscc', name=op.f('pk_enterprises'))
    )
    op.create_table('campaigns',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('document_no', sa.String(length=100), nullable=False),
    sa.Column('office', sa.String(length=200), nullable=False),
    sa.Column('lead_department_code', sa.String(length=64), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('window_from', sa.Date(), nullable=False),
    sa.Column('window_to', sa.Date(), nullable=False),
    sa.Column('draw_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('source_toml', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['lead_department_code'], ['departments.code'], name=op.f('fk_campaigns_lead_department_code_departments')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_campaigns'))
    )
    op.create_table('inspection_items',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('method', sa.String(length=200), nullable=True),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('in_latest_directory', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_inspection_items_department_code_departments')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_inspection_items'))
    )
    with op.batch_alter_table('inspection_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_items_department_code'), ['department_code'], unique=False)

    op.create_table('officers',
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('certificate_valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('specialties', sa.Text(), nullable=True),
    sa.Column('in_latest_directory', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_officers_department_code_departments')),
    sa.PrimaryKeyConstraint('certificate_no', name=op.f('pk_officers'))
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_department_code'), ['department_code'], unique=False)

    op.create_table('campaign_departments',
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('is_lead', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_campaign_departments_campaign_code_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_campaign_departments_department_code_departments')),
    sa.PrimaryKeyConstraint('campaign_code', 'department_code', name=op.f('pk_campaign_departments'))
    )
    op.create_table('campaign_items',
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_campaign_items_campaign_code_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_campaign_items_department_code_departments')),
    sa.ForeignKeyConstraint(['item_code'], ['inspection_items.code'], name=op.f('fk_campaign_items_item_code_inspection_items')),
    sa.PrimaryKeyConstraint('campaign_code', 'item_code', name=op.f('pk_campaign_items'))
    )
    op.create_table('inspection_item_contents',
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['inspection_items.code'], name=op.f('fk_inspection_item_contents_item_code_inspection_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_code', 'position', name=op.f('pk_inspection_item_contents'))
    )
    op.create_table('officer_conflicts',
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['certificate_no'], ['officers.certificate_no'], name=op.f('fk_officer_conflicts_certificate_no_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('certificate_no', 'uscc', name=op.f('pk_officer_conflicts'))
    )


def downgrade() -> None:
    op.drop_table('officer_conflicts')
    op.drop_table('inspection_item_contents')
    op.drop_table('campaign_items')
    op.drop_table('campaign_departments')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_department_code'))

    op.drop_table('officers')
    with op.batch_alter_table('inspection_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_items_department_code'))

    op.drop_table('inspection_items')
    op.drop_table('campaigns')
    op.drop_table('enterprises')
    op.drop_table('directory_imports')
    op.drop_table('departments')
