"""When a campaign's work is finished (the serving loop then leaves it alone)."""

from __future__ import annotations

import pytest

from workflow.completion import CompletionFacts, finished_note, is_finished
from workflow.inspection import PUBLISHED, REPORTED, STATES, WITHDRAWN


def facts(open_tasks=0, waiting_mail=0, **states) -> CompletionFacts:
    return CompletionFacts({s: states.get(s, 0) for s in STATES}, open_tasks, waiting_mail)


@pytest.mark.parametrize(("given", "finished"), [
    (facts(**{PUBLISHED: 40, WITHDRAWN: 2}), True),
    (facts(**{WITHDRAWN: 3}), True),
    (facts(), False),  # nothing drawn yet: the campaign has not begun
    (facts(**{PUBLISHED: 40, REPORTED: 1}), False),
    (facts(open_tasks=1, **{PUBLISHED: 40}), False),
    (facts(waiting_mail=1, **{PUBLISHED: 40}), False),
], ids=["published-or-withdrawn", "all-withdrawn", "not-drawn", "one-still-reported", "open-task", "mail-to-send"])
def test_finished_only_when_every_inspection_ended_and_nothing_waits(given, finished):
    assert is_finished(given) is finished


def test_the_office_reads_it_in_chinese():
    note = finished_note("luquan-2019-h2", "鹿泉区联合抽查", facts(**{PUBLISHED: 40, WITHDRAWN: 2}))
    assert note == ("抽查任务 luquan-2019-h2（鹿泉区联合抽查）已完成：42 户检查对象中已公示 40 户、已撤出 2 户，"
                    "没有未办事项和待发邮件；此后不再做期限检查，也不再发送逾期日报。")
