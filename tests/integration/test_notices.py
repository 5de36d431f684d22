"""Reminders, overdue notices and escalations through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import draw_campaign, free_port
from workflow.persistence import orm
from workflow.identity import SYSTEM
from workflow.persistence.database import make_engine
from workflow.services.outbox import SmtpConfig
from workflow.services.outbox import send_outbox as send_all
from workflow.services.sweep import sweep
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
BEIJING = ZoneInfo("Asia/Shanghai")


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=BEIJING)


@pytest.fixture
def smtp(smtp_server):
    return smtp_server


@pytest.fixture
def campaign(loaded, db_url):
    """The seed campaign drawn on 2019-11-27 09:00: each department owes a confirmation per enterprise."""
    draw_campaign(loaded)
    engine = make_engine(db_url)
    with UnitOfWork(engine, now=at("2019-11-27T09:00"), actor=SYSTEM, campaign=CODE) as uow:
        plan = uow.plan
    yield loaded, engine, plan
    engine.dispose()


def run_sweep(engine, plan, when):
    return sweep(UnitOfWork(engine, now=at(when), actor=SYSTEM, campaign=plan.code))


def send_outbox(engine, config, *, now, worker, **options):
    return send_all(UnitOfWork(engine, now=now, actor=SYSTEM), config, worker=worker, **options)


def outbox(engine):
    with engine.connect() as conn:
        return conn.execute(select(orm.OutboxMessage.__table__).order_by(orm.OutboxMessage.id)).all()


def open_confirm_tasks(engine):
    with engine.connect() as conn:
        return conn.execute(select(orm.TaskRow.__table__).where(orm.TaskRow.kind == "confirm",
                                                                orm.TaskRow.done_at.is_(None))).all()


def test_reminder_overdue_and_the_ladder(campaign, smtp):
    """Each department's administrator gets one digest per stage listing all its enterprises, in office hours;
    the ladder then climbs to its contact, its leader, the office — one whole working day after another."""
    ssj, engine, plan = campaign
    inbox, config = smtp
    tasks = open_confirm_tasks(engine)
    departments = {t.department_code for t in tasks}
    first = run_sweep(engine, plan, "2019-11-27T12:00")
    assert (first.planned, first.notices, first.queued) == (len(tasks) + 2 * 7, 0, 0), \
        "every open task planned: the confirmations, and each department's stamped report and summary"
    reminded = run_sweep(engine, plan, "2019-11-28T09:30")
    assert reminded.notices == len(tasks) and reminded.queued == len(departments), "one digest per administrator"
    assert run_sweep(engine, plan, "2019-11-28T10:00").queued == 0, "a second sweep queues nothing twice"
    sent = send_outbox(engine, config, now=at("2019-11-28T09:31"), worker="w1")
    assert sent.sent == len(departments) + 7, "the reminders, and the seven departments' dispatch emails of the draw"
    reminders = [(r, m) for r, m in inbox.messages if str(m["Subject"]).startswith("【提醒】")]
    assert sorted(r[0] for r, _ in reminders) == sorted(f"admin@{d.lower()}.luquan.example" for d in departments)
    per_department = {d: sum(t.department_code == d for t in tasks) for d in departments}
    for (recipient, ), mail in reminders:
        count = per_department[recipient.split("@")[1].split(".")[0].upper()]
        assert str(mail["Subject"]).startswith(f"【提醒】部门比对确认（{count} 项）：")
        body = text(mail)
        [attached] = list(mail.iter_attachments())
        assert attached.get_filename().endswith(".xlsx") and "请在附件清单「是否检查」列逐户填写" in body, \
            "the unanswered enterprises come with the reminder, to fill in and send back"
        assert body.count("统一社会信用代码") == count, "every enterprise of the department listed once"
        assert "截止 2019年11月29日（星期五）前，尚余 1 个工作日" in body
        assert "同志：您好！" in body and "封勃" in body and "82012463" in body and "ssj " not in body
    assert len(set(inbox.ids())) == len(inbox.messages)

    sw = [t for t in tasks if t.department_code == "SW"]
    for t in sw:  # the tax bureau answers for its enterprises before the deadline
        uscc = _uscc(engine, t.inspection_id)
        assert ssj("confirm", CODE, "SW", uscc, "--inspect", "--user", "contact@sw.luquan.example",
                   "--now", "2019-11-29T15:00").code == 0
    overdue = run_sweep(engine, plan, "2019-11-30T00:05")
    assert confirmations(overdue) == len(tasks) - len(sw), "overdue from the deadline itself (Saturday 00:00)"
    assert send_outbox(engine, config, now=at("2019-11-30T00:06"), worker="w1").sent == 0, "not at midnight"
    assert send_outbox(engine, config, now=at("2019-12-01T10:00"), worker="w1").sent == 0, "nor on a Sunday"
    send_outbox(engine, config, now=at("2019-12-02T08:30"), worker="w1")
    overdue_mail = [r[0] for r, m in inbox.messages if str(m["Subject"]).startswith("【逾期】")]
    assert len(overdue_mail) == len(departments) - 1, "Monday at the office's opening, one per administrator"
    assert not any(r[0] == "admin@sw.luquan.example" for r, m in inbox.messages if "逾期" in str(m["Subject"])), \
        "answered tasks get no overdue notice"
    assert confirmations(run_sweep(engine, plan, "2019-12-02T16:59")) == 0, "Monday has not wholly passed: no 督办"

    # A working day must wholly pass after the deadline day (Fri 11-29): Tue 12-03 the department contact,
    # Wed 12-04 the department's leader, Thu 12-05 the office.
    steps = {}
    for when, step in (("2019-12-03T09:30", "department_contact"), ("2019-12-04T09:30", "department_leader"),
                       ("2019-12-05T09:30", "office")):
        report = run_sweep(engine, plan, when)
        steps[step] = confirmations(report)
        send_outbox(engine, config, now=at(when) + timedelta(minutes=1), worker="w1")
    assert set(steps.values()) == {len(tasks) - len(sw)}
    escalations = [(r[0], m) for r, m in inbox.messages if str(m["Subject"]).startswith("【督办】部门比对确认")]
    contacts = [m for r, m in escalations if r.startswith("contact@")]
    assert len(contacts) == len(departments) - 1 and "已逾期 1 个工作日" in text(contacts[0])
    assert "请您作为部门联络人督促办理" in text(contacts[0])
    leaders = [r for r, m in escalations if r.startswith("leader@")]
    office = [m for r, m in escalations if r in plan.office_staff or r == plan.email_office]
    assert len(leaders) == len(departments) - 1
    assert len(office) == len(plan.office_mailboxes), "the office's people get one digest each"
    assert text(office[0]).count("统一社会信用代码") == len(tasks) - len(sw)
    assert "ssj confirm import" in text(office[0]), "the office's own staff are told the command too"
    assert all(s.startswith(("【提醒】", "【逾期】", "【督办】", "【派发】")) for s in inbox.subjects())
    assert confirmations(run_sweep(engine, plan, "2019-12-20T09:30")) == 0, "the ladder ends at the office"
    assert ssj("audit", "verify").code == 0


def test_a_step_whose_person_already_had_the_notice_is_skipped(campaign, smtp, db_url):
    """A department whose contact is also its administrator: its first 督办 goes to its leader, on time."""
    _, engine, plan = campaign
    inbox, config = smtp
    with engine.begin() as conn:
        conn.execute(orm.Department.__table__.update().where(orm.Department.code == "SW")
                     .values(contact_email="admin@sw.luquan.example"))
    run_sweep(engine, plan, "2019-11-30T00:05")
    run_sweep(engine, plan, "2019-12-03T09:30")
    send_outbox(engine, config, now=at("2019-12-03T09:31"), worker="w1")
    overdue = {r[0] for r, m in inbox.messages if str(m["Subject"]).startswith("【逾期】")}
    first_escalation = {r[0] for r, m in inbox.messages if str(m["Subject"]).startswith("【督办】")}
    assert "admin@sw.luquan.example" in overdue
    assert "leader@sw.luquan.example" in first_escalation and "admin@sw.luquan.example" not in first_escalation
    assert "contact@rs.luquan.example" in first_escalation, "the other departments climb to their contacts"


def test_a_crash_before_the_digest_sends_the_same_digest_next_run(campaign, smtp):
    """Notices decided and held, then the process dies before digesting: the next run digests exactly them, and
    a notice decided later goes into a digest of its own, never a second copy of the first."""
    _, engine, plan = campaign
    inbox, config = smtp
    import workflow.services.sweep as sweeping

    real = sweeping.digest_notices
    sweeping.digest_notices = lambda uow: (_ for _ in ()).throw(SystemExit("killed before the digest"))
    try:
        with pytest.raises(SystemExit):
            run_sweep(engine, plan, "2019-11-28T09:30")
    finally:
        sweeping.digest_notices = real
    assert [r for r in outbox(engine) if r.kind == "remind"] == [], "nothing queued yet, the notices are held"
    again = run_sweep(engine, plan, "2019-11-28T09:40")
    assert again.notices == 0 and again.queued == 7, "the held notices go out as the seven digests"
    keys = {r.key for r in outbox(engine) if r.kind == "remind"}
    assert run_sweep(engine, plan, "2019-11-28T09:50").queued == 0
    assert {r.key for r in outbox(engine) if r.kind == "remind"} == keys
    send_outbox(engine, config, now=at("2019-11-28T09:51"), worker="w1")
    assert sum(str(m["Subject"]).startswith("【提醒】") for _, m in inbox.messages) == 7


def text(mail) -> str:
    """The message's words (its attachments aside)."""
    return mail.get_body(preferencelist=("plain",)).get_content()


