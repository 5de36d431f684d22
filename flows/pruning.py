"""The product's own clean-up of Prefect's flow runs: the tick runs 96 times a day per campaign.

Runs that ended well (Completed, Cancelled) are deleted after ``keep_days``; those that went
wrong (Failed, Crashed) are kept ``keep_failed_days``, so the office can still read why.
Only the product's own flows are touched; runs still going are never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prefect import get_run_logger, task

TICK_FLOWS = ("ssj-tick", "campaign-tick")
REPORT_FLOWS = ("ssj-daily-report", "daily-overdue-report")
ENDED_WELL = ("COMPLETED", "CANCELLED")
WENT_WRONG = ("FAILED", "CRASHED")
BATCH = 200


def delete_old_runs(flow_names: tuple[str, ...], keep_days: int, keep_failed_days: int,
                    now: datetime | None = None, limit: int = 2000) -> int:
    """Delete the flows' ended runs expected to start before the cut-offs (at most ``limit`` per call);
    how many were deleted. ``now``: Prefect's own clock by default (its runs carry real instants)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterName, FlowRunFilter,
                                                FlowRunFilterExpectedStartTime, FlowRunFilterState,
                                                FlowRunFilterStateType)

    now = now or datetime.now(timezone.utc)
    deleted = 0
    with get_client(sync_client=True) as client:
        for states, days in ((ENDED_WELL, keep_days), (WENT_WRONG, keep_failed_days)):
            cutoff = now - timedelta(days=days)
            while deleted < limit:
                runs = client.read_flow_runs(
                    flow_filter=FlowFilter(name=FlowFilterName(any_=list(flow_names))),
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(states))),
                        expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff)),
                    limit=min(BATCH, limit - deleted))
                if not runs:
                    break
                for run in runs:
                    client.delete_flow_run(run.id)
                deleted += len(runs)
    return deleted


@task(name="清理旧的运行记录")
def prune_old_runs(keep_days: int, keep_failed_days: int, flow_names: tuple[str, ...] = TICK_FLOWS) -> int:
    """A failure to prune is said, never fails the run that pruned."""
    logger = get_run_logger()
    try:
        deleted = delete_old_runs(flow_names, keep_days, keep_failed_days)
    except Exception as exc:
        logger.warning("清理旧的运行记录未完成：%s", exc)
        return 0
    if deleted:
        logger.info("清理旧的运行记录：删除 %d 条（成功的保留 %d 天，失败的保留 %d 天）", deleted, keep_days,
                    keep_failed_days)
    return deleted
