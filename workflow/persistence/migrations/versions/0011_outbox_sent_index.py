"""The outbox's messages sent since an instant, per campaign (issue 19): the board's and each tick's 今日已发 read
``ix_outbox_campaign_sent`` instead of every message the campaign ever sent.

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_campaign_sent', ['campaign_code', 'sent_at'], unique=False,
                              sqlite_where=sa.text('sent_at IS NOT NULL'),
                              postgresql_where=sa.text('sent_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign_sent', sqlite_where=sa.text('sent_at IS NOT NULL'),
                            postgresql_where=sa.text('sent_at IS NOT NULL'))
