"""Serving every campaign from one set of deployments, against the real Prefect API (test harness).

The dispatchers, their runs' names and tags, a campaign created between two runs, one campaign's failure,
the automations kept by name, the pool deployment and the pruning of old runs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign, rows

CODE = "luquan-2019-h2"
OTHER = "luquan-2019-h2-b"
# Prefect's side does not depend on the product's database (the service is tested on both in
# tests/integration/test_campaign_completion.py): one backend keeps make test short.
ONE_BACKEND = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def second_campaign(tmp_path: Path) -> Path:
    """The example campaign under another code: a second campaign in the same database."""
    path = tmp_path / f"{OTHER}.toml"
    path.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(f'code = "{CODE}"', f'code = "{OTHER}"', 1),
                    encoding="utf-8")
    return path


@pytest.fixture
def drawn(loaded):
    draw_campaign(loaded)
    return loaded


def api(call):
    """``call(client)`` on Prefect's async client, from a test."""
    from prefect.client.orchestration import get_client

    async def run():
        async with get_client() as client:
            return await call(client)
    return asyncio.run(run())


def child_runs(parent_id):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort

    return api(lambda c: c.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])),
        sort=FlowRunSort.NAME_ASC))


def test_one_set_of_deployments_on_beijing_quarter_hours_from_the_installed_package():
    from flows.serving import deployments

    tick, daily, alert = deployments()
    assert [d.name for d in (tick, daily, alert)] == ["期限检查", "逾期日报", "告警"]
    assert tick.entrypoint == "flows.dispatch.tick_all" and daily.entrypoint == "flows.dispatch.daily_report_all"
    assert alert.entrypoint == "flows.automations.alert", "module paths: no checkout path on another machine"
    [tick_schedule], [daily_schedule] = tick.schedules, daily.schedules
    assert (tick_schedule.schedule.cron, tick_schedule.schedule.timezone) == ("*/15 * * * *", "Asia/Shanghai")
    assert (daily_schedule.schedule.cron, daily_schedule.schedule.timezone) == ("30 8 * * *", "Asia/Shanghai")
    assert not alert.schedules and not any(d.paused for d in (tick, daily, alert))
    assert tick.parameters == daily.parameters == {"codes": [], "mail": True}, "no codes: every active campaign"
    quiet_tick, quiet_daily, _ = deployments([CODE], mail=False)
    assert quiet_tick.parameters == quiet_daily.parameters == {"codes": [CODE], "mail": False}, "--no-mail"


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
@ONE_BACKEND
def test_the_dispatcher_ticks_every_active_campaign_as_a_named_tagged_subflow(prefect_api, drawn, db_url, tmp_path,
                                                                             smtp_server):
    from flows.dispatch import tick_all

    first = tick_all(now="2019-11-28T09:30", url=db_url, return_state=True)
    assert first.is_completed(), first.message
    [run] = child_runs(first.state_details.flow_run_id)
    assert run.name == f"{CODE} 期限检查 11-28 09:30" and set(run.tags) >= {CODE, "ssj"}

    # a campaign created between two runs is ticked by the next one: nothing to restart
    assert drawn("campaign", "create", second_campaign(tmp_path), "--now", "2019-11-28T09:40").code == 0
    second = tick_all(now="2019-11-28T09:45", url=db_url, return_state=True)
    assert second.is_completed(), second.message
    runs = child_runs(second.state_details.flow_run_id)
    assert [(r.name, r.state.type.value) for r in runs] == [(f"{CODE} 期限检查 11-28 09:45", "COMPLETED"),
                                                             (f"{OTHER} 期限检查 11-28 09:45", "COMPLETED")]
    assert OTHER in runs[1].tags and CODE not in runs[1].tags

    # restricted to one code (ssj serve CODE): the other is left alone
    only = tick_all(codes=[OTHER], now="2019-11-28T10:00", url=db_url, return_state=True)
    assert [r.name for r in child_runs(only.state_details.flow_run_id)] == [f"{OTHER} 期限检查 11-28 10:00"]


