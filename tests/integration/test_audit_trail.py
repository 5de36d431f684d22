"""The audit trail against a dishonest insider: anchored heads, the tables replayed from the chain, the real clock."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.conftest import CLERK, Parties
from tests.integration.conftest import CODE, confirmed_campaign
from workflow.audit import canonical_json, content_hash
from workflow.persistence.database import make_engine
from workflow.services.inspections import withdraw
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.uow import UnitOfWork

CHAIN = f"campaign:{CODE}"


def sql(db_url: str, statement: str, **params) -> list:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def recount_campaign(db_url: str) -> None:
    from workflow.persistence.counts import recount

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            recount(conn, CODE)
    finally:
        engine.dispose()


def rewrite_consistently(db_url: str, seq: int, change) -> None:
    """What a database administrator can do: change row ``seq``'s payload, then recompute that row's hash, every
    later row's (and its prev_hash) and the head, so every link holds again."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, seq, occurred_at, written_at, actor, action, campaign_code, uscc, "
                                     "from_state, to_state, payload, prev_hash FROM audit_events "
                                     "WHERE chain = :c AND seq >= :s ORDER BY seq"), {"c": CHAIN, "s": seq}).all()
            prev = rows[0].prev_hash
            for r in rows:
                payload = change(r.payload) if r.seq == seq else r.payload

                def aware(value):
                    if value is None:
                        return None
                    if isinstance(value, str):
                        value = datetime.fromisoformat(value)
                    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
                digest = content_hash(CHAIN, r.seq, aware(r.occurred_at), r.actor, r.action, r.campaign_code, r.uscc,
                                      r.from_state, r.to_state, payload, prev, aware(r.written_at))
                conn.execute(text("UPDATE audit_events SET payload = :p, prev_hash = :ph, hash = :h WHERE id = :id"),
                             {"p": payload, "ph": prev, "h": digest, "id": r.id})
                prev = digest
            conn.execute(text("UPDATE audit_chains SET last_hash = :h WHERE chain = :c"), {"h": prev, "c": CHAIN})
    finally:
        engine.dispose()


def published(reported, db_url, tmp_path):
    """The reported campaign with one officer replaced and a specialist added (teams after changes), published."""
    ssj, sampled, teams, done = reported
    other = sampled[5]
    assert ssj("match", "replace", CODE, other, teams["teams"][other][0][0], "--reason", "病假",
               "--now", "2019-12-06T09:00").code == 0
    on_team = {c for c, _ in teams["teams"][other]}
    [specialist] = sql(db_url, "SELECT certificate_no FROM officers o WHERE department_code = 'SJ' AND status = '在岗' "
                               "AND NOT EXISTS (SELECT 1 FROM team_members t JOIN inspections i ON i.id = "
                               "t.inspection_id WHERE i.uscc = :u AND t.certificate_no = o.certificate_no) "
                               "ORDER BY certificate_no LIMIT 1", u=other)
    assert specialist[0] not in on_team
    added = ssj("match", "helper", CODE, other, specialist[0], "--reason", "特种设备检验", "--now", "2019-12-06T10:00")
    assert added.code == 0, added.err
    result = ssj("publish", CODE, "--out", tmp_path / "公示", "--now", "2019-12-16T10:00")
    assert result.code == 0, result.err
    return ssj, done


def test_an_untouched_campaign_through_publication_verifies_clean_and_its_public_files_carry_the_head(
        reported, db_url, tmp_path):
    ssj, done = published(reported, db_url, tmp_path)
    verified = ssj("audit", "verify")
    assert verified.code == 0, verified.out + verified.err
    assert f"抽查任务 {CODE}：" in verified.out and "数据表与审计记录一致" in verified.out
    anchor = ssj("audit", "anchor", "--out", tmp_path / "anchors.txt")
    assert anchor.code == 0, anchor.err
    line = next(x for x in anchor.out.splitlines() if CHAIN in x)
    assert re.fullmatch(rf"审计链 {CHAIN} 第 \d+ 条 [0-9a-f]{{64}}（2019-12-16 10:00）", line), line
    [head] = [h for h in json.loads(ssj("audit", "anchor", "--json").out)["heads"] if h["chain"] == CHAIN]
    assert [(head["seq"], head["hash"])] == sql(db_url, "SELECT last_seq, last_hash FROM audit_chains WHERE chain = :c",
                                                c=CHAIN) and head["line"] == line
    notice = tmp_path / "公示" / f"{CODE}-检查结果公告.html"
    head_file = tmp_path / "公示" / f"{CODE}-审计链头.txt"
    assert f"审计链 {CHAIN} 第 " in notice.read_text(encoding="utf-8")
    assert f"审计链 {CHAIN} 第 " in head_file.read_text(encoding="utf-8")
    checked = ssj("audit", "verify", "--anchors", tmp_path / "anchors.txt", "--anchors", notice,
                  "--anchors", head_file)
    assert checked.code == 0, checked.out + checked.err
    assert "均仍在链中" in checked.out


