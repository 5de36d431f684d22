"""The board answers the office's questions: what is late (each task once) and whom to ring, what the office
already chases, what falls due this week — and the morning report lands in the campaign's own folder."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from tests.integration.conftest import CODE
from workflow.identity import SYSTEM
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.dashboard import dashboard
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.uow import UnitOfWork

VISITED = "2019-12-10"  # back-fill due 5 working days later: by the end of 2019-12-17


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def visited(assigned, smtp_server):
    """Two enterprises visited on 12-10 by their joint SJ + SW teams, results not back-filled: two joint back-fill
    tasks, each owed by both departments."""
    ssj, sampled, teams, _ = assigned
    joint = sampled[:2]
    for uscc in joint:
        team = [c for c, _ in teams["teams"][uscc]]
        result = ssj("results", "visit", CODE, uscc, "--date", VISITED, "--officers", ",".join(team),
                     "--signature", "签字", "--now", f"{VISITED}T17:00")
        assert result.code == 0, result.err
    return ssj, joint, teams


def board_at(engine, when: str, **kw):
    return dashboard(UnitOfWork(engine, now=at(when), actor=SYSTEM, campaign=CODE, changes=False), **kw)


def section(markdown: str, title: str) -> str:
    """The text of one ``## `` section of the summary."""
    part = markdown.split("\n## " + title, 1)[1]
    return part.split("\n## ", 1)[0]


def open_overdue(engine, when: str) -> int:
    t = orm.TaskRow
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t).where(
            t.campaign_code == CODE, t.done_at.is_(None), t.due_at <= at(when))).scalar()


def officers(engine) -> dict:
    with engine.connect() as conn:
        return {r.certificate_no: r for r in conn.execute(select(orm.Officer.certificate_no, orm.Officer.name,
                                                                 orm.Officer.mobile))}