def confirmations(report) -> int:
    return sum(1 for n in report.decided if n["kind"] == "confirm")


def _uscc(engine, inspection_id):
    with engine.connect() as conn:
        return conn.execute(select(orm.InspectionRow.uscc).where(orm.InspectionRow.id == inspection_id)).scalar()


def test_a_late_sweep_sends_only_the_latest_notice(campaign, smtp):
    _, engine, plan = campaign
    inbox, config = smtp
    tasks = open_confirm_tasks(engine)
    report = run_sweep(engine, plan, "2019-12-04T10:00")  # the first sweep ever, five days late
    assert confirmations(report) == len(tasks)
    send_outbox(engine, config, now=at("2019-12-04T10:01"), worker="w1")
    about_confirmations = [r for r, m in inbox.messages if "部门比对确认" in str(m["Subject"])]
    assert len(about_confirmations) == len({t.department_code for t in tasks})
    assert all(r[0].startswith("leader@") for r in about_confirmations)
    with engine.connect() as conn:
        levels = set(conn.execute(select(orm.TaskRow.escalation_level).where(orm.TaskRow.kind == "confirm")).scalars())
    assert levels == {4}


def test_smtp_down_then_up_delivers_each_message_once(campaign, smtp):
    _, engine, plan = campaign
    inbox, config = smtp
    run_sweep(engine, plan, "2019-11-28T09:30")
    queued = len(outbox(engine))
    down = SmtpConfig("127.0.0.1", free_port())
    failed = send_outbox(engine, down, now=at("2019-11-28T09:31"), worker="w1")
    assert failed.failed == queued and failed.sent == 0 and "无法连接邮件服务器" in failed.errors[0]
    assert send_outbox(engine, config, now=at("2019-11-28T09:31:30"), worker="w1").sent == 0, "backing off"
    for minute in range(1, 70):  # an hour of simulated outage and then some: the backoff never exceeds an hour
        send_outbox(engine, down if minute < 60 else config, now=at("2019-11-28T09:31") + timedelta(minutes=minute),
                    worker="w1")
    assert len(inbox.messages) == queued and len(set(inbox.ids())) == queued
    assert all(r.sent_at is not None for r in outbox(engine))


