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

    sampled = _draw(url, plan, clerk, seed, echo)
    return {"eligible": numbers.eligible, "expected_sample": numbers.expected_sample, "database": url,
            "sampled": sampled}


def _draw(url: str, plan, clerk: str, seed: int, echo: Callable[[str], None]) -> list[str]:
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
                               calendar=WorkdayCalendar.default(provisional=plan.provisional_calendar))
        with engine.connect() as conn:
            checks = verify_draw(conn, plan)
            names = dict(conn.execute(select(orm.Enterprise.uscc, orm.Enterprise.name)
                                      .where(orm.Enterprise.uscc.in_(outcome.record.result["sampled"]))).all())
    finally:
        engine.dispose()
    drawn = outcome.record.result["sampled"]
    echo(f"\n5. 公开抽取（ssj-draw-v1，见证文本：“{witness}”）：")
    echo(f"   seed {outcome.record.seed}")
    echo(f"   抽中 {len(drawn)} 户，已派发到 {len(plan.departments)} 个参加部门比对确认：")
    for n, uscc in enumerate(drawn, start=1):
        echo(f"   {n:>3}  {uscc}  {names.get(uscc, '')}")
    echo(f"   复核（ssj draw verify）：{'一致' if all(c.ok for c in checks) else '不一致'}")
    return list(drawn)
