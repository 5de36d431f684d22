"""Inspections in the database: moves, tasks, refusals that change nothing, races, the audit chains."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text, update

from calendars import Deadline
from tests.conftest import EXAMPLE_CAMPAIGN, snapshot
from workflow.audit import campaign_chain
from workflow.errors import UserError
from workflow.machine import IllegalMove, fire
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.database import make_engine
from workflow.persistence.inspections import ConcurrentChange, InspectionRepository
from workflow.persistence.tasks import TaskRepository
from workflow.services.confirmations import record_answer
from workflow.services.facts import facts_for
from workflow.services.inspections import inspection_of, move_all, start_inspections
from workflow.services.uow import UnitOfWork
from workflow.tasks import NewTask

BEIJING = ZoneInfo("Asia/Shanghai")
CODE = "luquan-2019-h2"
CLERK = "clerk@office.luquan.example"
DISPATCH = datetime(2019, 11, 27, 10, 0, tzinfo=BEIJING)
AUDIT_TABLES = ("audit_events", "audit_chains")


@pytest.fixture
def started(loaded, db_url):
    """The seed campaign with three drawn enterprises, dispatched on 2019-11-27 10:00."""
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    engine = make_engine(db_url)
    with UnitOfWork(engine, now=DISPATCH, actor=CLERK, campaign=CODE) as uow:
        usccs = list(uow.conn.execute(select(orm.Enterprise.uscc).order_by(orm.Enterprise.uscc).limit(3)).scalars())
        start_inspections(uow, usccs)
        plan = uow.plan
    yield SimpleNamespace(engine=engine, plan=plan, usccs=usccs, url=db_url, ssj=loaded)
    engine.dispose()


def acting(started, when: datetime, actor: str = CLERK) -> UnitOfWork:
    return UnitOfWork(started.engine, now=when, actor=actor, campaign=CODE)


def move(started, uscc: str, trigger: str, when: datetime, actor: str = CLERK, reason: str = ""):
    with acting(started, when, actor) as uow:
        return uow.move(inspection_of(uow, uscc), trigger, reason=reason)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2019, 12 if day < 27 else 11, day, hour, tzinfo=BEIJING)


def answer_all(started, uscc: str, inspecting=("SJ", "SW")) -> None:
    """Each department answers itself on 11-28, except SW: silent, the office answers for it after its deadline."""
    for dept in sorted(started.plan.departments, key=lambda d: d.code == "SW"):  # SW last: its answer confirms
        own = dept.code != "SW"
        record_answer(acting(started, at(28) if own else at(30),
                             f"contact@{dept.code.lower()}.luquan.example" if own else CLERK),
                      dept.code, uscc, inspects=dept.code in inspecting,
                      reason="" if dept.code in inspecting else "不涉及本部门职责")


def raw_answers(conn, uscc: str, inspecting=("SJ", "SW")) -> None:
    """Every department's answer stored directly (no service): the enterprise stays 已抽取 until moved."""
    repo, iid = InspectionRepository(conn), inspection_id(conn, uscc)
    for dept in ("SJ", "SW", "RS", "HB", "YJ", "XF", "TJ"):
        repo.record_answer(iid, dept, dept in inspecting, "" if dept in inspecting else "不涉及", now=at(28),
                           actor=f"contact@{dept.lower()}.luquan.example", on_behalf=False)


def inspection_id(conn, uscc: str) -> int:
    return conn.execute(select(orm.InspectionRow.id).where(orm.InspectionRow.uscc == uscc)).scalar_one()


def officers(conn, dept: str, n: int) -> list[str]:
    o = orm.Officer
    return list(conn.execute(select(o.certificate_no).where(o.department_code == dept, o.status == "在岗")
                             .order_by(o.certificate_no).limit(n)).scalars())


def match_team(conn, uscc: str) -> list[str]:
    """Stands in for issue 5's matching: one SJ and one SW officer, forms generated."""
    iid, team = inspection_id(conn, uscc), officers(conn, "SJ", 1) + officers(conn, "SW", 1)
    conn.execute(insert(orm.TeamMemberRow.__table__), [
        {"inspection_id": iid, "certificate_no": c, "department_code": c_dept, "specialist": False,
         "matched_at": at(2)} for c, c_dept in zip(team, ("SJ", "SW"))])
    conn.execute(update(orm.InspectionRow.__table__).where(orm.InspectionRow.id == iid)
                 .values(forms_generated_at=at(2)))
    return team


