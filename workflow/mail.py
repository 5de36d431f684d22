"""A message to send, as a cause states it: queued in the transaction that caused it, sent later by the outbox.

The key is unique: the same key is queued once, whatever re-runs a tick makes, and
it fixes the Message-ID, so a rare re-send after a crash is recognisably the same
message. The context is what the template needs; the wording is chosen at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How a queued message ends, in the office's words (the outbox's ``state``): only 待发 is ever sent. 无需发送: a
# notice held for office hours whose every task was done before it could go (nobody is chased for finished work).
WAITING, SENT, BOUNCED, UNBUILDABLE, UNCLEAR = "待发", "已发", "退信", "无法生成", "投递不明"
NOT_NEEDED = "无需发送"


@dataclass(frozen=True)
class Mail:
    key: str
    recipient: str
    kind: str  # remind | overdue | escalate | dispatch | forms | report | deadline_moved …
    template: str
    context: dict = field(compare=False)
    task_id: int | None = None
    cc: tuple[str, ...] = ()  # in copy (the department's contact on its administrator's list …)


def mails(key: str, recipients: list[str], *, kind: str, template: str, context: dict,
          task_id: int | None = None, cc: tuple[str, ...] = ()) -> list[Mail]:
    """One message per recipient (each once, in the order given), keyed ``<key>#<recipient>``; ``cc`` leaves out
    the recipient himself."""
    return [Mail(f"{key}#{r}", r, kind, template, context, task_id, tuple(c for c in dict.fromkeys(cc) if c and c != r))
            for r in dict.fromkeys(recipients) if r]
