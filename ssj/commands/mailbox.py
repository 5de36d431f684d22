"""``ssj mailbox``: one pass over the office mailbox, replies recognised and recorded as their senders."""

from __future__ import annotations

import os

import click

from ssj.commands import Call, cli, command, emit_json, err, out

NOT_CONFIGURED = ("未配置办公室邮箱：请设置环境变量 SSJ_IMAP_HOST（以及按需设置 SSJ_IMAP_PORT、SSJ_IMAP_SECURITY、"
                  "SSJ_IMAP_USER、SSJ_IMAP_PASSWORD、SSJ_IMAP_FOLDER）；配置方法见 README“Answers by email”")


@command(cli, "mailbox", changes=True, json_output=True,
         help="读取一次办公室邮箱：识别各部门和执法人员回复的邮件（比对确认清单、盖章报告、总结、一企一表、确认收到），"
              "按相应命令的规则登记并回复发件人；无法识别的移入“需人工处理”。给出任务编号时只处理这些任务的回复（不属于任何任务的邮件照常处理）。")
@click.argument("codes", nargs=-1, metavar="[任务编号…]")
def mailbox_cmd(call: Call, codes: tuple[str, ...]) -> None:
    """Exit 0: the pass was made; 1: the mailbox could not be read (said why); 2: no mailbox configured."""
    from workflow.errors import UserError
    from workflow.services.campaigns import campaign_codes
    from workflow.services.imap import open_mailbox
    from workflow.services.mailbox import read_mailbox

    mailbox = open_mailbox(os.environ)  # a wrong setting: refused (exit 2) before anything
    if mailbox is None:
        raise UserError(NOT_CONFIGURED)
    chosen = campaign_codes(call.uow(), codes) if codes else []
    report = read_mailbox(call.engine(), mailbox, now=call.now, codes=chosen)
    if call.as_json:
        emit_json({"source": report.source, "read": report.read, "recorded": report.recorded,
                   "refused": report.refused, "manual": report.manual, "left": report.left, "error": report.error,
                   "messages": report.lines})
    else:
        for line in report.lines:
            out(line)
        (err if report.error else out)(report.words())
    if report.error:
        raise click.exceptions.Exit(1)