def record_visit(conn, uscc: str, team: list[str], day=date(2019, 12, 10), signature="盖章", note="") -> None:
    iid = inspection_id(conn, uscc)
    conn.execute(update(orm.InspectionRow.__table__).where(orm.InspectionRow.id == iid)
                 .values(visit_date=day, visit_signature=signature, visit_note=note, visit_recorded_at=at(10),
                         visit_recorded_by=team[0]))
    conn.execute(insert(orm.VisitOfficer.__table__), [{"inspection_id": iid, "certificate_no": c} for c in team])


def record_results(conn, plan, uscc: str, codes="1") -> None:
    iid = inspection_id(conn, uscc)
    items = [i for d in plan.departments if d.code in ("SJ", "SW") for i in d.items]
    conn.execute(insert(orm.ItemResultRow.__table__), [
        {"inspection_id": iid, "item_code": i, "questions": 1, "recorded_at": at(11), "recorded_by": "x"}
        for i in items])
    conn.execute(insert(orm.ResultCode.__table__), [{"inspection_id": iid, "item_code": i, "code": c}
                                                    for i in items for c in codes])


def chains_intact(ssj) -> bool:
    """The hash chains alone: these tests write some tables directly (standing in for other steps), which the
    replay of the trail rightly reports."""
    return all(c["ok"] for c in json.loads(ssj("audit", "verify", "--json").out)["chains"])


def audit_rows(conn, chain: str) -> list:
    return list(AuditLog(conn).entries(chain))


def without_audit(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k not in AUDIT_TABLES}


# --- starting -------------------------------------------------------------------------


def test_drawn_enterprises_are_dispatched_with_a_confirmation_task_per_department(started):
    with started.engine.connect() as conn:
        rows = conn.execute(select(orm.InspectionRow.__table__)).all()
        assert {r.state for r in rows} == {"sampled"} and len(rows) == 3
        assert rows[0].sampled_at == DISPATCH.astimezone(timezone.utc)
        tasks = conn.execute(select(orm.TaskRow.__table__)).all()
        assert len(tasks) == 3 * 7 and {t.kind for t in tasks} == {"confirm"}
        # Wednesday 10:00 + 2 working days: by the end of Friday 2019-11-29, Beijing time.
        assert {t.due_at for t in tasks} == {datetime(2019, 11, 29, 16, 0, tzinfo=timezone.utc)}
        assert not any(t.provisional for t in tasks)
        sampled = audit_rows(conn, campaign_chain(CODE))
        assert [(r.action, r.to_state) for r in sampled] == [("sampled", "sampled")] * 3
    status = json.loads(started.ssj("campaign", "status", CODE, "--json").out)
    assert status["inspections"]["sampled"] == 3 and status["inspections"]["published"] == 0


def test_starting_again_opens_no_second_task(started):
    with started.engine.begin() as conn:
        repo = InspectionRepository(conn)
        i = repo.get(CODE, started.usccs[0])
        again = TaskRepository(conn).open([NewTask("confirm", CODE, Deadline(at(29), False), i.id, department="SJ")],
                                          at(28))
        assert again == 0


# --- the whole life, stored -------------------------------------------------------------


