"""Prefect flows that move a campaign on: short, idempotent runs; the campaign itself lives in the database.

They orchestrate and decide no rule: every decision is a ``workflow`` service's.
``campaign_tick`` runs every 15 minutes (``ssj serve``): the deadline sweep, the
outbox, events for the office's automations and the dashboard's artifacts.
``daily_overdue_report`` runs each morning and does its work on working days only.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact
from prefect.events import emit_event

from calendars import BEIJING
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url, make_engine
from workflow.services.dashboard import dashboard
from workflow.services.outbox import SmtpConfig, send_outbox
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.tick import WARNING, advance
from workflow.services.timeline import new_transitions
from workflow.services.uow import UnitOfWork


def _now(now: str | None) -> datetime:
    """The flow's instant: given (simulated time) or the wall clock, Beijing time."""
    if now is None:
        return datetime.now(BEIJING)
    value = datetime.fromisoformat(now)
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


@contextlib.contextmanager
def _database(url: str):
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def artifact_key(code: str, what: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{code}-{what}".lower()).strip("-")


@task(name="推进时间线和巡查期限")
def sweep_deadlines(url: str, code: str, now: datetime, files_dir: str | None) -> dict:
    with _database(url) as engine:
        uow = UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code,
                         files_dir=Path(files_dir) if files_dir else None)
        advanced = advance(uow)
        transitions = new_transitions(uow)
    logger = get_run_logger()
    for level, note in advanced.notes():
        (logger.warning if level == WARNING else logger.info)("%s", note)
    report = advanced.swept
    for t in transitions:
        emit_event(event=f"ssj.inspection.{t['trigger']}",
                   resource={"prefect.resource.id": f"ssj.inspection.{code}.{t['uscc']}",
                             "prefect.resource.name": t["uscc"] or code},
                   related=[{"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.role": "campaign"}],
                   occurred=t["at"], payload={"from": t["from"], "to": t["to"], "actor": t["actor"],
                                              "seq": t["seq"]})
    for change in advanced.moved:
        emit_event(event="ssj.task.deadline-moved",
                   resource={"prefect.resource.id": f"ssj.task.{change.task_id}"},
                   related=[{"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.role": "campaign"}],
                   occurred=now, payload={"kind": change.kind, "before": change.before.isoformat(),
                                          "after": change.after.isoformat(), "provisional": change.provisional})
    for notice in report.decided:
        emit_event(event=f"ssj.task.{notice['stage']}",
                   resource={"prefect.resource.id": f"ssj.task.{notice['task_id']}",
                             "prefect.resource.name": notice["task"]},
                   related=[{"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.role": "campaign"},
                            *({"prefect.resource.id": f"ssj.department.{d}", "prefect.resource.role": "department"}
                              for d in notice["departments"])],
                   occurred=now, payload=notice)
    return {"planned": report.planned, "notices": report.notices, "queued": report.queued,
            "transitions": len(transitions), "stages": dict(Counter(n["stage"] for n in report.decided)),
            "to_office": sum(n["step"] == "office" for n in report.decided),
            "forms": advanced.forms.forms if advanced.forms else 0,
            "officer_commitment": advanced.officer_commitment, "problems": advanced.problems}


@task(name="发送邮件")
def send_mail(url: str, now: datetime) -> dict:
    with _database(url) as engine:
        report = send_outbox(UnitOfWork(engine, now=now, actor=SYSTEM), SmtpConfig.from_env(os.environ),
                             worker=f"tick-{runtime.flow_run.id or os.getpid()}")
    if report.errors:
        get_run_logger().warning("邮件未送出 %d 封（%s）：%s", report.tried - report.sent, report.not_sent(),
                                 report.errors[0])
    return {"sent": report.sent, "failed": report.failed, "bounced": report.bounced,
            "unbuildable": report.unbuildable, "unclear": report.unclear}


@task(name="更新看板")
def publish_dashboard(url: str, code: str, now: datetime) -> dict:
    with _database(url) as engine:
        board = dashboard(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code, changes=False))
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


@flow(name="campaign-tick", description="抽查任务例行推进：到期的步骤（执法人员抽取承诺、一企一表派发）、巡查期限、发送提醒和逾期通知、更新看板。")
def campaign_tick(code: str, now: str | None = None, url: str | None = None, files_dir: str | None = None) -> dict:
    """``files_dir``: the campaign's folder (default ``<SSJ_FILES_DIR>/<code>``)."""
    when, url = _now(now), url or database_url()
    swept = sweep_deadlines(url, code, when, files_dir)
    mailed = send_mail(url, when)
    board = publish_dashboard(url, code, when)
    return {**swept, **mailed, **board}


@flow(name="daily-overdue-report", description="每个工作日上午：逾期部门报告（XLSX）发给领导小组办公室。")
def daily_overdue_report(code: str, now: str | None = None, url: str | None = None,
                         out_dir: str | None = None) -> dict:
    when, url = _now(now), url or database_url()
    with _database(url) as engine:
        report = prepare_daily_overdue_report(UnitOfWork(engine, now=when, actor=SYSTEM, campaign=code),
                                              Path(out_dir or "报表"))
    if report.path is None:
        return {"skipped": f"{report.day:%Y-%m-%d} 不是工作日"}
    mailed = send_mail(url, when)
    return {"report": str(report.path), "overdue": report.overdue, "queued": report.queued, **mailed}


def schedules() -> dict[str, object]:
    """Per flow, its schedule in Beijing time: the tick every 15 minutes, the daily report at 08:30."""
    from prefect.schedules import Cron, Interval

    return {"tick": Interval(900, timezone="Asia/Shanghai"),
            "daily-overdue-report": Cron("30 8 * * *", timezone="Asia/Shanghai")}


FLOWS = {"tick": campaign_tick, "daily-overdue-report": daily_overdue_report}


def deployments(codes: list[str]) -> list:
    """What ``ssj serve`` serves in its own process: per campaign, both flows on their schedules."""
    when = schedules()
    return [flow_.to_deployment(name=f"{what}-{code}", parameters={"code": code}, schedule=when[what])
            for code in codes for what, flow_ in FLOWS.items()]


def deploy_to_pool(codes: list[str], pool: str, source: Path) -> list[str]:
    """What ``ssj deploy`` registers for a work pool: the same deployments, run by ``prefect worker start``
    processes (as many as the load needs) from the project at ``source``; returns their names."""
    when = schedules()
    names = []
    for code in codes:
        for what, flow_ in FLOWS.items():
            loaded = flow.from_source(source=str(source), entrypoint=f"flows/campaign.py:{flow_.fn.__name__}")
            with contextlib.redirect_stdout(io.StringIO()):  # Prefect's English tables; ssj says it in Chinese
                loaded.deploy(name=f"{what}-{code}", work_pool_name=pool, parameters={"code": code},
                              schedule=when[what], build=False, push=False, print_next_steps=False,
                              ignore_warnings=True)
            names.append(f"{loaded.name}/{what}-{code}")
    return names