def test_the_summary_counts_each_overdue_task_once_and_names_whom_to_ring(visited, engine, tmp_path, monkeypatch):
    ssj, joint, teams = visited
    events = sweep(engine, "2019-12-23T09:30")  # what a tick does: the notices climb to the office (12-18..20 passed)
    events_are_readable(events, engine, joint)
    board = board_at(engine, "2019-12-23T10:00")
    distinct = open_overdue(engine, "2019-12-23T10:00")
    assert board.overdue == distinct and f"## 逾期事项：{distinct} 项" in board.markdown
    per_department = {r["部门"]: r["逾期事项（项）"] for r in board.overdue_table}
    assert sum(per_department.values()) == distinct + len(joint), "a joint task counts once in each department"
    overdue = section(board.markdown, "逾期事项")
    assert f"逾期事项共 {distinct} 项；其中 {len(joint)} 项由多个部门共同负责" in overdue
    people = officers(engine)
    team = [c for c, _ in teams["teams"][joint[0]]]
    for cert in team:
        assert f"{people[cert].name}（手机 {people[cert].mobile}）" in overdue, "the officer and the mobile to ring"
        assert cert not in board.markdown, "never a bare certificate number"
    rows = [line for line in overdue.splitlines() if line.startswith("- **") and "回填检查结果" in line]
    assert len(rows) == len(joint), "one line per task, however many departments owe it"
    assert all("期限 2019年12月17日（星期二）前" in r and r.endswith("逾期 **3** 个工作日") for r in rows), \
        "due date, working days overdue"

    escalated = section(board.markdown, "已督办至领导小组办公室")
    assert board.escalated > 0 and escalated.startswith(f"：{board.escalated} 项")
    with engine.connect() as conn:
        enterprises = dict(conn.execute(select(orm.Enterprise.uscc, orm.Enterprise.name)
                                        .where(orm.Enterprise.uscc.in_(joint))).all())
    [backfill] = [line for line in escalated.splitlines() if "回填检查结果" in line]
    assert backfill.startswith("- 2019年12月23日（星期一）08:30起 · ") and f" · {len(joint)} 项：" in backfill, "since when, how many"
    assert all(enterprises[u] in backfill for u in joint), "the enterprises the office now chases"
    assert backfill.endswith("：" + "、".join(sorted(enterprises[u] for u in joint))), "by name"
    [acknowledge] = [line for line in escalated.splitlines() if "执法人员确认一企一表" in line]
    total, per = acknowledge.rsplit(" · ", 1)[1].split(" 项：", 1)
    with engine.connect() as conn:  # the officers' tasks, counted per officer by SQL, told per department
        owed = dict(conn.execute(select(orm.Department.name, func.count()).select_from(orm.TaskRow)
                                 .join(orm.Officer, orm.Officer.certificate_no == orm.TaskRow.certificate_no)
                                 .join(orm.Department, orm.Department.code == orm.Officer.department_code)
                                 .where(orm.TaskRow.kind == "acknowledge", orm.TaskRow.done_at.is_(None))
                                 .group_by(orm.Department.name)).all())
    assert set(per.split("、")) == {f"{name} {n} 项" for name, n in owed.items()} and \
        int(total) == sum(owed.values()) > len(owed), "how many each department's officers owe"

    report = ssj("report", "overdue", CODE, "--out", tmp_path / "overdue.xlsx", "--now", "2019-12-23T10:00")
    assert report.code == 0 and f"逾期事项 {distinct} 项" in report.out
    book = openpyxl.load_workbook(tmp_path / "overdue.xlsx")
    detail = list(book["逾期明细"].iter_rows(min_row=5, values_only=True))
    assert len(detail) == distinct
    backfill = [r for r in detail if r[1] == "回填检查结果"]
    assert len(backfill) == len(joint) and all("、" in r[0] for r in backfill), "both departments on the one row"
    notes = [c for row in book["逾期部门"].iter_rows(max_row=4, values_only=True) for c in row if c]
    reported = [row for row in book["逾期部门"].iter_rows(min_row=5, max_col=5, values_only=True) if row[0]]
    assert reported == [tuple(r.values()) for r in board.overdue_table], \
        "the board's departments (counted by SQL) say what the report's (every task) say"
    assert any(f"逾期事项共 {distinct} 项" in str(n) for n in notes)

    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    daily = prepare_daily_overdue_report(UnitOfWork(engine, now=at("2019-12-23T10:00"), actor=SYSTEM, campaign=CODE))
    assert daily.path == (tmp_path / "files" / CODE / "报表" / "逾期部门报告_2019-12-23.xlsx").resolve()
    assert daily.path.exists() and not any(elsewhere.iterdir()), "nothing in the working directory"
    assert daily.overdue == distinct and sum(r["tasks"] for r in daily.departments) == distinct + len(joint)


def test_what_falls_due_in_the_next_five_working_days_as_dates_and_when_mail_is_off(visited, engine):
    board = board_at(engine, "2019-12-11T10:00")
    soon = section(board.markdown, "未来 5 个工作日")
    assert "未来 5 个工作日（至2019年12月18日（星期三））到期" in board.markdown
    rows = [line for line in soon.splitlines() if "回填检查结果" in line]
    assert [r.split(" | ")[1] for r in rows] == ["鹿泉区市场监督管理局", "国家税务总局石家庄市鹿泉区税务局"], \
        "each department that owes the joint back-fill, in the plan's order"
    assert all(r.startswith("| 2019年12月17日（星期二）前 |") and r.endswith("| 2 |") for r in rows), "the day and the count"
    assert "2019年12月17日（星期二）前" in soon and "部门报送检查表、总结和统计表" in soon
    assert "工作日内" not in board.markdown and "派发后" not in board.markdown, "dates, not rules"
    assert board.due_soon >= 2 and board.markdown.startswith("# ")
    t = orm.TaskRow  # counted by GROUP BY: as many as the open tasks due in the window, one by one
    with engine.connect() as conn:
        due = conn.execute(select(func.count()).select_from(t).where(
            t.campaign_code == CODE, t.done_at.is_(None), t.due_at > at("2019-12-11T10:00"),
            t.due_at < at("2019-12-19T00:00"))).scalar()
    assert board.due_soon == due
    quiet = board_at(engine, "2019-12-11T10:00", mail=False)
    assert quiet.markdown.startswith("> **未发信（--no-mail）"), "served with --no-mail: said first"
    assert quiet.described("逾期").startswith("逾期 · ") and quiet.described("逾期").endswith("未发信（--no-mail）")


