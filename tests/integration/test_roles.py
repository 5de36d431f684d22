"""Who may do what: the office everything (on behalf, recorded), departments for themselves, officers for their team.

Every refusal exits 2 with a Chinese message naming the identity, changes nothing
but the audit trail, and appends one ``refused`` row to the campaign's chain.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.integration.conftest import CODE
from workflow.persistence import orm
from workflow.persistence.database import make_engine


def _refusals(db_url) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).where(orm.AuditEvent.action == "refused")).scalar()
    finally:
        engine.dispose()


def _officer_email(db_url, cert) -> str:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(orm.Officer.email).where(orm.Officer.certificate_no == cert)).scalar()
    finally:
        engine.dispose()


def test_each_role_acts_only_where_it_may_and_every_refusal_is_audited(assigned, db_url):
    ssj, sampled, teams, _ = assigned
    uscc, other = sampled[0], sampled[1]
    team = [c for c, _ in teams["teams"][uscc]]
    stranger = next(c for c, _ in teams["teams"][other] if c not in team)
    before = _refusals(db_url)

    def refused(*args, says):
        result = ssj(*args)
        assert result.code == 2, (args, result.out, result.err)
        assert says in result.err, result.err
        return result

    # an officer of another team may not record this enterprise's visit; neither may a department contact
    visit = ("results", "visit", CODE, uscc, "--date", "2019-12-10", "--officers", ",".join(team),
             "--signature", "签字", "--now", "2019-12-10T17:00")
    refused(*visit, "--user", stranger, says=f"“{stranger}”不是企业 {uscc} 检查组的执法人员")
    refused(*visit, "--user", "contact@sj.luquan.example", says="不是企业")
    refused(*visit, "--user", "nobody@example.com", says="不是企业")
    # the officer himself may, by his email as well as his certificate number
    assert ssj(*visit, "--user", _officer_email(db_url, team[0])).code == 0
    record = ("results", "record", CODE, uscc, "--item", "SJ-01", "--result", "1", "--now", "2019-12-11T10:00")
    refused(*record, "--user", stranger, says="不能回填检查结果")
    assert ssj(*record, "--user", team[1]).code == 0

    # the office's acts: departments and officers are refused
    refused("publish", CODE, "--out", "pub", "--user", team[0], says="只有领导小组办公室可以公示检查结果")
    refused("match", "replace", CODE, other, stranger, "--reason", "病假", "--user", "admin@sj.luquan.example",
            says="只有领导小组办公室可以更换执法人员")
    refused("withdraw", CODE, other, "--reason", "企业已注销", "--user", "contact@sw.luquan.example",
            says="不是本任务领导小组办公室的工作人员")
    refused("forms", CODE, "--out", "forms", "--user", "leader@sj.luquan.example",
            says="只有领导小组办公室可以生成和派发一企一表")
    # an officer acknowledges only for himself
    refused("ack", CODE, team[0], "--user", stranger, says="不是执法人员")
    # a department submits only for itself; the office for any, on its behalf
    refused("summary", "submit", CODE, "SW", "x.pdf", "--highlights", "亮点", "--user", "contact@sj.luquan.example",
            says="不是国家税务总局石家庄市鹿泉区税务局的管理员或联络人")

    assert _refusals(db_url) - before == 10, "each refused campaign action is one audit row"
    assert json.loads(ssj("audit", "verify", "--json").out)["ok"] is True
    # nothing but the audit trail changed: the other enterprise is still assigned with its team
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)["inspections"]
    assert status.get("inspected") == 1 and status.get("withdrawn", 0) == 0


def test_the_system_identity_is_not_for_people(assigned):
    ssj, sampled, _, _ = assigned
    result = ssj("withdraw", CODE, sampled[0], "--reason", "x", "--user", "ssj")
    assert result.code == 2 and "系统自身" in result.err


def test_a_draw_by_a_department_is_refused_before_anything_is_fixed(loaded, db_url):
    from tests.conftest import EXAMPLE_CAMPAIGN

    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    result = loaded("draw", "commit", CODE, "--now", "2019-11-27T08:30", "--user", "contact@sj.luquan.example")
    assert result.code == 2 and "只有领导小组办公室可以提交抽取承诺" in result.err
    assert json.loads(loaded("campaign", "status", CODE, "--json").out)["draw"] in (None, {}, [])


def test_the_office_records_a_visit_for_a_team_only_naming_one_of_its_officers(assigned, db_url):
    ssj, sampled, teams, _ = assigned
    uscc, other = sampled[0], sampled[1]
    team = [c for c, _ in teams["teams"][uscc]]
    stranger = next(c for c, _ in teams["teams"][other] if c not in team)
    visit = ("results", "visit", CODE, uscc, "--date", "2019-12-10", "--officers", ",".join(team),
             "--signature", "签字", "--now", "2019-12-10T17:00")
    wrong = ssj(*visit, "--on-behalf-of", stranger, "--reason", "检查组电话报告")
    assert wrong.code == 2 and f"--on-behalf-of {stranger}：不是企业 {uscc} 检查组的执法人员" in wrong.err
    done = ssj(*visit, "--on-behalf-of", team[0], "--reason", "检查组电话报告")
    assert done.code == 0, done.err
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            actor, payload = conn.execute(select(orm.AuditEvent.actor, orm.AuditEvent.payload)
                                          .where(orm.AuditEvent.uscc == uscc, orm.AuditEvent.to_state == "inspected")
                                          ).one()
    finally:
        engine.dispose()
    assert actor == "clerk@office.luquan.example"
    assert json.loads(payload)["on_behalf_of"] == team[0] and json.loads(payload)["on_behalf_reason"] == "检查组电话报告"
