"""``ix_pending_notices_undigested`` becomes (campaign_code, recipient, stage) over the notices not yet digested
(issue 19).

The digest reads the held notices one recipient and stage at a time (a province's wave holds 180,000). With the
campaign alone in the index each of those reads walked every undigested notice of the campaign: an overdue wave of
back-fills, addressed to thousands of officers, read the notices thousands of times over in one transaction.

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _replace(columns: list[str]) -> None:
    with op.batch_alter_table('pending_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_notices_undigested', sqlite_where=sa.text('digest_key IS NULL'),
                            postgresql_where=sa.text('digest_key IS NULL'))
        batch_op.create_index('ix_pending_notices_undigested', columns, unique=False,
                              sqlite_where=sa.text('digest_key IS NULL'), postgresql_where=sa.text('digest_key IS NULL'))


def upgrade() -> None:
    _replace(['campaign_code', 'recipient', 'stage'])


def downgrade() -> None:
    _replace(['campaign_code'])
