"""What follows when an inspection moves: the one table to read (and change) for a transition's consequences.

``REACTIONS`` maps the state an inspection arrives in to its effects. They run in
the unit of work that made the move, in its transaction, right after the row is
written and before the move's audit row: a move and its consequences commit
together or not at all. Every effect is idempotent (tasks and mail by key), so a
re-run that repeats a move's consequences changes nothing.

    sampled    each department's 比对确认 task
    assigned   each officer's acknowledgement task; each officer's mail with his 一企一表
    inspected  the back-fill clock (``backfill``) and the disclosure clock (``publish``), from the visit day
    reported   the back-fill task closes (late if it is)
    published  the disclosure task closes
    withdrawn  every open task of the inspection is cancelled, and the acknowledgement of an officer
               left on no team

A team change after the forms are out (a substitution) uses the same officer effects
(``dispatch_to_officers``, ``release_idle``) without a move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from calendars import CalendarCoverageError
from workflow.deadline_words import day_words, deadline_words
from workflow.deadlines import resolve_deadline, visit_instant
from workflow.files.location import form_file_stem
from workflow.inspection import ASSIGNED, INSPECTED, PUBLISHED, REPORTED, SAMPLED, WITHDRAWN, Inspection, Moved
from workflow.letter import greeting, signature
from workflow.mail import mails
from workflow.tasks import CANCELLED, DONE, NewTask, task_key

Moves = Sequence[tuple[Inspection, Moved]]


def open_confirmations(uow, moved: Moves) -> None:
    """Each participating department answers (比对确认) for each drawn enterprise, by the ``confirm`` deadline."""
    plan = uow.plan
    due = resolve_deadline(plan.deadlines["confirm"], uow.calendar, uow.now)
    uow.tasks.open((NewTask("confirm", plan.code, due, i.id, department=d.code)
                    for i, _ in moved for d in plan.departments), uow.now)


def dispatch_to_officers(uow, inspections: Sequence[Inspection], only: set[str] | None = None) -> None:
    """The officers on these inspections' teams (``only`` those, when given) are asked to acknowledge their
    一企一表 and are mailed them. Used by the move to 已分派, by a substitution, and by a forms re-run."""
    due = resolve_deadline(uow.plan.deadlines["acknowledge"], uow.calendar, uow.now)
    ask_to_acknowledge(uow, inspections, only, due)
    mail_forms(uow, inspections, only, due)


def ask_to_acknowledge(uow, inspections: Sequence[Inspection], only: set[str] | None, due) -> None:
    """Each officer on the teams acknowledges his 一企一表 by ``due`` (specialists are not asked)."""
    counted = uow.teams.counted(inspection_ids=[i.id for i in inspections])
    asked = sorted({cert for members in counted.values() for cert, _ in members if only is None or cert in only})
    uow.tasks.open((NewTask("acknowledge", uow.plan.code, due, certificate_no=c) for c in asked), uow.now)


def mail_forms(uow, inspections: Sequence[Inspection], only: set[str] | None, due) -> None:
    """Each officer on the teams gets, once a day at most, all his enterprises, visit days and 一企一表 files."""
    plan = uow.plan
    teams = uow.teams.of_campaign(plan.code)
    involved = {m["certificate_no"] for i in inspections for m in teams.get(i.uscc, ())
                if only is None or m["certificate_no"] in only}
    schedule = {uscc: (day, group) for uscc, day, group in uow.inspections.planned(plan.code, (ASSIGNED,))}
    enterprises = uow.directory.enterprises(sorted(schedule))
    officers = uow.directory.officers()
    visits: dict[str, list[str]] = defaultdict(list)
    for uscc in schedule:
        for member in teams.get(uscc, ()):
            if member["certificate_no"] in involved:
                visits[member["certificate_no"]].append(uscc)
    folder = (uow.files_dir / "一企一表").resolve()
    stamp = uow.now.astimezone(plan.tz).date().isoformat()
    backfill = {day: _backfill_words(uow, day) for day, _ in schedule.values()}
    queued = []
    for cert, usccs in sorted(visits.items()):
        officer = officers.get(cert)
        if officer is None or not officer.email:
            continue
        usccs = sorted(usccs, key=lambda u: (schedule[u], u))
        stems = [form_file_stem(u, enterprises[u].name) for u in usccs]
        context = {"greeting": greeting(officer.name), "officer": officer.name, "certificate_no": cert,
                   "campaign_name": plan.name, "campaign_code": plan.code, "document_no": plan.document_no,
                   "office": plan.office, "due": deadline_words(due.at, plan.tz, provisional=due.provisional),
                   "provisional": due.provisional, "signature": signature(plan),
                   "visits": [{"day": day_words(schedule[u][0]), "group": schedule[u][1],
                               "enterprise": enterprises[u].name, "uscc": u, "address": enterprises[u].address or "",
                               "backfill": backfill[schedule[u][0]]}
                              for u in usccs],
                   "attachments": [str(folder / f"{stem}{suffix}") for stem in stems for suffix in (".xlsx", ".docx")]}
        queued += mails(f"forms|{plan.code}|{stamp}|{cert}", [officer.email], kind="forms", template="forms_dispatch",
                        context=context)
    uow.queue(queued)


def _backfill_words(uow, day) -> str:
    """When the results of a visit on ``day`` are due, in the notice's words ("" when no calendar covers it yet)."""
    plan = uow.plan
    try:
        due = resolve_deadline(plan.deadlines["backfill"], uow.calendar, visit_instant(day, plan.tz))
    except CalendarCoverageError:
        return ""
    return deadline_words(due.at, plan.tz, provisional=due.provisional)


