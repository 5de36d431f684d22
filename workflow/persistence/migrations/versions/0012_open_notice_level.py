"""``ix_tasks_open_notice`` becomes (campaign_code, next_notice_at, escalation_level) over open tasks (issue 19).

A task whose ladder is exhausted stays open with no next notice (``next_notice_at`` NULL, its level at the top);
the sweep's due set asks for "no next notice yet *and* a level below the top". With the level in the index that
is one index range; without it every such task was read again, and rechecked, by every tick — in a mature
campaign most open tasks, and the planner then read the whole table.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _replace(columns: list[str]) -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_notice', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_tasks_open_notice', columns, unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))


def upgrade() -> None:
    _replace(['campaign_code', 'next_notice_at', 'escalation_level'])


def downgrade() -> None:
    _replace(['campaign_code', 'next_notice_at'])
