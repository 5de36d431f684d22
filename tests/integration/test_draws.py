"""``ssj draw`` (ssj-draw-v2): the parties' secrets, commit, the public run (= dispatch), postponement, idempotency,
redraws, verify, tampering, the grinding attack; v1 rounds still verify."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.conftest import EXAMPLE_CAMPAIGN, Parties, draw_parties, rows, snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.uscc import make

CODE = "luquan-2019-h2"
COMMIT_AT = "2019-11-27T08:30"
RUN_AT = "2019-11-27T09:00"
WITNESS = "见证人：鹿泉区人大代表 王某，2019-11-27 09:00，骰子 3-6-1"
STORED_WITNESS = "见证人:鹿泉区人大代表 王某,2019-11-27 09:00,骰子 3-6-1"  # NFKC: full-width ：， are : and ,
OFFICE, GROUP = draw_parties()  # 区市场监管局, 区纪委监委派驻纪检监察组 (the example campaign's order)


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
    parties = Parties.fixed()
    committed = ssj("draw", "commit", CODE, *parties.commitments(), "--now", COMMIT_AT, "--json")
    assert committed.code == 0, committed.err
    doc = json.loads(committed.out)
    assert doc["eligible"] == 4 and doc["algorithm"] == "ssj-draw-v2"
    assert doc["parties"] == [{"party": p, "commitment": hashlib.sha256(bytes.fromhex(s["secret"])).hexdigest()}
                              for p, s in parties.secrets.items()]
    assert ssj("draw", "snapshot", CODE, "--out", tmp_path / "snap.txt").code == 0
    data = (tmp_path / "snap.txt").read_bytes()
    assert data == "\n".join(eligible).encode("utf-8"), "the exact bytes hashed: sorted, no trailing newline"
    assert hashlib.sha256(data).hexdigest() == doc["snapshot_sha256"]


def test_a_party_draws_its_secret_without_any_database(ssj, db_url):
    """``ssj draw secret`` runs on a party's own device: here against a database that does not even exist."""
    docs = []
    for _ in range(2):
        result = ssj("draw", "secret", "--json")
        assert result.code == 0, result.err
        docs.append(json.loads(result.out))
    for doc in docs:
        assert set(doc) == {"secret", "commitment"}
        assert re.fullmatch("[0-9a-f]{64}", doc["secret"]) and re.fullmatch("[0-9a-f]{64}", doc["commitment"])
        assert doc["commitment"] == hashlib.sha256(bytes.fromhex(doc["secret"])).hexdigest(), "of the 32 bytes"
    assert docs[0]["secret"] != docs[1]["secret"], "fresh each time"
    shown = ssj("draw", "secret")
    assert shown.code == 0 and "不要交给任何人" in shown.out and "交给办公室" in shown.out
    assert len(re.findall(r"\b[0-9a-f]{64}\b", shown.out)) == 2
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists(), "no database touched"


@pytest.fixture
def committed(loaded):
    """The seed campaign with every party's commitment recorded (each secret drawn by ``ssj draw secret``)."""
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    parties = Parties.drawn(loaded)
    result = loaded("draw", "commit", CODE, *parties.commitments(), "--now", COMMIT_AT)
    assert result.code == 0, result.err
    return loaded, parties


def hex_runs(value) -> list[bytes]:
    """Every way a stored value could carry a secret: its text, and each run of 64 hex digits in it, as bytes."""
    if value is None:
        return []
    if isinstance(value, (bytes, memoryview)):
        raw = bytes(value)
        return [raw, *hex_runs(raw.decode("utf-8", "replace"))]
    text_ = value if isinstance(value, str) else json.dumps(value, default=str) if isinstance(value, (dict, list)) \
        else str(value)
    found = [text_.encode("utf-8")]
    for run in re.findall(r"(?=([0-9a-fA-F]{64}))", text_):  # overlapping: a secret may sit inside a longer run
        found += [bytes.fromhex(run), run.encode(), run.lower().encode()]
    return found


def commitment_preimages(url: str, commitments: set[str]) -> list[tuple[str, object]]:
    """(table, value) of every stored value that hashes to a recorded commitment: what a grinder needs."""
    return [(table, value) for table, rows_ in snapshot(url).items() for row in rows_ for value in row
            if any(hashlib.sha256(candidate).hexdigest() in commitments for candidate in hex_runs(value))]


