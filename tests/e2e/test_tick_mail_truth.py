"""Mail that tells the truth (issue 15): a tick whose campaign's mail did not go ends failed — after doing its other
work — with a Chinese message, emits ``ssj.mail.failed``, and says in one line of its log what it did.

Against the session's real Prefect API, a real database and real SMTP on loopback (or no server on a free port:
down). The events and the log lines are read back from the API, as the dashboard reads them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.conftest import draw_campaign, free_port, rows

CODE = "luquan-2019-h2"
NAME = "石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查"
# The session's Prefect server starts with the first of them (~15 s). On PostgreSQL only, the backend ssj serve runs
# on: the verdict itself is tested on both backends in tests/integration/test_mail_verdict.py.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)]


@pytest.fixture
def drawn(loaded):
    """The seed campaign after its public draw (11-27 09:00): the 7 departments' dispatch emails are queued."""
    draw_campaign(loaded)
    return loaded


@pytest.fixture
def smtp_down(monkeypatch):
    port = free_port()
    monkeypatch.setenv("SSJ_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SSJ_SMTP_PORT", str(port))
    return port


def waiting_failed(db_url: str) -> int:
    from workflow.mail import WAITING
    from workflow.persistence.orm import OutboxMessage

    o = OutboxMessage.__table__.c
    return len(rows(db_url, select(o.id).where(o.campaign_code == CODE, o.state == WAITING, o.attempts > 0)))


