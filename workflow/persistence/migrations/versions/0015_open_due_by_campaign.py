"""``ix_tasks_open_due`` becomes (campaign_code, due_at, id) over open tasks (issue 19).

Every reader of open tasks by due instant asks about one campaign: the board's and the reports' "most overdue
first", the overdue count, what falls due in the next days. On the due instant alone the index handed over every
campaign's open tasks, and "the first 50 by due instant" sorted a province's 350,000 overdue tasks to keep 50;
with the campaign first and the id as the tie-break it reads the 50 in order.

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _replace(columns: list[str]) -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_due', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_tasks_open_due', columns, unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))


def upgrade() -> None:
    _replace(['campaign_code', 'due_at', 'id'])


def downgrade() -> None:
    _replace(['due_at'])
