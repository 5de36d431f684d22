"""``ssj demo``: the seed campaign on the example district, in a fresh database.

What runs here is what an office runs: the same importers, services and Prefect
flows, on a simulated clock. It builds the district, imports it, creates the
seed campaign and holds the public draw; then the clock jumps from one due
instant to the next while simulated departments and officers act (most on time,
some late: ``ssj.demo_actors``) and ``campaign_tick`` / ``daily_overdue_report``
move the campaign, their email caught by a local SMTP server as ``邮件/*.eml``.
Departments and officers answer by replying to that mail (``ssj.demo_replies``)
into the demo's office mailbox, a Maildir the ticks read (``SSJ_MAILDIR``).
Deterministic for a given seed.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable

from calendars import WorkdayCalendar
from ssj.demo_account import Account, on_time_words, visit_words
from ssj.demo_actors import People
from ssj.demo_mail import (EVERY, by_mail, local_mail_server, mail_words, mail_waiting, next_quarter,
                           office_mailbox, prefix)
from ssj.demo_replies import OFFICE_MAILBOX
from ssj.display import ljust, rjust
from ssj.example_district import write_example_data
from workflow.campaign_file import parse_campaign
from workflow.campaign_plan import DEADLINE_LABELS
from workflow.deadline_words import day_words, deadline_words
from workflow.directory import ENTERPRISE_CATEGORIES, ENTERPRISE_STATUSES
from workflow.draw import new_secret
from workflow.files.atomic import write_text_atomically
from workflow.identity import SYSTEM
from workflow.notices import STAGE_LABELS
from workflow.persistence.database import make_engine
from workflow.persistence.identities import initialise
from workflow.plan_checker import check_plan, planned_deadlines
from workflow.services import lookups
from workflow.audit import campaign_chain
from workflow.services.audit_trail import chain_heads, verify_chains, verify_tables
from workflow.services.campaigns import create_campaign, directory_numbers
from workflow.services.directory_import import import_directory
from workflow.services.draws import commit_draw, draw_document, run_draw, verify_draw
from workflow.services.identities import add_staff
from workflow.services.uow import UnitOfWork

SEED_CAMPAIGN = "luquan-2019-h2.toml"
MORNING = time(8, 30)  # the daily overdue report's schedule (``ssj serve``: 08:30 Beijing time)


def seed_campaign_source() -> str:
    return (resources.files("ssj.examples") / SEED_CAMPAIGN).read_text(encoding="utf-8")


def _fresh_sqlite(out: Path) -> str:
    db = out / "ssj.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def simulation_database(engine, staff, now: datetime, *, reply_secret: str | None = None) -> None:
    """A simulation database (its instants and people are played: the demo, the benchmarks), administered by whoever
    runs it, whose staff directory holds ``staff`` (the emails the office acts as)."""
    from ssj.commands import os_account

    administrator = os_account()
    initialise(engine, simulation=True, os_account=administrator, now=now, reply_secret=reply_secret)
    for n, email in enumerate(dict.fromkeys(staff), start=1):
        add_staff(UnitOfWork(engine, now=now, actor=administrator), email, f"办公室工作人员{n}", f"simulated-staff-{n}",
                  by_account=administrator)


def _agree(differences: int) -> str:
    return f"不符 {differences} 处" if differences else "一致"


def run_demo(out: Path, *, enterprises: int, seed: int, echo: Callable[[str], None]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    source = seed_campaign_source()
    plan = parse_campaign(source)
    clerk = plan.office_staff[-1]
    clock = plan.draw_at - timedelta(days=7)

    echo(f"演示：{plan.name}")
    echo(f"输出目录：{out.resolve()}")
    url = _fresh_sqlite(out)
    engine = make_engine(url)
    try:
        # the key of tokens and Message-IDs fixed by the seed: two runs send the same messages under the same IDs
        simulation_database(engine, plan.office_staff, clock,
                            reply_secret=hashlib.sha256(f"ssj-demo-reply-{seed}".encode()).hexdigest())
        directory = out / "名录"
        paths = write_example_data(directory, enterprises, seed)
        echo(f"\n1. 生成示例辖区名录（{enterprises} 户企业，种子 {seed}）：{directory}")
        for kind in ("departments", "items", "officers", "enterprises"):
            report = import_directory(UnitOfWork(engine, now=clock, actor=clerk), kind, str(paths[kind]), full=True)
            echo(f"   导入{report.label}：{report.rows} 行")
        clock += timedelta(days=6)
        create_campaign(UnitOfWork(engine, now=clock, actor=clerk), source, SEED_CAMPAIGN)
        echo(f"\n2. 已创建抽查任务 {plan.code}（{day_words(clock.date())}{clock:%H:%M}）；方案检查（按工作日历推算期限）：")
        calendar = WorkdayCalendar.default(provisional=plan.provisional_calendar)
        for name, planned in planned_deadlines(plan, calendar).items():
            echo(f"   {DEADLINE_LABELS.get(name, name)}：{plan.deadlines[name].describe()} → "
                 f"{deadline_words(planned.at, plan.tz, provisional=planned.provisional)}")
        for finding in check_plan(plan, calendar):
            echo(f"   {finding.line()}")
        numbers = directory_numbers(UnitOfWork(engine, now=clock, actor=clerk), plan)
    finally:
        engine.dispose()

    echo("\n3. 抽查对象名录库（户，最新名录）")
    echo("   " + ljust("主体类别", 16) + "".join(rjust(s, 9) for s in ENTERPRISE_STATUSES) + rjust("合计", 10))
    for category in ENTERPRISE_CATEGORIES:
        row = numbers.by_category_status.get(category, {})
        cells = "".join(rjust(str(row.get(s, 0)), 9) for s in ENTERPRISE_STATUSES)
        echo("   " + ljust(category, 16) + cells + rjust(str(sum(row.values())), 10))
    s = plan.sampling
    echo(f"   合计 {numbers.enterprises} 户")
    echo(f"\n   符合本次抽查条件（{'、'.join(s.categories)}，{'、'.join(s.statuses)}，注册资本 {s.capital_min}–{s.capital_max} 万元，"
         f"{day_words(plan.draw_at.date())}前成立）：{numbers.eligible} 户")
    echo(f"   按 {s.ratio_text} 抽取（{s.rounding}，至少 {s.minimum} 户）：{numbers.expected_sample} 户")

    sampled = _draw(url, plan, clerk, seed, out, echo)
    clock = _run_campaign(url, plan, seed, sampled, out, echo)
    return {"eligible": numbers.eligible, "expected_sample": numbers.expected_sample, "database": url,
            "sampled": sampled, **clock}


def _draw(url: str, plan, clerk: str, seed: int, out: Path, echo: Callable[[str], None]) -> list[str]:
    """The public draw (ssj-draw-v2) as it is held: each party draws its own secret and hands over only the
    commitment; the office records the commitments; at the draw every party reveals and the witnesses speak."""
    engine = make_engine(url)
    committed_at = plan.draw_at - timedelta(minutes=30)
    # Each party runs ``ssj draw secret`` on its own device; fixed here so the demo replays identically.
    secrets = {party: new_secret(lambda n, p=party: hashlib.sha256(f"ssj-demo-{seed}-{p}".encode()).digest()[:n])
               for party in plan.draw_parties}
    echo("\n4. 抽取参与方各自在自己的设备上运行 ssj draw secret，只把承诺值交给办公室（密钥各自保管到公开抽取）：")
    for party, (_, commitment) in secrets.items():
        echo(f"   {party}：commitment {commitment}")
    try:
        record = commit_draw(UnitOfWork(engine, now=committed_at, actor=clerk, campaign=plan.code),
                             commitments=[f"{p}={c}" for p, (_, c) in secrets.items()])
        echo(f"   办公室记录各方承诺（ssj draw commit，{committed_at:%Y-%m-%d %H:%M}，公开抽取前公布）：")
        echo(f"   符合条件 {record.eligible} 户；snapshot_sha256 {record.snapshot_sha256}；数据库中没有任何一方的密钥")
        witness = f"{plan.draw_at:%Y-%m-%d %H:%M} 公开抽取，见证人：区人大代表、企业代表；骰子 3-6-1-4"
        office = UnitOfWork(engine, now=plan.draw_at, actor=clerk, campaign=plan.code, files_dir=out)
        outcome = run_draw(office, witness=witness, reveals=[f"{p}={s}" for p, (s, _) in secrets.items()])
        checks = verify_draw(office)
        [head] = chain_heads(office, [campaign_chain(plan.code)]) or [None]
        names = lookups.enterprise_names(office, outcome.record.result["sampled"])
    finally:
        engine.dispose()
    drawn = outcome.record.result["sampled"]
    write_text_atomically(out / "draw.json",
                          json.dumps(draw_document(outcome.record, plan.code), ensure_ascii=False, indent=2) + "\n")
    echo(f"\n5. 公开抽取（ssj-draw-v2，{'、'.join(plan.draw_parties)} 当场公开各自的密钥，均与承诺值相符；"
         f"见证文本：“{outcome.record.witness}”）：")
    echo(f"   seed {outcome.record.seed}")
    echo(f"   抽中 {len(drawn)} 户，已派发到 {len(plan.departments)} 个参加部门比对确认"
         f"（各部门清单：{out / '派发'}，随邮件发给各部门管理员并抄送联络人；抽取结果：{out / 'draw.json'}）：")
    for n, uscc in enumerate(drawn, start=1):
        echo(f"   {n:>3}  {uscc}  {names.get(uscc, '')}")
    echo(f"   复核（ssj draw verify）：{'一致' if all(c.ok for c in checks) else '不一致'}")
    if head is not None:  # its hash covers the machine's clock: a replay of the demo prints another one
        echo(f"   审计链当前链头（与抽取结果一并公布）：审计链 {head.chain} 第 {head.seq} 条"
             "（哈希含写入时刻，每次运行不同；ssj draw run 和 ssj audit anchor 打印完整链头）")
    return list(drawn)


@contextmanager
def _short_runs():
    """No flow-run heartbeat thread: Prefect's crash detection for long runs costs up to a second to stop after each
    of these one-second runs in this process (``ssj serve`` keeps it)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _next_notice(engine, code: str, after: datetime) -> datetime | None:
    """When the sweep next has something to send: what Prefect's 15-minute schedule would find."""
    found = lookups.next_notice_after(UnitOfWork(engine, now=after, actor=SYSTEM, campaign=code), after)
    return found.astimezone(after.tzinfo) if found else None


