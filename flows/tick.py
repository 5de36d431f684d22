"""``campaign_tick``: one short, idempotent pass over a campaign; the campaign itself lives in the database.

It orchestrates and decides no rule: every decision is a ``workflow`` service's.
The deadline sweep and the timeline's own steps, the outbox, events for the
office's automations and the dashboard's artifacts.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, runtime, task

from flows.board import publish_dashboard
from flows.common import database, flow_now
from flows.events import announce_sweep
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url
from workflow.services.outbox import SmtpConfig, send_outbox
from workflow.services.tick import WARNING, advance
from workflow.services.timeline import new_transitions
from workflow.services.uow import UnitOfWork


@task(name="推进时间线和巡查期限")
def sweep_deadlines(url: str, code: str, now: datetime, files_dir: str | None) -> dict:
    with database(url) as engine:
        uow = UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code,
                         files_dir=Path(files_dir) if files_dir else None)
        advanced = advance(uow)
        transitions = new_transitions(uow)
    logger = get_run_logger()
    for level, note in advanced.notes():
        (logger.warning if level == WARNING else logger.info)("%s", note)
    report = advanced.swept
    announce_sweep(code, now, transitions, advanced.moved, report.decided)
    return {"planned": report.planned, "notices": report.notices, "queued": report.queued,
            "transitions": len(transitions), "stages": dict(Counter(n["stage"] for n in report.decided)),
            "to_office": sum(n["step"] == "office" for n in report.decided),
            "forms": advanced.forms.forms if advanced.forms else 0,
            "officer_commitment": advanced.officer_commitment, "problems": advanced.problems}


@task(name="发送邮件")
def send_mail(url: str, now: datetime, mail: bool = True) -> dict:
    """``mail=False`` (``--no-mail``): nothing is sent, the outbox keeps what was queued."""
    if not mail:
        get_run_logger().warning("未发信（--no-mail）：邮件留在发件箱")
        return {"sent": 0, "failed": 0, "bounced": 0, "unbuildable": 0, "unclear": 0, "mail_off": True}
    with database(url) as engine:
        report = send_outbox(UnitOfWork(engine, now=now, actor=SYSTEM), SmtpConfig.from_env(os.environ),
                             worker=f"tick-{runtime.flow_run.id or os.getpid()}")
    if report.errors:
        get_run_logger().warning("邮件未送出 %d 封（%s）：%s", report.tried - report.sent, report.not_sent(),
                                 report.errors[0])
    return {"sent": report.sent, "failed": report.failed, "bounced": report.bounced,
            "unbuildable": report.unbuildable, "unclear": report.unclear}


@flow(name="campaign-tick", description="抽查任务例行推进：到期的步骤（执法人员抽取承诺、一企一表派发）、巡查期限、发送提醒和逾期通知、更新看板。")
def campaign_tick(code: str, now: str | None = None, url: str | None = None, files_dir: str | None = None,
                  mail: bool = True) -> dict:
    """``files_dir``: the campaign's folder (default ``<SSJ_FILES_DIR>/<code>``); ``mail=False``: ``--no-mail``."""
    when, url = flow_now(now), url or database_url()
    swept = sweep_deadlines(url, code, when, files_dir)
    mailed = send_mail(url, when, mail)
    board = publish_dashboard(url, code, when, mail)
    return {**swept, **mailed, **board}