def sweep(engine, when: str) -> list[dict]:
    """A tick's sweep (without Prefect): the events it would announce."""
    from flows.events import sweep_events
    from workflow.services.tick import advance
    from workflow.services.timeline import new_transitions

    uow = UnitOfWork(engine, now=at(when), actor=SYSTEM, campaign=CODE)
    advanced = advance(uow)
    return sweep_events(CODE, uow.now, new_transitions(uow), advanced.moved, advanced.swept.decided)


def events_are_readable(events: list[dict], engine, joint: list[str]) -> None:
    """Resources named as the office names them, Chinese payloads, and the office's escalation of a joint task."""
    from flows.events import ESCALATED_TO_OFFICE

    name = "石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查"
    ids = {e["resource"]["prefect.resource.id"] for e in events}
    assert all(i.startswith(("ssj.campaign.", "ssj.department.", "ssj.inspection.")) for i in ids), ids
    assert not any("|" in i or i.startswith("ssj.task.") for i in ids)
    with engine.connect() as conn:
        enterprise = conn.execute(select(orm.Enterprise.name).where(orm.Enterprise.uscc == joint[0])).scalar()
    visited_events = [e for e in events if e["event"] == "ssj.inspection.inspect"
                      and e["resource"]["prefect.resource.id"] == f"ssj.inspection.{CODE}.{joint[0]}"]
    assert visited_events and visited_events[0]["resource"]["prefect.resource.name"] == enterprise
    assert visited_events[0]["payload"]["新状态"] == "已检查"
    assert visited_events[0]["related"][0] == {"prefect.resource.id": f"ssj.campaign.{CODE}",
                                               "prefect.resource.name": name, "prefect.resource.role": "campaign"}
    to_office = [e for e in events if e["event"] == ESCALATED_TO_OFFICE
                 and e["resource"]["prefect.resource.id"] == f"ssj.inspection.{CODE}.{joint[0]}"]
    [escalation] = to_office
    assert escalation["payload"]["事项"] == "回填检查结果" and escalation["payload"]["截止"] == "2019年12月17日（星期二）前"
    assert escalation["payload"]["企业"] == enterprise
    roles = {r["prefect.resource.id"]: r for r in escalation["related"]}
    assert {"ssj.department.SJ", "ssj.department.SW"} <= set(roles)
    assert roles["ssj.department.SJ"]["prefect.resource.name"] == "鹿泉区市场监督管理局"
    for e in (e for e in events if e["event"] == ESCALATED_TO_OFFICE):
        assert e["resource"]["prefect.resource.id"].startswith((f"ssj.inspection.{CODE}.", f"ssj.campaign.{CODE}"))
        assert any(r["prefect.resource.role"] == "department" for r in e["related"]), "who owes it"
    assert any(e["event"] == ESCALATED_TO_OFFICE and e["resource"]["prefect.resource.id"] == f"ssj.campaign.{CODE}"
               and e["payload"]["事项"] == "部门报送检查表、总结和统计表" for e in events), "a department's own task"
    notices = [e for e in events if e["event"].startswith("ssj.task.")]
    assert notices and all(set(e["payload"]) >= {"事项", "阶段", "截止"} for e in notices)
    assert all(all(ord(k[0]) > 127 for k in e["payload"]) for e in events), "Chinese labels"


