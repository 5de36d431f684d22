"""Alembic environment: run with the engine the product hands over.

On SQLite, foreign keys are off while the migrations run: batch mode changes a table by copying it and dropping
the old one, and with foreign keys on, dropping ``inspections`` or ``item_results`` deletes every row that refers
to them (``ON DELETE CASCADE``). Every reference is checked (``PRAGMA foreign_key_check``) before the upgrade
commits, and foreign keys are on again after it."""

from alembic import context

from workflow.errors import CannotComplete
from workflow.persistence.orm import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection  # outside any transaction: the pragma is a no-op inside one
    if sqlite:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
            if broken:  # rolled back whole: the database stays as it was
                table, rowid, parent, _ = broken[0]
                raise CannotComplete(f"数据库升级未完成，未作任何更改：表 {table} 有 {len(broken)} 行引用了表 {parent} 中"
                                     f"不存在的记录（第一行 rowid {rowid}）；请把数据库文件交给维护人员检查")
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")
