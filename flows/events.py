"""The events the product emits for the office's automations and the dashboard's event feed.

Their names are fixed here once: the automations (``flows/serving.py``) match on them.
Resources read as the office names things: ``ssj.campaign.<code>``, ``ssj.department.<code>``
and ``ssj.inspection.<code>.<USCC>``, each with its Chinese name; payloads carry Chinese labels.
"""

from __future__ import annotations

from datetime import datetime

from prefect.events import emit_event

from calendars import BEIJING
from workflow.inspection import STATE_LABELS
from workflow.machine import TRIGGER_LABELS
from workflow.deadline_words import deadline_words
from workflow.notices import LADDER_LABELS, STAGE_LABELS
from workflow.tasks import TASK_LABELS

MAIL_FAILED = "ssj.mail.failed"  # a tick whose campaign's mail could not all be sent
MAIL_FAILING_FOR_AN_HOUR = "ssj.mail.failing-for-an-hour"  # the oldest unsent message has failed for ≥ 60 minutes
ESCALATED_TO_OFFICE = "ssj.notice.escalated-to-office"  # a notice climbed the ladder to the office
MAILBOX_UNREADABLE = "ssj.mailbox.unreadable"  # a tick could not read the office mailbox (replies wait in it)
TICK_RAN = "ssj.tick.ran"  # a campaign's tick did its work (mail or not): its absence means nothing runs

DEADLINE_MOVED = "ssj.task.deadline-moved"
NOTICE_EVENTS = 500  # a tick's notices announced one by one up to this many, then per group (``_notice_events``)
BEIJING_MINUTE = "%Y-%m-%d %H:%M"
ACTION_LABELS = {"sampled": "抽取并派发", **TRIGGER_LABELS}


def campaign_resource(code: str, name: str) -> dict:
    return {"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.name": name or code}


def campaign_related(code: str, name: str) -> dict:
    return {**campaign_resource(code, name), "prefect.resource.role": "campaign"}


def department_resource(code: str, name: str) -> dict:
    return {"prefect.resource.id": f"ssj.department.{code}", "prefect.resource.name": name or code}


def department_related(code: str, name: str) -> dict:
    return {**department_resource(code, name), "prefect.resource.role": "department"}


def inspection_resource(code: str, uscc: str, enterprise: str) -> dict:
    """An enterprise in a campaign (the same enterprise in another campaign is another inspection)."""
    return {"prefect.resource.id": f"ssj.inspection.{code}.{uscc}", "prefect.resource.name": enterprise or uscc,
            "ssj.uscc": uscc}


def emit(event: str, resource: dict, related: list[dict] | None = None, payload: dict | None = None, occurred=None):
    return emit_event(event=event, resource=resource, related=related or [], payload=payload or {}, occurred=occurred)


def _when(at: datetime, tz) -> str:
    return at.astimezone(tz).strftime(BEIJING_MINUTE) if tz else at.isoformat()


def sweep_events(code: str, now: datetime, transitions: list[dict], moved, decided: list[dict], tz=None,
                 campaign_name: str | None = None) -> list[dict]:
    """The events a tick's sweep announces (``emit_event``'s arguments): one per transition, moved deadline and
    notice (per group of notices above ``NOTICE_EVENTS``), and one more per notice that reached the office.
    Names come with the dicts (``new_transitions``, the sweep's ``decided``); nothing is decided here."""
    tz = tz or BEIJING
    name = campaign_name or next((d.get("campaign_name") for d in [*decided, *transitions] if d.get("campaign_name")),
                                 "") or code
    campaign = campaign_related(code, name)
    events: list[dict] = []
    for t in transitions:
        enterprise = t.get("enterprise") or t["uscc"] or ""
        resource = inspection_resource(code, t["uscc"], enterprise) if t["uscc"] else campaign_resource(code, name)
        events.append({"event": f"ssj.inspection.{t['trigger']}", "resource": resource,
                       "related": [campaign] if t["uscc"] else [], "occurred": t["at"],
                       "payload": {"事项": ACTION_LABELS.get(t["trigger"], t["trigger"]), "企业": enterprise,
                                   "统一社会信用代码": t["uscc"] or "",
                                   "原状态": STATE_LABELS.get(t["from"], t["from"] or ""),
                                   "新状态": STATE_LABELS.get(t["to"], t["to"] or ""), "操作人": t["actor"],
                                   "时间": _when(t["at"], tz), "序号": t["seq"]}})
    for change in moved:
        if change.before == change.after and not change.kept:
            continue
        events.append({"event": DEADLINE_MOVED, "resource": campaign_resource(code, name), "related": [],
                       "occurred": now,
                       "payload": {"事项": TASK_LABELS.get(change.kind, change.kind), "原截止": _when(change.before, tz),
                                   "新截止": _when(change.after, tz), "暂定期限": "是" if change.provisional else "否",
                                   **({"说明": "暂定期限不提前，保持原期限"} if change.kept else {})}})

    def key(notice: dict) -> tuple:
        return notice["stage"], notice["step"], notice["kind"], tuple(notice["departments"])
    if len(decided) > NOTICE_EVENTS:  # a wave: one event per group (项数: how many), not one per notice
        groups: dict[tuple, list[dict]] = {}
        for notice in decided:
            groups.setdefault(key(notice), []).append(notice)
    else:
        groups = {(n, *key(notice)): [notice] for n, notice in enumerate(decided)}
    for notices in groups.values():
        events += _notice_events(code, name, campaign, now, tz, notices, len(decided))
    return events


