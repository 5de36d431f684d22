"""``ssj init``, the schema on both backends, and the "run ssj init first" rule."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow.persistence.database import make_engine
from workflow.persistence.orm import Base

NOT_READY = "数据库尚未初始化或需要升级，请先运行 ssj init"


def test_init_creates_then_reports_current(ssj):
    first = ssj("init")
    assert first.code == 0 and "数据库已创建" in first.out
    again = ssj("init")
    assert again.code == 0 and "已是最新版本" in again.out


def test_migrations_produce_exactly_the_models(ssj, db_url):
    assert ssj("init").code == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_commands_refuse_an_uninitialised_database(ssj, district, tmp_path, db_url):
    for args in (("import", "departments", district["departments"]), ("campaign", "status", "x"),
                 ("campaign", "create", str(tmp_path / "nothing.toml"))):
        result = ssj(*args)
        assert result.code == 1
        assert result.err.strip() == NOT_READY
    if db_url.startswith("sqlite"):
        assert not (tmp_path / "ssj.db").exists(), "the check must not create the database file"


def test_commands_refuse_a_database_behind_the_product(ssj, db_url, district):
    assert ssj("init").code == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    engine.dispose()
    result = ssj("import", "departments", district["departments"])
    assert (result.code, result.err.strip()) == (1, NOT_READY)


def test_the_schema_check_knows_the_newest_migration():
    """Every command compares the database with ``head_revision`` (read from the migration files' names, not
    from Alembic): a migration whose name and revision disagree would let a command run on a schema behind it."""
    from alembic.script import ScriptDirectory

    from workflow.persistence.database import _alembic_config, head_revision

    scripts = ScriptDirectory.from_config(_alembic_config(None))
    assert head_revision() == scripts.get_current_head()
    for script in scripts.walk_revisions():
        assert script.path.rsplit("/", 1)[-1].startswith(f"{script.revision}_")


def test_the_upgrade_to_0014_counts_the_results_stored_before_it_as_the_product_does(reported, db_url):
    """Results stored before ``item_results`` kept what the statistics table counts get it from their codes and
    handlings: the migration's rules give what ``ItemResult`` gave when the stage's results were recorded."""
    from alembic import command

    from workflow.persistence.database import _alembic_config

    flags = ("SELECT inspection_id, item_code, problem, orders_correction, abnormal, opens_case FROM item_results "
             "ORDER BY inspection_id, item_code")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = [tuple(row) for row in conn.exec_driver_sql(flags)]
    for column in range(2, 6):  # the stage records a result counted and one not counted for each
        assert {bool(row[column]) for row in stored} == {True, False}, column
    config = _alembic_config(engine)
    kept = "SELECT (SELECT count(*) FROM result_codes), (SELECT count(*) FROM result_handlings)"
    with engine.connect() as conn:
        before = tuple(conn.exec_driver_sql(kept).one())
    command.downgrade(config, "0013")
    with engine.connect() as conn:
        assert "problem" not in {c for c in conn.exec_driver_sql("SELECT * FROM item_results").keys()}
    command.upgrade(config, "head")
    with engine.connect() as conn:  # SQLite's downgrade copies item_results: with foreign keys on (not in env.py's
        # migrations) dropping the old table took every code and handling with it
        assert tuple(conn.exec_driver_sql(kept).one()) == before
        assert [tuple(row) for row in conn.exec_driver_sql(flags)] == stored
    engine.dispose()



def test_an_upgrade_that_would_leave_a_row_referring_to_nothing_changes_nothing_and_says_so(ready, db_url):
    """SQLite migrates with foreign keys off (env.py), so every reference is checked before the upgrade commits:
    a result code whose item result is gone stops it whole, in Chinese, with the table named."""
    import sqlite3

    import pytest

    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its foreign keys on while it migrates")
    from alembic import command

    from workflow.persistence.database import _alembic_config

    engine = make_engine(db_url)
    command.downgrade(_alembic_config(engine), "0015")  # one migration left to run
    engine.dispose()
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:  # foreign keys off, as a hand edit would have them
        conn.execute("INSERT INTO result_codes (inspection_id, item_code, code) VALUES (999, 'SJ-01', 'B')")
    result = ready("init", "--simulation")
    assert result.code == 1
    assert "数据库升级未完成，未作任何更改：表 result_codes 有 1 行引用了表 item_results 中不存在的记录" in result.err
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0015",)
