"""``campaign_tick``: one short, idempotent pass over a campaign; the campaign itself lives in the database.

It orchestrates and decides no rule: every decision is a ``workflow`` service's.
The deadline sweep and the timeline's own steps, the outbox, events for the
office's automations, the dashboard's artifacts, then the verdict on the campaign's
mail (``workflow.services.mail_health.judge_mail``) and one Chinese summary line in
the run's log.

Mail that did not all go fails the run — after everything else was done — by
returning ``Failed(message=…, data=MailFailed(message, result))``: Prefect keeps the
returned state as given (``return_value_to_state``), so the dashboard shows the run
red with the Chinese message, the work's dict stays in the state's data, and a
direct caller gets ``MailFailed`` raised (a dict could not be raised: Prefect turns
a failed state's data into the exception it raises). A caller that must go on reads
the dict with ``campaign_tick(..., return_state=True)`` and ``tick_result(state)``.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from flows.board import publish_dashboard
from flows.common import database, flow_now
from flows.events import (MAIL_FAILED, MAIL_FAILING_FOR_AN_HOUR, MAILBOX_UNREADABLE, announce_sweep, campaign_resource,
                          emit)
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url
from workflow.services.mail_health import MAIL_OFF, MailVerdict, judge_mail
from workflow.services.outbox import SendReport, SmtpConfig, send_outbox
from workflow.services.smtp import MailNotConfigured
from workflow.services.tick_summary import tick_summary
from workflow.services.tick import WARNING, advance
from workflow.services.timeline import new_transitions
from workflow.services.uow import UnitOfWork


@task(name="读取办公室邮箱")
def read_office_mailbox(url: str, code: str, now: datetime, files_dir: str | None) -> dict:
    """The replies to this campaign (and mail that belongs to none) recorded before the deadlines are checked, so
    nobody is chased for what they already sent; nothing when no mailbox is configured (``SSJ_IMAP_HOST``)."""
    from workflow.services.mailbox import configured_pass

    with database(url) as engine:
        report = configured_pass(engine, os.environ, now=now, codes=[code],
                                 files_dir=Path(files_dir) if files_dir else None)
    if report is None:
        return {}
    logger = get_run_logger()
    (logger.warning if report.error else logger.info)("%s", report.words())
    if report.error:  # the replies wait in the mailbox: the office's automation hears of it now
        with database(url) as engine, UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code, changes=False) as uow:
            name = uow.plan.name
        emit(MAILBOX_UNREADABLE, campaign_resource(code, name), payload={"error": report.error,
                                                                         "source": report.source})
    for line in report.lines:
        logger.info("%s", line)
    return {"mailbox": report.words(), "mailbox_read": report.read, "mailbox_recorded": report.recorded,
            "mailbox_refused": report.refused, "mailbox_manual": report.manual, "mailbox_error": report.error}


@task(name="推进时间线和检查期限")
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
    return {"planned": report.planned, "notices": report.notices, "queued": report.queued, "busy": report.busy,
            "busy_stuck": advanced.sweep_stuck,
            "transitions": len(transitions), "stages": dict(Counter(n["stage"] for n in report.decided)),
            "to_office": sum(n["step"] == "office" for n in report.decided),
            "forms": advanced.forms.forms if advanced.forms else 0,
            "commitments_requested": advanced.commitments_requested, "problems": advanced.problems,
            "moved": sum(m.before != m.after for m in advanced.moved),
            "office_departments": dict(Counter(d for n in report.decided if n["step"] == "office"
                                               for d in n["departments"]))}


def _send(url: str, now: datetime) -> SendReport:
    """Every campaign's due mail (the sender is shared: a tick moves all of it, each campaign its fair share).
    ``MailNotConfigured`` when this worker has no SMTP settings."""
    smtp = SmtpConfig.from_env(os.environ)
    with database(url) as engine:
        report = send_outbox(UnitOfWork(engine, now=now, actor=SYSTEM), smtp,
                             worker=f"tick-{runtime.flow_run.id or os.getpid()}")
    if report.errors:
        get_run_logger().warning("邮件未送出 %d 封（%s）：%s", report.tried - report.sent, report.not_sent(),
                                 report.errors[0])
    return report


def mail_counts(report: SendReport | None) -> dict:
    report = report or SendReport()
    return {"sent": report.sent, "failed": report.failed, "bounced": report.bounced,
            "unbuildable": report.unbuildable, "unclear": report.unclear}


@task(name="发送邮件")
def send_campaign_mail(url: str, now: datetime, mail: bool = True) -> tuple[SendReport | None, str | None]:
    """The send of a tick or a morning report: the whole report, so the run can judge its own campaign's share (and
    the tick tell the others'); the reason when this worker has no SMTP settings."""
    if not mail:
        get_run_logger().warning("%s：邮件留在发件箱", MAIL_OFF)
        return None, None
    try:
        return _send(url, now), None
    except MailNotConfigured as exc:  # a misconfigured worker: the board is still updated, then the run fails
        get_run_logger().error("%s", exc)
        return None, str(exc)


