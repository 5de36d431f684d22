"""The tick's timeline steps: the office reminded of a public draw not held, asked once for the officer draw's
commitments; transitions announced once."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from tests.conftest import EXAMPLE_CAMPAIGN, commit_draw_args, draw_campaign, run_draw_args
from workflow.identity import SYSTEM
from workflow.persistence.database import make_engine
from workflow.services.timeline import new_transitions
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"


def test_the_office_is_reminded_once_a_day_until_the_draw_is_held(loaded, smtp_server):
    inbox, _ = smtp_server
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    before = json.loads(loaded("tick", CODE, "--now", "2019-11-27T08:55", "--json").out)
    assert before["sent"] == 0, "not before draw_at (09:00)"
    late = json.loads(loaded("tick", CODE, "--now", "2019-11-27T09:20", "--json").out)
    assert late["sent"] == 2, "the office's mailbox and the clerk"
    assert inbox.subjects() == ["【提醒】石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查：公开抽取尚未进行"] * 2
    assert json.loads(loaded("tick", CODE, "--now", "2019-11-27T15:00", "--json").out)["sent"] == 0, "once a day"
    assert json.loads(loaded("tick", CODE, "--now", "2019-11-28T09:00", "--json").out)["sent"] == 2
    assert loaded(*commit_draw_args(CODE), "--now", "2019-11-28T09:10").code == 0
    assert loaded(*run_draw_args(CODE), "--witness", "w", "--now", "2019-11-28T09:30").code == 0
    after = json.loads(loaded("tick", CODE, "--now", "2019-11-29T09:00", "--json").out)
    assert not any("公开抽取尚未进行" in s for s in inbox.subjects()[4:]), "held: no more reminders"
    assert after["sent"] >= 7, "the dispatch emails went out instead"


def test_transitions_are_announced_once(loaded, db_url):
    run = draw_campaign(loaded)
    engine = make_engine(db_url)
    plan = UnitOfWork(engine, now=datetime.now(timezone.utc), actor=SYSTEM, campaign=CODE)
    first = new_transitions(plan)
    assert [(t["trigger"], t["to"]) for t in first] == [("sampled", "sampled")] * run["sample_size"]
    assert new_transitions(plan) == []
    uscc = run["sampled"][0]
    assert loaded("withdraw", CODE, uscc, "--reason", "企业已注销", "--now", "2019-11-27T10:00").code == 0
    [withdrawn] = new_transitions(plan)
    engine.dispose()
    assert (withdrawn["trigger"], withdrawn["uscc"], withdrawn["from"], withdrawn["to"]) == (
        "withdraw", uscc, "sampled", "withdrawn")



def test_the_tick_asks_the_office_for_the_parties_commitments_once_and_dispatches_the_forms_after_the_draw(
        loaded, db_url, smtp_server, tmp_path):
    from tests.integration.conftest import PARTIES, WITNESS, Parties, confirmed_campaign

    inbox, _ = smtp_server
    asked = "请各参与方提交承诺值"

    def still_open():
        assert loaded("tick", CODE, "--now", "2019-11-28T14:00").code == 0
        assert not any(asked in s for s in inbox.subjects()), "one department has not answered: nothing asked"

    sampled = confirmed_campaign(loaded, tmp_path, still_open)
    tick = loaded("tick", CODE, "--now", "2019-11-28T15:30")
    assert tick.code == 0 and "各参与方的执法人员抽取承诺值" in tick.err, tick.err
    mails = [(to, m) for to, m in inbox.messages if asked in str(m["Subject"])]
    assert sorted(to[0] for to, _ in mails) == ["1qqj2463@163.com", "clerk@office.luquan.example"]
    body = mails[0][1].get_body().get_content()
    assert all(party in body for party in PARTIES) and "ssj draw secret" in body
    assert f"ssj match commit {CODE} --commitment {PARTIES[0]}=<承诺值> --commitment {PARTIES[1]}=<承诺值>" in body
    assert f"ssj match run {CODE} --reveal {PARTIES[0]}=<密钥> --reveal {PARTIES[1]}=<密钥>" in body
    assert officer_rounds(db_url) == 0, "the tick commits nothing: no officer draw until the parties commit"
    for at in ("2019-11-28T16:00", "2019-11-29T09:00", "2019-12-02T08:00"):
        later = loaded("tick", CODE, "--now", at)
        assert later.code == 0 and "承诺值" not in later.err, later.err
    assert sum(asked in s for s in inbox.subjects()) == 2, "asked once: later ticks queue nothing more"
    assert officer_rounds(db_url) == 0

    parties = Parties.fresh()
    committed = loaded("match", "commit", CODE, *parties.commitments(), "--now", "2019-12-02T09:00")
    assert committed.code == 0, committed.err
    assert loaded("tick", CODE, "--now", "2019-12-02T09:05").code == 0
    [published] = [m for to, m in inbox.messages if to == ["clerk@office.luquan.example"]
                   and str(m["Subject"]).startswith("【待公布】")]
    assert all(parties.commitment(p) in published.get_body().get_content() for p in PARTIES)
    assert sum(asked in s for s in inbox.subjects()) == 2, "committed: never asked again"
    run = json.loads(loaded("match", "run", CODE, *parties.reveals(), "--witness", WITNESS,
                            "--now", "2019-12-02T10:00", "--json").out)
    before = len(inbox.messages)
    forms = loaded("tick", CODE, "--now", "2019-12-02T10:15")
    assert forms.code == 0 and f"已生成一企一表 {len(sampled)} 份" in forms.err, forms.err
    folder = tmp_path / "files" / CODE
    assert len(list((folder / "一企一表").glob("*.xlsx"))) == len(sampled)
    assert (folder / "实地核查安排.xlsx").exists()
    status = json.loads(loaded("campaign", "status", CODE, "--json").out)
    assert status["inspections"].get("assigned") == len(sampled), status["inspections"]
    officers = {cert for team in run["teams"].values() for cert, _ in team}
    assert sum(s.startswith("【一企一表】") for s in inbox.subjects()[before:]) == len(officers)
    assert "一企一表" not in loaded("tick", CODE, "--now", "2019-12-02T10:30").err, "dispatched once"


def officer_rounds(db_url) -> int:
    from sqlalchemy import func, select

    from workflow.persistence import orm

    engine = make_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(orm.DrawRow)
                             .where(orm.DrawRow.kind == "officers")).scalar()
    engine.dispose()
    return count