def _notice_events(code: str, name: str, campaign: dict, now: datetime, tz, notices: list[dict],
                   total: int) -> list[dict]:
    """The event for one notice — or for a group of notices of one stage, step, kind and owing departments (a
    province's first overdue wave decides 180,000 in one tick, which one event each would take the Prefect server
    minutes to store, for a board nobody could read) — and one more if it reached the office."""
    first = notices[0]
    stage, step, kind, codes = first["stage"], first["step"], first["kind"], first["departments"]
    names = {d: n for x in notices for d, n in (x.get("department_names") or {}).items()}
    departments = [department_related(d, names.get(d, d)) for d in codes]
    one = first if len(notices) == 1 and first["uscc"] else None  # a single enterprise's notice
    if one:
        resource, related = inspection_resource(code, one["uscc"], one.get("enterprise", "")), [campaign, *departments]
    elif len(codes) == 1:
        resource, related = department_resource(codes[0], names.get(codes[0], "")), [campaign]
    else:
        resource, related = campaign_resource(code, name), departments
    payload = {"事项": TASK_LABELS.get(kind, kind), "阶段": STAGE_LABELS.get(stage, stage),
               "通知对象": LADDER_LABELS.get(step, step), "部门": "、".join(names.get(d, d) for d in codes),
               "抽查任务": name}
    earliest = min((x for x in notices if x.get("due") is not None), key=lambda x: x["due"], default=None)
    if earliest is not None:
        payload["截止"] = deadline_words(earliest["due"], tz, provisional=bool(earliest.get("provisional")))
    if one:
        payload.update({"企业": one.get("enterprise") or one["uscc"], "统一社会信用代码": one["uscc"]})
    elif len(notices) > 1:
        payload.update({"项数": len(notices), "企业": f"{len({x['uscc'] for x in notices if x['uscc']})} 户",
                        "说明": f"本次共 {total} 项通知，按部门和事项汇总；逐项见 ssj report overdue"})
    events = [{"event": f"ssj.task.{stage}", "resource": resource, "related": related, "occurred": now,
               "payload": payload}]
    if step == "office":  # about the enterprise, or the campaign; the departments that owe it related
        about = resource if one else campaign_resource(code, name)
        events.append({"event": ESCALATED_TO_OFFICE, "resource": about,
                       "related": [campaign, *departments] if one else departments, "occurred": now,
                       "payload": {**payload, "阶段": "督办至领导小组办公室"}})
    return events


def announce_sweep(code: str, now, transitions: list[dict], moved, decided: list[dict],
                   campaign_name: str | None = None) -> None:
    """One event per transition, moved deadline and notice decided by a tick (and one per notice to the office).
    ``campaign_name``: the resource's name when the dicts carry none (only deadlines moved)."""
    for e in sweep_events(code, now, transitions, moved, decided, campaign_name=campaign_name):
        emit(e["event"], e["resource"], e["related"], e["payload"], occurred=e["occurred"])
