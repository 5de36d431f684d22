"""The dispatch to the departments: what each owes from now on, and the list of its enterprises, by email."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.file_tokens import CONFIRM_LIST, sign
from workflow.deadline_words import deadline_words, instant_words
from workflow.deadlines import resolve_deadline
from workflow.files.dispatch_list import write_department_list
from workflow.identity import same_identity
from workflow.letter import greeting, signature
from workflow.mail import mails
from workflow.tasks import NewTask

DEPARTMENT_FILES = ("confirmation_report", "summary")  # what each department owes the office, if the plan asks


def open_department_files(uow) -> int:
    """From the dispatch on, each department owes the files the campaign asks for, by their deadlines."""
    plan = uow.plan
    return uow.tasks.open((NewTask(kind, plan.code, resolve_deadline(plan.deadlines[kind], uow.calendar, uow.now),
                                   department=d.code)
                           for kind in DEPARTMENT_FILES if kind in plan.deadlines for d in plan.departments), uow.now)


def queue_dispatch(uow, usccs: Sequence[str], *, round_: int) -> int:
    """Write each department's list into the campaign's folder (``派发/``) and queue its email, in this transaction.

    The list goes to the department's administrator (管理员, who does the 比对确认) with its contact in copy;
    a department without an administrator's address gets it at its contact's."""
    plan, now = uow.plan, uow.now
    departments = uow.directory.departments()
    enterprises = uow.directory.enterprises(list(usccs))
    item_names = {code: row.name for code, row in uow.directory.items().items()}
    due = resolve_deadline(plan.deadlines["confirm"], uow.calendar, now)
    local = now.astimezone(plan.tz)
    queued = []
    secret = uow.settings.reply_secret()
    measured: dict = {}  # the lists name the same enterprises: each text measured once
    for dept in plan.departments:
        info = departments.get(dept.code)
        if info is None or not (info.admin_email or info.contact_email):
            continue
        items = "；".join(f"{code} {item_names.get(code, '')}".strip() for code in dept.items)
        rows = [(plan.code, dept.code, u, enterprises[u].name, enterprises[u].address or "", items) for u in usccs]
        path = (uow.files_dir / "派发" / f"{dept.code}-比对确认-{local:%Y%m%d}-第{round_}轮.xlsx").resolve()
        write_department_list(path, rows, sign(secret, plan.code, CONFIRM_LIST, dept.code), measured)
        to_admin = bool(info.admin_email)
        copied = to_admin and info.contact_email and not same_identity(info.contact_email, info.admin_email)
        context = {"greeting": greeting(info.admin_name, "管理员", info.name) if to_admin else
                   greeting(info.contact_name, "联络人", info.name),
                   "department": info.name, "campaign_name": plan.name, "document_no": plan.document_no,
                   "office": plan.office, "drawn_at": instant_words(now, plan.tz), "count": len(rows),
                   "due": deadline_words(due.at, plan.tz, provisional=due.provisional), "provisional": due.provisional,
                   "copied": (info.contact_name or info.contact_email) if copied else "",
                   "signature": signature(plan), "attachment_name": path.name, "attachments": [str(path)]}
        queued += mails(f"dispatch|{plan.code}|{round_}|{dept.code}",
                        [info.admin_email if to_admin else info.contact_email], kind="dispatch", template="dispatch",
                        context=context, cc=(info.contact_email,) if copied else ())
    return uow.queue(queued)