def test_an_inspection_moves_through_every_state_with_its_instants_tasks_and_audit(started):
    plan, uscc = started.plan, started.usccs[0]
    answer_all(started, uscc)
    with started.engine.begin() as conn:
        answers = {a.department: a for a in InspectionRepository(conn).answers([inspection_id(conn, uscc)])[
            inspection_id(conn, uscc)]}
        assert answers["SJ"].on_behalf is False and answers["SW"].on_behalf is True
        assert InspectionRepository(conn).get(CODE, uscc).state == "confirmed", "the last answer confirms"
        team = match_team(conn, uscc)
    move(started, uscc, "assign", at(2))
    with started.engine.begin() as conn:
        record_visit(conn, uscc, team)
    move(started, uscc, "inspect", at(10, 16), team[0])
    with started.engine.begin() as conn:
        record_results(conn, plan, uscc)
    move(started, uscc, "report", at(11), team[0])
    move(started, uscc, "publish", at(16))
    with started.engine.connect() as conn:
        row = conn.execute(select(orm.InspectionRow.__table__).where(orm.InspectionRow.uscc == uscc)).one()
        assert row.state == "published" and row.version == 6
        assert (row.confirmed_at, row.assigned_at, row.inspected_at, row.reported_at, row.published_at) == tuple(
            t.astimezone(timezone.utc) for t in (at(30), at(2), at(10, 16), at(11), at(16)))
        tasks = conn.execute(select(orm.TaskRow.__table__).where(orm.TaskRow.inspection_id == row.id)).all()
        # the transitions' reactions: the visit opened the back-fill and disclosure clocks, the last result and the
        # publication closed them
        assert {(t.kind, t.outcome, t.done_at) for t in tasks} == {
            ("confirm", "done", at(28).astimezone(timezone.utc)), ("confirm", "done", at(30).astimezone(timezone.utc)),
            ("backfill", "done", at(11).astimezone(timezone.utc)), ("publish", "done", at(16).astimezone(timezone.utc))}
        acknowledgements = conn.execute(select(orm.TaskRow.certificate_no).where(
            orm.TaskRow.kind == "acknowledge")).scalars().all()
        assert sorted(acknowledgements) == sorted(team), "assigning opened each officer's acknowledgement"
        trail = [(r.action, r.from_state, r.to_state) for r in audit_rows(conn, campaign_chain(CODE))
                 if r.uscc == uscc]
    assert trail[0] == ("sampled", None, "sampled")
    assert trail[-6:] == [("answer", None, None), ("confirm", "sampled", "confirmed"), ("assign", "confirmed", "assigned"),
                          ("inspect", "assigned", "inspected"), ("report", "inspected", "reported"),
                          ("publish", "reported", "published")]
    assert sum(1 for t in trail if t[0] == "answer") == 7
    with started.engine.connect() as conn:
        confirm = next(r for r in audit_rows(conn, campaign_chain(CODE)) if r.action == "confirm")
    assert json.loads(confirm.payload) == {"inspecting": ["SJ", "SW"], "answered_by_office_for": ["SW"]}
    assert confirm.actor == CLERK
    assert chains_intact(started.ssj)


def test_a_batch_moves_those_that_pass_and_reports_the_others(started):
    with started.engine.begin() as conn:
        raw_answers(conn, started.usccs[0])
        raw_answers(conn, started.usccs[1])
    with acting(started, at(30, 12)) as uow:
        waiting = uow.inspections.in_campaign(CODE, state="sampled")
        moved, refused = uow.move_many(waiting, "confirm")
    assert [i.uscc for i in moved] == started.usccs[:2]
    assert [i.uscc for i, _ in refused] == started.usccs[2:]
    assert "尚有 7 个部门未完成比对确认" in refused[0][1].problems[0]
    with started.engine.connect() as conn:
        states = {u: s for u, s in conn.execute(select(orm.InspectionRow.uscc, orm.InspectionRow.state))}
    assert states == {started.usccs[0]: "confirmed", started.usccs[1]: "confirmed", started.usccs[2]: "sampled"}


# --- refusals change nothing ---------------------------------------------------------------


def test_a_refused_guard_changes_nothing_but_records_the_refusal(started):
    before = snapshot(started.url)
    result = started.ssj("withdraw", CODE, started.usccs[0], "--reason", "企业已注销", "--user", "130110SJ001",
                         "--now", "2019-11-28T09:00")
    assert result.code == 2
    assert "“130110SJ001”不是本任务领导小组办公室的工作人员" in result.err
    after = snapshot(started.url)
    assert without_audit(after) == without_audit(before)
    with started.engine.connect() as conn:
        last = audit_rows(conn, campaign_chain(CODE))[-1]
    assert (last.action, last.actor, last.uscc) == ("refused", "130110SJ001", started.usccs[0])
    assert "不是本任务领导小组办公室的工作人员" in last.payload
    assert started.ssj("audit", "verify").code == 0


def test_an_illegal_move_changes_nothing(started):
    move(started, started.usccs[0], "withdraw", at(28), reason="企业已注销")
    before = snapshot(started.url)
    again = started.ssj("withdraw", CODE, started.usccs[0], "--reason", "再次撤出")
    assert again.code == 2 and "当前为“已撤出”，不能撤出" in again.err
    assert without_audit(snapshot(started.url)) == without_audit(before)


def test_withdraw_from_the_command_line_cancels_the_open_tasks(started):
    result = started.ssj("withdraw", CODE, started.usccs[1].lower(), "--reason", "企业已注销", "--now",
                         "2019-11-28T09:30")
    assert result.code == 0, result.err
    assert result.out.strip() == f"已撤出企业 {started.usccs[1]}（原状态：已抽取），理由：企业已注销"
    with started.engine.connect() as conn:
        row = conn.execute(select(orm.InspectionRow.__table__).where(orm.InspectionRow.uscc == started.usccs[1])).one()
        assert (row.state, row.withdraw_reason) == ("withdrawn", "企业已注销")
        outcomes = conn.execute(select(orm.TaskRow.outcome).where(orm.TaskRow.inspection_id == row.id)).scalars()
        assert set(outcomes) == {"cancelled"}
        due = TaskRepository(conn).due(datetime(2019, 12, 1, tzinfo=BEIJING), CODE)
        assert {t.inspection_id for t in due} == {inspection_id(conn, u) for u in started.usccs if u != started.usccs[1]}


