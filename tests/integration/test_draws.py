"""``ssj draw``: eligibility, commit, the public run (= dispatch), idempotency, redraws, verify, tampering."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from sqlalchemy import select, text

from tests.conftest import EXAMPLE_CAMPAIGN, snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.uscc import make

CODE = "luquan-2019-h2"
COMMIT_AT = "2019-11-27T08:30"
RUN_AT = "2019-11-27T09:00"
SECRET = "5a" * 32
WITNESS = "见证人：鹿泉区人大代表 王某，2019-11-27 09:00，骰子 3-6-1"


def enterprise(uscc, category="内资企业", capital="600", established="2010-05-01", status="存续", risk="A"):
    return [uscc, f"测试企业{uscc[-6:]}", category, "有限责任公司", capital, established, status, "鹿泉区",
            "石家庄市鹿泉区", "张三", "0311-1234567", "制造业", risk]


HEADER = ["统一社会信用代码", "企业名称", "主体类别", "企业类型", "注册资本（万元）", "成立日期", "登记状态", "所属区域",
          "住所", "法定代表人", "联系电话", "行业", "信用风险分类"]


@pytest.fixture
def edges(ready, district, tmp_path):
    """A directory made of eligibility edge cases (draw date 2019-11-27)."""
    for kind in ("departments", "items", "officers"):
        assert ready("import", kind, district[kind]).code == 0
    u = [make("91", "130110", f"{n:08d}") for n in range(1, 11)]
    rows = {
        "capital exactly 500": enterprise(u[0], capital="500"),
        "capital exactly 1000": enterprise(u[1], capital="1000"),
        "established on the draw date": enterprise(u[2], established="2019-11-27"),
        "在业": enterprise(u[3], status="在业"),
        "capital 499.99": enterprise(u[4], capital="499.99"),
        "capital 1000.01": enterprise(u[5], capital="1000.01"),
        "established the day after": enterprise(u[6], established="2019-11-28"),
        "吊销": enterprise(u[7], status="吊销"),
        "注销": enterprise(u[8], status="注销"),
        "外资": enterprise(u[9], category="外资企业"),
    }
    path = tmp_path / "enterprises.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows.values()])
    assert ready("import", "enterprises", path).code == 0
    assert ready("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    return ready, sorted(u[:4])


def test_eligibility_edges(edges, db_url, tmp_path):
    ssj, eligible = edges
    committed = ssj("draw", "commit", CODE, "--secret", SECRET, "--now", COMMIT_AT, "--json")
    assert committed.code == 0, committed.err
    doc = json.loads(committed.out)
    assert doc["eligible"] == 4
    assert doc["commitment"] == hashlib.sha256(bytes.fromhex(SECRET)).hexdigest()
    assert ssj("draw", "snapshot", CODE, "--out", tmp_path / "snap.txt").code == 0
    data = (tmp_path / "snap.txt").read_bytes()
    assert data == "\n".join(eligible).encode("utf-8"), "the exact bytes hashed: sorted, no trailing newline"
    assert hashlib.sha256(data).hexdigest() == doc["snapshot_sha256"]


@pytest.fixture
def committed(loaded):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    result = loaded("draw", "commit", CODE, "--secret", SECRET, "--now", COMMIT_AT)
    assert result.code == 0, result.err
    return loaded


def test_the_public_draw_prints_exactly_the_documented_keys_and_dispatches(committed, db_url):
    result = committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT, "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert list(doc) == ["campaign", "algorithm", "eligible", "sample_size", "snapshot_sha256", "commitment",
                         "secret", "witness", "seed", "sampled"]
    assert doc["algorithm"] == "ssj-draw-v1" and doc["witness"] == WITNESS and doc["secret"] == SECRET
    assert doc["seed"] == hashlib.sha256(f"{SECRET}\n{WITNESS}\n{doc['snapshot_sha256']}".encode()).hexdigest()
    assert doc["sample_size"] == len(doc["sampled"]) == -(-doc["eligible"] // 100), "1%, rounded up"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(orm.InspectionRow.uscc, orm.InspectionRow.state)).all()
        tasks = conn.execute(select(orm.TaskRow.kind)).scalars().all()
        witness = conn.execute(select(orm.DrawRow.witness)).scalar_one()
    engine.dispose()
    assert sorted(u for u, _ in rows) == sorted(doc["sampled"]) and {s for _, s in rows} == {"sampled"}
    assert sorted(tasks) == sorted(["confirm"] * (7 * len(rows)) + ["confirmation_report"] * 7 + ["summary"] * 7), \
        "one confirmation per department and enterprise; each department's stamped report and summary"
    assert witness == WITNESS
    status = json.loads(committed("campaign", "status", CODE, "--json").out)
    assert status["inspections"]["sampled"] == doc["sample_size"]


def test_running_again_changes_nothing_and_a_different_witness_is_ignored_and_audited(committed, db_url):
    first = committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT, "--json")
    before = snapshot(db_url)
    same = committed("draw", "run", CODE, "--witness", WITNESS, "--now", "2019-11-27T10:00", "--json")
    assert same.code == 0 and same.out == first.out and same.err == ""
    assert snapshot(db_url) == before
    other = committed("draw", "run", CODE, "--witness", "另一段文本", "--now", "2019-11-27T10:05", "--json")
    assert other.code == 0 and json.loads(other.out) == json.loads(first.out)
    assert "见证文本与记录不同，已忽略" in other.err
    after = snapshot(db_url)
    assert {k: v for k, v in after.items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
    assert len(after["audit_events"]) == len(before["audit_events"]) + 1


def test_a_second_commit_is_refused_and_a_redraw_opens_a_new_round(committed, db_url):
    again = committed("draw", "commit", CODE, "--now", COMMIT_AT)
    assert again.code == 2 and "已提交抽取承诺" in again.err and "--redraw" in again.err
    no_reason = committed("draw", "commit", CODE, "--redraw", "--now", COMMIT_AT)
    assert no_reason.code == 2 and "--reason" in no_reason.err
    redrawn = committed("draw", "commit", CODE, "--redraw", "--reason", "名录导出有误，已更正", "--now",
                        "2019-11-27T08:45", "--json")
    assert redrawn.code == 0, redrawn.err
    assert json.loads(redrawn.out)["round"] == 2
    status = json.loads(committed("campaign", "status", CODE, "--json").out)
    assert status["draw"]["round"] == 2 and status["draw"]["redraws"] == [
        {"round": 2, "reason": "名录导出有误，已更正", "at": "2019-11-27T08:45:00+08:00"}]
    text_status = committed("campaign", "status", CODE)
    assert "重新抽取" in text_status.out and "名录导出有误" in text_status.out
    assert committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT).code == 0
    after_run = committed("draw", "commit", CODE, "--redraw", "--reason", "想换一批", "--now", "2019-11-27T10:00")
    assert after_run.code == 2 and "不能重新抽取" in after_run.err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        actions = conn.execute(select(orm.AuditEvent.action).where(orm.AuditEvent.action.like("draw%"))).scalars().all()
        refused = conn.execute(select(orm.AuditEvent.payload).where(orm.AuditEvent.action == "refused")).scalars().all()
    engine.dispose()
    assert actions == ["draw_commit", "draw_commit", "draw_run"]
    assert len(refused) == 2 and all('"draw_commit"' in p for p in refused), "usage errors are not audited"


def test_secret_must_be_64_hex_digits(loaded, db_url):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN).code == 0
    before = snapshot(db_url)
    bad = loaded("draw", "commit", CODE, "--secret", "abc")
    assert bad.code == 2 and "64 位十六进制" in bad.err
    assert snapshot(db_url) == before


def test_no_eligible_enterprise_records_nothing(ready, district, db_url):
    for kind in ("departments", "items", "officers"):
        assert ready("import", kind, district[kind]).code == 0
    assert ready("campaign", "create", EXAMPLE_CAMPAIGN).code == 0
    before = snapshot(db_url)
    result = ready("draw", "commit", CODE, "--now", COMMIT_AT)
    assert result.code == 2 and "没有符合抽取条件的企业" in result.err
    assert {k: v for k, v in snapshot(db_url).items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
    assert ready("draw", "run", CODE, "--witness", "x").code == 2


def test_later_directory_updates_do_not_change_a_past_draw(committed, district, tmp_path):
    assert committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT).code == 0
    assert committed("import", "enterprises", district["enterprises"], "--full").code == 0
    lines = district["enterprises"].read_text(encoding="utf-8-sig").splitlines()
    (tmp_path / "fewer.csv").write_text("\n".join(lines[:100]), encoding="utf-8")
    assert committed("import", "enterprises", tmp_path / "fewer.csv", "--full").code == 0
    verified = committed("draw", "verify", CODE)
    assert verified.code == 0 and verified.out.strip().endswith("一致")


TAMPERING = {
    "快照": "UPDATE draws SET snapshot = snapshot || char(10) || '91130110MA0000000X'",
    "密钥": "UPDATE draws SET secret_hex = '" + "6b" * 32 + "'",
    "见证": "UPDATE draws SET witness = '见证人：另一人'",
    "抽取结果": "UPDATE draws SET result = replace(result, '\"sample_size\"', '\"sample_size\"')",
    "检查对象": "UPDATE inspections SET uscc = (SELECT uscc FROM enterprises WHERE uscc NOT IN "
               "(SELECT uscc FROM inspections) LIMIT 1) WHERE id = (SELECT min(id) FROM inspections)",
}


@pytest.mark.parametrize("what", TAMPERING)
def test_verify_names_what_was_tampered_with(committed, db_url, what):
    assert committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT).code == 0
    assert committed("draw", "verify", CODE).code == 0
    statement = TAMPERING[what]
    if what == "抽取结果":  # drop the first sampled USCC from the stored result
        engine = make_engine(db_url)
        with engine.begin() as conn:
            stored = json.loads(conn.execute(text("SELECT result FROM draws")).scalar())
            stored["sampled"] = stored["sampled"][1:] + ["91130110MA0000000X"]
            conn.execute(text("UPDATE draws SET result = :r"), {"r": json.dumps(stored)})
        engine.dispose()
    else:
        if db_url.startswith("postgresql"):
            statement = statement.replace("char(10)", "chr(10)")
        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()
    result = committed("draw", "verify", CODE)
    assert result.code == 1
    assert result.out.strip().splitlines()[-1].startswith("不一致：") and what in result.out.splitlines()[-1]
    assert f"{what}：不一致" in result.out


def test_the_readme_verifier_re_derives_the_draw(committed, tmp_path):
    """README promises a draw can be checked in ~20 lines: run exactly those lines."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    script = re.search(r"```python\n(import hashlib, hmac, sys.*?)```", readme, re.S).group(1)
    assert len(script.strip().splitlines()) <= 20
    (tmp_path / "verify.py").write_text(script, encoding="utf-8")
    doc = json.loads(committed("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT, "--json").out)
    assert committed("draw", "snapshot", CODE, "--out", tmp_path / "snapshot.txt").code == 0
    result = subprocess.run([sys.executable, tmp_path / "verify.py", tmp_path / "snapshot.txt", doc["secret"],
                             doc["witness"], doc["commitment"]], capture_output=True, text=True, check=True)
    assert result.stdout.split() == doc["sampled"]
