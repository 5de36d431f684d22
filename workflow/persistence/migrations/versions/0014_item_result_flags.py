"""``item_results`` keeps what the statistics table counts: ``problem``, ``orders_correction``, ``abnormal`` and
``opens_case`` (issue 19).

The table (附件) counted them by joining every item result to its codes and its handlings, each grouped per item:
3.5 s at 250,000 inspections on PostgreSQL, where a screen an office opens must take under 1 s. ``ItemResult``
decides the four from the codes and handlings when a result is stored; this migration works them out once for
the results stored before, by the same rules (GLOSSARY.md: a problem code; code E or handling 2; code B, C or 6;
handling 4).

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

FLAGS = ('problem', 'orders_correction', 'abnormal', 'opens_case')


def _has(table: str, condition: str) -> str:
    return (f"EXISTS (SELECT 1 FROM {table} x WHERE x.inspection_id = item_results.inspection_id "
            f"AND x.item_code = item_results.item_code AND {condition})")


def upgrade() -> None:  # SQLite adds these columns in place (no copy of a table with a million rows)
    with op.batch_alter_table('item_results', schema=None, recreate='never') as batch_op:
        for flag in FLAGS:
            batch_op.add_column(sa.Column(flag, sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(f"""UPDATE item_results SET
        problem = {_has('result_codes', "x.code IN ('E', 'A', 'B', 'C', '6', 'D', '3', '4', '5', '8')")},
        orders_correction = {_has('result_codes', "x.code = 'E'")} OR {_has('result_handlings', 'x.handling = 2')},
        abnormal = {_has('result_codes', "x.code IN ('B', 'C', '6')")},
        opens_case = {_has('result_handlings', 'x.handling = 4')}""")


def downgrade() -> None:  # a copy of the table on SQLite: foreign keys are off while migrations run (env.py)
    with op.batch_alter_table('item_results', schema=None) as batch_op:
        for flag in FLAGS:
            batch_op.drop_column(flag)