def events_about(api: str, prefix: str, names: list[str]) -> list[dict]:
    """The events the Prefect API holds for resources under ``prefix`` (waits for the server to store them)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=30)
    body = {"filter": {"occurred": {"since": "2019-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
                       "event": {"name": names}, "any_resource": {"id_prefix": [prefix]}}, "limit": 50}
    deadline = time.monotonic() + 60
    while True:
        found = httpx.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_a_notice_reaching_the_office_is_an_event_the_office_can_automate_on(prefect_api, visited, db_url, engine):
    from flows.events import ESCALATED_TO_OFFICE
    from flows.tick import campaign_tick

    ssj, joint, _ = visited
    result = campaign_tick(CODE, now="2019-12-23T09:30", url=db_url)
    assert result["to_office"] > 0 and result["escalated"] > 0
    found = events_about(prefect_api, f"ssj.inspection.{CODE}.{joint[0]}", [ESCALATED_TO_OFFICE])
    with engine.connect() as conn:
        enterprise = conn.execute(select(orm.Enterprise.name).where(orm.Enterprise.uscc == joint[0])).scalar()
    [event] = [e for e in found if e["payload"]["事项"] == "回填检查结果"]
    assert event["resource"]["prefect.resource.name"] == enterprise
    related = {r["prefect.resource.id"]: r["prefect.resource.name"] for r in event["related"]}
    assert related[f"ssj.campaign.{CODE}"].endswith("联合抽查")
    assert related["ssj.department.SJ"] == "鹿泉区市场监督管理局" and "ssj.department.SW" in related
    assert event["payload"]["企业"] == enterprise and event["payload"]["截止"] == "2019年12月17日（星期二）前"


def test_an_enterprise_a_department_owes_twice_is_one_enterprise_concerned(visited, engine, tmp_path):
    """The board counts a department's own tasks over an index and the rest apart: an enterprise whose joint
    back-fill SJ owes and whose SJ confirmation is open again is one enterprise concerned for SJ, not two, as the
    report that reads every task says."""
    from sqlalchemy import update

    from workflow.persistence.queries import ReportQueries

    ssj, joint, teams = visited
    t, i = orm.TaskRow, orm.InspectionRow
    with engine.connect() as conn:
        sj = conn.execute(select(orm.Department.name).where(orm.Department.code == "SJ")).scalar_one()
    [before] = [r for r in board_at(engine, "2019-12-23T10:00").overdue_table if r["部门"] == sj]
    with engine.begin() as conn:
        iid = conn.execute(select(i.id).where(i.campaign_code == CODE, i.uscc == joint[0])).scalar_one()
        reopened = conn.execute(update(t).where(t.kind == "confirm", t.department_code == "SJ", t.inspection_id == iid)
                                .values(done_at=None, outcome=None)).rowcount
    assert reopened == 1
    board = board_at(engine, "2019-12-23T10:00")
    report = ssj("report", "overdue", CODE, "--out", tmp_path / "overdue.xlsx", "--now", "2019-12-23T10:00")
    assert report.code == 0, report.err
    book = openpyxl.load_workbook(tmp_path / "overdue.xlsx")
    reported = [row for row in book["逾期部门"].iter_rows(min_row=5, max_col=5, values_only=True) if row[0]]
    assert reported == [tuple(r.values()) for r in board.overdue_table]
    with engine.connect() as conn:
        queries = ReportQueries(conn)
        known = [d for d, in conn.execute(select(orm.Department.code))]
        split = sorted(queries.overdue_by_owner(CODE, at("2019-12-23T10:00"), known), key=str)
        one_pass = sorted((tuple(r) for r in queries._overdue_by_owner(CODE, at("2019-12-23T10:00"), known)), key=str)
    [after] = [r for r in board.overdue_table if r["部门"] == sj]
    assert after["逾期事项（项）"] == before["逾期事项（项）"] + 1, "one more task"
    assert after["涉及企业"] == before["涉及企业"], "of an enterprise SJ was already concerned with"
    assert [r[:4] for r in split] == [r[:4] for r in one_pass], "the split count says what one pass says"
    assert [bool(r[4]) for r in split] == [bool(r[4]) for r in one_pass]
