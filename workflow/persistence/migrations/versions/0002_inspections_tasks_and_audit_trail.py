"""Inspections (state, per-state instants, answers, teams, visits, results), tasks and the audit chains.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chains',
    sa.Column('chain', sa.String(length=100), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chains'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('chain', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('campaign_code', sa.String(length=64), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('chain', 'seq', name=op.f('uq_audit_events_chain'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_campaign_uscc', ['campaign_code', 'uscc'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('forms_generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visit_date', sa.Date(), nullable=True),
    sa.Column('visit_signature', sa.String(length=8), nullable=True),
    sa.Column('visit_note', sa.Text(), nullable=True),
    sa.Column('visit_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visit_recorded_by', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_inspections_campaign_code_campaigns')),
    sa.ForeignKeyConstraint(['uscc'], ['enterprises.uscc'], name=op.f('fk_inspections_uscc_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections')),
    sa.UniqueConstraint('campaign_code', 'uscc', name=op.f('uq_inspections_campaign_code'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_campaign_state', ['campaign_code', 'state'], unique=False)

    op.create_table('inspection_departments',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('inspects', sa.Boolean(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=254), nullable=True),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_inspection_departments_department_code_departments')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_departments_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'department_code', name=op.f('pk_inspection_departments'))
    )
    op.create_table('item_results',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('finding', sa.Text(), nullable=True),
    sa.Column('method', sa.String(length=200), nullable=True),
    sa.Column('handling_note', sa.Text(), nullable=True),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_item_results_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_code'], ['inspection_items.code'], name=op.f('fk_item_results_item_code_inspection_items')),
    sa.PrimaryKeyConstraint('inspection_id', 'item_code', name=op.f('pk_item_results'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('certificate_no', sa.String(length=64), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_tasks_campaign_code_campaigns')),
    sa.ForeignKeyConstraint(['certificate_no'], ['officers.certificate_no'], name=op.f('fk_tasks_certificate_no_officers')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_tasks_department_code_departments')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_tasks_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('key', name=op.f('uq_tasks_key'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_campaign_kind', ['campaign_code', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index('ix_tasks_open_due', ['due_at'], unique=False, sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))

    op.create_table('team_members',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('specialist', sa.Boolean(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_no'], ['officers.certificate_no'], name=op.f('fk_team_members_certificate_no_officers')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_team_members_department_code_departments')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_team_members_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'certificate_no', name=op.f('pk_team_members'))
    )
    op.create_table('visit_officers',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['certificate_no'], ['officers.certificate_no'], name=op.f('fk_visit_officers_certificate_no_officers')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_visit_officers_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'certificate_no', name=op.f('pk_visit_officers'))
    )
    op.create_table('result_codes',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=1), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id', 'item_code'], ['item_results.inspection_id', 'item_results.item_code'], name=op.f('fk_result_codes_inspection_id_item_results'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'item_code', 'code', name=op.f('pk_result_codes'))
    )
    op.create_table('result_handlings',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('handling', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id', 'item_code'], ['item_results.inspection_id', 'item_results.item_code'], name=op.f('fk_result_handlings_inspection_id_item_results'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'item_code', 'handling', name=op.f('pk_result_handlings'))
    )


def downgrade() -> None:
    op.drop_table('result_handlings')
    op.drop_table('result_codes')
    op.drop_table('visit_officers')
    op.drop_table('team_members')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_due', sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_tasks_inspection_id'))
        batch_op.drop_index('ix_tasks_campaign_kind')

    op.drop_table('tasks')
    op.drop_table('item_results')
    op.drop_table('inspection_departments')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_campaign_state')

    op.drop_table('inspections')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_campaign_uscc')

    op.drop_table('audit_events')
    op.drop_table('audit_chains')
