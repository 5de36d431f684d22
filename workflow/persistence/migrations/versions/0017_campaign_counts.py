"""``campaign_counts``: each campaign's counts, kept in the transaction that changes them (issue 19).

The statistics table, the summary and the board summed a province's inspections, answers and results on every
read (about a second at 250,000 inspections). They now read these rows; ``persistence.counts`` keeps them. The
table starts empty: a campaign without counts is recounted by its next changing transaction (the tick), and read
by a recount until then.

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign_counts',
        sa.Column('campaign_code', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('department_code', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'],
                                name=op.f('fk_campaign_counts_campaign_code_campaigns')),
        sa.PrimaryKeyConstraint('campaign_code', 'name', 'department_code', 'detail', name=op.f('pk_campaign_counts')),
    )


def downgrade() -> None:
    op.drop_table('campaign_counts')