@pytest.mark.slow
@ONE_BACKEND
def test_one_campaign_failing_stops_no_other_and_the_dispatcher_names_it(prefect_api, drawn, db_url, tmp_path,
                                                                         smtp_server):
    from flows.dispatch import tick_all
    from workflow.persistence import orm

    assert drawn("campaign", "create", second_campaign(tmp_path), "--now", "2019-11-28T09:40").code == 0
    from workflow.persistence.database import make_engine

    engine = make_engine(db_url)  # the second campaign's stored plan is damaged: its tick cannot start
    with engine.begin() as conn:
        conn.execute(update(orm.Campaign).where(orm.Campaign.code == OTHER).values(plan={"broken": True}))
    engine.dispose()
    state = tick_all(now="2019-11-28T09:45", url=db_url, return_state=True)
    assert state.is_failed()
    assert state.message == f"期限检查未完成的抽查任务 1 个：{OTHER}（详见各自的子流程）"
    runs = {r.name: r.state.type.value for r in child_runs(state.state_details.flow_run_id)}
    assert runs == {f"{CODE} 期限检查 11-28 09:45": "COMPLETED", f"{OTHER} 期限检查 11-28 09:45": "FAILED"}


@pytest.mark.slow
@ONE_BACKEND
def test_the_daily_report_dispatcher_names_its_runs_by_day(prefect_api, drawn, db_url, smtp_server, tmp_path,
                                                           monkeypatch):
    from flows.dispatch import daily_report_all

    monkeypatch.chdir(tmp_path)
    state = daily_report_all(now="2019-12-02T08:30", url=db_url, return_state=True)
    assert state.is_completed(), state.message
    [run] = child_runs(state.state_details.flow_run_id)
    assert run.name == f"{CODE} 逾期日报 2019-12-02" and CODE in run.tags
    report = tmp_path / "files" / CODE / "报表" / "逾期部门报告_2019-12-02.xlsx"
    assert report.exists() and not (tmp_path / "报表").exists(), "the campaign's folder, not the working directory"


@pytest.mark.slow
@ONE_BACKEND
def test_a_finished_campaign_is_neither_ticked_nor_reported(prefect_api, drawn, db_url):
    from flows.dispatch import daily_report_all, tick_all
    from workflow.persistence import orm

    finish(db_url)
    state = tick_all(now="2020-03-02T09:00", url=db_url, return_state=True)
    assert state.is_completed() and child_runs(state.state_details.flow_run_id) == []
    report = daily_report_all(now="2020-03-02T08:30", url=db_url, return_state=True)
    assert report.is_completed() and child_runs(report.state_details.flow_run_id) == []
    said = rows(db_url, orm.AuditEvent.__table__.select().where(orm.AuditEvent.action == "campaign_finished"))
    assert [r.campaign_code for r in said] == [CODE], "said once, by the first run that found it finished"


