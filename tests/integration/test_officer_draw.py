"""``ssj match``: the officer draw from the confirmed enterprises to the teams, verify, substitution."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import pytest
from sqlalchemy import select, text

from tests.conftest import snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine

from tests.integration.conftest import CODE, PARTIES, WITNESS, Parties, confirmed_campaign


def officers(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = {r.certificate_no: r for r in conn.execute(select(orm.Officer.__table__))}
    engine.dispose()
    return rows


def test_teams_obey_every_rule(matched, db_url):
    ssj, sampled, doc = matched
    assert set(doc["teams"]) == set(sampled)
    directory = officers(db_url)
    for uscc, team in doc["teams"].items():
        certs = [c for c, _ in team]
        assert len(certs) == len(set(certs)) >= 2
        assert {d for _, d in team} == {"SJ", "SW"}, "one from each inspecting department"
        for cert, dept in team:
            o = directory[cert]
            assert o.status == "在岗" and o.department_code == dept
            assert o.certificate_valid_until.isoformat() >= "2019-12-13", "valid through the visit window"
    loads = Counter(c for team in doc["teams"].values() for c, _ in team)
    for dept in ("SJ", "SW"):
        pool = [c for c, o in directory.items() if o.department_code == dept and o.status == "在岗"
                and o.certificate_valid_until.isoformat() >= "2019-12-13"]
        counts = [loads[c] for c in pool]
        assert max(counts) - min(counts) <= 1
    engine = make_engine(db_url)
    with engine.connect() as conn:
        whys = conn.execute(select(orm.TeamMemberRow.eligibility)).scalars().all()
    engine.dispose()
    assert all(w.startswith("在岗；执法证有效期至") for w in whys)
    assert ssj("match", "verify", CODE).out.strip().endswith("一致")
    assert ssj("audit", "verify").code == 0


@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_running_again_is_idempotent(matched, db_url):
    ssj, _, doc = matched
    before = snapshot(db_url)
    again = ssj("match", "run", CODE, "--witness", WITNESS, "--json")
    assert again.code == 0 and json.loads(again.out) == doc and snapshot(db_url) == before


def test_substitution_draws_from_the_remaining_pool_and_is_audited(matched, db_url):
    ssj, sampled, doc = matched
    uscc = sampled[0]
    leaving = next(c for c, d in doc["teams"][uscc] if d == "SW")
    result = ssj("match", "replace", CODE, uscc, leaving, "--reason", "病假", "--now", "2019-12-05T09:00")
    assert result.code == 0, result.err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        t, i = orm.TeamMemberRow, orm.InspectionRow
        rows = conn.execute(select(t.certificate_no, t.department_code, t.released_at, t.release_reason,
                                   t.substitute_for).join(i, i.id == t.inspection_id).where(i.uscc == uscc)).all()
        audit = conn.execute(select(orm.AuditEvent.payload).where(orm.AuditEvent.action == "match_replace")).scalar()
    engine.dispose()
    old = next(r for r in rows if r.certificate_no == leaving)
    new = next(r for r in rows if r.substitute_for == leaving)
    assert old.release_reason == "病假" and old.released_at is not None
    assert new.department_code == "SW" and new.certificate_no not in {c for c, _ in doc["teams"][uscc]}
    assert json.loads(audit)["substitute"] == new.certificate_no
    assert new.certificate_no in result.out
    assert ssj("match", "verify", CODE).code == 0, "a substitution does not make the draw inconsistent"
    twice = ssj("match", "replace", CODE, uscc, leaving, "--reason", "病假")
    assert twice.code == 2 and "不在企业" in twice.err


def test_verify_catches_an_edited_team(matched, db_url):
    ssj, sampled, doc = matched
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE team_members SET certificate_no = (SELECT certificate_no FROM officers "
                          "WHERE department_code = 'SJ' AND certificate_no NOT IN (SELECT certificate_no FROM "
                          "team_members) LIMIT 1) WHERE department_code = 'SJ' AND inspection_id = "
                          "(SELECT min(inspection_id) FROM team_members)"))
    engine.dispose()
    result = ssj("match", "verify", CODE)
    assert result.code == 1 and "检查组成员：不一致" in result.out


def test_an_impossible_pool_says_where_and_records_nothing(loaded, db_url, tmp_path):
    confirmed_campaign(loaded, tmp_path, per_department_minimum=9)
    parties = Parties.fresh()
    assert loaded("match", "commit", CODE, *parties.commitments(), "--now", "2019-12-02T09:00").code == 0
    before = snapshot(db_url)
    result = loaded("match", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", "2019-12-02T10:00")
    assert result.code == 2
    assert result.err_lines[0].startswith("无法按规则组成检查组")
    assert any("国家税务总局石家庄市鹿泉区税务局可派的执法人员不足，需要 9 人" in line for line in result.err_lines)
    after = snapshot(db_url)
    assert {k: v for k, v in after.items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}


def test_forms_schedule_and_assignment(matched, db_url, tmp_path, smtp_server):
    import openpyxl
    from docx import Document

    ssj, sampled, doc = matched
    out = tmp_path / "forms"
    result = ssj("forms", CODE, "--out", out, "--now", "2019-12-03T09:00")
    assert result.code == 0, result.err
    assert f"已生成一企一表 {len(sampled)} 份" in result.out and f"已分派 {len(sampled)} 户" in result.out
    directory = officers(db_url)
    uscc = sampled[0]
    [xlsx] = list((out / "一企一表").glob(f"{uscc}-*.xlsx"))
    book = openpyxl.load_workbook(xlsx)
    sheet = book["一企一表"]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells[0] == "随机抽查联合检查记录表（一企一表）"
    assert uscc in cells and "石鹿双随机办〔2019〕11号" in " ".join(cells)
    for header in ("检查方式", "检查结果（代码）", "发现问题", "后续处置（代码）"):
        assert header in [c.replace("\n", "") for c in cells]
    for cert, _ in doc["teams"][uscc]:
        assert cert in cells and directory[cert].name in cells
    assert any("拒绝签字" in c and "无人签字" in c for c in cells)
    assert any(c.startswith("SJ-01 ") for c in cells) and any(c.startswith("SW-01 ") for c in cells)
    assert not any(c.startswith("RS-01 ") for c in cells), "only the inspecting departments' items"
    hidden = {r[0]: r[1] for r in book["ssj"].iter_rows(min_row=2, values_only=True)}
    assert book["ssj"].sheet_state == "hidden" and hidden["uscc"] == uscc and hidden["campaign"] == CODE
    assert str(sheet.cell(hidden["item:SJ-01"], 2).value).startswith("SJ-01 ")
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9", "A4"
    [docx] = list((out / "一企一表").glob(f"{uscc}-*.docx"))
    text = "\n".join(p.text for p in Document(docx).paragraphs)
    tables = " ".join(c.text for t in Document(docx).tables for r in t.rows for c in r.cells)
    assert "随机抽查联合检查记录表" in text and "拒绝签字" in text and uscc in tables
    schedule = openpyxl.load_workbook(out / "实地核查安排.xlsx").active
    rows = list(schedule.iter_rows(min_row=3, values_only=True))
    assert sorted(r[2] for r in rows) == sorted(sampled)
    assert all("2019-12-09" <= r[0].date().isoformat() <= "2019-12-13" for r in rows)
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)
    assert status["inspections"]["assigned"] == len(sampled)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        acks = conn.execute(select(orm.TaskRow.certificate_no, orm.TaskRow.due_at)
                            .where(orm.TaskRow.kind == "acknowledge")).all()
    engine.dispose()
    assert {c for c, _ in acks} == {c for team in doc["teams"].values() for c, _ in team}
    inbox, _ = smtp_server
    assert ssj("tick", CODE, "--now", "2019-12-03T09:05").code == 0
    officer_mail = [(r, m) for r, m in inbox.messages if str(m["Subject"]).startswith("【一企一表】")]
    on_teams = {c for team in doc["teams"].values() for c, _ in team}
    assert len(officer_mail) == len(on_teams)
    first_cert = sorted(on_teams)[0]
    [(_, mail)] = [(r, m) for r, m in officer_mail if r == [directory[first_cert].email]]
    visits = [u for u, team in doc["teams"].items() if first_cert in {c for c, _ in team}]
    names = sorted(a.get_filename() for a in mail.iter_attachments())
    assert len(names) == 2 * len(visits) and all(n.startswith(tuple(visits)) for n in names)
    body = mail.get_body().get_content()
    assert "ssj " not in body and "回复本邮件确认收到" in body, "the acknowledgement asked in words"
    again = ssj("forms", CODE, "--out", out, "--now", "2019-12-03T10:00")
    assert again.code == 0 and "新派发执法人员确认任务 0 项" in again.out
    rows_again = list(openpyxl.load_workbook(out / "实地核查安排.xlsx").active.iter_rows(min_row=3, values_only=True))
    assert rows_again == rows, "announced visits keep their day"


def test_officers_acknowledge_and_specialists_do_not_count(matched, db_url, tmp_path):
    ssj, sampled, doc = matched
    uscc = sampled[0]
    specialist = next(c for c, o in officers(db_url).items()
                      if o.department_code == "SJ" and o.status == "在岗" and c not in {m for m, _ in doc["teams"][uscc]})
    added = ssj("match", "helper", CODE, uscc, specialist, "--reason", "特种设备检验")
    assert added.code == 0, added.err
    assert ssj("match", "verify", CODE).code == 0, "helpers are not part of the draw"
    assert ssj("forms", CODE, "--out", tmp_path / "forms", "--now", "2019-12-03T09:00").code == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        helper = conn.execute(select(orm.TeamMemberRow.specialist, orm.TeamMemberRow.eligibility)
                              .where(orm.TeamMemberRow.certificate_no == specialist,
                                     orm.TeamMemberRow.specialist.is_(True))).one()
        acks = set(conn.execute(select(orm.TaskRow.certificate_no).where(orm.TaskRow.kind == "acknowledge")).scalars())
        drawn = set(conn.execute(select(orm.TeamMemberRow.certificate_no)
                                 .where(orm.TeamMemberRow.specialist.is_(False))).scalars())
    engine.dispose()
    assert acks == drawn, "acknowledgements are for the drawn officers; a helper alone gets none"
    assert helper.specialist and "不计入" in helper.eligibility
    officer = sorted(acks)[0]
    stranger = ssj("ack", CODE, officer, "--user", sorted(acks)[1])
    assert stranger.code == 2 and "不是执法人员" in stranger.err
    own = ssj("ack", CODE, officer, "--user", officer, "--now", "2019-12-04T09:00")
    assert own.code == 0 and own.out.strip() == f"已记录执法人员 {officer} 确认一企一表。"
    late = ssj("ack", CODE, sorted(acks)[1], "--now", "2019-12-09T09:00")
    assert late.code == 0 and "已逾期" in late.out, "the office records it; 2 days after 12-03 ends 12-05"
    twice = ssj("ack", CODE, officer, "--user", officer)
    assert twice.code == 2 and "已于" in twice.err


def test_verify_catches_a_secret_and_its_commitment_edited_together(matched, db_url):
    """The commitments published at the officer draw are in the audit chain: rewriting a party's secret and its
    commitment together in ``draws`` still shows, naming the party."""
    ssj, _, _ = matched
    engine = make_engine(db_url)
    with engine.begin() as conn:
        parties = json.loads(conn.execute(text("SELECT parties FROM draws WHERE kind = 'officers'")).scalar())
        parties[1]["secret"] = "7c" * 32
        parties[1]["commitment"] = hashlib.sha256(bytes.fromhex("7c" * 32)).hexdigest()
        conn.execute(text("UPDATE draws SET parties = :p WHERE kind = 'officers'"), {"p": json.dumps(parties)})
    engine.dispose()
    result = ssj("match", "verify", CODE)
    assert result.code == 1 and f"密钥（{PARTIES[1]}）：不一致" in result.out, result.out


def officer_draws(db_url) -> list:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(select(orm.DrawRow.__table__).where(orm.DrawRow.kind == "officers")).all()
    engine.dispose()
    return found


def audited(db_url, action: str) -> list[dict]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(select(orm.AuditEvent.payload).where(orm.AuditEvent.action == action)
                             .order_by(orm.AuditEvent.seq)).scalars().all()
    engine.dispose()
    return [json.loads(p) for p in found]


def test_the_v2_officer_draw_is_the_parties_secrets_and_anyone_re_derives_its_seed(loaded, db_url, tmp_path):
    """Commit records only commitments; the run takes every reveal and the witness normalised; the seed is the
    README's formula over the published values; verify says 一致."""
    sampled = confirmed_campaign(loaded, tmp_path)
    parties = Parties.fresh()
    committed = loaded("match", "commit", CODE, *parties.commitments(), "--now", "2019-12-02T09:00", "--json")
    assert committed.code == 0, committed.err
    doc = json.loads(committed.out)
    assert doc["algorithm"] == "ssj-match-v2"
    assert doc["parties"] == [{"party": p, "commitment": parties.commitment(p)} for p in PARTIES]
    [row] = officer_draws(db_url)
    assert row.secret_hex is None and row.commitment is None and row.run_at is None
    assert json.loads(row.parties) == [{"party": p, "commitment": parties.commitment(p), "secret": None}
                                       for p in PARTIES], "no secret anywhere before the public draw"
    commitments = {parties.commitment(p) for p in PARTIES}
    for table, rows in snapshot(db_url).items():  # the grinding attack: nothing in the database opens a commitment
        for value in (v for r in rows for v in r if isinstance(v, str)):
            for candidate in re.findall(r"[0-9a-fA-F]{64}", value):
                assert hashlib.sha256(bytes.fromhex(candidate)).hexdigest() not in commitments, table

    typed = "  见证人：区纪委监委　李某   ２０１９-12-02  "  # a full-width space and digits, runs of spaces
    run = loaded("match", "run", CODE, *parties.reveals()[2:], *parties.reveals()[:2],
                 "--witness", typed, "--now", "2019-12-02T10:00", "--json")
    assert run.code == 0, run.err
    teams = json.loads(run.out)
    assert teams["algorithm"] == "ssj-match-v2" and "secret" not in teams and "commitment" not in teams
    assert teams["parties"] == [{"party": p, "commitment": parties.commitment(p), "secret": parties.secret(p)}
                                for p in PARTIES], "the campaign file's order, whatever the order typed"
    assert teams["witness"] == "见证人:区纪委监委 李某 2019-12-02", "NFKC, one space per run, trimmed"
    text_ = "\n".join(["ssj-match-v2", teams["snapshot_sha256"], *(f"{p}={parties.secret(p)}" for p in PARTIES),
                       teams["witness"]])
    assert teams["seed"] == hashlib.sha256(text_.encode("utf-8")).hexdigest()
    assert set(teams["teams"]) == set(sampled)
    [row] = officer_draws(db_url)
    assert row.witness == teams["witness"] and row.seed == teams["seed"]
    [ran] = audited(db_url, "match_run")
    assert ran["parties"] == teams["parties"] and ran["witness"] == teams["witness"]
    verified = loaded("match", "verify", CODE)
    assert verified.code == 0 and verified.out.strip().endswith("一致"), verified.out
    assert f"密钥（{PARTIES[0]}）：一致" in verified.out and f"密钥（{PARTIES[1]}）：一致" in verified.out
    assert loaded("audit", "verify").code == 0