def test_unknown_campaign_or_enterprise(started):
    assert started.ssj("withdraw", "nope", started.usccs[0], "--reason", "x").code == 2
    missing = started.ssj("withdraw", CODE, "91130110MA0000000X", "--reason", "x")
    assert missing.code == 2 and "不是抽查任务“luquan-2019-h2”的抽查对象" in missing.err


def test_answers_only_from_the_department_or_the_office(started):
    before = snapshot(started.url)
    with pytest.raises(UserError) as caught:
        record_answer(acting(started, at(28), "admin@sj.luquan.example"), "SW", started.usccs[0], inspects=True,
                      reason="")
    assert "不是国家税务总局石家庄市鹿泉区税务局的管理员或联络人" in str(caught.value)
    with pytest.raises(UserError) as caught:
        record_answer(acting(started, at(28), "contact@sw.luquan.example"), "SW", started.usccs[0], inspects=False,
                      reason=" ")
    assert "须说明理由" in str(caught.value)
    with pytest.raises(UserError) as caught:
        record_answer(acting(started, at(29, 23)), "SW", started.usccs[0], inspects=True, reason="")
    assert "期限届满前须由该部门自行确认" in str(caught.value) and "2019年11月29日（星期五）前" in str(caught.value)
    assert snapshot(started.url) == before


# --- two processes, one inspection ----------------------------------------------------------


def test_two_connections_cannot_both_move_the_same_inspection(started):
    """A holds the row (lock) while B tries: B waits, then finds the move already made."""
    uscc = started.usccs[0]
    other = make_engine(started.url)
    outcome = {}
    a_holds = threading.Event()

    def b():
        a_holds.wait()
        try:
            with UnitOfWork(other, now=at(28, 11), actor=CLERK, campaign=CODE) as uow:
                uow.move(inspection_of(uow, uscc), "withdraw", reason="B 的理由")
            outcome["b"] = "moved"
        except IllegalMove as exc:
            outcome["b"] = str(exc)

    thread = threading.Thread(target=b)
    thread.start()
    with acting(started, at(28, 10)) as uow:
        uow.move(inspection_of(uow, uscc), "withdraw", reason="A 的理由")
        a_holds.set()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "B must wait for A's transaction"
    thread.join(timeout=30)
    other.dispose()
    assert "当前为“已撤出”" in outcome["b"]
    with started.engine.connect() as conn:
        row = conn.execute(select(orm.InspectionRow.__table__).where(orm.InspectionRow.uscc == uscc)).one()
        assert (row.withdraw_reason, row.version) == ("A 的理由", 2)
        assert sum(1 for r in audit_rows(conn, campaign_chain(CODE)) if r.action == "withdraw") == 1
    assert started.ssj("audit", "verify").code == 0


def test_a_stale_version_loses(started):
    """Loaded without a lock by two connections: the second save finds the version moved on."""
    uscc = started.usccs[0]
    other = make_engine(started.url)
    with started.engine.connect() as c1:
        stale = InspectionRepository(c1).get(CODE, uscc, lock=False)
    with other.connect() as c2:
        also_stale = InspectionRepository(c2).get(CODE, uscc, lock=False)
    for inspection, engine, reason in ((stale, started.engine, "先"), (also_stale, other, "后")):
        with UnitOfWork(engine, now=at(28), actor=CLERK, campaign=CODE) as uow:
            facts = facts_for(uow, "withdraw", [inspection], reason=reason)[inspection.id]
        fire(inspection, "withdraw", facts, at(28))
    with started.engine.begin() as conn:
        assert InspectionRepository(conn).save([stale]) == 1
    with pytest.raises(ConcurrentChange), other.begin() as conn:
        InspectionRepository(conn).save([also_stale])
    other.dispose()
    with started.engine.connect() as conn:
        assert conn.execute(select(orm.InspectionRow.withdraw_reason).where(
            orm.InspectionRow.uscc == uscc)).scalar() == "先"


# --- the audit chains ------------------------------------------------------------------------


