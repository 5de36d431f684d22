"""The campaign's cards on the Prefect dashboard: artifacts written by each tick and each morning report.

Every card's description starts with what it is (概况, 进度, 逾期 …) — the UI's artifact
list shows only the first characters — then the campaign's name.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import (create_link_artifact, create_markdown_artifact, create_progress_artifact,
                               create_table_artifact)

from flows.common import artifact_key, database
from workflow.deadline_words import day_words
from workflow.identity import SYSTEM
from workflow.services.dashboard import NO_MAIL, dashboard
from workflow.services.overdue import DailyReport
from workflow.services.uow import UnitOfWork


@task(name="更新看板")
def publish_dashboard(url: str, code: str, now: datetime, mail: bool = True) -> dict:
    with database(url) as engine:
        board = dashboard(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code, changes=False), mail=mail)
    create_markdown_artifact(board.markdown, key=artifact_key(code, "summary"), description=board.described("概况"))
    create_progress_artifact(board.progress, key=artifact_key(code, "progress"),
                             description=board.described(f"进度 {board.progress:g}%（已回填或已公示的检查对象）"))
    create_table_artifact(board.overdue_table, key=artifact_key(code, "overdue-by-department"),
                          description=board.described(f"逾期 {board.overdue} 项（各部门；联合检查的回填在每个负责部门各计一次）"))
    create_table_artifact(board.progress_table, key=artifact_key(code, "progress-by-department"),
                          description=board.described("各部门检查对象进度"))
    if board.mail_problems:
        get_run_logger().warning("抽查任务 %s %s（见看板 %s）", code, board.mail_problems, artifact_key(code, "summary"))
    return {"progress": board.progress, "mail_problems": board.mail_problems, "overdue": board.overdue,
            "escalated": board.escalated, "due_soon": board.due_soon}


def daily_report_markdown(report: DailyReport, mail: bool = True) -> str:
    """The morning report's card: the counts of the file, and where the file is."""
    lines = [f"> **{NO_MAIL}：逾期部门报告已生成，但没有发给领导小组办公室。**", ""] if not mail else []
    lines += [f"# 逾期部门报告 {day_words(report.day)}", "", f"{report.title}", "",
              f"逾期事项 **{report.overdue}** 项 · 已督办至领导小组办公室 **{report.escalated}** 项", ""]
    if report.departments:
        lines += ["| 部门 | 逾期事项（项） | 涉及企业（户） | 最长逾期（工作日） |", "|---|---:|---:|---:|"]
        lines += [f"| {r['name']} | {r['tasks']} | {r['enterprises']} | {r['worst']} |" for r in report.departments]
        if sum(r["tasks"] for r in report.departments) != report.overdue:
            lines += ["", "联合检查的回填由多个部门共同负责，在每个负责部门各计一次。"]
    else:
        lines += ["各部门均无逾期事项。"]
    if report.mailbox:
        lines += ["", f"## 办公室邮箱：需人工处理 {len(report.mailbox)} 封", ""]
        lines += [f"- {line}" for line in report.mailbox[:50]]
    lines += ["", f"文件：[{report.path.name}]({report.path.as_uri()})", "", f"`{report.path}`"]
    return "\n".join(lines) + "\n"


@task(name="发布逾期日报")
def publish_daily_report(code: str, report: DailyReport, mail: bool = True) -> None:
    """The morning report as two cards: its counts (with the file's place) and a link to the file."""
    suffix = "" if mail else f" · {NO_MAIL}"
    create_markdown_artifact(daily_report_markdown(report, mail), key=artifact_key(code, "daily-report"),
                             description=f"日报 {report.day.month}月{report.day.day}日 逾期 {report.overdue} 项 · {report.title}{suffix}")
    create_link_artifact(report.path.as_uri(), link_text=f"{report.path.name}（{report.path.parent}）",
                         key=artifact_key(code, "daily-report-file"),
                         description=f"日报文件 {report.day.month}月{report.day.day}日 · {report.title}{suffix}")