def test_after_the_commit_no_stored_value_opens_a_commitment(committed, db_url):
    """The grinding attack of issue 16: read every value of every table after ``draw commit``; none is a secret
    (as bytes or as text), so nobody holding the database can compute the sample before the public draw."""
    ssj, parties = committed
    commitments = {s["commitment"] for s in parties.secrets.values()}
    everything = snapshot(db_url)
    assert sum(len(r) for r in everything.values()) > 2000, "the directory and the draw are really there"
    stored = json.dumps(everything, default=str, ensure_ascii=False)
    assert all(c in stored for c in commitments), "the commitments are recorded"
    assert not any(s["secret"] in stored.lower() for s in parties.secrets.values())
    assert commitment_preimages(db_url, commitments) == []
    draws = json.loads(rows(db_url, select(orm.DrawRow.parties))[0][0])
    assert draws == [{"party": p, "commitment": s["commitment"], "secret": None} for p, s in parties.secrets.items()]
    assert rows(db_url, select(orm.DrawRow.secret_hex, orm.DrawRow.commitment, orm.DrawRow.algorithm)) == [
        (None, None, "ssj-draw-v2")]


def test_the_public_draw_prints_exactly_the_documented_keys_and_dispatches(committed, db_url):
    ssj, parties = committed
    result = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT, "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert list(doc) == ["campaign", "algorithm", "eligible", "sample_size", "snapshot_sha256", "parties",
                         "witness", "seed", "sampled"]
    assert doc["algorithm"] == "ssj-draw-v2" and doc["witness"] == STORED_WITNESS
    assert doc["parties"] == [{"party": p, "commitment": s["commitment"], "secret": s["secret"]}
                              for p, s in parties.secrets.items()]
    secrets = [s["secret"] for s in parties.secrets.values()]
    assert doc["seed"] == hashlib.sha256((f"ssj-draw-v2\n{doc['snapshot_sha256']}\n{OFFICE}={secrets[0]}\n"
                                          f"{GROUP}={secrets[1]}\n{STORED_WITNESS}").encode()).hexdigest()
    assert doc["sample_size"] == len(doc["sampled"]) == -(-doc["eligible"] // 100), "1%, rounded up"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        inspections = conn.execute(select(orm.InspectionRow.uscc, orm.InspectionRow.state)).all()
        tasks = conn.execute(select(orm.TaskRow.kind)).scalars().all()
        witness, stored = conn.execute(select(orm.DrawRow.witness, orm.DrawRow.parties)).one()
    engine.dispose()
    assert sorted(u for u, _ in inspections) == sorted(doc["sampled"]) and {s for _, s in inspections} == {"sampled"}
    assert sorted(tasks) == sorted(["confirm"] * (7 * len(inspections)) + ["confirmation_report"] * 7
                                   + ["summary"] * 7), \
        "one confirmation per department and enterprise; each department's stamped report and summary"
    assert witness == STORED_WITNESS and json.loads(stored) == doc["parties"], "the revealed secrets kept after the run"
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)
    assert status["inspections"]["sampled"] == doc["sample_size"]
    assert status["draw"]["eligible"] > doc["sample_size"] and status["sampling"]["eligible_now"] is None, \
        "once drawn, the status shows the draw's own numbers and does not count the directory again"
    text = ssj("campaign", "status", CODE).out
    assert f"符合条件 {status['draw']['eligible']} 户" in text and "当前名录中符合抽取条件" not in text


def test_the_text_output_prints_the_campaign_chain_head(committed, db_url, tmp_path):
    ssj, parties = committed
    result = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT)
    assert result.code == 0, result.err
    (seq, last_hash), = rows(db_url, select(orm.AuditChainHead.last_seq, orm.AuditChainHead.last_hash)
                             .where(orm.AuditChainHead.chain == f"campaign:{CODE}"))
    assert f"审计链 campaign:{CODE} 第 {seq} 条 {last_hash}" in result.out and len(last_hash) == 64
    saved = tmp_path / "公开抽取记录.txt"  # what a witness keeps: the printed output, as it is
    saved.write_text(result.out, encoding="utf-8")
    checked = ssj("audit", "verify", "--anchors", saved)
    assert checked.code == 0, checked.out + checked.err
    for p, s in parties.secrets.items():
        assert p in result.out and s["secret"] in result.out


