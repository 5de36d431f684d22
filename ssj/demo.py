"""``ssj demo``: the seed campaign on the example district, in a fresh database.

What runs here is what an office runs: the same importers and services, on a
simulated clock. Today it builds the district, imports it, checks and creates
the seed campaign, reports what the directory holds and holds the public draw;
later stages of the campaign join as they are built.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from calendars import WorkdayCalendar
from ssj.display import ljust, rjust
from ssj.example_district import write_example_data
from workflow.campaign_file import parse_campaign
from workflow.directory import ENTERPRISE_CATEGORIES, ENTERPRISE_STATUSES
from workflow.persistence import orm
from workflow.persistence.database import make_engine, unit_of_work, upgrade
from workflow.plan_checker import check_plan, planned_deadlines
from workflow.services.campaigns import create_campaign, directory_numbers
from workflow.services.directory_import import import_directory
from workflow.services.draws import commit_draw, run_draw, verify_draw

SEED_CAMPAIGN = "luquan-2019-h2.toml"


def seed_campaign_source() -> str:
    return (resources.files("ssj.examples") / SEED_CAMPAIGN).read_text(encoding="utf-8")


def _fresh_sqlite(out: Path) -> str:
    db = out / "ssj.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


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
        upgrade(engine)
        directory = out / "名录"
        paths = write_example_data(directory, enterprises, seed)
        echo(f"\n1. 生成示例辖区名录（{enterprises} 户企业，种子 {seed}）：{directory}")
        for kind in ("departments", "items", "officers", "enterprises"):
            report = import_directory(engine, kind, str(paths[kind]), full=True, now=clock, user=clerk)
            echo(f"   导入{report.label}：{report.rows} 行")
        clock += timedelta(days=6)
        with unit_of_work(engine) as session:
            create_campaign(session, source, SEED_CAMPAIGN, now=clock, user=clerk)
        echo(f"\n2. 已创建抽查任务 {plan.code}（{clock:%Y-%m-%d %H:%M} 北京时间）；方案检查（按工作日历推算期限）：")
        calendar = WorkdayCalendar.default(provisional=plan.provisional_calendar)
        for name, planned in planned_deadlines(plan, calendar).items():
            echo(f"   {plan.deadlines[name].describe()} → 截止 {planned.last_day:%Y-%m-%d}（{name}）")
        for finding in check_plan(plan, calendar):
            echo(f"   {finding.line()}")
        with unit_of_work(engine) as session:
            numbers = directory_numbers(session, plan)
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
         f"{plan.draw_at:%Y-%m-%d} 前成立）：{numbers.eligible} 户")
    echo(f"   按 {s.ratio_text} 抽取（{s.rounding}，至少 {s.minimum} 户）：{numbers.expected_sample} 户")

    sampled = _draw(url, plan, clerk, seed, out, echo)
    outputs = _carry_through(url, plan, clerk, seed, sampled, out, echo)
    return {"eligible": numbers.eligible, "expected_sample": numbers.expected_sample, "database": url,
            "sampled": sampled, **outputs}


def _draw(url: str, plan, clerk: str, seed: int, out: Path, echo: Callable[[str], None]) -> list[str]:
    """The public draw as the office holds it: commitment published first, witnesses speak, everyone can check."""
    engine = make_engine(url)
    committed_at = plan.draw_at - timedelta(minutes=30)
    secret = hashlib.sha256(f"ssj-demo-{seed}".encode()).digest()  # fixed, so the demo replays identically
    try:
        with engine.begin() as conn:
            record = commit_draw(conn, plan, now=committed_at, actor=clerk, secret=secret)
        echo(f"\n4. 抽取承诺（{committed_at:%Y-%m-%d %H:%M}，公开抽取前公布）：")
        echo(f"   符合条件 {record.eligible} 户；snapshot_sha256 {record.snapshot_sha256}")
        echo(f"   commitment {record.commitment}")
        witness = f"{plan.draw_at:%Y-%m-%d %H:%M} 公开抽取，见证人：区人大代表、企业代表；骰子 3-6-1-4"
        with engine.begin() as conn:
            outcome = run_draw(conn, plan, witness=witness, now=plan.draw_at, actor=clerk,
                               calendar=WorkdayCalendar.default(provisional=plan.provisional_calendar),
                               files_dir=out)
        with engine.connect() as conn:
            checks = verify_draw(conn, plan)
            names = dict(conn.execute(select(orm.Enterprise.uscc, orm.Enterprise.name)
                                      .where(orm.Enterprise.uscc.in_(outcome.record.result["sampled"]))).all())
    finally:
        engine.dispose()
    drawn = outcome.record.result["sampled"]
    echo(f"\n5. 公开抽取（ssj-draw-v1，见证文本：“{witness}”）：")
    echo(f"   seed {outcome.record.seed}")
    echo(f"   抽中 {len(drawn)} 户，已派发到 {len(plan.departments)} 个参加部门比对确认"
         f"（各部门清单：{out / plan.code / '派发'}，随邮件发给联络人）：")
    for n, uscc in enumerate(drawn, start=1):
        echo(f"   {n:>3}  {uscc}  {names.get(uscc, '')}")
    echo(f"   复核（ssj draw verify）：{'一致' if all(c.ok for c in checks) else '不一致'}")
    return list(drawn)


def _at(plan, day: str, hhmm: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=plan.tz)


# What each department finds itself concerned with (the others decline, with their reason).
_CONCERNS = {"SW": (1.0, ""), "RS": (0.5, "该企业无劳动保障监察投诉举报记录，不列入本次检查"),
             "HB": (0.35, "该企业不属于排污许可重点管理单位"), "YJ": (0.3, "该企业不属于危险化学品等重点行业"),
             "XF": (0.4, "该企业不属于消防安全重点单位"), "TJ": (0.0, "")}


def _carry_through(url: str, plan, clerk: str, seed: int, sampled: list[str], out: Path,
                   echo: Callable[[str], None]) -> dict:
    """The campaign after the draw, as the seed's timetable runs it: answers, officers, forms, visits,
    back-fill, publication and the reports — every step through the same services as the command line."""
    import random

    from workflow.persistence.audit_log import AuditLog
    from workflow.services.confirmations import record_answer
    from workflow.services.forms import acknowledge, generate_forms
    from workflow.services.officer_draw import commit_match, run_match, teams_of
    from workflow.services.publication import publish
    from workflow.services.reports import (write_confirmation_report, write_overdue_report, write_statistics,
                                           write_summary_report)
    from workflow.services.results import form_items, record_result, record_visit, result_of

    rng = random.Random(seed)
    calendar = WorkdayCalendar.default(provisional=plan.provisional_calendar)
    engine = make_engine(url)
    try:
        echo("\n6. 比对确认（各部门联络人在 2 个工作日内答复；区统计局未答复，期限届满后由办公室代为确认）：")
        with engine.begin() as conn:
            contacts = dict(conn.execute(select(orm.Department.code, orm.Department.contact_email)).all())
        for uscc in sampled:
            for dept in plan.departments:
                if dept.code == "TJ":
                    continue
                share, reason = _CONCERNS.get(dept.code, (1.0, ""))
                inspects = dept.code == plan.lead_department or rng.random() < share
                with engine.begin() as conn:
                    record_answer(conn, plan, dept.code, uscc, inspects=inspects, reason="" if inspects else reason,
                                  now=_at(plan, "2019-11-28", f"{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}"),
                                  actor=contacts[dept.code])
        for uscc in sampled:
            with engine.begin() as conn:
                record_answer(conn, plan, "TJ", uscc, inspects=False, reason="统计调查不在本次联合抽查范围（电话确认）",
                              now=_at(plan, "2019-12-02", "08:30"), actor=clerk)
        echo(f"   {len(sampled)} 户企业全部完成比对确认，区统计局 {len(sampled)} 条由办公室代为确认。")

        witness = "2019-12-02 10:00 执法人员公开抽取，见证人：区纪委监委派驻纪检组"
        match_secret = hashlib.sha256(f"ssj-demo-match-{seed}".encode()).digest()
        with engine.begin() as conn:
            commit_match(conn, plan, now=_at(plan, "2019-12-02", "09:30"), actor=clerk, secret=match_secret)
        with engine.begin() as conn:
            run_match(conn, plan, witness=witness, now=_at(plan, "2019-12-02", "10:00"), actor=clerk)
            teams = teams_of(conn, plan.code)
        pairs = sum(1 for team in teams.values() for m in team if not m["specialist"])
        echo(f"\n7. 执法人员公开抽取（ssj-match-v1）：{len(teams)} 个检查组，{pairs} 人次。")

        forms = generate_forms(engine, plan, out, now=_at(plan, "2019-12-03"), actor=clerk, calendar=calendar)
        echo(f"\n8. 一企一表 {forms.forms} 份及实地核查安排：{out / '一企一表'}、{forms.schedule}")
        officers = sorted({m["certificate_no"] for team in teams.values() for m in team if not m["specialist"]})
        late = 0
        for n, cert in enumerate(officers):
            when = _at(plan, "2019-12-04" if n % 9 else "2019-12-06", f"{9 + n % 8:02d}:00")
            with engine.begin() as conn:
                late += acknowledge(conn, plan, cert, now=when, actor=cert)
        echo(f"   {len(officers)} 名执法人员确认一企一表，其中逾期 {late} 名。")

        with engine.connect() as conn:
            planned = dict(conn.execute(select(orm.InspectionRow.uscc, orm.InspectionRow.planned_visit_on)
                                        .where(orm.InspectionRow.campaign_code == plan.code,
                                               orm.InspectionRow.state == "assigned")).all())
        problems = 0
        for uscc, day in sorted(planned.items(), key=lambda kv: (kv[1], kv[0])):
            team = [m["certificate_no"] for m in teams[uscc] if not m["specialist"]]
            signature = rng.choice(["签字", "签字", "盖章", "盖章", "拒绝签字"])
            with engine.begin() as conn:
                inspection = record_visit(
                    conn, plan, uscc, day=day, officers=team, signature=signature,
                    note="法定代表人拒绝在记录表上签字，已如实记录" if signature == "拒绝签字" else "",
                    now=_at(plan, day.isoformat(), "16:30"), actor=team[0], calendar=calendar)
                items = form_items(conn, plan, inspection.id)
            filled = calendar.add_workdays(day, rng.choice([1, 2, 3, 6]))
            for k, item in enumerate(items):
                roll = rng.random()
                if roll < 0.75:
                    result = result_of(item, "1", method="实地核查", questions=rng.choice([0, 0, 1, 2]) if k == 0 else 0)
                elif roll < 0.88:
                    result = result_of(item, "E", method="实地核查", finding="现场发现问题，已当场责令改正", handling=[2])
                elif roll < 0.95:
                    result = result_of(item, "A,B", method="信息比对", finding="未按规定公示年度报告", handling=[3])
                else:
                    result = result_of(item, "A,D", method="实地核查", finding="涉嫌违反其他市场监管规定",
                                       handling=[4])
                problems += result.has_problem
                with engine.begin() as conn:
                    record_result(conn, plan, uscc, result, now=_at(plan, filled.isoformat(), "10:00"), actor=team[0])
        echo(f"\n9. 实地核查和结果回填：{len(planned)} 户，发现问题事项 {problems} 项。")

        published = publish(engine, plan, out / "公示", now=_at(plan, "2019-12-17", "15:00"), actor=clerk)
        echo(f"\n10. 公示 {published.published} 户：" + "、".join(str(p) for p in published.files))

        reports = out / "报表"
        report_time = _at(plan, "2019-12-17", "17:00")
        write_statistics(engine, plan, reports / "抽查情况统计表.xlsx", now=report_time)
        write_confirmation_report(engine, plan, reports / "比对确认情况表.xlsx", now=report_time)
        overdue = write_overdue_report(engine, plan, reports / "逾期部门情况表.xlsx", now=report_time,
                                       calendar=calendar)
        write_summary_report(engine, plan, reports / "工作总结.xlsx", now=report_time, calendar=calendar)
        echo(f"\n11. 报表：{reports}（抽查情况统计表、比对确认情况表、逾期部门情况表、工作总结）；当时逾期事项 {len(overdue)} 项。")
        with engine.connect() as conn:
            chains = AuditLog(conn).verify()
        echo(f"\n12. 审计链：{'全部完整' if all(c.ok for c in chains) else '有被改动的记录'}，"
             f"{sum(c.rows for c in chains)} 条记录（ssj audit verify）。")
    finally:
        engine.dispose()
    return {"published": published.published, "reports": sorted(p.name for p in reports.iterdir())}

