"""The campaign's mail as the office needs to see it on its board: is mail leaving, and what is stuck."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from workflow.mail import BOUNCED
from workflow.services.outbox import mail_problems

FAILING_TOO_LONG = timedelta(hours=1)  # past this, the office's automation is told (ssj.mail.failing-for-an-hour)


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
        out = [] if self.enabled else ["**未发信（--no-mail）：提醒和通知只排入发件箱，没有发出。**", ""]
        out.append(f"- 待发 {self.waiting} 封，今日已发 {self.sent_today} 封")
        if self.failing:
            since = self.failing_since.astimezone(tz) if self.failing_since else None
            out.append(f"- **发送失败待重试 {self.failing} 封**" + (f"，最早一封 {since:%m-%d %H:%M} 入队" if since else "")
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