def test_commitments_must_be_exactly_the_named_parties(loaded, db_url, tmp_path):
    confirmed_campaign(loaded, tmp_path)
    parties = Parties.fresh()
    first, second = parties.commitments()[1], parties.commitments()[3]
    for args, named in (((("--commitment", first),), PARTIES[1]),
                        ((("--commitment", first), ("--commitment", second), ("--commitment", f"区税务局={'0' * 64}")),
                         "区税务局"),
                        ((("--commitment", first), ("--commitment", first), ("--commitment", second)), PARTIES[0]),
                        ((("--commitment", first), ("--commitment", f"{PARTIES[1]}=abc")), PARTIES[1]),
                        ((("--commitment", first), ("--commitment", f"{PARTIES[1]}={parties.commitment(PARTIES[0])}")),
                         "各自生成密钥")):
        result = loaded("match", "commit", CODE, *(a for pair in args for a in pair), "--now", "2019-12-02T09:00")
        assert result.code == 2 and named in result.err, (args, result.err)
    assert officer_draws(db_url) == [] and audited(db_url, "refused") == [], "nothing recorded"
    old = loaded("match", "commit", CODE, "--secret", "7c" * 32, *parties.commitments())
    assert old.code == 2 and officer_draws(db_url) == [], "--secret is gone: the office draws no secret"


