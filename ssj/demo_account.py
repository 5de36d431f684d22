"""The demo's account: the timeline as the office's head reads it, and its closing counts in words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from ssj.demo_actors import Done, People
from workflow.deadline_words import day_words


class Account:
    """The timeline as the office's head reads it: a heading per day in the notice's words, a line per event, and
    the day's many acts alike (officers' acknowledgements, back-fills) counted in one line each, the late ones named."""

    def __init__(self, echo: Callable[[str], None], done: list[Done]):
        self.echo, self.done = echo, done
        self.day = None
        self.lines: list[tuple[datetime, str]] = []
        self.alike: dict[str, None] = {}  # what the day's quiet acts did, in the order first seen
        self.read: dict[str, list] = {}  # the day's officers' replies recorded by mail: kind → [first, last, n]

    def say(self, t: datetime, text: str) -> None:
        self._turn(t)
        self.lines.append((t, f"{t:%H:%M}  {text}"))

    def counted(self, t: datetime, what: str) -> None:
        self._turn(t)
        self.alike.setdefault(what)

    def recorded(self, t: datetime, counts: Counter) -> None:
        """Officers' replies a tick recorded from the office mailbox: summed in one line for the day."""
        self._turn(t)
        for what, n in counts.items():
            seen = self.read.setdefault(what, [t, t, 0])
            seen[1], seen[2] = t, seen[2] + n

    def _turn(self, t: datetime) -> None:
        if t.date() != self.day:
            self.close()
            self.day = t.date()

    def close(self) -> None:
        """Print the day that ends: its events and its counted acts, in the order they began."""
        lines = list(self.lines)
        for what in self.alike:
            today = [d for d in self.done if d.what == what and d.at.date() == self.day]
            if today:
                first, last = today[0].at, today[-1].at
                when = f"{first:%H:%M}" if first == last else f"{first:%H:%M}–{last:%H:%M}"
                lines.append((first, f"{when}  {what}：{len(today)} {today[0].unit}，{on_time_words(today)}"))
        if self.read:
            first, last = min(v[0] for v in self.read.values()), max(v[1] for v in self.read.values())
            when = f"{first:%H:%M}" if first == last else f"{first:%H:%M}–{last:%H:%M}"
            lines.append((first, f"{when}  campaign-tick 读取办公室邮箱，登记执法人员的回复邮件：" + "、".join(
                f"{what} {n} {'份' if '一企一表（' in what else '封'}" for what, (_, _, n) in self.read.items())
                + "，已逐一回信告知登记结果"))
        if lines:
            self.echo(f"   {day_words(self.day)}")
            for _, line in sorted(lines, key=lambda pair: pair[0]):
                self.echo(f"     {line}")
        self.lines, self.alike, self.read = [], {}, {}


def on_time_words(done: list[Done]) -> str:
    """均按期 / 按期 5 户，逾期 2 户：甲、乙 / 均逾期：甲."""
    late = [d.who for d in done if d.late]
    unit = done[0].unit if done else ""
    if not late:
        return "均按期" if len(done) > 1 else "按期"
    if len(late) == len(done):
        return f"{'均' if len(done) > 1 else ''}逾期：{'、'.join(late)}"
    return f"按期 {len(done) - len(late)} {unit}，逾期 {len(late)} {unit}：{'、'.join(late)}"


def visit_words(people: People) -> str:
    """The visits at a glance: which days, how many enterprises, how many groups (a vehicle on a day)."""
    days = sorted({v.day for v in people.visited})
    if not days:
        return "没有进行"
    groups = len({(v.day, v.group) for v in people.visited})
    return (f"{day_words(days[0])}至{day_words(days[-1])}，{len(days)} 个工作日，{len(people.visited)} 户，"
            f"出动检查组 {groups} 组次（" + "，".join(
                f"{d.month}月{d.day}日 {sum(v.day == d for v in people.visited)} 户" for d in days) + "）")
