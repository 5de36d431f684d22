"""The campaign's mail as the office needs to see it: on its board (is mail leaving, what is stuck) and in the
verdict of each tick (did this campaign's mail go).

A tick's verdict (``judge_mail``) fails for mail that failed or is failing *now*: the campaign's 待发 messages
whose attempts failed (the server down, a 4xx, a first 5xx, the sending side refused — they back off and are
retried, so every tick fails until they go) and the messages this run set aside (退信, 无法生成, 投递不明).
A 退信 of an earlier run does not fail every later tick: it waits for the office, which the board, ``ssj tick``'s
警告 line, ``ssj campaign status`` and the morning report keep showing; failing each tick for it would make every
run red until someone edits the directory, and a red run would no longer mean "mail is failing now".
``--no-mail`` is not a failure (nothing was meant to go); a sender without SMTP settings is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from workflow.mail import BOUNCED, UNBUILDABLE, UNCLEAR
from workflow.services.outbox import CampaignSend, mail_problems

FAILING_TOO_LONG = timedelta(hours=1)  # past this, the office's automation is told (ssj.mail.failing-for-an-hour)
MAIL_OFF = "未发信（--no-mail）"


@dataclass(frozen=True)
class MailHealth:
    enabled: bool  # False: --no-mail, nothing is sent
    waiting: int  # 待发, due or in backoff
    sent_today: int  # 已发 since 00:00 Beijing time
    failing: int  # 待发 after at least one failed attempt
    failing_since: datetime | None  # the oldest of them was queued then
    last_error: str | None  # the most recent failure's reason
    problems: dict[str, int] = field(default_factory=dict)  # 退信 / 无法生成 / 投递不明 → count
    bounced: list[tuple[str, str]] = field(default_factory=list)  # (recipient, the server's reply)
    now: datetime | None = None

    @property
    def failing_too_long(self) -> bool:
        return bool(self.failing_since and self.now and self.now - self.failing_since >= FAILING_TOO_LONG)

    def lines(self, tz) -> list[str]:
        """Markdown lines for the board's 邮件 section (Beijing time)."""
        out = [] if self.enabled else [f"**{MAIL_OFF}：提醒和通知只排入发件箱，没有发出。**", ""]
        out.append(f"- 待发 {self.waiting} 封，今日已发 {self.sent_today} 封")
        if self.failing:
            since = self.failing_since.astimezone(tz) if self.failing_since else None
            out.append(f"- **发送失败待重试 {self.failing} 封**" + (f"，最早一封 {since:%m-%d %H:%M} 入队" if since else "")
                       + ("（已超过一小时）" if self.failing_too_long else "")
                       + (f"；最近原因：{self.last_error}" if self.last_error else ""))
        for state, n in self.problems.items():
            if n:
                out.append(f"- **{state} {n} 封**（系统不会自动重发，请核实收件人）")
        out += [f"  - 退信：{who}，服务器答复：{reply}" for who, reply in self.bounced]
        return out


def mail_health(uow, *, enabled: bool = True) -> MailHealth:
    with uow:
        plan = uow.plan
        start = datetime.combine(uow.now.astimezone(plan.tz).date(), time(0), plan.tz)
        counts = uow.outbox.health(plan.code, start)
    problems = mail_problems(uow)
    bounced = [(m["recipient"], m["reason"] or "") for m in problems["messages"] if m["state"] == BOUNCED]
    return MailHealth(enabled, counts["waiting"], counts["sent_today"], counts["failing"], counts["failing_since"],
                      counts["last_error"], problems["counts"], bounced, uow.now)


@dataclass(frozen=True)
class MailVerdict:
    """Did this campaign's mail go in this tick? ``failed``: the run must end failed, with ``message``."""

    code: str
    name: str  # the campaign's name, for the event's resource
    failed: bool
    count: int  # the campaign's messages that failed: failing 待发 + set aside in this run
    message: str  # one Chinese sentence (the run's state message, the event's reason, ssj tick's line)
    health: MailHealth
    payload: dict  # the event's payload, Chinese labels

    @property
    def failing_too_long(self) -> bool:
        return self.health.failing_too_long


def judge_mail(uow, run: CampaignSend | None, *, enabled: bool = True, not_configured: str | None = None) -> MailVerdict:
    """This tick's verdict on its campaign's mail (see the module's docstring for what fails a tick).

    ``run``: the campaign's share of this tick's send (None: nothing was sent); ``not_configured``: the sender
    had no SMTP settings (its Chinese message)."""
    run = run or CampaignSend()
    health = mail_health(uow, enabled=enabled)
    with uow:
        plan = uow.plan
    since = health.failing_since.astimezone(plan.tz) if health.failing_since else None
    fresh = {BOUNCED: run.bounced, UNBUILDABLE: run.unbuildable, UNCLEAR: run.unclear}
    if not enabled:
        count, failed = 0, False
        message = f"{MAIL_OFF}：待发 {health.waiting} 封留在发件箱"
        reason = ""
    elif not_configured:
        count, failed, reason = health.waiting, True, not_configured
        message = (f"邮件发送失败 {count} 封：{reason}" if count else f"邮件无法发送：{reason}")
    else:
        count = health.failing + sum(fresh.values())
        failed = count > 0
        reason = (run.errors[0] if run.errors else health.last_error or "") if failed else ""
        parts = ([f"待重试 {health.failing} 封" + (f"，最早一封 {since:%m-%d %H:%M} 入队" if since else "")
                  + ("，已超过一小时" if health.failing_too_long else "")] if health.failing else [])
        parts += [f"本次{state} {n} 封（不会自动重发，请办公室核实）" for state, n in fresh.items() if n]
        message = f"邮件发送失败 {count} 封：{reason}（{'；'.join(parts)}）" if failed else ""
    payload = {"抽查任务": plan.code, "任务名称": plan.name, "发送失败（封）": count,
               "待重试（封）": health.failing, "待发（封）": health.waiting,
               **{f"本次{state}（封）": n for state, n in fresh.items()},
               "最早失败邮件入队时间": f"{since:%Y-%m-%d %H:%M}（北京时间）" if since else "",
               "已失败超过一小时": "是" if health.failing_too_long else "否",
               "原因": reason, "说明": message}
    return MailVerdict(plan.code, plan.name, failed, count, message, health, payload)
