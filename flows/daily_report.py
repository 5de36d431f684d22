"""``daily_overdue_report``: each morning, the overdue-department report to the office (on working days only).

The file goes to the campaign's own folder (``<SSJ_FILES_DIR>/<code>/报表/``) and onto the
board (its counts and a link to the file), then the mail goes out with it attached; mail that did not go
fails the run afterwards, as a tick's does (``flows.tick``).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Failed

from flows.board import publish_daily_report
from flows.common import database, flow_now
from flows.tick import MailFailed, announce_mail, judge_report_mail, mail_counts, send_campaign_mail
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.uow import UnitOfWork


@flow(name="daily-overdue-report", description="每个工作日上午：逾期部门报告（XLSX）发给领导小组办公室。")
def daily_overdue_report(code: str, now: str | None = None, url: str | None = None, out_dir: str | None = None,
                         mail: bool = True, files_dir: str | None = None) -> dict:
    """``files_dir``: the campaign's folder (default ``<SSJ_FILES_DIR>/<code>``; the report goes to its ``报表``);
    ``out_dir``: another folder for the report itself; ``mail=False``: ``--no-mail``."""
    url = url or database_url()
    when = flow_now(now, url)
    with database(url) as engine:
        folder = Path(files_dir) if files_dir else None
        uow = UnitOfWork(engine, now=when, actor=SYSTEM, campaign=code, files_dir=folder)
        report = prepare_daily_overdue_report(uow, Path(out_dir) if out_dir else None)
    if report.path is None:
        return {"skipped": f"{report.day:%Y-%m-%d} 不是工作日"}
    publish_daily_report(code, report, mail)
    sent, not_configured = send_campaign_mail(url, when, mail)
    verdict = judge_report_mail(url, code, when, mail, sent, not_configured)
    announce_mail(verdict)
    result = {"report": str(report.path), "overdue": report.overdue, "escalated": report.escalated,
              "queued": report.queued, **mail_counts(sent), **({"mail_off": True} if not mail else {})}
    if verdict.failed:  # the file is written and on the board; the office must know the mail did not go
        get_run_logger().error("%s", verdict.message)
        return Failed(message=verdict.message, data=MailFailed(verdict.message, result))
    return result
