"""``daily_overdue_report``: each morning, the overdue-department report to the office (on working days only)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.common import database, flow_now
from flows.tick import send_mail
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.uow import UnitOfWork


@flow(name="daily-overdue-report", description="每个工作日上午：逾期部门报告（XLSX）发给领导小组办公室。")
def daily_overdue_report(code: str, now: str | None = None, url: str | None = None,
                         out_dir: str | None = None, mail: bool = True) -> dict:
    when, url = flow_now(now), url or database_url()
    with database(url) as engine:
        report = prepare_daily_overdue_report(UnitOfWork(engine, now=when, actor=SYSTEM, campaign=code),
                                              Path(out_dir or "报表"))
    if report.path is None:
        return {"skipped": f"{report.day:%Y-%m-%d} 不是工作日"}
    mailed = send_mail(url, when, mail)
    return {"report": str(report.path), "overdue": report.overdue, "queued": report.queued, **mailed}
