"""How the flows are served: the deployments and their schedules (``ssj serve``, ``ssj deploy``)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from prefect import flow

from flows.daily_report import daily_overdue_report
from flows.tick import campaign_tick


def schedules() -> dict[str, object]:
    """Per flow, its schedule in Beijing time: the tick every 15 minutes, the daily report at 08:30."""
    from prefect.schedules import Cron, Interval

    return {"tick": Interval(900, timezone="Asia/Shanghai"),
            "daily-overdue-report": Cron("30 8 * * *", timezone="Asia/Shanghai")}


FLOWS = {"tick": campaign_tick, "daily-overdue-report": daily_overdue_report}


def deployments(codes: list[str]) -> list:
    """What ``ssj serve`` serves in its own process: per campaign, both flows on their schedules."""
    when = schedules()
    return [flow_.to_deployment(name=f"{what}-{code}", parameters={"code": code}, schedule=when[what])
            for code in codes for what, flow_ in FLOWS.items()]


def deploy_to_pool(codes: list[str], pool: str, source: Path) -> list[str]:
    """What ``ssj deploy`` registers for a work pool: the same deployments, run by ``prefect worker start``
    processes (as many as the load needs) from the project at ``source``; returns their names."""
    when = schedules()
    names = []
    for code in codes:
        for what, flow_ in FLOWS.items():
            loaded = flow.from_source(source=str(source), entrypoint=f"flows/{flow_.fn.__module__.split('.')[-1]}.py:"
                                                                      f"{flow_.fn.__name__}")
            with contextlib.redirect_stdout(io.StringIO()):  # Prefect's English tables; ssj says it in Chinese
                loaded.deploy(name=f"{what}-{code}", work_pool_name=pool, parameters={"code": code},
                              schedule=when[what], build=False, push=False, print_next_steps=False,
                              ignore_warnings=True)
            names.append(f"{loaded.name}/{what}-{code}")
    return names