WITNESS_VARIANTS = ["见证人:王某 2019-11-27 骰子 3-6-1", "  见证人：王某  2019-11-27\u00a0骰子 3-6-1 ",
                    "见证人:王某\u30002019-11-27   骰子 3-6-1", "见证人：王某 ２０１９-１１-２７ 骰子 ３-６-１"]


def test_witness_variants_are_one_text_and_one_seed(committed, db_url):
    """Invisible differences (extra, no-break or ideographic spaces, full-width characters) cannot be tried for a
    better sample:
    they are one normalised text, so one seed and one sample."""
    ssj, parties = committed
    first = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS_VARIANTS[1], "--now", RUN_AT, "--json")
    assert first.code == 0, first.err
    doc = json.loads(first.out)
    assert doc["witness"] == WITNESS_VARIANTS[0]
    assert rows(db_url, select(orm.DrawRow.witness)) == [(WITNESS_VARIANTS[0],)], "stored normalised"
    for variant in WITNESS_VARIANTS:
        again = ssj("draw", "run", CODE, *parties.reveals(), "--witness", variant, "--now", RUN_AT, "--json")
        assert again.code == 0 and again.err == "" and json.loads(again.out) == doc, variant
    assert ssj("draw", "verify", CODE).code == 0


@pytest.mark.parametrize("witness", ["", "   ", "\u3000 \u00a0"])
def test_an_empty_witness_is_refused(committed, db_url, witness):
    ssj, parties = committed
    before = snapshot(db_url)
    result = ssj("draw", "run", CODE, *parties.reveals(), "--witness", witness, "--now", RUN_AT)
    assert result.code == 2 and "见证文本为空" in result.err
    assert snapshot(db_url) == before


def flipped(hex_: str) -> str:
    return ("0" if hex_[0] != "0" else "1") + hex_[1:]


def test_a_tampered_reveal_is_refused_naming_the_party_and_changes_nothing(committed, db_url):
    ssj, parties = committed
    before = snapshot(db_url)
    office, group = (s["secret"] for s in parties.secrets.values())
    for reveals, named in (([f"{OFFICE}={office}", f"{GROUP}={flipped(group)}"], GROUP),
                           ([f"{OFFICE}={group}", f"{GROUP}={office}"], OFFICE),  # each other's secrets
                           ([f"{OFFICE}={flipped(office)}"], OFFICE)):
        args = [a for r in reveals for a in ("--reveal", r)]
        result = ssj("draw", "run", CODE, *args, "--witness", WITNESS, "--now", RUN_AT)
        assert result.code == 2, result.err
        assert f"“{named}”" in result.err and "与其承诺值不符" in result.err, result.err
        assert snapshot(db_url) == before, "nothing recorded"
    assert ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT).code == 0


@pytest.mark.parametrize("reveal, named", [
    ("某某局=" + "ab" * 32, "某某局"), (f"{OFFICE}=abc", OFFICE), (f"{OFFICE}=" + "zz" * 32, OFFICE),
    ("没有等号", "没有等号")])
def test_a_malformed_reveal_is_refused_naming_it(committed, db_url, reveal, named):
    ssj, parties = committed
    before = snapshot(db_url)
    result = ssj("draw", "run", CODE, "--reveal", reveal, "--witness", WITNESS, "--now", RUN_AT)
    assert result.code == 2 and f"“{named}”" in result.err, result.err
    assert snapshot(db_url) == before


