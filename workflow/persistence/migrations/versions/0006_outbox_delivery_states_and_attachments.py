"""The outbox says how each message ended (待发, 已发, 退信, 无法生成, 投递不明) and keeps the files it carries.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='待发', nullable=False))
        batch_op.add_column(sa.Column('rejections', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('unclear', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('inputs_sha256', sa.String(length=64), nullable=True))
    op.execute("UPDATE outbox SET state = '已发' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_campaign', ['state', 'campaign_code'], unique=False)
    op.create_table('outbox_attachments',
    sa.Column('message_key', sa.String(length=400), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['message_key'], ['outbox.key'], name=op.f('fk_outbox_attachments_message_key_outbox')),
    sa.PrimaryKeyConstraint('message_key', 'position', name=op.f('pk_outbox_attachments'))
    )


def downgrade() -> None:
    op.drop_table('outbox_attachments')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_campaign')
        batch_op.drop_column('inputs_sha256')
        batch_op.drop_column('unclear')
        batch_op.drop_column('rejections')
        batch_op.drop_column('state')
