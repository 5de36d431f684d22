"""``ix_tasks_open_owner``: a campaign's open tasks by department and enterprise, with their due instants (issue 19).

The board counts the overdue work per department — tasks, enterprises concerned, the longest overdue. At a
province's first overdue wave (350,000 confirmations) that was a pass over the tasks' rows and a sort of them
for the distinct enterprises (0.45–0.8 s); over this index it is one pass of the index in the order the count
needs (0.15 s). The open tasks only: a campaign's finished tasks are never counted.

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_open_owner', ['campaign_code', 'department_code', 'inspection_id', 'due_at'],
                              unique=False, sqlite_where=sa.text('done_at IS NULL'),
                              postgresql_where=sa.text('done_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_owner', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