def test_a_crash_between_acceptance_and_mark_resends_under_the_same_message_id(campaign, smtp):
    _, engine, plan = campaign
    inbox, config = smtp
    run_sweep(engine, plan, "2019-11-28T09:30")
    queued = len(outbox(engine))

    def crash(row):
        raise SystemExit("killed after the server accepted the message")

    with pytest.raises(SystemExit):
        send_outbox(engine, config, now=at("2019-11-28T09:31"), worker="w1", after_send=crash)
    assert len(inbox.messages) == 1
    assert send_outbox(engine, config, now=at("2019-11-28T09:35"), worker="w2").sent == 0, \
        "the crashed sender's claimed rows wait for its lease to expire"
    assert send_outbox(engine, config, now=at("2019-11-28T09:45"), worker="w2").sent == queued
    ids = inbox.ids()
    assert len(ids) == queued + 1 and len(set(ids)) == queued
    assert ids.count(ids[0]) == 2, "the only re-send is the crashed one, under the same Message-ID"


def test_two_sweeps_at_once_queue_each_notice_once(campaign, db_url):
    _, engine, plan = campaign
    other = make_engine(db_url)
    results = []

    def go(e):
        results.append(run_sweep(e, plan, "2019-11-28T09:30"))

    threads = [threading.Thread(target=go, args=(e,)) for e in (engine, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.dispose()
    rows = [r for r in outbox(engine) if r.kind != "dispatch"]
    tasks = open_confirm_tasks(engine)
    assert sum(r.notices for r in results) == len(tasks), "each task's reminder decided once"
    assert len({r.recipient for r in rows}) == len(rows) == len({t.department_code for t in tasks}), \
        "one digest per administrator, whichever sweep held its notices"
    with engine.connect() as conn:
        held = conn.execute(select(orm.PendingNotice.__table__)).all()
    assert len(held) == len(tasks) and all(h.digest_key in {r.key for r in rows} for h in held)


def test_the_dispatch_list_comes_back_and_imports_as_is(campaign, smtp, tmp_path):
    """The department's list arrives by email; filled in and returned, it imports without changes."""
    import openpyxl

    ssj, engine, plan = campaign
    inbox, config = smtp
    send_outbox(engine, config, now=at("2019-11-27T09:05"), worker="w1")
    [(recipients, mail)] = [(r, m) for r, m in inbox.messages if m["To"] == "admin@sw.luquan.example"]
    assert recipients == ["admin@sw.luquan.example", "contact@sw.luquan.example"], "the administrator, the contact in copy"
    assert str(mail["Subject"]).startswith("【派发】") and "2019年11月29日（星期五）前" in str(mail["Subject"])
    [attachment] = list(mail.iter_attachments())
    path = tmp_path / attachment.get_filename()
    path.write_bytes(attachment.get_content())
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert [c.value for c in sheet[1]][:5] == ["抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由"]
    rows = sheet.max_row - 1
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 4, "是")
    book.save(path)
    result = ssj("confirm", "import", path, "--user", "contact@sw.luquan.example", "--now", "2019-11-28T10:00")
    assert result.code == 0, result.err
    assert f"共 {rows} 条" in result.out


def test_the_reminders_list_of_unanswered_enterprises_comes_back_and_imports_as_is(campaign, smtp, tmp_path):
    """The administrator fills in the list the reminder carries (only what is still unanswered) and replies."""
    import openpyxl

    ssj, engine, plan = campaign
    inbox, config = smtp
    tasks = [t for t in open_confirm_tasks(engine) if t.department_code == "SW"]
    answered = _uscc(engine, tasks[0].inspection_id)
    assert ssj("confirm", CODE, "SW", answered, "--inspect", "--user", "admin@sw.luquan.example",
               "--now", "2019-11-27T15:00").code == 0
    run_sweep(engine, plan, "2019-11-28T09:30")
    send_outbox(engine, config, now=at("2019-11-28T09:31"), worker="w1")
    [mail] = [m for r, m in inbox.messages if r == ["admin@sw.luquan.example"] and "【提醒】" in str(m["Subject"])]
    [attachment] = list(mail.iter_attachments())
    path = tmp_path / attachment.get_filename()
    path.write_bytes(attachment.get_content())
    book = openpyxl.load_workbook(path)
    sheet = book.active
    listed = [sheet.cell(r, 3).value for r in range(2, sheet.max_row + 1)]
    assert answered not in listed and len(listed) == len(tasks) - 1, "only what is still to answer"
    with engine.connect() as conn:  # each enterprise's name and 住所 as the directory has them (held by the sweep)
        e = orm.Enterprise
        directory = {u: (n, a or "") for u, n, a in conn.execute(select(e.uscc, e.name, e.address))}
    shown = {sheet.cell(r, 3).value: (sheet.cell(r, 6).value, sheet.cell(r, 7).value or "")
             for r in range(2, sheet.max_row + 1)}
    assert shown == {u: directory[u] for u in listed} and any(a for _, a in shown.values())
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 4, "否")
        sheet.cell(r, 5, "本部门本期无此类检查任务")
    book.save(path)
    result = ssj("confirm", "import", path, "--user", "admin@sw.luquan.example", "--now", "2019-11-28T10:00")
    assert result.code == 0, result.err
    assert not [t for t in open_confirm_tasks(engine) if t.department_code == "SW"]


