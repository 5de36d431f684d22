"""The timeline without a person: ``ssj tick``, ``ssj serve``, ``ssj deploy``, ``ssj calendar reload``."""

from __future__ import annotations

import os

import click

from ssj.commands import CODE, Call, cli, command, emit_json, err, group, out

NO_MAIL = click.option("--no-mail", is_flag=True,
                       help="不发邮件（未配置 SSJ_SMTP_HOST 时必须明示）：提醒和通知照常排入发件箱，看板注明“未发信”")


def mail_config(no_mail: bool):
    """The SMTP server named by ``SSJ_SMTP_*``, checked before anything is done; ``None`` with ``--no-mail``."""
    from workflow.services.smtp import SmtpConfig

    return None if no_mail else SmtpConfig.from_env(os.environ)


def _chosen(call: Call, codes: tuple[str, ...]) -> list[str]:
    from workflow.services.campaigns import campaign_codes

    return campaign_codes(call.uow(), codes)


@command(cli, "tick", changes=True, json_output=True, scheduled=True,
         help="推进一次抽查任务（不经 Prefect，适合 cron 或排障）：检查期限、排队并发送提醒和逾期通知；"
              "本任务的邮件未能全部发出时，做完其余工作后说明原因并以退出码 1 结束。")
@CODE
@NO_MAIL
def tick_cmd(call: Call, code: str, no_mail: bool) -> None:
    """Exit 0: done, the campaign's mail went (or --no-mail); 1: done, but the campaign's mail failed in this run or
    is failing (错误：…邮件发送失败 N 封…; --json: ``mail_failed``, ``mail_message``), or a step waits for a year's
    calendar file — what cron or a systemd timer must notice; 2: no SMTP settings and no --no-mail (nothing done)."""
    from workflow.identity import SYSTEM
    from workflow.services.server_settings import mailbox_named
    from workflow.services.mail_health import MAIL_OFF, judge_mail
    from workflow.services.outbox import SendReport, mail_problems, problem_summary, send_outbox
    from workflow.services.tick import advance

    smtp = mail_config(no_mail)  # before anything: without it, nothing is done (exit 2)
    if mailbox_named(os.environ):  # replies, before the deadlines
        from workflow.services.mailbox import configured_pass

        read = configured_pass(call.engine(), os.environ, now=call.now, codes=[code])
        if read is not None:
            err(read.words())
    advanced = advance(call.uow(code, actor=SYSTEM))
    for _, note in advanced.notes():
        err(note)
    sent = send_outbox(call.uow(actor=SYSTEM), smtp, worker=f"cli-{os.getpid()}") if smtp else SendReport()
    if not smtp:
        err(f"{MAIL_OFF}：邮件留在发件箱，配置 SSJ_SMTP_HOST 后由下一次推进发出。")
    verdict = judge_mail(call.uow(code, changes=False), sent.of(code), enabled=smtp is not None)
    problems = mail_problems(call.uow(code, changes=False))
    swept = advanced.swept
    failed = bool(advanced.missing_years) or verdict.failed
    if call.as_json:
        emit_json({"planned": swept.planned, "notices": swept.notices, "queued": swept.queued, "sent": sent.sent,
                   "failed": sent.failed, "bounced": sent.bounced, "unbuildable": sent.unbuildable,
                   "unclear": sent.unclear, "mail_problems": problems["counts"],
                   "mail_failed": verdict.count, "mail_message": verdict.message,
                   "missing_calendar_years": advanced.missing_years})
        if failed:
            raise click.exceptions.Exit(1)
        return
    unsent = sent.not_sent()
    out(f"期限检查：新排期 {swept.planned} 项，发出通知 {swept.notices} 项（邮件 {swept.queued} 封入队）；"
        f"发送 {sent.sent} 封" + (f"，{unsent}" if unsent else "") + "。")
    for error in sent.errors[:3]:
        err(f"邮件发送失败：{error}")
    if summary := problem_summary(problems):
        err(f"警告：抽查任务 {code} {summary}；详见 ssj campaign status {code}")
    if verdict.failed:  # the rest was done; the campaign's mail did not all go
        err(f"错误：抽查任务 {code} {verdict.message}")
    if failed:  # the rest was done; mail failed, or a step waits for a year's calendar file (said above)
        raise click.exceptions.Exit(1)


calendar_group = group(cli, "calendar", "工作日历：节假日安排更新后重新计算期限。")


@command(calendar_group, "reload", changes=True,
         help="按当前工作日历（含新增的年度文件）重新计算各抽查任务未完成事项的期限；暂定期限对已开始的工作不提前。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
def calendar_reload_cmd(call: Call, codes: tuple[str, ...]) -> None:
    from workflow.services.deadline_changes import follow_calendar

    for code in _chosen(call, codes):
        moved = follow_calendar(call.uow(code), force=True)
        really = [m for m in moved if m.before != m.after]
        kept = sum(m.kept for m in moved)
        out(f"{code}：重新计算期限，调整 {len(really)} 项" + (f"，暂定期限保持 {kept} 项" if kept else "") + "。")


def _served(call: Call, codes: tuple[str, ...]) -> list[str]:
    """The codes named (each must exist); none: every active campaign, including those created later."""
    from workflow.services.campaigns import served_codes

    return served_codes(call.uow(changes=False), codes)


@command(cli, "serve", help="启动 Prefect 部署：每 15 分钟（北京时间整刻）推进每个进行中的抽查任务，启动时先推进一次；"
                            "每个工作日 08:30 发送逾期部门报告。不指定任务编号即为全部（包括之后创建的）。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
@NO_MAIL
def serve_cmd(call: Call, codes: tuple[str, ...], no_mail: bool) -> None:
    from flows.serving import prefect_server, serve_all
    from workflow.services.calendar_files import calendar_problem

    mail_config(no_mail)
    chosen = _served(call, codes)
    dashboard = prefect_server()
    for code in chosen:  # at start-up: a broken override file is refused, the adopted calendar kept
        uow = call.uow(code)
        with uow:
            problem = calendar_problem(uow.plan)
        if problem:
            err(f"{code}：{problem}")
    scope = "、".join(codes) if codes else f"全部进行中的抽查任务（目前 {len(chosen)} 个，之后创建的也包括在内）"
    err(f"正在提供部署：{scope}" + ("；不发邮件（--no-mail）" if no_mail else "")
        + f"。Ctrl-C 停止（日程保持有效，重新启动即继续）；看板：{dashboard}")
    serve_all(list(codes), mail=not no_mail, say=err)


@command(cli, "deploy", help="在 Prefect 工作池上注册部署（规模化：由多个 prefect worker start 进程执行，"
                             "各机器只需安装本软件包），日程同 ssj serve；工作池不存在时自动创建（类型 process）。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
@click.option("--pool", required=True, metavar="工作池", help="Prefect 工作池名称（不存在时按 process 类型创建）")
@NO_MAIL
def deploy_cmd(call: Call, codes: tuple[str, ...], pool: str, no_mail: bool) -> None:
    from flows.serving import deploy_to_pool, prefect_server

    mail_config(no_mail)
    _served(call, codes)
    prefect_server()
    for name in deploy_to_pool(list(codes), pool, mail=not no_mail, say=err):
        out(f"已注册部署 {name}（工作池 {pool}）")
    err("启动执行进程：prefect worker start --pool " + pool
        + "（可在多台机器上启动多个；各机器须安装本软件包并设置 SSJ_DATABASE_URL、SSJ_SMTP_HOST、PREFECT_API_URL 等环境变量）")