def test_a_consistent_rewrite_after_an_anchor_is_named_by_chain_and_seq(reported, db_url, tmp_path):
    ssj, sampled, teams, (e0, e1, e2) = reported
    assert ssj("audit", "anchor", "--out", tmp_path / "anchors.txt").code == 0
    [(seq, payload)] = sql(db_url, "SELECT seq, payload FROM audit_events WHERE chain = :c AND action = 'result' "
                                   "AND uscc = :u AND payload LIKE '%\"SJ-01\"%'", c=CHAIN, u=e1)
    assert "B" in json.loads(payload)["codes"]
    # the forged result ("合格", nothing to follow up) in the tables and in the trail alike, every later hash and
    # the head recomputed
    iid = "(SELECT id FROM inspections WHERE uscc = :u AND campaign_code = :c)"
    for table in ("result_codes", "result_handlings"):
        sql(db_url, f"DELETE FROM {table} WHERE item_code = 'SJ-01' AND inspection_id = {iid}", u=e1, c=CODE)
    sql(db_url, f"INSERT INTO result_codes (inspection_id, item_code, code) VALUES ({iid}, 'SJ-01', '1')",
        u=e1, c=CODE)
    sql(db_url, f"UPDATE item_results SET problem = :f, orders_correction = :f, abnormal = :f, opens_case = :f "
                f"WHERE item_code = 'SJ-01' AND inspection_id = {iid}", u=e1, c=CODE, f=False)
    rewrite_consistently(db_url, seq, lambda p: canonical_json({**json.loads(p), "codes": ["1"], "handling": []}))
    counted = ssj("audit", "verify")
    assert counted.code == 1 and "统计数字与数据表不符" in counted.err, "the kept counts still say 应列入异常"
    recount_campaign(db_url)  # and the counts recounted from the forged rows, as an insider who read the code would
    alone = ssj("audit", "verify")
    assert alone.code == 0, "a consistent rewrite passes the chain and the tables: only an anchor catches it"
    caught = ssj("audit", "verify", "--anchors", tmp_path / "anchors.txt")
    assert caught.code == 1
    [line] = [x for x in caught.out.splitlines() if "锚定" in x and "不符" in x and "第" in x and "审计链" in x]
    head_seq = sql(db_url, "SELECT last_seq FROM audit_chains WHERE chain = :c", c=CHAIN)[0][0]
    assert line.startswith(f"审计链 {CHAIN} 第 {head_seq} 条"), line
    assert "审计链被改动" in caught.err


def test_an_anchor_file_naming_no_anchor_is_refused(ready, tmp_path):
    empty = tmp_path / "mail.txt"
    empty.write_text("领导小组办公室：今日无事。\n", encoding="utf-8")
    refused = ready("audit", "verify", "--anchors", empty)
    assert refused.code == 2 and str(empty) in refused.err and "没有审计链锚定行" in refused.err


def _inspection_state(db_url, uscc):
    sql(db_url, "UPDATE inspections SET state = 'published' WHERE uscc = :u AND campaign_code = :c", u=uscc, c=CODE)
    return "inspections", "state"


def _result_codes(db_url, uscc):
    iid = "(SELECT id FROM inspections WHERE uscc = :u AND campaign_code = :c)"
    sql(db_url, f"DELETE FROM result_codes WHERE item_code = 'SJ-01' AND inspection_id = {iid}", u=uscc, c=CODE)
    for code in "AB":
        sql(db_url, f"INSERT INTO result_codes (inspection_id, item_code, code) VALUES ({iid}, 'SJ-01', :x)",
            u=uscc, c=CODE, x=code)
    return "result_codes", "code"


def _counted_as_a_case(db_url, uscc):
    """The statistics table's 立案调查 column moved by its stored flag alone, codes and handlings untouched."""
    sql(db_url, "UPDATE item_results SET opens_case = NOT opens_case WHERE item_code = 'SJ-01' AND inspection_id = "
                "(SELECT id FROM inspections WHERE uscc = :u AND campaign_code = :c)", u=uscc, c=CODE)
    return "item_results", "opens_case"