def events(name: str, run_id, since: datetime) -> list:
    """The events ``name`` about the campaign that the flow run ``run_id`` emitted, read back from the API (they are
    sent in the background: asked again until they are there, at most a minute)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import (EventFilter, EventNameFilter, EventOccurredFilter, EventRelatedFilter,
                                        EventResourceFilter)

    wanted = EventFilter(occurred=EventOccurredFilter(since=since, until=datetime.now(timezone.utc) + timedelta(hours=1)),
                         event=EventNameFilter(name=[name]), resource=EventResourceFilter(id=[f"ssj.campaign.{CODE}"]),
                         related=EventRelatedFilter(id=[f"prefect.flow-run.{run_id}"]))

    async def read():
        async with get_client() as client:
            return (await client.read_events(filter=wanted, limit=50)).events

    deadline = time.monotonic() + 60
    while True:
        found = asyncio.run(read())
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def logs(run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async def read():
        async with get_client() as client:
            return await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))

    deadline = time.monotonic() + 60
    while True:  # logs are shipped in the background too
        found = [entry.message for entry in asyncio.run(read())]
        if any(m.startswith("期限检查 ") for m in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def summary_board(run_id) -> str:
    from prefect.artifacts import Artifact

    from flows.common import artifact_key

    board = Artifact.get(artifact_key(CODE, "summary"))
    assert board is not None and board.flow_run_id == run_id, "the board was updated by this very run"
    return board.data


def test_a_tick_with_the_smtp_server_down_ends_failed_after_its_other_work_and_emits_mail_failed(
        prefect_api, drawn, db_url, smtp_down):
    from flows.events import MAIL_FAILED, MAIL_FAILING_FOR_AN_HOUR
    from flows.tick import MailFailed, campaign_tick, tick_result

    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    state = campaign_tick(CODE, now="2019-11-27T09:15", url=db_url, return_state=True)
    run_id = state.state_details.flow_run_id
    assert state.is_failed(), state
    assert state.message.startswith("邮件发送失败 7 封：无法连接邮件服务器 127.0.0.1:"), state.message
    assert f"127.0.0.1:{smtp_down}：连接被拒绝" in state.message and "Connection refused" in state.message
    assert "Error" not in state.message, "the reason in Chinese, not a Python exception's name"
    assert waiting_failed(db_url) == 7, "the 7 dispatch emails wait for the server, backing off"
    done = tick_result(state)
    assert done["transitions"] > 0 and done["failed"] == 7 and done["mail_failed"] == 7, "the sweep's work was done"
    assert "发送失败待重试 7 封" in summary_board(run_id), "the board shows the outbox as this run left it"
    [failed] = events(MAIL_FAILED, run_id, since)
    assert failed.resource.id == f"ssj.campaign.{CODE}" and failed.resource.name == NAME
    assert failed.payload["发送失败（封）"] == 7 and failed.payload["待重试（封）"] == 7
    assert failed.payload["最早失败邮件入队时间"] == "2019-11-27 09:00（北京时间）"
    assert failed.payload["原因"].startswith("无法连接邮件服务器") and failed.payload["已失败超过一小时"] == "否"
    line = [m for m in logs(run_id) if m.startswith("期限检查 ")]
    assert line == [f"期限检查 {CODE} 11-27 09:15：无到期通知；已发 0 封；{state.message}"], line

    # an hour on, the server still down: the messages back off and are not even due, the tick fails all the same
    later = campaign_tick(CODE, now="2019-11-27T10:05", url=db_url, return_state=True)
    assert later.is_failed() and "邮件发送失败 7 封" in later.message and "已超过一小时" in later.message
    [hour] = events(MAIL_FAILING_FOR_AN_HOUR, later.state_details.flow_run_id, since)
    assert hour.payload["已失败超过一小时"] == "是" and hour.resource.name == NAME
    with pytest.raises(MailFailed) as called:  # a caller that does not ask for the state gets the Chinese reason
        campaign_tick(CODE, now="2019-11-27T10:20", url=db_url)
    assert str(called.value).startswith("邮件发送失败 7 封") and called.value.result["mail_failed"] == 7


def test_a_morning_report_whose_mail_cannot_go_is_written_and_on_the_board_but_ends_failed(
        prefect_api, drawn, db_url, smtp_down, tmp_path):
    from prefect.artifacts import Artifact

    from flows.common import artifact_key
    from flows.daily_report import daily_overdue_report
    from flows.events import MAIL_FAILED
    from flows.tick import tick_result

    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    state = daily_overdue_report(CODE, now="2019-12-02T08:30", url=db_url, out_dir=str(tmp_path), return_state=True)
    assert state.is_failed() and state.message.startswith("邮件发送失败 "), state.message
    done = tick_result(state)
    assert (tmp_path / "逾期部门报告_2019-12-02.xlsx").exists() and done["queued"] >= 1, "the file is made and queued"
    card = Artifact.get(artifact_key(CODE, "daily-report"))
    assert card is not None and card.flow_run_id == state.state_details.flow_run_id, "and on the board"
    [failed] = events(MAIL_FAILED, state.state_details.flow_run_id, since)
    assert failed.payload["发送失败（封）"] == failed.payload["待重试（封）"] == waiting_failed(db_url) > 7, \
        "the report waits for the server with the 7 dispatch emails before it"


def test_a_tick_whose_mail_goes_completes_and_says_what_went_by_kind_and_department(
        prefect_api, drawn, db_url, smtp_server):
    from flows.tick import campaign_tick

    inbox, _ = smtp_server
    state = campaign_tick(CODE, now="2019-11-27T09:15", url=db_url, return_state=True)
    assert state.is_completed(), state.message
    assert state.result()["sent"] == 7 and len(inbox.messages) == 7
    [line] = [m for m in logs(state.state_details.flow_run_id) if m.startswith("期限检查 ")]
    assert line.startswith(f"期限检查 {CODE} 11-27 09:15：无到期通知；已发 7 封：派发名单 7（"), line
    assert "鹿泉区市场监督管理局 1" in line and line.endswith("邮件无发送失败"), line
    reminders = campaign_tick(CODE, now="2019-11-28T09:30", url=db_url)  # the confirmations' reminders
    assert reminders["notices"] > 0 and reminders["sent"] == reminders["queued"]
    assert "已发" in reminders["summary"] and "提醒" in reminders["summary"]


def test_a_tick_without_mail_is_not_failed_and_says_mail_is_off(prefect_api, drawn, db_url, smtp_down):
    from flows.tick import campaign_tick

    state = campaign_tick(CODE, now="2019-11-27T09:15", url=db_url, mail=False, return_state=True)
    assert state.is_completed(), state.message
    assert state.result()["mail_off"] is True and waiting_failed(db_url) == 0, "nothing tried"
    [line] = [m for m in logs(state.state_details.flow_run_id) if m.startswith("期限检查 ")]
    assert "未发信（--no-mail）：待发 7 封留在发件箱" in line
    assert "未发信" in summary_board(state.state_details.flow_run_id)


def test_a_worker_without_smtp_settings_does_its_other_work_then_fails_naming_ssj_smtp_host(
        prefect_api, drawn, db_url, monkeypatch):
    from flows.tick import campaign_tick, tick_result

    monkeypatch.delenv("SSJ_SMTP_HOST")
    state = campaign_tick(CODE, now="2019-11-28T09:30", url=db_url, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("邮件发送失败") and "SSJ_SMTP_HOST" in state.message and "未配置发信服务器" in state.message
    done = tick_result(state)
    assert done["notices"] > 0 and done["queued"] > 0, "the sweep decided its notices before the mail was refused"
    summary_board(state.state_details.flow_run_id)


def test_a_tick_tells_another_campaign_of_the_bounces_its_run_caused(prefect_api, drawn, db_url, tmp_path, monkeypatch):
    """The sender is shared: a tick that bounces another campaign's mail emits that campaign's ssj.mail.failed and
    is itself judged on its own campaign only."""
    from sqlalchemy import update

    from flows.events import MAIL_FAILED
    from flows.tick import campaign_tick
    from tests.conftest import EXAMPLE_CAMPAIGN, serve_smtp
    from tests.integration.test_mail_faults import Server
    from workflow.persistence.database import make_engine
    from workflow.persistence.orm import OutboxMessage

    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(CODE, "luquan-2020-h1"), encoding="utf-8")
    draw_campaign(drawn, other, "luquan-2020-h1")
    o = OutboxMessage.__table__
    engine = make_engine(db_url)
    with engine.begin() as conn:  # refused twice already: the next refusal is its third, a 退信
        conn.execute(update(o).where(o.c.campaign_code == "luquan-2020-h1")
                     .values(recipient="gone@refused.luquan.example", rejections=2))
    engine.dispose()
    handler = Server()
    handler.refuse.add("gone@refused.luquan.example")
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    with serve_smtp(handler, monkeypatch):
        state = campaign_tick(CODE, now="2019-11-27T09:15", url=db_url, return_state=True)
    assert state.is_completed(), "its own campaign's mail all went"
    run_id = state.state_details.flow_run_id
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter

    wanted = EventFilter(occurred=EventOccurredFilter(since=since, until=datetime.now(timezone.utc) + timedelta(hours=1)),
                         event=EventNameFilter(name=[MAIL_FAILED]),
                         resource=EventResourceFilter(id=["ssj.campaign.luquan-2020-h1"]))

    async def read():
        async with get_client() as client:
            return (await client.read_events(filter=wanted, limit=50)).events

    deadline = time.monotonic() + 60
    while not (found := [e for e in asyncio.run(read()) if f"prefect.flow-run.{run_id}" in {r.id for r in e.related}]):
        assert time.monotonic() < deadline, "the other campaign's ssj.mail.failed was not emitted"
        time.sleep(0.5)
    [bounced] = found
    assert bounced.payload["本次退信（封）"] == 7 and bounced.payload["抽查任务"] == "luquan-2020-h1"
    line = [m for m in logs(run_id) if m.startswith("抽查任务 luquan-2020-h1：")]
    assert line and "邮件发送失败 7 封" in line[0] and "本次退信 7 封" in line[0]
