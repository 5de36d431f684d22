"""The hash chain: sealing, and what verification catches (in memory; the database tests do it in SQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from workflow.audit import GENESIS, Entry, seal_all, verify_chain

T0 = datetime(2019, 11, 27, 1, 0, tzinfo=timezone.utc)


def chain(n: int = 5):
    entries = [Entry("answer", "clerk@office.luquan.example", T0 + timedelta(minutes=i), "LQ", f"U{i}",
                     payload={"department": "SW", "inspects": i % 2 == 0, "备注": "代为确认"}) for i in range(n)]
    rows = seal_all("campaign:LQ", 0, GENESIS, entries)
    return rows, (rows[-1].seq, rows[-1].hash)


def test_an_untouched_chain_verifies():
    rows, head = chain()
    report = verify_chain("campaign:LQ", rows, head)
    assert report.ok and report.rows == 5 and report.head_hash == rows[-1].hash
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5] and rows[0].prev_hash == GENESIS


def test_the_hash_depends_on_every_field_and_on_the_past():
    rows, _ = chain(2)
    other = seal_all("campaign:LQ", 0, GENESIS, [Entry("answer", "clerk@office.luquan.example", T0, "LQ", "U0",
                                                       payload={"department": "SW", "inspects": False,
                                                                "备注": "代为确认"})])
    assert other[0].hash != rows[0].hash


def test_an_edited_row_is_named():
    rows, head = chain()
    rows[2] = rows[2]._replace(actor="someone@else.example")
    report = verify_chain("campaign:LQ", rows, head)
    assert not report.ok and "第 3 条" in report.problem and "记录被修改" in report.problem


def test_a_deleted_row_is_named():
    rows, head = chain()
    del rows[1]
    report = verify_chain("campaign:LQ", rows, head)
    assert "序号应为 2，实际为 3" in report.problem


def test_a_deleted_last_row_is_caught_by_the_head():
    rows, head = chain()
    report = verify_chain("campaign:LQ", rows[:-1], head)
    assert not report.ok and "末尾的记录被删除或追加" in report.problem


def test_a_swapped_pair_is_named():
    rows, head = chain()
    a, b = rows[1], rows[2]
    rows[1], rows[2] = b._replace(seq=2), a._replace(seq=3)
    report = verify_chain("campaign:LQ", rows, head)
    assert "第 2 条" in report.problem


def test_an_instant_moved_by_a_microsecond_is_caught():
    rows, head = chain()
    rows[4] = rows[4]._replace(at=rows[4].at + timedelta(microseconds=1))
    assert "记录被修改" in verify_chain("campaign:LQ", rows, head).problem