def _department_answer(db_url, uscc):
    sql(db_url, "UPDATE inspection_departments SET inspects = :f, decline_reason = '不涉及' WHERE department_code = "
                "'SW' AND inspection_id = (SELECT id FROM inspections WHERE uscc = :u AND campaign_code = :c)",
        u=uscc, c=CODE, f=False)
    return "inspection_departments", "inspects"


@pytest.mark.parametrize("edit", [_result_codes, _counted_as_a_case, _inspection_state, _department_answer])
def test_an_edit_in_sql_is_named_by_enterprise_table_and_field(reported, db_url, edit):
    ssj, sampled, teams, (e0, e1, e2) = reported
    table, field = edit(db_url, e2)
    [(name,)] = sql(db_url, "SELECT name FROM enterprises WHERE uscc = :u", u=e2)
    verified = ssj("audit", "verify")
    assert verified.code == 1, verified.out
    named = [x for x in verified.out.splitlines() if f"企业 {e2}（{name}）" in x]
    assert any(f"表 {table} 字段 {field}" in x for x in named), verified.out
    assert "数据表与审计记录不符" in verified.err


@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_written_instants_going_backwards_are_reported(reported, db_url):
    ssj, sampled, teams, done = reported
    set_back = datetime.now(timezone.utc) - timedelta(days=30)  # the machine's clock set back a month
    engine = make_engine(db_url)
    try:
        uow = UnitOfWork(engine, now=datetime(2019, 12, 12, 9, tzinfo=ZoneInfo("Asia/Shanghai")), actor=CLERK,
                         campaign=CODE, clock=lambda: set_back)
        withdraw(uow, sampled[4], reason="企业已迁出")
    finally:
        engine.dispose()
    [(seq,)] = sql(db_url, "SELECT seq FROM audit_events WHERE chain = :c AND action = 'withdraw' AND uscc = :u",
                   c=CHAIN, u=sampled[4])
    verified = ssj("audit", "verify")
    assert verified.code == 1
    assert any(x.startswith(f"审计链 {CHAIN} 第 {seq} 条") and "写入时刻倒退" in x for x in verified.out.splitlines())


def test_the_written_instant_is_the_machines_clock_beside_the_claimed_one(reported, db_url):
    ssj, sampled, teams, done = reported
    before = datetime.now(timezone.utc)
    assert ssj("withdraw", CODE, sampled[4], "--reason", "企业已迁出", "--now", "2019-12-12T09:00").code == 0
    after = datetime.now(timezone.utc)
    [(occurred, written)] = sql(db_url, "SELECT occurred_at, written_at FROM audit_events WHERE chain = :c AND "
                                        "action = 'withdraw' AND uscc = :u", c=CHAIN, u=sampled[4])

    def utc(value) -> datetime:
        value = datetime.fromisoformat(str(value))
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    assert utc(occurred) == datetime(2019, 12, 12, 1, tzinfo=timezone.utc), "the instant the act claims (--now)"
    assert before <= utc(written) <= after, "the machine's clock when the row was written"


@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_the_daily_report_and_the_pending_publication_mails_carry_a_head_verify_accepts(
        loaded, db_url, smtp_server, tmp_path):
    inbox, _ = smtp_server
    confirmed_campaign(loaded, tmp_path)
    committed = loaded("match", "commit", CODE, *Parties.fresh().commitments(), "--now", "2019-11-28T15:30")
    assert committed.code == 0, committed.err
    assert loaded("tick", CODE, "--now", "2019-11-28T15:31").code == 0
    pending = [m for _, m in inbox.messages if str(m["Subject"]).startswith("【待公布】")]
    assert pending, inbox.subjects()
    engine = make_engine(db_url)
    try:
        office = UnitOfWork(engine, now=datetime(2019, 11, 29, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
                            actor="system", campaign=CODE)
        prepare_daily_overdue_report(office, tmp_path / "报表")
    finally:
        engine.dispose()
    assert loaded("tick", CODE, "--now", "2019-11-29T08:31").code == 0
    reports = [m for _, m in inbox.messages if str(m["Subject"]).startswith("【逾期报告】")]
    assert reports, inbox.subjects()
    for n, message in enumerate([pending[0], reports[0]]):
        saved = tmp_path / f"mail-{n}.eml"
        saved.write_bytes(message.as_bytes())  # as a mail client saves it (the body base64-encoded)
        assert f"审计链 {CHAIN} 第 " in message.get_body(("plain",)).get_content()
        checked = loaded("audit", "verify", "--anchors", saved)
        assert checked.code == 0 and "均仍在链中" in checked.out, checked.out + checked.err
