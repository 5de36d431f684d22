"""One Chinese line per tick for its log: what the office would ask of a run before opening anything else.

"已发 12 封：提醒 8（区市场监管局 5、区生态环境分局 3）、逾期通知 4（…）" — sent by kind and department,
then the notices decided, the deadlines moved, who climbed to the office, and whether mail failed.
A message's department is its task's (an officer's task: the officer's), else its recipient's in the
directory; mail to the office's mailboxes is the office's.
"""

from __future__ import annotations

from collections import Counter

from workflow.notices import STAGE_LABELS
from workflow.services.mail_health import MailVerdict
from workflow.services.outbox import KINDS, CampaignSend
from workflow.services.tick import SWEEP_STUCK

OFFICE = "领导小组办公室"
OTHER = "其他"


def _counted(counts: Counter, names: dict[str, str]) -> str:
    return "、".join(f"{names.get(what, what)} {n}" for what, n in counts.most_common())


def sent_by_kind_and_department(uow, run: CampaignSend) -> str:
    """"已发 12 封：提醒 8（区市场监管局 5、区生态环境分局 3）、逾期通知 4（…）", or "已发 0 封"."""
    if not run.delivered:
        return "已发 0 封"
    with uow:
        plan = uow.plan
        names = uow.directory.department_names()
        tasks, people = uow.outbox.departments_of([t for _, t, _ in run.delivered if t is not None],
                                                  [r for _, _, r in run.delivered])
    office = set(plan.office_mailboxes)
    per_kind: dict[str, Counter] = {}
    for kind, task_id, recipient in run.delivered:
        code = tasks.get(task_id) or people.get(recipient)
        label = names.get(code, code) if code else (OFFICE if recipient in office else OTHER)
        per_kind.setdefault(kind, Counter())[label] += 1
    ordered = sorted(per_kind.items(), key=lambda kv: -sum(kv[1].values()))
    return f"已发 {len(run.delivered)} 封：" + "、".join(
        f"{KINDS.get(kind, kind)} {sum(c.values())}（{_counted(c, {})}）" for kind, c in ordered)


def tick_summary(uow, swept: dict, run: CampaignSend | None, verdict: MailVerdict, *, others_sent: int = 0) -> str:
    """The tick's one line: ``swept`` is the sweep step's result (stages, to_office, office_departments, moved)."""
    with uow:
        plan = uow.plan
        names = uow.directory.department_names()
    when = uow.now.astimezone(plan.tz)
    parts = [swept["mailbox"]] if swept.get("mailbox") else []  # the replies read first (办公室邮箱：读取 3 封 …)
    stages = swept.get("stages") or {}
    notices = "、".join(f"{label} {stages[stage]} 项" for stage, label in STAGE_LABELS.items() if stages.get(stage))
    parts.append(f"通知：{notices}" if notices else
                 f"检查期限的另一个定时推进超过 {SWEEP_STUCK.seconds // 60} 分钟未结束，到期通知暂未发出（见警告）"
                 if swept.get("busy_stuck") else
                 "到期通知由另一个定时推进发出" if swept.get("busy") else "无到期通知")
    if swept.get("to_office"):
        where = Counter(swept.get("office_departments") or {})
        parts.append(f"督办到{OFFICE} {swept['to_office']} 项" + (f"（{_counted(where, names)}）" if where else ""))
    if swept.get("moved"):
        parts.append(f"期限调整 {swept['moved']} 项")
    if verdict.health.enabled:
        parts.append(sent_by_kind_and_department(uow, run or CampaignSend())
                     + (f"（另代发其他抽查任务的邮件 {others_sent} 封）" if others_sent else ""))
    parts.append(verdict.message or ("邮件无发送失败" if verdict.health.enabled else ""))
    waiting = {state: n for state, n in verdict.health.problems.items() if n}
    if waiting:  # set aside by earlier runs: not this run's failure, still the office's to look at
        parts.append("另有 " + "、".join(f"{state} {n} 封" for state, n in waiting.items()) + " 等待办公室处理（见看板）")
    return f"期限检查 {plan.code} {when:%m-%d %H:%M}：" + "；".join(p for p in parts if p)
