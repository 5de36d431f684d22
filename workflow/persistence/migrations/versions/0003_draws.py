"""Draws (commit–reveal rounds for enterprises and officers); each inspection knows its draw;
team members keep why they were eligible and whom they replaced; the visit schedule.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draws',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('redraw_reason', sa.Text(), nullable=True),
    sa.Column('secret_hex', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=False),
    sa.Column('eligible', sa.Integer(), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_by', sa.String(length=254), nullable=False),
    sa.Column('witness', sa.Text(), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_by', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_draws_campaign_code_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draws')),
    sa.UniqueConstraint('campaign_code', 'kind', 'round', name=op.f('uq_draws_campaign_code'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_inspections_draw_id_draws'), 'draws', ['draw_id'], ['id'])
        batch_op.add_column(sa.Column('planned_visit_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('visit_group', sa.Integer(), nullable=True))
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligibility', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('substitute_for', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('release_reason', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        for column in ('release_reason', 'released_at', 'substitute_for', 'eligibility'):
            batch_op.drop_column(column)
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_inspections_draw_id_draws'), type_='foreignkey')
        batch_op.drop_column('draw_id')
        batch_op.drop_column('planned_visit_on')
        batch_op.drop_column('visit_group')

    op.drop_table('draws')
