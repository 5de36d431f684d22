"""The digests: every notice a sweep held goes out in one message per recipient and stage.

A department's administrator gets one 【提醒】 listing its 27 enterprises (with the list of
what is still unanswered attached, to fill in and send back), not 27 messages; the office
gets one 【督办】 listing every task that reached it. The message's outbox key derives from
the set of notices it lists, and the held rows take that key in the same transaction: a
crash before the digest re-digests the same set (the same message, or nothing), and a
notice decided later goes into the next digest, never a second copy of the first.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from workflow.file_tokens import CONFIRM_LIST, sign
from workflow.files.dispatch_list import write_department_list
from workflow.letter import greeting, group_greeting, signature
from workflow.mail import Mail
from workflow.notices import LADDER_LABELS, STAGE_LABELS, SUBJECT_PREFIX
from workflow.persistence.pending_notices import DROPPED
from workflow.services.people import OFFICE_NAME
from workflow.tasks import TASK_LABELS

# What the person asked does, in words (officials get mail, not commands) …
WHAT_TO_DO = {
    "confirm": "请在派发邮件所附比对确认清单的「是否检查」列逐户填写“是”或“否”（填“否”的须写明不检查理由），填好后回复",
    "confirmation_report": "请将确认检查情况（确认检查的企业名单、执法人员名单及电话；确认不检查的说明）盖章后回复本邮件",
    "acknowledge": "请回复一企一表派发邮件，确认已收到一企一表和实地核查安排",
    "summary": "请将随机抽查联合检查记录表、工作总结和统计表加盖公章后回复本邮件，或送领导小组办公室",
    "backfill": "请于实地核查后将填好的一企一表（检查结果）回复本邮件",
    "publish": "请公示已回填的检查结果",
}
# … and the office's own staff, who run the system, also get the command.
OFFICE_COMMANDS = {
    "confirm": "ssj confirm import 回复的清单",
    "confirmation_report": "ssj confirm report 任务编号 部门代码 文件",
    "acknowledge": "ssj ack 任务编号 执法证号",
    "summary": "ssj summary submit 任务编号 部门代码 文件",
    "backfill": "ssj results import 填好的一企一表",
    "publish": "ssj publish 任务编号 --out 目录",
}
INLINE_ROWS = 50  # a longer list is cut short in the body and sent whole as the attached file
ATTACHED_CONFIRM = "请在附件清单「是否检查」列逐户填写“是”或“否”（填“否”的须写明不检查理由）后回复本邮件"
INTRO = {
    "remind": "以下 {count} 项工作即将到期，请在截止前办理：",
    "overdue": "以下 {count} 项工作已过截止时间，尚未完成，请尽快办理：",
    "escalate": "以下 {count} 项工作已逾期，现提请您作为{role}督促办理：",
}


def digest_notices(uow) -> int:
    """Every held notice into one message per recipient and stage, in one transaction; returns the messages
    queued. The key is the set's: re-run after a crash, it queues the same message (or nothing). The held notices
    are read one digest at a time (a province's wave holds 180,000)."""
    with uow:
        plan = uow.plan
        queued = []
        for recipient, stage in uow.pending_notices.undigested_groups(plan.code):
            rows = uow.pending_notices.undigested(plan.code, recipient, stage)
            due = uow.tasks.open_due(sorted({r["task_id"] for r in rows}))
            # held by a run that died before its digest; the task done or its deadline moved since
            stale = [r["id"] for r in rows if due.get(r["task_id"]) != datetime.fromisoformat(r["item"]["due_at"])]
            if stale:
                uow.pending_notices.digested(stale, DROPPED)
                dropped = set(stale)
                rows = [r for r in rows if r["id"] not in dropped]
            if rows:
                queued.append(_digest(uow, recipient, stage, rows))
        return uow.queue(queued)


def _digest(uow, recipient: str, stage: str, rows: list[dict]) -> Mail:
    """One recipient's digest of one stage, its held notices taking its key."""
    plan = uow.plan
    listed = ",".join(sorted(f"{r['task_id']}:{r['level']}" for r in rows))
    digest = hashlib.sha256(listed.encode()).hexdigest()[:24]
    key = f"notices|{plan.code}|{stage}|{recipient}|{digest}"
    cc = tuple(dict.fromkeys(c for r in rows for c in r["cc"]))
    answer = _list_to_answer(uow, stage, rows, digest)
    context = digest_context(plan, stage, rows, attached=answer.name if answer else "")
    if answer:
        context["attachments"] = [str(answer)]
    uow.pending_notices.digested([r["id"] for r in rows], key)
    return Mail(key, recipient, stage, "notice_digest", context, rows[0]["task_id"] if len(rows) == 1 else None, cc)


def _list_to_answer(uow, stage: str, rows: list[dict], digest: str):
    """A department's administrator reminded of (or late with) its confirmations gets the list of what is still
    unanswered, to fill in and send back as is (the dispatch list's columns: it imports unchanged)."""
    items = [r["item"] for r in rows]
    departments = {i["department_code"] for i in items}
    if stage == "escalate" or len(departments) != 1 or any(i["kind"] != "confirm" for i in items) \
            or items[0]["to"]["organisation"] == OFFICE_NAME:
        return None
    plan, (code,) = uow.plan, departments
    usccs = sorted({i["uscc"] for i in items})
    # name and address as the sweep held them; a notice held before it kept the address is looked up
    enterprises = {i["uscc"]: (i["enterprise"], i["address"]) for i in items if "address" in i}
    enterprises.update(uow.directory.names_and_addresses([u for u in usccs if u not in enterprises]))
    names = {c: row.name for c, row in uow.directory.items().items()}
    planned = next((d for d in plan.departments if d.code == code), None)
    what = "；".join(f"{c} {names.get(c, '')}".strip() for c in (planned.items if planned else ()))
    path = (uow.files_dir / "派发" / f"{code}-比对确认-未答复-{uow.now.astimezone(plan.tz):%Y%m%d}-{digest[:8]}.xlsx")
    write_department_list(path.resolve(), [(plan.code, code, u, *enterprises.get(u, ("", "")), what) for u in usccs],
                          sign(uow.settings.reply_secret(), plan.code, CONFIRM_LIST, code))
    return path.resolve()


def digest_context(plan, stage: str, rows: list[dict], *, attached: str = "") -> dict:
    """What the digest template needs: the greeting, the tasks grouped by kind with what to do (``attached``: the
    file of the confirmations still to answer, when one goes with it), the signature. A group lists at most
    ``INLINE_ROWS`` tasks in the body and says how many more there are."""
    to = rows[0]["item"]["to"]
    office = to["organisation"] == OFFICE_NAME
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["item"]["kind"]].append(row["item"])
    order = list(TASK_LABELS)
    groups = []
    leader = stage == "escalate" and rows[0]["step"] == "department_leader"  # he sees that it is done, not does it
    for kind in sorted(by_kind, key=lambda k: order.index(k) if k in order else len(order)):
        items = sorted(by_kind[kind], key=lambda i: (i["due_at"], i["department"], i["enterprise"], i["officer"]))
        what = ATTACHED_CONFIRM if attached and kind == "confirm" else WHAT_TO_DO.get(kind, "")
        if office and kind in OFFICE_COMMANDS:
            what += f"（系统操作：{OFFICE_COMMANDS[kind]}）"
        if leader:  # only the department's administrator's or contact's own reply is recorded
            what = f"请督促本单位管理员或联络人办理（{what.removeprefix('请')}，须从其本人邮箱回复方可登记）"
        groups.append({"label": TASK_LABELS.get(kind, kind), "what_to_do": what,
                       "rows": [{**{k: i[k] for k in ("enterprise", "uscc", "officer", "due", "workdays_overdue",
                                                      "workdays_left")},
                                 # the recipient's own department goes without saying; any other is named (the
                                 # office must know whom to chase)
                                 "department": "" if i["enterprise"] and i["department"] == to["organisation"]
                                 else i["department"]}
                                for i in items[:INLINE_ROWS]],
                       "more": max(0, len(items) - INLINE_ROWS)})
    step = rows[0]["step"]
    role = LADDER_LABELS.get(step, "") if stage == "escalate" else ""
    return {
        "stage": stage, "prefix": SUBJECT_PREFIX[stage], "stage_label": STAGE_LABELS[stage],
        "greeting": group_greeting() if office else greeting(to["name"], to["role"], to["organisation"]),
        "intro": INTRO[stage].format(count=len(rows), role=role), "count": len(rows),
        "subject_what": "、".join(g["label"] for g in groups), "groups": groups,
        "campaign_name": plan.name, "document_no": plan.document_no, "signature": signature(plan),
        "attached": attached,
    }
