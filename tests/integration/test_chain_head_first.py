"""The lock order: a command that changes a campaign waits for its chain head before it touches a task.

Issue 14, case 3: the import held the head and waited for a task row a tick held,
the tick waited for the head — a deadlock. Here another transaction holds the
head, a withdrawal is started and left waiting, and the holder then writes the
very task rows the withdrawal will cancel: with the head taken first, the
withdrawal holds none of them yet, so the holder finishes and the withdrawal
follows (before, PostgreSQL ended one of the two with "deadlock detected").
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.conftest import CLERK, draw_campaign
from tests.integration.conftest import CODE
from tests.integration.test_concurrent_ticks import started
from workflow.persistence.database import make_engine


def waiting_for_a_lock(conn, seconds: float = 60) -> bool:
    """Whether another session of this database waits for a lock (polled until it does)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")).scalar()
        conn.rollback()  # the statistics are a snapshot per transaction: a new one for the next look
        if waiting:
            return True
        time.sleep(0.1)
    return False


def test_a_withdrawal_waiting_for_the_chain_head_holds_no_task_row(loaded, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's write transactions are serial (BEGIN IMMEDIATE): there is no order to keep")
    uscc = draw_campaign(loaded)["sampled"][0]
    holder, watcher = make_engine(db_url), make_engine(db_url)
    try:
        with holder.connect() as conn, watcher.connect() as watch:
            conn.execute(text("SELECT last_seq FROM audit_chains WHERE chain = :c FOR UPDATE"), {"c": f"campaign:{CODE}"})
            withdrawal = started(db_url, tmp_path / "files", "2019-11-28T10:00", "withdraw", CODE, uscc,
                                 "--reason", "企业已注销", "--user", CLERK)
            if not waiting_for_a_lock(watch):
                withdrawal.kill()
                pytest.fail(f"the withdrawal did not wait for the head: {withdrawal.communicate()}")
            touched = conn.execute(text("UPDATE tasks SET escalation_level = escalation_level WHERE inspection_id = "
                                        "(SELECT id FROM inspections WHERE uscc = :u)"), {"u": uscc}).rowcount
            assert touched == 7, "the departments' confirmation tasks, which the withdrawal cancels"
            conn.commit()
        out, err = withdrawal.communicate(timeout=120)
    finally:
        holder.dispose()
        watcher.dispose()
    assert withdrawal.returncode == 0, err
    assert f"已撤出企业 {uscc}" in out
    verified = loaded("audit", "verify")
    assert verified.code == 0, verified.out + verified.err
