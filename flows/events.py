"""The events the product emits for the office's automations and the dashboard's event feed.

Their names are fixed here once: the automations (``flows/serving.py``) match on them.
"""

from __future__ import annotations

from prefect.events import emit_event

MAIL_FAILED = "ssj.mail.failed"  # a tick whose campaign's mail could not all be sent
MAIL_FAILING_FOR_AN_HOUR = "ssj.mail.failing-for-an-hour"  # the oldest unsent message has failed for ≥ 60 minutes
ESCALATED_TO_OFFICE = "ssj.notice.escalated-to-office"  # a notice climbed the ladder to the office
TICK_RAN = "ssj.tick.ran"  # a campaign's tick did its work (mail or not): its absence means nothing runs


def campaign_resource(code: str, name: str) -> dict:
    return {"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.name": name}


def campaign_related(code: str, name: str) -> dict:
    return {**campaign_resource(code, name), "prefect.resource.role": "campaign"}


def emit(event: str, resource: dict, related: list[dict] | None = None, payload: dict | None = None, occurred=None):
    return emit_event(event=event, resource=resource, related=related or [], payload=payload or {}, occurred=occurred)


def announce_sweep(code: str, now, transitions: list[dict], moved, decided: list[dict]) -> None:
    """One event per transition, moved deadline and notice decided by a tick."""
    campaign = {"prefect.resource.id": f"ssj.campaign.{code}", "prefect.resource.role": "campaign"}
    for t in transitions:
        emit(f"ssj.inspection.{t['trigger']}",
             {"prefect.resource.id": f"ssj.inspection.{code}.{t['uscc']}", "prefect.resource.name": t["uscc"] or code},
             [campaign], {"from": t["from"], "to": t["to"], "actor": t["actor"], "seq": t["seq"]}, occurred=t["at"])
    for change in moved:
        emit("ssj.task.deadline-moved", {"prefect.resource.id": f"ssj.task.{change.task_id}"}, [campaign],
             {"kind": change.kind, "before": change.before.isoformat(), "after": change.after.isoformat(),
              "provisional": change.provisional}, occurred=now)
    for notice in decided:
        emit(f"ssj.task.{notice['stage']}",
             {"prefect.resource.id": f"ssj.task.{notice['task_id']}", "prefect.resource.name": notice["task"]},
             [campaign, *({"prefect.resource.id": f"ssj.department.{d}", "prefect.resource.role": "department"}
                          for d in notice["departments"])], notice, occurred=now)
