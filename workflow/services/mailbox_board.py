"""The office mailbox as the office sees it on the board, in the daily report and in ``campaign status``.

The last pass (when, what it did, or why the mailbox could not be read), then the
campaign's replies by outcome, then every message waiting for a person (需人工处理):
who sent it, its subject and why it was not recorded.
"""

from __future__ import annotations

from workflow.deadline_words import instant_words

LISTED = 50


def mailbox_lines(uow, tz, *, listed: int = LISTED) -> list[str]:
    """Markdown lines (empty when no mailbox was ever read: the office answers by command only)."""
    with uow:
        last = uow.mailbox.last_pass()
        if last is None:
            return []
        counts = uow.mailbox.counts(uow.plan.code)
    waiting = waiting_lines(uow, tz)
    when = instant_words(last.started_at, tz)
    if last.error:
        head = f"**最近一次读取（{when}）失败：{last.error}**。邮件留在邮箱中，恢复后下一次推进会自动读取。"
    else:
        did = f"读取 {last.read} 封，登记 {last.recorded} 封，退回 {last.refused} 封，需人工处理 {last.manual} 封" \
            if last.read else "没有新邮件"
        head = f"最近一次读取：{when}，{did}（{last.source}）。"
    lines = [head, ""]
    recorded = counts.get("已记录", 0)
    refused = counts.get("已退回", 0)
    lines.append(f"本抽查任务经邮件登记 **{recorded}** 封，退回发件人 {refused} 封，需人工处理 **{len(waiting)}** 封。")
    if waiting:
        lines += ["", "需人工处理（在邮箱“需人工处理”文件夹中）：", ""]
        lines += [f"- {line}" for line in waiting[:listed]]
        if len(waiting) > listed:
            lines.append(f"- 另有 {len(waiting) - listed} 封未列出")
    return lines


def waiting_lines(uow, tz) -> list[str]:
    """Every message of the campaign (or of none) waiting for a person, oldest first, one line each."""
    with uow:
        waiting = uow.mailbox.messages(uow.plan.code, outcome="需人工处理") + \
            [m for m in uow.mailbox.messages(None, outcome="需人工处理") if m.campaign_code is None]
    waiting.sort(key=lambda m: (m.handled_at, m.id))
    return [f"{instant_words(m.handled_at, tz)} · {m.sender or '发件人不明'} · “{m.subject or '（无主题）'}”："
            f"{m.detail.splitlines()[0] if m.detail else ''}" for m in waiting]