def open_backfill_and_disclosure(uow, moved: Moves) -> None:
    """The visit starts two clocks: the back-fill (``backfill``) and the public disclosure (``publish``)."""
    plan = uow.plan
    visits = uow.inspections.visits([i.id for i, _ in moved])
    uow.tasks.open((NewTask(kind, plan.code, resolve_deadline(plan.deadlines[kind], uow.calendar,
                                                              visit_instant(visits[i.id].day, plan.tz)), i.id)
                    for i, _ in moved for kind in ("backfill", "publish")), uow.now)


def _closes(kind: str) -> Callable:
    def close(uow, moved: Moves) -> None:
        uow.tasks.close_many(kind, [(i.id, m.at) for i, m in moved], outcome=DONE)
    close.__doc__ = f"The ``{kind}`` task is done (late if it is: its due instant stays beside the instant it closed)."
    return close


def cancel_open_work(uow, moved: Moves) -> None:
    """A withdrawn enterprise: nobody owes any of its work any more — an officer left on no other team not even
    his acknowledgement."""
    for inspection, m in moved:
        uow.tasks.close(inspection_id=inspection.id, outcome=CANCELLED, now=m.at)
    counted = uow.teams.counted(inspection_ids=[i.id for i, _ in moved])
    release_idle(uow, {cert for members in counted.values() for cert, _ in members})


def release_idle(uow, officers: set[str]) -> None:
    """Officers on no team of a live enterprise any more (replaced, or their enterprise withdrawn) owe no
    acknowledgement: it is cancelled, so nobody chases them."""
    busy = uow.teams.loads(uow.plan.code, live=True)
    for cert in sorted(officers):
        if not busy.get(cert):
            uow.tasks.close_key(task_key("acknowledge", uow.plan.code, certificate_no=cert), now=uow.now,
                                outcome=CANCELLED)


def _assigned(uow, moved: Moves) -> None:
    dispatch_to_officers(uow, [i for i, _ in moved])


_assigned.__doc__ = dispatch_to_officers.__doc__


REACTIONS: dict[str, tuple[Callable, ...]] = {
    SAMPLED: (open_confirmations,),
    ASSIGNED: (_assigned,),
    INSPECTED: (open_backfill_and_disclosure,),
    REPORTED: (_closes("backfill"),),
    PUBLISHED: (_closes("publish"),),
    WITHDRAWN: (cancel_open_work,),
}


def react(uow, moved: Moves) -> None:
    """Run the effects of every move in ``moved``, grouped by the state arrived in."""
    by_dest: dict[str, list[tuple[Inspection, Moved]]] = defaultdict(list)
    for inspection, m in moved:
        by_dest[m.dest].append((inspection, m))
    for dest, group in by_dest.items():
        for effect in REACTIONS.get(dest, ()):
            effect(uow, group)
