"""Indexes the hot queries need at province scale (issue 19).

- ``ix_inspections_inspected``: the draw's "not inspected within the window" anti-join: the visits since an
  instant with their USCCs, read from the index alone (only inspections with a visit recorded);
- ``ix_tasks_open_notice`` becomes (campaign_code, next_notice_at) over open tasks: the sweep's due set and
  the next notice instant of one campaign, without reading another campaign's tasks;
- ``ix_outbox_campaign_unsent``: the sender's claim, a campaign's unsent rows in id order.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_inspected', ['inspected_at', 'uscc'], unique=False,
                              sqlite_where=sa.text('inspected_at IS NOT NULL'),
                              postgresql_where=sa.text('inspected_at IS NOT NULL'))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_notice', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_tasks_open_notice', ['campaign_code', 'next_notice_at'], unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_campaign_unsent', ['campaign_code', 'id'], unique=False,
                              sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign_unsent', sqlite_where=sa.text('sent_at IS NULL'),
                            postgresql_where=sa.text('sent_at IS NULL'))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_notice', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_tasks_open_notice', ['next_notice_at'], unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_inspected', sqlite_where=sa.text('inspected_at IS NOT NULL'),
                            postgresql_where=sa.text('inspected_at IS NOT NULL'))