def test_an_overdue_list_whose_work_was_done_before_the_office_opened_is_not_sent(campaign, smtp):
    """The 【逾期】 falls due at Saturday 00:00 and waits for Monday 08:30; the department answers on Sunday: its
    administrator is not chased on Monday for finished work, the others are."""
    ssj, engine, plan = campaign
    inbox, config = smtp
    run_sweep(engine, plan, "2019-11-30T00:05")
    for t in [t for t in open_confirm_tasks(engine) if t.department_code == "RS"]:
        assert ssj("confirm", CODE, "RS", _uscc(engine, t.inspection_id), "--inspect", "--user",
                   "admin@rs.luquan.example", "--now", "2019-12-01T16:00").code == 0
    send_outbox(engine, config, now=at("2019-12-02T08:30"), worker="w1")
    overdue = {r[0] for r, m in inbox.messages if str(m["Subject"]).startswith("【逾期】")}
    assert "admin@rs.luquan.example" not in overdue and "admin@sw.luquan.example" in overdue
    [row] = [r for r in outbox(engine) if r.kind == "overdue" and r.recipient == "admin@rs.luquan.example"]
    assert row.state == "无需发送" and row.sent_at is None
    assert row.last_error == "所列事项在2019年12月2日（星期一）08:30发送前均已办结，未发送", "when, in Beijing time"


