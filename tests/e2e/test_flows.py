"""The Prefect flows against the real Prefect API (test harness), a real database and loopback SMTP."""

from __future__ import annotations

import pytest

from tests.conftest import draw_campaign

CODE = "luquan-2019-h2"


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server[0]


@pytest.fixture
def drawn(loaded):
    draw_campaign(loaded)
    return loaded


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_the_tick_reminds_sends_and_updates_the_dashboard(prefect_api, drawn, db_url, mailbox):
    from prefect.artifacts import Artifact

    from flows.common import artifact_key
    from flows.tick import campaign_tick

    quiet = campaign_tick(CODE, now="2019-11-27T12:00", url=db_url)
    assert quiet["notices"] == 0 and quiet["sent"] == 7, "only the departments' dispatch emails of the draw"
    assert quiet["transitions"] > 0, "the drawn enterprises announced as events"
    result = campaign_tick(CODE, now="2019-11-28T09:30", url=db_url)
    assert result["notices"] > 0 and result["sent"] == result["queued"]
    assert sum(s.startswith("【提醒】") for s in mailbox.subjects()) == result["queued"]
    run = campaign_tick(CODE, now="2019-11-28T09:45", url=db_url, return_state=True)
    again = run.result()
    assert again["notices"] == 0 and again["sent"] == 0, "a second tick sends nothing twice"
    assert again["transitions"] == 0, "each transition is announced once"
    for what in ("progress-by-department", "overdue-by-department", "progress", "summary"):
        # the session's Prefect server also holds the other backend's and the demo's artifacts under these keys
        artifact = Artifact.get(artifact_key(CODE, what))
        assert artifact is not None and artifact.flow_run_id == run.state_details.flow_run_id, what
    summary = Artifact.get(artifact_key(CODE, "summary"))
    assert "检查对象" in summary.data and "方案检查" in summary.data


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_the_daily_report_runs_on_working_days_only(prefect_api, drawn, db_url, mailbox, tmp_path):
    from flows.daily_report import daily_overdue_report

    saturday = daily_overdue_report(CODE, now="2019-11-30T08:30", url=db_url, out_dir=str(tmp_path))
    assert saturday == {"skipped": "2019-11-30 不是工作日"}
    adjusted = daily_overdue_report(CODE, now="2019-10-12T08:30", url=db_url, out_dir=str(tmp_path))
    assert "skipped" not in adjusted, "2019-10-12 is a Saturday made a working day (调休)"
    monday = daily_overdue_report(CODE, now="2019-12-02T08:30", url=db_url, out_dir=str(tmp_path))
    assert monday["overdue"] > 0 and monday["sent"] >= 1
    reports = [m for _, m in mailbox.messages if str(m["Subject"]).startswith("【逾期报告】")]
    assert any("2019年12月2日（星期一）" in str(m["Subject"]) for m in reports)
    [attachment] = list(next(m for m in reports if "2019年12月2日（星期一）" in str(m["Subject"])).iter_attachments())
    assert attachment.get_filename() == "逾期部门报告_2019-12-02.xlsx"
    again = daily_overdue_report(CODE, now="2019-12-02T09:00", url=db_url, out_dir=str(tmp_path))
    assert again["queued"] == 0, "one report a day"


def test_ssj_tick_without_prefect(drawn, smtp_server):
    inbox, _ = smtp_server
    result = drawn("tick", CODE, "--now", "2019-11-28T09:30", "--json")
    assert result.code == 0, result.err
    import json

    doc = json.loads(result.out)
    assert doc["notices"] > 0 and doc["sent"] == doc["queued"] + 7, "the reminders and the dispatch emails"
    assert sum(s.startswith("【提醒】") for s in inbox.subjects()) == doc["queued"]


def test_the_served_deployments_and_their_schedules():
    from flows.serving import deployments

    tick, daily, _ = deployments([CODE])
    assert (tick.flow_name, tick.name, tick.parameters) == ("ssj-tick", "期限检查", {"codes": [CODE], "mail": True})
    assert (daily.flow_name, daily.name) == ("ssj-daily-report", "逾期日报")
    [tick_schedule] = tick.schedules
    [daily_schedule] = daily.schedules
    assert tick_schedule.schedule.cron == "*/15 * * * *" and tick_schedule.schedule.timezone == "Asia/Shanghai"
    assert daily_schedule.schedule.cron == "30 8 * * *" and daily_schedule.schedule.timezone == "Asia/Shanghai"


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_ssj_deploy_registers_the_dispatchers_on_an_existing_work_pool(prefect_api, drawn):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    async def create_pool():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name="ssj-test", type="process"), overwrite=True)

    asyncio.run(create_pool())
    result = drawn("deploy", "--pool", "ssj-test", CODE)
    assert result.code == 0, result.err
    assert "ssj-tick/期限检查（工作池 ssj-test）" in result.out
    assert "ssj-daily-report/逾期日报（工作池 ssj-test）" in result.out
    assert "已创建工作池" not in result.err

    async def read_back():
        async with get_client() as client:
            tick = await client.read_deployment_by_name("ssj-tick/期限检查")
            daily = await client.read_deployment_by_name("ssj-daily-report/逾期日报")
            return tick, daily

    tick, daily = asyncio.run(read_back())
    assert tick.work_pool_name == daily.work_pool_name == "ssj-test"
    assert tick.parameters == {"codes": [CODE], "mail": True} and tick.entrypoint == "flows.dispatch.tick_all"
    assert tick.schedules[0].schedule.cron == "*/15 * * * *"
    assert daily.schedules[0].schedule.cron == "30 8 * * *"
    unknown = drawn("deploy", "--pool", "ssj-test", "no-such-campaign")
    assert unknown.code == 2 and "抽查任务不存在：no-such-campaign" in unknown.err


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_the_tick_reads_the_office_mailbox_first_and_goes_on_when_it_cannot(prefect_api, drawn, db_url, mailbox,
                                                                             office):
    """A reply in the mailbox is recorded by the tick before its sweep; with the IMAP server down the tick still
    sweeps and sends, says why on its line and the board, and raises ssj.mailbox.unreadable for the automation."""
    from flows.tick import campaign_tick, tick_result
    from tests.integration.test_board import events_about
    from tests.mail_replies import filled_list, ours, reply

    campaign_tick(CODE, now="2019-11-27T12:00", url=db_url)  # the lists go out
    (received,) = [m for to, m in mailbox.messages if "admin@sw.luquan.example" in to]
    (part,) = list(received.iter_attachments())
    dispatch = ours(db_url, "dispatch", "admin@sw.luquan.example")
    office.deliver(reply(dispatch, sender="admin@sw.luquan.example",
                         files={part.get_filename(): filled_list(part.get_content())}))
    read = campaign_tick(CODE, now="2019-11-28T08:45", url=db_url)
    assert read["mailbox_recorded"] == 1 and read["summary"].startswith(f"期限检查 {CODE} ")
    assert "办公室邮箱：读取 1 封，登记 1 封" in read["summary"]
    assert any("【已登记】" in s for s in mailbox.subjects())

    office.stop()
    state = campaign_tick(CODE, now="2019-11-29T09:30", url=db_url, return_state=True)
    down = tick_result(state)
    assert not state.is_failed() and down["mailbox_error"] and "连接被拒绝" in down["mailbox_error"]
    assert down["notices"] > 0, "the sweep went on"
    events = events_about(prefect_api, f"ssj.campaign.{CODE}", ["ssj.mailbox.unreadable"])  # both backends' runs
    assert events and all("连接被拒绝" in event["payload"]["error"] for event in events)
