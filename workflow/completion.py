"""When a campaign's work is finished: the serving loop stops ticking it and reporting on it.

A campaign is finished when it drew at least one enterprise, every inspection
reached an end (已公示 or 已撤出), no task is open and none of its mail waits to
be sent (待发). Mail that waits for the office (退信, 无法生成, 投递不明) does not
keep it running: no tick would send it. The rule is plain data in, a yes or no
out; the service records it once (``workflow.services.campaigns.active_campaigns``).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.inspection import PUBLISHED, STATE_LABELS, WITHDRAWN

FINISHED = "campaign_finished"  # the audit action that says it, once


@dataclass(frozen=True)
class CompletionFacts:
    """What the rule reads: inspections per state, open tasks, messages still to send."""

    states: dict[str, int]
    open_tasks: int
    waiting_mail: int

    @property
    def inspections(self) -> int:
        return sum(self.states.values())

    @property
    def ended(self) -> int:
        return self.states.get(PUBLISHED, 0) + self.states.get(WITHDRAWN, 0)


def is_finished(facts: CompletionFacts) -> bool:
    """Every inspection published or withdrawn (and at least one), no open task, no mail waiting to go."""
    return facts.inspections > 0 and facts.ended == facts.inspections and facts.open_tasks == 0 \
        and facts.waiting_mail == 0


def finished_payload(facts: CompletionFacts) -> dict:
    """The audit row's payload: the counts that made it finished."""
    return {"inspections": facts.inspections, PUBLISHED: facts.states.get(PUBLISHED, 0),
            WITHDRAWN: facts.states.get(WITHDRAWN, 0)}


def finished_note(code: str, name: str, facts: CompletionFacts) -> str:
    """What the office reads, once: the campaign is done and will not be ticked or reported again."""
    return (f"抽查任务 {code}（{name}）已完成：{facts.inspections} 户检查对象中"
            f"{STATE_LABELS[PUBLISHED]} {facts.states.get(PUBLISHED, 0)} 户、"
            f"{STATE_LABELS[WITHDRAWN]} {facts.states.get(WITHDRAWN, 0)} 户，没有未办事项和待发邮件；"
            f"此后不再做期限检查，也不再发送逾期日报。")