def test_a_missing_reveal_postpones_the_draw_visibly_and_it_can_be_held_later(committed, db_url):
    """The last party to reveal can only refuse: the draw does not happen, and that refusal is in the audit chain."""
    ssj, parties = committed
    office = parties.secrets[OFFICE]["secret"]
    result = ssj("draw", "run", CODE, "--reveal", f"{OFFICE}={office}", "--witness", WITNESS, "--now", RUN_AT)
    assert result.code == 2 and GROUP in result.err and "推迟" in result.err, result.err
    postponed = rows(db_url, select(orm.AuditEvent.payload, orm.AuditEvent.seq)
                     .where(orm.AuditEvent.action == "draw_postponed"))
    assert len(postponed) == 1
    payload, seq = postponed[0]
    assert json.loads(payload) == {"round": 1, "missing": [GROUP], "revealed": [OFFICE]}
    assert f"第 {seq} 条" in result.err, "the chain head naming the postponement is printed"
    assert rows(db_url, select(orm.InspectionRow.id)) == [], "not drawn"
    assert rows(db_url, select(orm.DrawRow.run_at, orm.DrawRow.seed)) == [(None, None)]
    assert office not in json.dumps(snapshot(db_url), default=str), "no secret stored before the run"
    nobody = ssj("draw", "run", CODE, "--witness", WITNESS, "--now", "2019-11-27T09:10")
    assert nobody.code == 2 and OFFICE in nobody.err and GROUP in nobody.err
    held = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", "2019-11-27T10:00", "--json")
    assert held.code == 0, held.err
    assert json.loads(held.out)["sample_size"] > 0
    assert ssj("draw", "verify", CODE).code == 0 and ssj("audit", "verify").code == 0
    actions = rows(db_url, select(orm.AuditEvent.action).where(orm.AuditEvent.action.like("draw%"))
                   .order_by(orm.AuditEvent.seq))
    assert [a for a, in actions] == ["draw_commit", "draw_postponed", "draw_postponed", "draw_run"]


@pytest.mark.parametrize("items, named", [
    ([f"{OFFICE}=" + "11" * 32], GROUP),  # missing
    ([f"{OFFICE}=" + "11" * 32, f"{GROUP}=" + "22" * 32, "某某局=" + "33" * 32], "某某局"),  # unknown
    ([f"{OFFICE}=" + "11" * 32, f"{OFFICE}=" + "44" * 32, f"{GROUP}=" + "22" * 32], OFFICE),  # repeated
    ([f"{OFFICE}=" + "11" * 31, f"{GROUP}=" + "22" * 32], OFFICE),  # not 64 hex digits
    ([f"{OFFICE}=" + "11" * 32, f"{GROUP}=" + "11" * 32], GROUP),  # the same commitment twice
    ([], OFFICE),
])
def test_commitments_must_be_exactly_one_per_party(loaded, db_url, items, named):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    before = snapshot(db_url)
    args = [a for item in items for a in ("--commitment", item)]
    result = loaded("draw", "commit", CODE, *args, "--now", COMMIT_AT)
    assert result.code == 2 and named in result.err, result.err
    assert snapshot(db_url) == before, "nothing recorded"


def test_the_secret_option_is_gone(loaded, db_url):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    result = loaded("draw", "commit", CODE, "--secret", "5a" * 32, "--now", COMMIT_AT)
    assert result.code == 2 and rows(db_url, select(orm.DrawRow.id)) == []


def test_running_again_changes_nothing_and_a_different_witness_is_ignored_and_audited(committed, db_url):
    ssj, parties = committed
    first = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT, "--json")
    before = snapshot(db_url)
    same = ssj("draw", "run", CODE, "--witness", WITNESS, "--now", "2019-11-27T10:00", "--json")
    assert same.code == 0 and same.out == first.out and same.err == ""
    assert snapshot(db_url) == before
    other = ssj("draw", "run", CODE, "--witness", "另一段文本", "--now", "2019-11-27T10:05", "--json")
    assert other.code == 0 and json.loads(other.out) == json.loads(first.out)
    assert "见证文本与记录不同，已忽略" in other.err
    after = snapshot(db_url)
    assert {k: v for k, v in after.items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
    assert len(after["audit_events"]) == len(before["audit_events"]) + 1


def test_a_second_commit_is_refused_and_a_redraw_opens_a_new_round(committed, db_url):
    ssj, parties = committed
    again = ssj("draw", "commit", CODE, *parties.commitments(), "--now", COMMIT_AT)
    assert again.code == 2 and "已提交抽取承诺" in again.err and "--redraw" in again.err
    no_reason = ssj("draw", "commit", CODE, *parties.commitments(), "--redraw", "--now", COMMIT_AT)
    assert no_reason.code == 2 and "--reason" in no_reason.err
    fresh = Parties.drawn(ssj)
    redrawn = ssj("draw", "commit", CODE, *fresh.commitments(), "--redraw", "--reason", "名录导出有误，已更正", "--now",
                  "2019-11-27T08:45", "--json")
    assert redrawn.code == 0, redrawn.err
    assert json.loads(redrawn.out)["round"] == 2
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)
    assert status["draw"]["round"] == 2 and status["draw"]["redraws"] == [
        {"round": 2, "reason": "名录导出有误，已更正", "at": "2019-11-27T08:45:00+08:00"}]
    assert status["draw"]["parties"] == [{"party": p, "commitment": s["commitment"]} for p, s in fresh.secrets.items()]
    text_status = ssj("campaign", "status", CODE)
    assert "重新抽取" in text_status.out and "名录导出有误" in text_status.out
    old = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT)
    assert old.code == 2 and "与其承诺值不符" in old.err, "round 1's secrets do not open round 2"
    assert ssj("draw", "run", CODE, *fresh.reveals(), "--witness", WITNESS, "--now", RUN_AT).code == 0
    after_run = ssj("draw", "commit", CODE, *fresh.commitments(), "--redraw", "--reason", "想换一批", "--now",
                    "2019-11-27T10:00")
    assert after_run.code == 2 and "不能重新抽取" in after_run.err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        actions = conn.execute(select(orm.AuditEvent.action).where(orm.AuditEvent.action.like("draw%"))).scalars().all()
        refused = conn.execute(select(orm.AuditEvent.payload).where(orm.AuditEvent.action == "refused")).scalars().all()
    engine.dispose()
    assert actions == ["draw_commit", "draw_commit", "draw_run"]
    assert len(refused) == 2 and all('"draw_commit"' in p for p in refused), "usage errors are not audited"


