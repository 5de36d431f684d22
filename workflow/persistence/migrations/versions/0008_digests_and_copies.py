"""Notices go out as one digest per recipient and stage (``pending_notices``), and a message may copy people (``cc``).

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa



revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cc', sa.Text(), nullable=True))
    op.create_table('pending_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_code', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('cc', sa.Text(), nullable=True),
    sa.Column('item', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest_key', sa.String(length=400), nullable=True),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaigns.code'], name=op.f('fk_pending_notices_campaign_code_campaigns')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_pending_notices_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_notices')),
    sa.UniqueConstraint('task_id', 'level', 'recipient', name=op.f('uq_pending_notices_task_id'))
    )
    with op.batch_alter_table('pending_notices', schema=None) as batch_op:
        batch_op.create_index('ix_pending_notices_undigested', ['campaign_code'], unique=False,
                              sqlite_where=sa.text('digest_key IS NULL'), postgresql_where=sa.text('digest_key IS NULL'))


def downgrade() -> None:
    op.drop_table('pending_notices')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('cc')
