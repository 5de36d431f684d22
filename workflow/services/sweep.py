"""The deadline sweep: over open tasks (indexed SQL, never a loop over everything), send what is due.

Each task carries the instant of its next notice (``next_notice_at``; empty until
the sweep first plans it). The sweep reads the open tasks whose instant has come
or which are not planned yet, decides with ``workflow.notices`` which notice is
due, moves the task's level with a compare-and-set (two sweeps at once cannot
both send), holds the notice for each of its recipients (``pending_notices``) in
the same transaction and names every notice in one audit row per batch.

At the end of the run every held notice goes into one digest per recipient and
stage (``digest_notices``): a department's administrator gets one 【提醒】 listing
its 27 enterprises, not 27 messages. The digest's outbox key derives from the set
of notices it lists, so a crash re-sends at most the same message, and a notice
decided later goes into the next digest.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calendars import CalendarCoverageError
from workflow.deadline_words import deadline_words, last_day
from workflow.files.dispatch_list import write_department_list
from workflow.files.email import one_line
from workflow.letter import greeting, signature
from workflow.mail import Mail
from workflow.notices import LADDER_LABELS, STAGE_LABELS, SUBJECT_PREFIX, due_notice, workdays_overdue
from workflow.services.people import OFFICE_NAME, People, Person
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


@dataclass
class SweepReport:
    planned: int = 0  # tasks whose next notice was planned
    notices: int = 0  # notices decided (one per task and step)
    queued: int = 0  # digests queued (one per recipient and stage)
    decided: list[dict] = field(default_factory=list)  # one per notice: task, stage, step, level, USCC, names (events)
    uncovered: dict[int, int] = field(default_factory=dict)  # missing calendar year -> tasks whose notice waits on it

    def add(self, other: SweepReport) -> None:
        self.planned += other.planned
        self.notices += other.notices
        self.queued += other.queued
        self.decided += other.decided
        for year, count in other.uncovered.items():
            self.uncovered[year] = self.uncovered.get(year, 0) + count


def sweep(uow, *, batch: int = 1000) -> SweepReport:
    """One pass: every open task of the campaign whose next notice has come (or is not planned yet).

    Work is claimed a batch at a time, one transaction per batch. The transaction
    holds the campaign's chain head first (the lock order, ``services/uow.py``), so
    on PostgreSQL several workers on one campaign take its batches in turn and never
    handle the same task (the claim's ``FOR UPDATE SKIP LOCKED`` and the level's
    compare-and-set are the backstops); on SQLite the write transaction serialises
    them. A claimed task leaves the due set when its batch commits, so the loop ends.
    A batch that lost a deadlock is rolled back whole and claimed again. Then the run's
    notices (and any a crashed run left held) go out as digests.
    """
    report = SweepReport()
    while True:
        part = uow.retried(lambda u: _claim_and_sweep(u, batch))
        if part is None:
            break
        report.add(part)
    uow.seam("sweep:held")
    report.queued += uow.retried(digest_notices)
    return report


def _claim_and_sweep(uow, batch: int) -> SweepReport | None:
    """One batch in one transaction: its report, or None when nothing is due."""
    with uow:
        top = len(uow.plan.escalation.ladder) + 1
        tasks = uow.tasks.claim_notice_due(uow.plan.code, now=uow.now, top=top, limit=batch)
        if not tasks:
            return None
        part = SweepReport()
        try:
            with uow:  # a savepoint: a lost race undoes this batch's writes only
                _sweep_batch(uow, tasks, part)
        except _LostRace:
            return SweepReport()  # another sweep moved these tasks first and sends their notices
    return part


class _LostRace(Exception):
    pass


def _sweep_batch(uow, tasks, report: SweepReport) -> None:
    plan, now, calendar = uow.plan, uow.now, uow.calendar
    ids = [t.inspection_id for t in tasks if t.inspection_id]
    people = People(uow, ids)
    enterprises = uow.inspections.enterprise_names(ids)
    planned, moved, held, decided, waiting = [], [], [], [], []
    opens = plan.office_hours.opens
    top = len(plan.escalation.ladder) + 1  # the steps a task's people skip count as passed: nothing left, the top
    # Tasks share due instants by the thousand: decide and word each instant once.
    decide = functools.lru_cache(maxsize=None)(
        lambda due, level, skip: due_notice(due, level, now, plan.escalation, calendar, plan.tz, opens=opens,
                                            skip=skip))
    counted = functools.lru_cache(maxsize=None)(
        lambda due: (workdays_overdue(due, now, calendar, plan.tz),
                     calendar.workdays_between(now.astimezone(plan.tz).date(), last_day(due, plan.tz))))
    for task in tasks:
        try:
            notice, next_at = decide(task.due_at, task.escalation_level, people.skipped(task))
            late, left = counted(task.due_at) if notice else (0, 0)
        except CalendarCoverageError as exc:  # this task waits for the year's calendar (asked again next sweep)
            report.uncovered[exc.year] = report.uncovered.get(exc.year, 0) + 1
            waiting.append((now + timedelta(seconds=1), task.id, task.escalation_level))
            continue
        if notice is None:
            if next_at is None:  # its last steps skipped: at the top, or the sweep claims it forever
                moved.append((top, None, task.id, task.escalation_level))
            else:
                planned.append((next_at, task.id, task.escalation_level))
            continue
        moved.append((notice.level if next_at else top, next_at, task.id, task.escalation_level))
        uscc, name = enterprises.get(task.inspection_id, ("", ""))
        departments = people.departments_of(task)
        item = _item(plan, people, task, departments, uscc, name, late, left)
        recipients = people.at_step(notice.step, task)
        held += [(task.id, notice.level, notice.stage, notice.step, p.email, (), {**item, "to": _addressed(p)})
                 for p in recipients]
        decided.append({"task": task.key, "stage": notice.stage, "step": notice.step, "level": notice.level,
                        "recipients": [p.email for p in recipients], "task_id": task.id, "kind": task.kind,
                        "uscc": uscc, "departments": departments, "enterprise": name, "due": task.due_at,
                        "provisional": bool(task.provisional), "campaign_name": plan.name,
                        "department_names": {d: people.departments[d].name for d in departments
                                             if d in people.departments}})
    if planned:
        report.planned += uow.tasks.plan_notices(planned)
    if waiting:  # out of the due set until the next sweep, which asks again
        uow.tasks.plan_notices(waiting)
    if moved:
        if uow.tasks.raise_levels(moved) != len(moved):  # another sweep got there first: let it send, this one backs off
            raise _LostRace()
        report.notices += len(decided)
        report.decided += decided
    uow.pending_notices.hold(plan.code, now, held)
    if decided:  # one audit row per batch, naming every step taken
        uow.record("notices", payload={"count": len(decided), "notices": [
            [n["task"], n["uscc"], n["stage"], n["step"], n["level"], n["recipients"]] for n in decided]})


def _addressed(person: Person) -> dict:
    return {"name": person.name, "role": person.role, "organisation": person.organisation}


def _item(plan, people: People, task, departments: list[str], uscc: str, name: str, late: int, left: int) -> dict:
    """One task as a digest's line says it."""
    officer = people.officers.get(task.certificate_no) if task.certificate_no else None
    return {"kind": task.kind, "enterprise": one_line(name), "uscc": uscc, "department_code": task.department_code,
            "department": "、".join(people.departments[d].name for d in departments if d in people.departments),
            "officer": officer.name if officer else "",
            "due": _words(task.due_at, plan.tz, bool(task.provisional)),
            "due_at": task.due_at.isoformat(), "workdays_overdue": late, "workdays_left": left}


