"""The counts the statistics table, the summary and the board read (``campaign_counts``): kept by the writes,
recounted when a write did not keep them, and a count changed by hand named by ``ssj audit verify``."""

from __future__ import annotations

import csv

from sqlalchemy import text

from tests.integration.conftest import CODE
from workflow.persistence import counts as counts_module
from workflow.persistence.counts import stored, tally
from workflow.persistence.database import make_engine
from workflow.persistence.inspections import InspectionRepository


def _counts(db_url: str):
    """(the kept counts or None, a recount) of the campaign."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return stored(conn, CODE), tally(conn, code=CODE)[CODE]
    finally:
        engine.dispose()


def _table(ssj, path) -> dict[str, dict[str, str]]:
    """``ssj report stats`` as CSV: per row label (合计, a department's name), its columns."""
    result = ssj("report", "stats", CODE, "--out", path)
    assert result.code == 0, result.err
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    at = next(n for n, r in enumerate(rows) if "随机抽查企业（户）" in r)
    return {r[0]: dict(zip(rows[at], r)) for r in rows[at + 1:] if r and r[0]}


def _total_row(ssj, path) -> dict[str, str]:
    return _table(ssj, path)["合计"]


def test_a_count_changed_by_hand_is_named_by_audit_verify(reported, db_url, tmp_path):
    ssj, sampled, teams, done = reported
    kept, recounted = _counts(db_url)
    assert kept == recounted
    before = _total_row(ssj, tmp_path / "before.csv")
    engine = make_engine(db_url)
    with engine.begin() as conn:  # an insider adds two 立案 to the office's figures, and nothing else
        changed = conn.execute(text("UPDATE campaign_counts SET n = n + 2 WHERE campaign_code = :c AND "
                                    "name = 'case_opened' AND department_code = ''"), {"c": CODE}).rowcount
    engine.dispose()
    assert changed == 1, "the seed results open a case: the count is stored"
    after = _total_row(ssj, tmp_path / "after.csv")
    assert int(after["涉嫌违法立案调查（户）"]) == int(before["涉嫌违法立案调查（户）"]) + 2, "the table reads the kept count"
    verified = ssj("audit", "verify")
    assert verified.code == 1, verified.out
    n = int(before["涉嫌违法立案调查（户）"])
    assert f"统计数字 全部 涉嫌违法立案调查（户）：保存为 {n + 2}，按数据表重算为 {n}" in verified.out, verified.out
    assert "统计数字与数据表不符" in verified.err and "审计记录不符" not in verified.err


def test_a_write_without_a_unit_of_work_is_recounted_not_trusted(reported, db_url, tmp_path):
    ssj, sampled, teams, (e0, e1, e2) = reported
    engine = make_engine(db_url)
    with engine.connect() as conn:
        sw_name = conn.execute(text("SELECT name FROM departments WHERE code = 'SW'")).scalar_one()
    before = _table(ssj, tmp_path / "before.csv")[sw_name]
    with engine.begin() as conn:  # a repository used on its own (a script, a repair): SW no longer inspects e0
        iid = conn.execute(text("SELECT id FROM inspections WHERE uscc = :u AND campaign_code = :c"),
                           {"u": e0, "c": CODE}).scalar_one()
        assert InspectionRepository(conn).record_answer(iid, "SW", False, "不涉及", now=None, actor="script",
                                                        on_behalf=False)
    engine.dispose()
    kept, recounted = _counts(db_url)
    assert kept is None, "the campaign's counts are marked not current, never left wrong"
    read = _table(ssj, tmp_path / "read.csv")[sw_name]  # read by a recount meanwhile
    assert int(read["随机抽查企业（户）"]) == int(before["随机抽查企业（户）"]) - 1
    engine = make_engine(db_url)
    with engine.connect() as conn:
        sw = conn.execute(text("SELECT n FROM campaign_counts WHERE campaign_code = :c AND name = 'enterprises' "
                               "AND department_code = 'SW'"), {"c": CODE}).all()
    engine.dispose()
    assert sw == [(int(before["随机抽查企业（户）"]),)], "the stale count stays as it was until recounted"
    assert ssj("tick", CODE, "--no-mail", "--now", "2019-12-12T10:00").code in (0, 1)
    kept, recounted = _counts(db_url)
    assert kept is not None and kept == recounted, "the tick recounted them"
    assert kept[("enterprises", "SW", "")] == recounted[("enterprises", "SW", "")]
    verified = ssj("audit", "verify")  # the answer itself is not in the trail: named, the counts are not
    assert verified.code == 1 and "字段 inspects（SW）" in verified.out and "统计数字" not in verified.out


def test_a_large_transaction_recounts_and_a_small_one_adds(reported, db_url, monkeypatch):
    ssj, sampled, teams, done = reported
    first, second = sampled[4:6]  # still 已分派
    monkeypatch.setattr(counts_module, "LARGE", 0)  # every transaction "large": the recount path
    assert ssj("withdraw", CODE, first, "--reason", "企业已注销", "--now", "2019-12-12T09:00").code == 0
    kept, recounted = _counts(db_url)
    assert kept == recounted and kept[("state", "", "withdrawn")] == 2
    monkeypatch.setattr(counts_module, "LARGE", 5_000)
    assert ssj("withdraw", CODE, second, "--reason", "企业已注销", "--now", "2019-12-12T09:30").code == 0
    kept, recounted = _counts(db_url)
    assert kept == recounted and kept[("state", "", "withdrawn")] == 3
    assert kept[("enterprises", "SJ", "")] == len(sampled) - 3, "SJ inspects every enterprise not withdrawn"


def test_moves_are_added_as_state_counts_and_a_publication_without_a_read(reported, db_url, tmp_path):
    """A move forward changes the state counts only: added from the moves themselves — the departments' share read
    for a few, taken from the kept counts for a publication of every 已回填 enterprise — and equal to a recount."""
    ssj, sampled, teams, done = reported
    kept, _ = _counts(db_url)
    published = ssj("publish", CODE, "--out", tmp_path / "公示", "--now", "2019-12-16T10:00")
    assert published.code == 0, published.err
    after, recounted = _counts(db_url)
    assert after == recounted
    assert after[("state", "", "published")] == kept[("state", "", "reported")] == len(done)
    assert after[("state", "SJ", "published")] == kept[("state", "SJ", "reported")]
    assert after[("reached", "", "published 2019-12-16")] == len(done), "the day it was reached, in Beijing"
    assert ("state", "SJ", "reported") not in after, "nothing left 已回填"


def test_a_move_in_a_block_that_failed_is_not_counted(reported, db_url):
    """A handler's inner block (a savepoint) that moved an enterprise and then failed is undone in the database;
    its move is not added to the counts either, while the outer transaction commits the rest."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.conftest import CLERK
    from workflow.machine import PUBLISH
    from workflow.services.uow import UnitOfWork

    ssj, sampled, teams, done = reported
    kept, _ = _counts(db_url)
    engine = make_engine(db_url)
    uow = UnitOfWork(engine, now=datetime(2019, 12, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai")), actor=CLERK,
                     campaign=CODE)
    with uow:
        first, second = (uow.inspections.get(CODE, uscc) for uscc in done[:2])
        try:
            with uow:
                uow.move(first, PUBLISH)
                raise RuntimeError("the block's next step failed")
        except RuntimeError:
            pass
        uow.move(second, PUBLISH)
    engine.dispose()
    after, recounted = _counts(db_url)
    assert after == recounted, "the failed block's move is not counted"
    assert after[("state", "", "published")] == 1 and after[("state", "", "reported")] == kept[("state", "", "reported")] - 1