def test_directory_imports_have_their_own_chain(loaded, db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = audit_rows(conn, "directories")
    engine.dispose()
    # the office's staff added at initialisation (tests/conftest.py: STAFF), then the four imports
    assert [r.action for r in rows[:2]] == ["staff_added", "staff_added"]
    assert [json.loads(r.payload)["kind"] for r in rows[2:]] == ["departments", "items", "officers", "enterprises"]
    verified = loaded("audit", "verify", "--json")
    assert verified.code == 0 and json.loads(verified.out)["chains"][0]["rows"] == 6


TAMPERING = {
    "update": ["UPDATE audit_events SET actor = 'someone@else.example' WHERE chain = :c AND seq = 2"],
    "delete": ["DELETE FROM audit_events WHERE chain = :c AND seq = 2"],
    "insert": ["UPDATE audit_events SET seq = -(seq + 1) WHERE chain = :c AND seq >= 2",
               "UPDATE audit_events SET seq = -seq WHERE chain = :c AND seq < 0",
               "INSERT INTO audit_events (chain, seq, occurred_at, actor, action, campaign_code, uscc, from_state, "
               "to_state, payload, prev_hash, hash) SELECT chain, 2, occurred_at, actor, action, campaign_code, uscc, "
               "from_state, to_state, payload, hash, hash FROM audit_events WHERE chain = :c AND seq = 1"],
    "swap": ["UPDATE audit_events SET seq = CASE seq WHEN 2 THEN -3 ELSE -2 END WHERE chain = :c AND seq IN (2, 3)",
             "UPDATE audit_events SET seq = -seq WHERE chain = :c AND seq < 0"],
}
EXPECTED = {"update": "记录被修改", "delete": "序号应为 2，实际为 3", "insert": "记录被修改或伪造",
            "swap": "前一条的哈希与记录不符"}


@pytest.mark.parametrize("how", TAMPERING)
def test_audit_verify_names_the_first_bad_row(started, how):
    assert started.ssj("audit", "verify").code == 0
    with started.engine.begin() as conn:
        for statement in TAMPERING[how]:
            conn.execute(text(statement), {"c": campaign_chain(CODE)})
    result = started.ssj("audit", "verify")
    assert result.code == 1 and "1 条审计链被改动" in result.err
    bad = [line for line in result.out.splitlines() if line.startswith(f"审计链 {campaign_chain(CODE)}")]
    first_bad = 3 if how == "delete" else 2
    assert len(bad) == 1 and f"第 {first_bad} 条" in bad[0] and EXPECTED[how] in bad[0], result.out
    assert "directories：6 条，完整" in result.out, "the other chain is still reported intact"


def test_audit_verify_catches_rows_cut_off_the_end(started):
    with started.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE chain = :c AND seq = 3"), {"c": campaign_chain(CODE)})
    result = started.ssj("audit", "verify", "--json")
    doc = json.loads(result.out)
    assert result.code == 1 and doc["ok"] is False
    [chain] = [c for c in doc["chains"] if c["chain"] == campaign_chain(CODE)]
    assert chain["problem"].endswith("末尾的记录被删除或追加")


def test_two_moves_before_one_save_keep_both_instants(started):
    uscc = started.usccs[0]
    with started.engine.begin() as conn:
        raw_answers(conn, uscc)
        team = match_team(conn, uscc)
    with acting(started, at(2)) as uow:
        inspection = uow.inspections.get(CODE, uscc)
        for trigger, when in (("confirm", at(30, 12)), ("assign", at(2))):
            fire(inspection, trigger, facts_for(uow, trigger, [inspection])[inspection.id], when)
        assert uow.inspections.save([inspection]) == 1
        row = uow.conn.execute(select(orm.InspectionRow.__table__).where(orm.InspectionRow.uscc == uscc)).one()
    assert team and (row.state, row.version) == ("assigned", 2)
    assert (row.confirmed_at, row.assigned_at) == (at(30, 12).astimezone(timezone.utc), at(2).astimezone(timezone.utc))


def test_move_all_moves_those_that_pass_and_reports_the_refused(started):
    with started.engine.begin() as conn:
        for uscc in started.usccs[:2]:
            raw_answers(conn, uscc)
    with acting(started, at(29)) as uow:
        report = move_all(uow, "confirm", source="sampled")
    assert report.moved == 2
    assert [u for u, _ in report.refused] == [started.usccs[2]]
    assert "尚有 7 个部门未完成比对确认" in report.refused[0][1][1]
    with acting(started, at(30, 12)) as uow:
        again = move_all(uow, "confirm", source="sampled")
    assert again.moved == 0 and len(again.refused) == 1, "running again moves nothing twice"
    assert chains_intact(started.ssj)
