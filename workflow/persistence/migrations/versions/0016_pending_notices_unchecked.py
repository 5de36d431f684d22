"""``pending_notices`` loses its foreign keys to ``campaigns`` and ``tasks`` (issue 19).

The table is the sweep's queue between a notice decided and its digest: written only by the sweep, in the
transaction that holds the task claimed (``FOR UPDATE``) and its campaign's chain head, with the code and the
ids it has just read; read back by the digest, which drops a notice whose task is done or gone. The checks
proved nothing the writer does not already know, and cost more than the rows: a wave's held notices went in by
COPY at 0.22 s per 35,763 rows without them, 0.48 s with (PostgreSQL fires a trigger and a lookup per row per
key) — at a province's first overdue wave, 180,000 notices, over a second of the sweep.

Revision ID: 0016
Revises: 0015
"""

from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite a copy of the table (nothing refers to it, so nothing cascades).
    with op.batch_alter_table('pending_notices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_pending_notices_campaign_code_campaigns'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_pending_notices_task_id_tasks'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('pending_notices', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_pending_notices_campaign_code_campaigns'), 'campaigns',
                                    ['campaign_code'], ['code'])
        batch_op.create_foreign_key(op.f('fk_pending_notices_task_id_tasks'), 'tasks', ['task_id'], ['id'])