def _run_campaign(url: str, plan, seed: int, sampled: list[str], out: Path, echo: Callable[[str], None]) -> dict:
    """The campaign from the public draw to publication on a simulated clock, moved by the production flows.

    The clock jumps to the next instant when someone acts, the sweep has a notice
    due, the 08:30 daily report is scheduled, a reply waits in the office mailbox
    or mail waits for the office to open (``ssj serve``'s 15-minute tick would read
    and send them then); there the people act, then ``campaign_tick`` /
    ``daily_overdue_report`` run through Prefect exactly as ``ssj serve`` runs them.
    """
    from flows.daily_report import daily_overdue_report
    from flows.dispatch import report_run_name, run_for_campaign, tick_run_name
    from flows.tick import campaign_tick, tick_result

    calendar = WorkdayCalendar.default(provisional=plan.provisional_calendar)
    engine = make_engine(url)
    people = People(engine, plan, out, seed, calendar)
    account = Account(echo, people.done)

    def ticked(t: datetime) -> dict:
        """The tick's dict; a tick whose mail failed (never with the demo's own mail server) is said, not fatal."""
        state = run_for_campaign(campaign_tick, plan.code, tick_run_name(plan.code, t), now=t.isoformat(), url=url,
                                 files_dir=str(out))
        if state.is_failed():
            account.say(t, f"期限检查未成功：{state.message}")
        return tick_result(state)

    def reported(t: datetime) -> dict:
        state = run_for_campaign(daily_overdue_report, plan.code, report_run_name(plan.code, t), now=t.isoformat(),
                                 url=url, out_dir=str(out / "报表"))
        if state.is_failed():
            account.say(t, f"逾期日报的邮件未成功：{state.message}")
        return tick_result(state)

    seen = 0

    def new_mail() -> list[str]:
        """The subjects the local server received since the last look."""
        nonlocal seen
        subjects, seen = mail.subjects[seen:], len(mail.subjects)
        return subjects

    def next_send(t: datetime) -> datetime | None:
        """The first scheduled tick after ``t`` in office hours, when mail waits."""
        if not mail_waiting(engine, plan.code, t):
            return None
        return plan.office_hours.opening(t + EVERY, calendar, plan.tz)

    agenda = [*people.answers(sampled), *people.officer_draw(), *people.confirmation_reports(), *people.summaries(),
              *people.publication()]
    heapq.heapify(agenda)
    end = people.at("2019-12-20", "18:00")
    t = plan.draw_at
    ticks = reports = 0
    reading: set[datetime] = set()  # the quarter hours after a reply: the tick that reads it
    tally: Counter = Counter()
    forms_out = None
    hours = plan.office_hours.words()
    echo(f"\n6. 模拟时钟：从 {day_words(t.date())}{t:%H:%M} 起，依次跳到下一个有人办理、有提醒或逾期通知到期、"
         f"08:30 日报、或有邮件等到办公时间的时刻；每一步运行与生产相同的 Prefect 流程（campaign-tick、daily-overdue-report），"
         f"邮件由本地 SMTP 服务器接收。邮件只在工作日 {hours} 发出：此外生成的通知等到下一个工作日 {hours[:5]}。"
         f"各部门和执法人员回复收到的邮件（清单、盖章报告、总结、确认收到、一企一表），回复进入办公室邮箱"
         f"（{out / OFFICE_MAILBOX}，SSJ_MAILDIR），由其后每 15 分钟一次的 campaign-tick 读取并登记。")
    echo("   连接 Prefect API（未设置 PREFECT_API_URL 时启动本地临时服务，约 10 秒）……")
    try:
        with local_mail_server(out / "邮件") as mail, office_mailbox(out / OFFICE_MAILBOX), _short_runs():
            tick = ticked(t)  # the draw's dispatch
            ticks += 1
            sent = new_mail()
            account.say(t, "各参加部门的比对确认清单已派发" + (f"；{mail_words(sent)}" if sent else ""))
            send_at = next_send(t)
            while True:
                notice = _next_notice(engine, plan.code, t)
                morning = datetime.combine(t.date() + timedelta(days=1 if t.time() >= MORNING else 0), MORNING, plan.tz)
                t = min(x for x in (agenda[0].at if agenda else None, notice, morning, send_at,
                                    min(reading, default=None)) if x is not None)
                if t > end:
                    break
                run_tick = t == notice or t in reading
                reading.discard(t)
                while agenda and agenda[0].at == t:
                    act = heapq.heappop(agenda)
                    done = act.run(t)
                    run_tick |= act.tick_after
                    if act.mails:
                        reading.add(next_quarter(t))
                    if act.quiet:
                        account.counted(t, act.label)
                    else:
                        account.say(t, f"{act.label}：{done}")
                if t.time() == MORNING:
                    report = reported(t)
                    reports += 1
                    if "report" in report:
                        waited = [s for s in new_mail() if prefix(s) != "【逾期报告】"]
                        account.say(t, f"逾期部门报告：逾期事项 {report['overdue']} 项 → {Path(report['report']).name}，"
                                       "已发领导小组办公室" + (f"；办公时间开始，{mail_words(waited)}" if waited else ""))
                run_tick |= t == send_at and bool(mail_waiting(engine, plan.code, t))
                if run_tick:
                    tick = ticked(t)
                    ticks += 1
                    tally.update(tick["stages"])
                    tally["to_office"] += tick["to_office"]
                    said = []
                    if tick["notices"]:
                        said.append("期限检查：" + "，".join(
                            f"{label} {tick['stages'][stage]} 项" for stage, label in STAGE_LABELS.items()
                            if stage in tick["stages"])
                            + (f"（其中督办到领导小组办公室 {tick['to_office']} 项）" if tick["to_office"] else ""))
                    if tick["forms"]:
                        forms_out = tick["forms"]
                        said.append(f"一企一表 {tick['forms']} 份已生成并派发给执法人员：{out / '一企一表'}、"
                                    f"{out / '实地核查安排.xlsx'}")
                        for act in (*people.acknowledgements(), *people.visits()):
                            heapq.heappush(agenda, act)
                    heard, officers = people.heard(t)
                    account.recorded(t, officers)
                    if tick.get("mailbox_error") or tick.get("mailbox_refused") or tick.get("mailbox_manual"):
                        heard.append(tick["mailbox"])
                    said = [*heard, *said]
                    sent = new_mail()
                    if not said and officers and all(prefix(s) == "【已登记】" for s in sent):
                        sent = []  # only the answers to the officers' replies: the day's line counts them
                    if sent:
                        said = [*said[:-1], f"{said[-1]}；{mail_words(sent)}"] if said else [mail_words(sent)]
                    elif said and mail_waiting(engine, plan.code, t):
                        opens = plan.office_hours.opening(t, calendar, plan.tz)
                        said[-1] += f"；非办公时间，邮件待{day_words(opens.date())}{opens:%H:%M}发出"
                    for line in said:
                        account.say(t, line)
                send_at = next_send(t)
            account.close()
            subjects = list(mail.subjects)
        waiting = mail_waiting(engine, plan.code, end)
        mailed = by_mail(engine, plan.code, end, out / OFFICE_MAILBOX)
        chains = verify_chains(UnitOfWork(engine, now=end, actor=SYSTEM))
        tables = verify_tables(UnitOfWork(engine, now=end, actor=SYSTEM, changes=False))
    finally:
        engine.dispose()
    prefixes = Counter(prefix(s) for s in subjects)
    echo(f"\n7. 流程运行：campaign-tick {ticks} 次，daily-overdue-report {reports} 次（非工作日自动跳过）。")
    echo(f"   邮件 {len(subjects)} 封（{out / '邮件'}），均在工作日 {hours} 发出：" + "，".join(
        f"{k} {v}" for k, v in prefixes.most_common()))
    echo("   发件箱：" + (f"待发 {waiting} 封（等下一个工作日 {hours[:5]} 发出）" if waiting else "没有待发的邮件"))
    echo(f"   期限检查发出提醒 {tally['remind']} 项，逾期通知 {tally['overdue']} 项，逐级督办 {tally['escalate']} 项"
         f"（督办到领导小组办公室 {tally['to_office']} 项）。")
    echo("\n8. 办理情况：")
    echo(f"   实地核查：{visit_words(people)}")
    for what in dict.fromkeys(d.what for d in people.done):
        done = [d for d in people.done if d.what == what]
        echo(f"   {what}：{len(done)} {done[0].unit}，{on_time_words(done)}")
    echo("   经邮件登记（办公室邮箱中各部门和执法人员的回复，由 campaign-tick 读取并按相应命令的规则登记）："
         + "、".join(f"{label} {n} {unit}" for label, n, unit in mailed["recorded"]))
    if mailed["other"]:
        echo("   未登记的邮件：" + "、".join(f"{outcome} {n} 封" for outcome, n in mailed["other"].items()))
    if people.waiting:
        echo(f"   办公室邮箱中未读取的回复：{len(people.waiting)} 封")
    echo("   未按期办理的：")
    for line in people.late:
        echo(f"   - {line}")
    reports_dir = out / "报表"
    echo(f"\n9. 报表：{reports_dir}（" + "、".join(sorted(p.name for p in reports_dir.iterdir())) + "）")
    echo(f"   公示：{out / '公示'}；各部门和执法人员的回复（附件即报送的文件）：{out / OFFICE_MAILBOX}"
         "（" + "，".join(f"{name} {n} 封" for name, n in mailed["folders"].items()) + "）")
    echo(f"\n10. 审计链：{'全部完整' if all(c.ok for c in chains) else '有被改动的记录'}，"
         f"{sum(c.rows for c in chains)} 条记录；数据表与审计记录"
         f"{_agree(sum(len(t.differences) for t in tables))}，统计数字与数据表"
         f"{_agree(sum(len(t.counts) for t in tables))}（ssj audit verify）。")
    # no chain head above: it hashes the machine's clock, and two runs print the same
    return {"ticks": ticks, "daily_reports": reports, "emails": len(subjects), "forms": forms_out,
            "recorded_by_mail": {label: n for label, n, _ in mailed["recorded"]},
            "escalated_to_office": tally["to_office"], "reports": sorted(p.name for p in reports_dir.iterdir()),
            "mail_waiting": waiting}