@task(name="检查邮件是否发出", cache_policy=NO_CACHE)  # its input, the run's report, is not worth hashing
def judge_campaign_mail(url: str, code: str, now: datetime, mail: bool, report: SendReport | None,
                        not_configured: str | None, swept: dict) -> tuple[MailVerdict, list[MailVerdict], str]:
    """The campaign's verdict, the verdicts of other campaigns whose messages this run set aside (退信, 无法生成,
    投递不明: their own tick would not see them as new; their failing 待发 their own tick reports), the summary line."""
    run = report.of(code) if report else None
    with database(url) as engine:
        def unit(campaign: str) -> UnitOfWork:
            return UnitOfWork(engine, now=now, actor=SYSTEM, campaign=campaign, changes=False)

        verdict = judge_mail(unit(code), run, enabled=mail, not_configured=not_configured)
        others = [judge_mail(unit(other), share) for other, share in sorted((report.campaigns if report else {}).items())
                  if other != code and share.problems]
        others_sent = sum(share.sent for other, share in (report.campaigns if report else {}).items() if other != code)
        line = tick_summary(unit(code), swept, run, verdict, others_sent=others_sent)
    return verdict, others, line


@task(name="检查邮件是否发出", cache_policy=NO_CACHE)
def judge_report_mail(url: str, code: str, now: datetime, mail: bool, report: SendReport | None,
                      not_configured: str | None) -> MailVerdict:
    """The morning report's verdict on its campaign's mail: the same rule as the tick's."""
    with database(url) as engine:
        return judge_mail(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=code, changes=False),
                          report.of(code) if report else None, enabled=mail, not_configured=not_configured)


class MailFailed(Exception):
    """The run (a tick, a morning report) did all its work but its campaign's mail did not all go: the data of its
    Failed state.

    Called directly, ``campaign_tick(...)`` raises it (``.result``: the tick's dict); with ``return_state=True``
    read the dict with ``tick_result(state)``."""

    def __init__(self, message: str, result: dict):
        super().__init__(message, result)

    @property
    def message(self) -> str:
        return self.args[0]

    @property
    def result(self) -> dict:
        return self.args[1]

    def __str__(self) -> str:
        return self.message


def tick_result(state) -> dict:
    """A finished tick's dict, Completed or failed for its mail; any other failure is raised."""
    value = state.result(raise_on_failure=False)
    if isinstance(value, MailFailed):
        return value.result
    if isinstance(value, BaseException):
        raise value
    return value


def announce_mail(verdict: MailVerdict) -> None:
    """``ssj.mail.failed`` for a campaign whose mail failed; ``ssj.mail.failing-for-an-hour`` past the hour.

    They occur on the wall clock, not the tick's (perhaps simulated) instant: the sender is failing now, and an
    automation must hear it now; the payload gives the campaign's own times."""
    resource = campaign_resource(verdict.code, verdict.name)
    if verdict.failed:
        emit(MAIL_FAILED, resource, payload=verdict.payload)
    if verdict.failing_too_long:
        emit(MAIL_FAILING_FOR_AN_HOUR, resource, payload=verdict.payload)


@flow(name="campaign-tick", description="抽查任务例行推进：读取办公室邮箱并登记回复、到期的步骤（征集执法人员抽取承诺、一企一表派发）、检查期限、发送提醒和逾期通知、更新看板；"
                                         "本任务的邮件未能全部发出时，做完其余工作后以“失败”结束并发出 ssj.mail.failed 事件。")
def campaign_tick(code: str, now: str | None = None, url: str | None = None, files_dir: str | None = None,
                  mail: bool = True):
    """``files_dir``: the campaign's folder (default ``<SSJ_FILES_DIR>/<code>``); ``mail=False``: ``--no-mail``.

    Returns the tick's dict; when the campaign's mail failed (see ``workflow.services.mail_health``) the run ends
    Failed after everything else was done, its message in Chinese, its data a ``MailFailed`` carrying the dict."""
    url = url or database_url()
    when = flow_now(now, url)
    mailbox = read_office_mailbox(url, code, when, files_dir)
    swept = sweep_deadlines(url, code, when, files_dir)
    report, not_configured = send_campaign_mail(url, when, mail)
    board = publish_dashboard(url, code, when, mail)
    verdict, others, line = judge_campaign_mail(url, code, when, mail, report, not_configured, {**swept, **mailbox})
    logger = get_run_logger()
    (logger.error if verdict.failed else logger.info)("%s", line)
    for other in others:  # their messages were set aside in this run: their automations hear of it now
        logger.warning("抽查任务 %s：%s", other.code, other.message)
        announce_mail(other)
    announce_mail(verdict)
    result = {**mailbox, **swept, **mail_counts(report), **({"mail_off": True} if not mail else {}), **board,
              "mail_failed": verdict.count, "summary": line}
    if verdict.failed:
        return Failed(message=verdict.message, data=MailFailed(verdict.message, result))
    return result
