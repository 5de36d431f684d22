"""The campaign's cards on the Prefect dashboard: artifacts written by each tick."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact

from flows.common import artifact_key, database
from workflow.identity import SYSTEM
from workflow.services.dashboard import dashboard
from workflow.services.uow import UnitOfWork


@task(name="更新看板")
def publish_dashboard(url: str, code: str, now: datetime, mail: bool = True) -> dict:
    with database(url) as engine:
        board = dashboard(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code, changes=False), mail=mail)
    create_table_artifact(board.progress_table, key=artifact_key(code, "progress-by-department"),
                          description=f"{board.title}：各部门检查对象进度")
    create_table_artifact(board.overdue_table, key=artifact_key(code, "overdue-by-department"),
                          description=f"{board.title}：各部门逾期事项")
    create_progress_artifact(board.progress, key=artifact_key(code, "progress"),
                             description=f"{board.title}：已回填和已公示的检查对象占比")
    create_markdown_artifact(board.markdown, key=artifact_key(code, "summary"), description=board.title)
    if board.mail_problems:
        get_run_logger().warning("抽查任务 %s %s（见看板 %s）", code, board.mail_problems, artifact_key(code, "summary"))
    return {"progress": board.progress, "mail_problems": board.mail_problems}