def test_no_eligible_enterprise_records_nothing(ready, district, db_url):
    for kind in ("departments", "items", "officers"):
        assert ready("import", kind, district[kind]).code == 0
    assert ready("campaign", "create", EXAMPLE_CAMPAIGN).code == 0
    before = snapshot(db_url)
    result = ready("draw", "commit", CODE, *Parties.fixed().commitments(), "--now", COMMIT_AT)
    assert result.code == 2 and "没有符合抽取条件的企业" in result.err
    assert {k: v for k, v in snapshot(db_url).items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
    assert ready("draw", "run", CODE, *Parties.fixed().reveals(), "--witness", "x").code == 2


def test_later_directory_updates_do_not_change_a_past_draw(committed, district, tmp_path):
    ssj, parties = committed
    assert ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT).code == 0
    assert ssj("import", "enterprises", district["enterprises"], "--full").code == 0
    lines = district["enterprises"].read_text(encoding="utf-8-sig").splitlines()
    (tmp_path / "fewer.csv").write_text("\n".join(lines[:100]), encoding="utf-8")
    assert ssj("import", "enterprises", tmp_path / "fewer.csv", "--full").code == 0
    verified = ssj("draw", "verify", CODE)
    assert verified.code == 0 and verified.out.strip().endswith("一致")


def _edit_parties(conn, change) -> None:
    stored = json.loads(conn.execute(text("SELECT parties FROM draws")).scalar())
    change(stored)
    conn.execute(text("UPDATE draws SET parties = :p"), {"p": json.dumps(stored, ensure_ascii=False)})


def _edit_result(conn) -> None:
    stored = json.loads(conn.execute(text("SELECT result FROM draws")).scalar())
    stored["sampled"] = stored["sampled"][1:] + ["91130110MA0000000X"]
    conn.execute(text("UPDATE draws SET result = :r"), {"r": json.dumps(stored)})


TAMPERING = {
    "快照": "UPDATE draws SET snapshot = snapshot || char(10) || '91130110MA0000000X'",
    "承诺": lambda conn: _edit_parties(conn, lambda ps: ps[1].update(commitment="7c" * 32)),
    "密钥": lambda conn: _edit_parties(conn, lambda ps: ps[0].update(secret="6b" * 32)),
    "见证": "UPDATE draws SET witness = '见证人：另一人'",
    "抽取结果": _edit_result,
    "检查对象": "UPDATE inspections SET uscc = (SELECT uscc FROM enterprises WHERE uscc NOT IN "
               "(SELECT uscc FROM inspections) LIMIT 1) WHERE id = (SELECT min(id) FROM inspections)",
}


def tamper(db_url: str, how) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        if callable(how):
            how(conn)
        else:
            conn.execute(text(how.replace("char(10)", "chr(10)") if db_url.startswith("postgresql") else how))
    engine.dispose()