def finish(db_url: str) -> None:
    """Arrange a campaign whose work is over: every inspection published, every task done, every mail sent."""
    from workflow.persistence import orm
    from workflow.persistence.database import make_engine

    engine = make_engine(db_url)
    at = datetime(2020, 2, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(update(orm.InspectionRow).values(state="published"))
        conn.execute(update(orm.TaskRow).where(orm.TaskRow.done_at.is_(None)).values(done_at=at, outcome="done"))
        conn.execute(update(orm.OutboxMessage).where(orm.OutboxMessage.sent_at.is_(None)).values(sent_at=at,
                                                                                                 state="已发"))
    engine.dispose()


@pytest.mark.slow
def test_the_automations_are_kept_by_name_never_duplicated(prefect_api, monkeypatch):
    from flows.automations import WANTED, ensure_automations
    from flows.serving import deployments

    alert = next(d for d in deployments() if d.name == "告警")
    alert_id = alert.apply()
    monkeypatch.delenv("SSJ_ALERT_WEBHOOK", raising=False)
    first = ensure_automations(alert_id)
    monkeypatch.setenv("SSJ_ALERT_WEBHOOK", "https://oapi.dingtalk.com/robot/send?access_token=test")
    second = ensure_automations(alert_id)
    assert [what for _, what in second] == ["已更新"] * len(WANTED) and {n for n, _ in first} == {w.name for w in WANTED}
    for wanted in WANTED:
        [automation] = api(lambda c: c.read_automations_by_name(wanted.name))
        assert automation.description == wanted.description and automation.enabled
        kinds = [a.type for a in automation.actions]
        assert kinds == ["run-deployment", "send-notification"], "the office's robot webhook, once it is set"
        assert automation.actions[0].deployment_id == alert_id
    [proactive] = [a for w in WANTED if w.proactive for a in api(lambda c: c.read_automations_by_name(w.name))]
    assert proactive.trigger.posture == "Proactive" and proactive.trigger.within == timedelta(hours=1)
    assert proactive.trigger.expect == {"ssj.tick.ran"}


@pytest.mark.slow
@ONE_BACKEND
def test_ssj_deploy_creates_the_pool_and_registers_module_entrypoints(prefect_api, drawn):
    from prefect.exceptions import ObjectNotFound

    pool = "ssj-serving-test"

    async def no_pool(client):
        try:
            await client.delete_work_pool(pool)
        except ObjectNotFound:
            pass
    api(no_pool)
    result = drawn("deploy", "--pool", pool, "--no-mail")
    assert result.code == 0, result.err
    assert f"已创建工作池 {pool}（类型 process）" in result.err and "ValueError" not in result.err
    for name in ("ssj-tick/期限检查", "ssj-daily-report/逾期日报", "ssj-alert/告警"):
        assert f"已注册部署 {name}（工作池 {pool}）" in result.out
    tick = api(lambda c: c.read_deployment_by_name("ssj-tick/期限检查"))
    assert tick.work_pool_name == pool and tick.entrypoint == "flows.dispatch.tick_all"
    assert not tick.pull_steps and not tick.path, "nothing of this checkout: the installed package is enough"
    assert tick.parameters == {"codes": [], "mail": False} and not tick.paused
    assert tick.schedules[0].schedule.cron == "*/15 * * * *" and tick.schedules[0].active
    again = drawn("deploy", "--pool", pool, CODE)
    assert again.code == 0 and "已创建工作池" not in again.err
    assert api(lambda c: c.read_deployment_by_name("ssj-tick/期限检查")).parameters == {"codes": [CODE], "mail": True}
    unknown = drawn("deploy", "--pool", pool, "no-such-campaign")
    assert unknown.code == 2 and "抽查任务不存在：no-such-campaign" in unknown.err


@pytest.mark.slow
def test_old_tick_runs_are_pruned_failed_ones_kept_longer(prefect_api):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.states import Completed, Failed, Scheduled

    from flows.pruning import TICK_FLOWS, delete_old_runs
    from flows.tick import campaign_tick

    now = datetime.now(timezone.utc)

    async def run_at(client, days_ago: float, final):
        run = await client.create_flow_run(campaign_tick, name=f"{CODE} 期限检查 旧",
                                           state=Scheduled(scheduled_time=now - timedelta(days=days_ago)))
        await client.set_flow_run_state(run.id, final, force=True)
        return run.id

    async def arrange(client):
        return {"completed 10 days": await run_at(client, 10, Completed()),
                "completed 1 day": await run_at(client, 1, Completed()),
                "failed 10 days": await run_at(client, 10, Failed(message="x")),
                "failed 40 days": await run_at(client, 40, Failed(message="x"))}
    ids = api(arrange)
    assert delete_old_runs(TICK_FLOWS, keep_days=7, keep_failed_days=30) >= 2
    left = api(lambda c: c.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(ids.values())))))
    assert {run.id for run in left} == {ids["completed 1 day"], ids["failed 10 days"]}


@ONE_BACKEND
def test_ssj_serve_without_a_prefect_server_says_what_to_start(ready, db_url, tmp_path):
    """A temporary in-process API runs no scheduler: serving on it would never tick. Refused, exit 2."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(SSJ_DATABASE_URL=db_url, PREFECT_HOME=str(tmp_path / "prefect"), SSJ_USER="clerk@office.luquan.example")
    result = subprocess.run([str(Path(sys.executable).with_name("ssj")), "serve", "--no-mail"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "未设置 PREFECT_API_URL" in result.stderr and "prefect server start" in result.stderr