def test_a_tick_that_finds_the_sweep_taken_leaves_the_pass_to_its_holder(campaign):
    """Two ticks on one campaign: the one that finds the campaign's sweep taken (a process holding it, released
    if that process dies) does not sweep beside it, and says so with since when; a holder that has not ended
    after half an hour is called out as a problem, not trusted; once the holder is done the pass is free."""
    from datetime import timezone

    from workflow.deadline_words import instant_words
    from workflow.persistence.locks import try_exclusive
    from workflow.services.mail_health import MailHealth, MailVerdict
    from workflow.services.tick import advance
    from workflow.services.tick_summary import tick_summary

    _, engine, plan = campaign
    verdict = MailVerdict(plan.code, plan.name, False, 0, "", MailHealth(False, 0, 0, 0, None, None), {})
    taken = datetime.now(timezone.utc)
    with try_exclusive(engine, f"sweep|{plan.code}") as held:
        assert held
        advanced = advance(UnitOfWork(engine, now=at("2019-11-28T09:30"), actor=SYSTEM, campaign=plan.code))
        assert advanced.swept.busy and advanced.swept.notices == 0 and not advanced.sweep_stuck
        since = advanced.swept.busy_since
        assert since is not None and abs((since - taken).total_seconds()) < 5, "when the holder took the pass"
        assert ("info", f"另一个定时推进正在检查本项目的期限和提醒（自{instant_words(since, plan.tz)}起），本次不重复检查"
                        "（由它发出到期的通知）") in advanced.notes()
        assert [r for r in outbox(engine) if r.kind != "dispatch"] == []
        line = tick_summary(UnitOfWork(engine, now=at("2019-11-28T09:30"), actor=SYSTEM, campaign=plan.code),
                            {"busy": True}, None, verdict)
        assert line == f"期限检查 {plan.code} 11-28 09:30：到期通知由另一个定时推进发出", "the board's line says who sends"

        later = advance(UnitOfWork(engine, now=at("2019-11-28T09:30"), actor=SYSTEM, campaign=plan.code,
                                   clock=lambda: taken + timedelta(minutes=31)))  # the holder hangs
        assert later.sweep_stuck and not any("本次不重复检查" in note for _, note in later.notes())
        assert ("warning", f"另一个定时推进自{instant_words(later.swept.busy_since, plan.tz)}起一直在检查本项目的期限和提醒，"
                           "超过 30 分钟仍未结束，到期的通知在它结束前不会发出；若该进程已无响应，请结束它（下一次定时推进会接着检查）") \
            in later.notes()
        line = tick_summary(UnitOfWork(engine, now=at("2019-11-28T09:30"), actor=SYSTEM, campaign=plan.code),
                            {"busy": True, "busy_stuck": True}, None, verdict)
        assert line.endswith("：检查期限的另一个定时推进超过 30 分钟未结束，到期通知暂未发出（见警告）"), line
    report = run_sweep(engine, plan, "2019-11-28T09:30")
    assert not report.busy and report.notices == len(open_confirm_tasks(engine)) > 0
