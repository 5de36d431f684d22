"""ssj-draw-v2 parties on a draw (no secret before the run), the written instant of each audit row, the office's
staff directory and the database's own settings (simulation or real, its administrator).

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.alter_column('secret_hex', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('commitment', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('parties', sa.Text(), nullable=True))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('database_settings',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_database_settings'))
    )
    op.create_table('staff',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('os_account', sa.String(length=64), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=254), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_staff')),
    sa.UniqueConstraint('os_account', name=op.f('uq_staff_os_account'))
    )


def downgrade() -> None:
    op.drop_table('staff')
    op.drop_table('database_settings')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('written_at')
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_column('parties')
        batch_op.alter_column('commitment', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('secret_hex', existing_type=sa.String(length=64), nullable=False)