def test_a_tampered_reveal_is_refused_naming_the_party_and_changes_nothing(loaded, db_url, tmp_path):
    confirmed_campaign(loaded, tmp_path)
    parties = Parties.fresh()
    assert loaded("match", "commit", CODE, *parties.commitments(), "--now", "2019-12-02T09:00").code == 0
    before = snapshot(db_url)
    honest = parties.reveals()
    forged = [*honest[:2], "--reveal", f"{PARTIES[1]}={'00' * 32}"]
    result = loaded("match", "run", CODE, *forged, "--witness", WITNESS, "--now", "2019-12-02T10:00")
    assert result.code == 2 and PARTIES[1] in result.err and "承诺值不符" in result.err, result.err
    assert PARTIES[0] not in result.err
    assert snapshot(db_url) == before, "nothing recorded, not even a refusal"


def test_a_party_that_does_not_reveal_postpones_the_draw_which_is_recorded(loaded, db_url, tmp_path):
    confirmed_campaign(loaded, tmp_path)
    parties = Parties.fresh()
    assert loaded("match", "commit", CODE, *parties.commitments(), "--now", "2019-12-02T09:00").code == 0
    result = loaded("match", "run", CODE, *parties.reveals(without=(PARTIES[1],)), "--witness", WITNESS,
                    "--now", "2019-12-02T10:00")
    assert result.code == 2 and PARTIES[1] in result.err and "推迟" in result.err, result.err
    [postponed] = audited(db_url, "match_postponed")
    assert postponed["missing"] == [PARTIES[1]] and postponed["revealed"] == [PARTIES[0]]
    assert parties.secret(PARTIES[0]) not in json.dumps(postponed), "a secret revealed alone is not kept"
    [row] = officer_draws(db_url)
    assert row.run_at is None and all(p["secret"] is None for p in json.loads(row.parties))
    assert loaded("match", "verify", CODE).code == 2, "not drawn yet"
    held = loaded("match", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", "2019-12-03T10:00")
    assert held.code == 0, held.err
    assert loaded("match", "verify", CODE).code == 0


@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_an_officer_draw_recorded_as_v1_still_verifies(loaded, db_url, tmp_path):
    """A round committed by the earlier version (one office secret, stored) runs and verifies as ssj-match-v1;
    its secret and commitment edited together in SQL are still caught."""
    from datetime import datetime

    from tests.conftest import CLERK
    from workflow import draw as commit_reveal
    from workflow import matching
    from workflow.persistence.draws import OFFICERS
    from workflow.services.officer_draw import _pool_facts
    from workflow.services.uow import UnitOfWork

    confirmed_campaign(loaded, tmp_path)
    secret = "5a" * 32
    engine = make_engine(db_url)
    uow = UnitOfWork(engine, now=datetime.fromisoformat("2019-12-02T09:00+08:00"), actor=CLERK, campaign=CODE)
    with uow:  # what ssj-match-v1's commit wrote
        snapshot_ = matching.snapshot_text(*_pool_facts(uow))
        digest = commit_reveal.sha256_hex(snapshot_.encode("utf-8"))
        record = uow.draws.commit(CODE, OFFICERS, round_=1, algorithm=matching.ALGORITHM, secret_hex=secret,
                                  commitment=commit_reveal.commitment(bytes.fromhex(secret)), snapshot=snapshot_,
                                  snapshot_sha256=digest, eligible=snapshot_.count("O\t"), now=uow.now, actor=CLERK)
        uow.record("match_commit", payload={"round": 1, "algorithm": matching.ALGORITHM,
                                            "commitment": record.commitment, "snapshot_sha256": digest})
    engine.dispose()
    run = loaded("match", "run", CODE, "--witness", WITNESS, "--now", "2019-12-02T10:00", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["algorithm"] == "ssj-match-v1" and doc["secret"] == secret and "parties" not in doc
    assert doc["witness"] == commit_reveal.normalise_witness(WITNESS)
    assert doc["seed"] == commit_reveal.seed(secret, doc["witness"], doc["snapshot_sha256"])
    verified = loaded("match", "verify", CODE)
    assert verified.code == 0 and verified.out.strip().endswith("一致"), verified.out
    other = "7c" * 32
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE draws SET secret_hex = :s, commitment = :c WHERE kind = 'officers'"),
                     {"s": other, "c": hashlib.sha256(bytes.fromhex(other)).hexdigest()})
    engine.dispose()
    result = loaded("match", "verify", CODE)
    assert result.code == 1 and "密钥：不一致" in result.out


def test_the_readme_officer_verifier_checks_a_real_v2_draw(matched, tmp_path):
    """README's officer verifier, run as printed against the exported snapshot and the published run: it accepts
    the real draw and refuses the same draw with its witness text changed."""
    import subprocess
    import sys
    from pathlib import Path

    ssj, _, doc = matched
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Officers, `ssj-match-v2`**"):]
    script = tmp_path / "verify_match.py"
    script.write_text(re.search(r"```python\n(.*?)```", section, re.S).group(1), encoding="utf-8")
    exported = ssj("match", "snapshot", CODE, "--out", tmp_path / "officers.txt")
    assert exported.code == 0 and doc["snapshot_sha256"] in exported.out, exported.err
    published = tmp_path / "run.json"
    published.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    checked = subprocess.run([sys.executable, script, tmp_path / "officers.txt", published],
                             capture_output=True, text=True, encoding="utf-8")
    assert checked.returncode == 0, checked.stderr
    assert sorted(checked.stdout.split()) == sorted(doc["teams"])
    published.write_text(json.dumps({**doc, "witness": doc["witness"] + "。"}, ensure_ascii=False), encoding="utf-8")
    forged = subprocess.run([sys.executable, script, tmp_path / "officers.txt", published],
                            capture_output=True, text=True, encoding="utf-8")
    assert forged.returncode == 1 and "AssertionError" in forged.stderr


@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_a_campaign_stored_before_v2_draws_its_officers_by_v1(loaded, db_url, tmp_path):
    """A stored plan without draw parties (created before ssj-match-v2): the office's secret, as before — no
    --commitment, no --reveal — and the draw verifies."""
    confirmed_campaign(loaded, tmp_path)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        c = orm.Campaign.__table__
        plan = conn.execute(select(c.c.plan).where(c.c.code == CODE)).scalar_one()
        plan = json.loads(plan) if isinstance(plan, str) else dict(plan)
        del plan["draw_parties"]
        conn.execute(c.update().where(c.c.code == CODE).values(plan=plan))
    engine.dispose()
    refused = loaded("match", "commit", CODE, *Parties.fresh().commitments(), "--now", "2019-12-02T09:00")
    assert refused.code == 2 and "ssj-match-v1" in refused.err and officer_draws(db_url) == []
    committed = loaded("match", "commit", CODE, "--now", "2019-12-02T09:00", "--json")
    assert committed.code == 0, committed.err
    commitment = json.loads(committed.out)["commitment"]
    run = loaded("match", "run", CODE, "--witness", WITNESS, "--now", "2019-12-02T10:00", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["algorithm"] == "ssj-match-v1" and doc["commitment"] == commitment
    assert hashlib.sha256(bytes.fromhex(doc["secret"])).hexdigest() == commitment
    assert loaded("match", "verify", CODE).code == 0
