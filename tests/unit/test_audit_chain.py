"""The hash chain: sealing, and what verification catches (in memory; the database tests do it in SQL)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from workflow.audit import GENESIS, Anchor, Entry, anchor_line, parse_anchors, seal_all, verify_chain

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


# --- written instants, the hash framing before and after schema 0007, anchors --------------------------------

W0 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)


def written_chain(instants):
    """One row per written instant, each sealed as the audit log seals it (its machine clock)."""
    rows, prev = [], GENESIS
    for n, at in enumerate(instants):
        [row] = seal_all("campaign:LQ", n, prev, [Entry("answer", "clerk@office.luquan.example", T0, "LQ", f"U{n}")],
                         at)
        rows.append(row)
        prev = row.hash
    return rows, (rows[-1].seq, rows[-1].hash)


def test_a_row_with_a_written_instant_hashes_it_and_an_old_row_keeps_the_old_formula():
    old, _ = chain(1)
    new, head = written_chain([W0])
    assert old[0].written_at is None and new[0].written_at == W0
    framed = ("11:campaign:LQ;1:1;27:2019-11-27T01:00:00.000000Z;27:clerk@office.luquan.example;6:answer;2:LQ;"
              f"2:U0;-;-;2:{{}};64:{GENESIS};27:2026-11-30T03:00:00.000000Z;")
    assert new[0].hash == hashlib.sha256(framed.encode("utf-8")).hexdigest()
    assert verify_chain("campaign:LQ", new, head).ok
    assert verify_chain("campaign:LQ", new[:0] + [new[0]._replace(written_at=W0 + timedelta(seconds=1))], head
                        ).problem.endswith("记录被修改或伪造")
    mixed = old + [seal_all("campaign:LQ", 1, old[0].hash, [Entry("answer", "x@y.example", T0, "LQ")], W0)[0]]
    assert verify_chain("campaign:LQ", mixed, (2, mixed[-1].hash)).ok, "rows before 0007, then rows after it"


def test_written_instants_going_backwards_are_each_named():
    rows, head = written_chain([W0, W0 + timedelta(minutes=5), W0 + timedelta(minutes=1), W0 + timedelta(minutes=6)])
    report = verify_chain("campaign:LQ", rows, head)
    assert report.problems == ("审计链 campaign:LQ 第 3 条（id=None）：写入时刻 2026-11-30 11:01:00 早于第 2 条的 "
                               "2026-11-30 11:05:00：写入时刻倒退（系统时钟被回拨，或记录被改动）",)


def test_a_written_instant_dropped_after_one_was_kept_is_named():
    rows, _ = written_chain([W0, W0])
    [last] = seal_all("campaign:LQ", 2, rows[-1].hash, [Entry("answer", "x@y.example", T0, "LQ")])
    report = verify_chain("campaign:LQ", rows + [last], (3, last.hash))
    assert "第 3 条" in report.problem and "没有写入时刻" in report.problem


def test_anchor_lines_are_found_in_any_text_and_checked_against_the_chain():
    rows, head = written_chain([W0, W0, W0])
    line = anchor_line("campaign:LQ", 2, rows[1].hash, T0)
    assert line == f"审计链 campaign:LQ 第 2 条 {rows[1].hash}（2019-11-27 09:00）"
    mail = f"领导小组办公室：\n\n审计链头（请留存）：\n{line}\n另：审计链 directories 第 7 条 {'A' * 64}\n"
    assert parse_anchors(mail) == [Anchor("campaign:LQ", 2, rows[1].hash), Anchor("directories", 7, "a" * 64)]
    assert verify_chain("campaign:LQ", rows, head, {2: {rows[1].hash}}).ok
    rewritten = verify_chain("campaign:LQ", rows, head, {2: {"f" * 64}})
    assert rewritten.problem.startswith("审计链 campaign:LQ 第 2 条") and "锚定" in rewritten.problem
    gone = verify_chain("campaign:LQ", rows, head, {9: {"f" * 64}})
    assert gone.problem.startswith("审计链 campaign:LQ 第 9 条") and "不存在" in gone.problem