_words = functools.lru_cache(maxsize=4096)(lambda due, tz, provisional: deadline_words(due, tz,
                                                                                     provisional=provisional))


def digest_notices(uow) -> int:
    """Every held notice into one message per recipient and stage, in one transaction; returns the messages
    queued. The key is the set's: re-run after a crash, it queues the same message (or nothing)."""
    with uow:
        plan = uow.plan
        groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
        held = uow.pending_notices.undigested(plan.code)
        due = uow.tasks.open_due(sorted({r["task_id"] for r in held}))
        stale = []  # held by a run that died before its digest; the task done or its deadline moved since
        for row in held:
            if due.get(row["task_id"]) != datetime.fromisoformat(row["item"]["due_at"]):
                stale.append(row["id"])
                continue
            groups[(row["recipient"], row["stage"])].append(row)
        if stale:
            uow.pending_notices.digested(stale, "stale")
        queued = []
        for (recipient, stage), rows in sorted(groups.items()):
            listed = ",".join(sorted(f"{r['task_id']}:{r['level']}" for r in rows))
            digest = hashlib.sha256(listed.encode()).hexdigest()[:24]
            key = f"notices|{plan.code}|{stage}|{recipient}|{digest}"
            cc = tuple(dict.fromkeys(c for r in rows for c in r["cc"]))
            answer = _list_to_answer(uow, stage, rows, digest)
            context = digest_context(plan, stage, rows, attached=answer.name if answer else "")
            if answer:
                context["attachments"] = [str(answer)]
            queued.append(Mail(key, recipient, stage, "notice_digest", context,
                               rows[0]["task_id"] if len(rows) == 1 else None, cc))
            uow.pending_notices.digested([r["id"] for r in rows], key)
        return uow.queue(queued)


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
    enterprises = uow.directory.enterprises(usccs)
    names = {c: row.name for c, row in uow.directory.items().items()}
    planned = next((d for d in plan.departments if d.code == code), None)
    what = "；".join(f"{c} {names.get(c, '')}".strip() for c in (planned.items if planned else ()))
    path = (uow.files_dir / "派发" / f"{code}-比对确认-未答复-{uow.now.astimezone(plan.tz):%Y%m%d}-{digest[:8]}.xlsx")
    write_department_list(path.resolve(), [(plan.code, code, u, enterprises[u].name if u in enterprises else "",
                                            (enterprises[u].address or "") if u in enterprises else "", what)
                                           for u in usccs])
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
    for kind in sorted(by_kind, key=lambda k: order.index(k) if k in order else len(order)):
        items = sorted(by_kind[kind], key=lambda i: (i["due_at"], i["department"], i["enterprise"], i["officer"]))
        what = ATTACHED_CONFIRM if attached and kind == "confirm" else WHAT_TO_DO.get(kind, "")
        if office and kind in OFFICE_COMMANDS:
            what += f"（系统操作：{OFFICE_COMMANDS[kind]}）"
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
        "greeting": "领导小组办公室：" if office else greeting(to["name"], to["role"], to["organisation"]),
        "intro": INTRO[stage].format(count=len(rows), role=role), "count": len(rows),
        "subject_what": "、".join(g["label"] for g in groups), "groups": groups,
        "campaign_name": plan.name, "document_no": plan.document_no, "signature": signature(plan),
        "attached": attached,
    }