@pytest.mark.stress  # heavy: make stress (and .ci/run)
@pytest.mark.parametrize("what", TAMPERING)
def test_verify_names_what_was_tampered_with(committed, db_url, what):
    ssj, parties = committed
    assert ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", RUN_AT).code == 0
    assert ssj("draw", "verify", CODE).code == 0
    tamper(db_url, TAMPERING[what])
    result = ssj("draw", "verify", CODE)
    assert result.code == 1
    assert result.out.strip().splitlines()[-1].startswith("不一致：") and what in result.out.splitlines()[-1]
    assert f"{what}：不一致" in result.out


def test_the_readme_verifier_re_derives_a_v2_draw(committed, tmp_path):
    """README promises a draw can be checked in ~20 lines: run exactly those lines on a real draw's output."""
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    script = re.search(r"```python\n(import hashlib, hmac, json, sys.*?)```", readme, re.S).group(1)
    assert len(script.strip().splitlines()) <= 20
    (tmp_path / "verify.py").write_text(script, encoding="utf-8")
    ssj, parties = committed
    run = ssj("draw", "run", CODE, *parties.reveals(), "--witness", WITNESS_VARIANTS[1], "--now", RUN_AT, "--json")
    (tmp_path / "draw.json").write_text(run.out, encoding="utf-8")
    assert ssj("draw", "snapshot", CODE, "--out", tmp_path / "snapshot.txt").code == 0
    result = subprocess.run([sys.executable, tmp_path / "verify.py", tmp_path / "snapshot.txt", tmp_path / "draw.json"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == json.loads(run.out)["sampled"]
    doc = json.loads(run.out)
    doc["parties"][1]["secret"] = flipped(doc["parties"][1]["secret"])
    (tmp_path / "forged.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    forged = subprocess.run([sys.executable, tmp_path / "verify.py", tmp_path / "snapshot.txt",
                             tmp_path / "forged.json"], capture_output=True, text=True)
    assert forged.returncode != 0 and GROUP in forged.stderr, "a secret that does not open its commitment fails"


# --- v1: campaigns stored before ssj-draw-v2 and the rounds they recorded ----------------------------


@pytest.fixture
def v1_campaign(loaded, db_url):
    """The seed campaign as stored before v2: its plan names no draw parties, so it still draws by ssj-draw-v1."""
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:
        plan = conn.execute(select(orm.Campaign.plan).where(orm.Campaign.code == CODE)).scalar_one()
        del plan["draw_parties"]
        conn.execute(update(orm.Campaign).where(orm.Campaign.code == CODE).values(plan=plan))
    engine.dispose()
    return loaded


def test_v1_rounds_still_verify(v1_campaign, db_url):
    ssj = v1_campaign
    refused = ssj("draw", "commit", CODE, *Parties.fixed().commitments(), "--now", COMMIT_AT)
    assert refused.code == 2 and "ssj-draw-v1" in refused.err
    committed = ssj("draw", "commit", CODE, "--now", COMMIT_AT, "--json")
    assert committed.code == 0, committed.err
    (secret_hex, commitment, algorithm), = rows(db_url, select(orm.DrawRow.secret_hex, orm.DrawRow.commitment,
                                                               orm.DrawRow.algorithm))
    assert algorithm == "ssj-draw-v1" and json.loads(committed.out)["commitment"] == commitment
    assert commitment_preimages(db_url, {commitment}), "v1 keeps the office's secret: exactly what v2 removes"
    run = ssj("draw", "run", CODE, "--witness", WITNESS, "--now", RUN_AT, "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert list(doc) == ["campaign", "algorithm", "eligible", "sample_size", "snapshot_sha256", "commitment",
                         "secret", "witness", "seed", "sampled"]
    assert doc["secret"] == secret_hex and doc["algorithm"] == "ssj-draw-v1"
    assert doc["seed"] == hashlib.sha256(f"{secret_hex}\n{WITNESS}\n{doc['snapshot_sha256']}".encode()).hexdigest()
    verified = ssj("draw", "verify", CODE)
    assert verified.code == 0 and verified.out.strip().endswith("一致")
    tamper(db_url, "UPDATE draws SET secret_hex = '" + "6b" * 32 + "'")
    broken = ssj("draw", "verify", CODE)
    assert broken.code == 1 and "密钥：不一致" in broken.out
