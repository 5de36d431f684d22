"""``ssj match``: the officer draw from the confirmed enterprises to the teams, verify, substitution."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from sqlalchemy import select, text

from tests.conftest import snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine

from tests.integration.conftest import CODE, WITNESS, confirmed_campaign


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
    assert loaded("match", "commit", CODE, "--now", "2019-12-02T09:00").code == 0
    before = snapshot(db_url)
    result = loaded("match", "run", CODE, "--witness", WITNESS, "--now", "2019-12-02T10:00")
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
        assert header in cells
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
    assert f"ssj ack {CODE} {first_cert}" in mail.get_body().get_content()
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
    """The commitment published at the officer draw is in the audit chain: rewriting both still shows."""
    ssj, _, _ = matched
    secret = "7c" * 32
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE draws SET secret_hex = :s, commitment = :c WHERE kind = 'officers'"),
                     {"s": secret, "c": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
    engine.dispose()
    result = ssj("match", "verify", CODE)
    assert result.code == 1 and "密钥：不一致" in result.out
