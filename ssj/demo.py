"""``ssj demo``: the seed campaign on the example district, in a fresh database.

What runs here is what an office runs: the same importers and services, on a
simulated clock. Today it builds the district, imports it, checks and creates
the seed campaign and reports what the directory holds; later stages of the
campaign join as they are built.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable

from calendars import WorkdayCalendar
from ssj.display import ljust, rjust
from ssj.example_district import write_example_data
from workflow.campaign_file import parse_campaign
from workflow.directory import ENTERPRISE_CATEGORIES, ENTERPRISE_STATUSES
from workflow.persistence.database import make_engine, unit_of_work, upgrade
from workflow.plan_checker import check_plan, planned_deadlines
from workflow.services.campaigns import create_campaign, directory_numbers
from workflow.services.directory_import import import_directory

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
    return {"eligible": numbers.eligible, "expected_sample": numbers.expected_sample, "database": url}
