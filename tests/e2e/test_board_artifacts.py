"""The board as the office sees it in Prefect's UI: cards told apart, the morning report's file and cards, and
events whose resources read as the campaign, the departments and the enterprises (read back from the API)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import draw_campaign

CODE = "luquan-2019-h2"
NAME = "石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查"


@pytest.fixture
def drawn(loaded):
    draw_campaign(loaded)
    return loaded


def artifact(what: str):
    from prefect.artifacts import Artifact

    from flows.common import artifact_key

    found = Artifact.get(artifact_key(CODE, what))
    assert found is not None, what
    return found


@pytest.mark.slow  # the session's Prefect server starts with the first of them (~15 s)
def test_the_cards_are_told_apart_and_say_when_mail_is_off(prefect_api, drawn, db_url, smtp_server):
    from flows.tick import campaign_tick

    campaign_tick(CODE, now="2019-11-28T09:30", url=db_url)
    cards = {what: artifact(what) for what in ("summary", "progress", "overdue-by-department",
                                               "progress-by-department")}
    descriptions = {what: card.description for what, card in cards.items()}
    assert descriptions["summary"] == f"概况 · {NAME}"
    assert descriptions["progress"].startswith("进度 ") and descriptions["progress"].endswith(NAME)
    assert descriptions["overdue-by-department"].startswith("逾期 ")
    assert len({d[:2] for d in descriptions.values()}) == 4, "the UI's list shows the first characters"
    assert cards["progress"].type == "progress" and 0 <= float(cards["progress"].data) <= 100
    summary = cards["summary"].data
    assert "## 逾期事项" in summary and "## 已督办至领导小组办公室" in summary and "到期" in summary
    assert "`█" in summary or "`░" in summary, "a progress bar in the text"
    assert "Progress" not in summary

    campaign_tick(CODE, now="2019-11-28T09:45", url=db_url, mail=False)
    assert artifact("summary").data.startswith("> **未发信（--no-mail）")
    for what in ("summary", "progress", "overdue-by-department", "progress-by-department"):
        assert artifact(what).description.endswith("未发信（--no-mail）"), what


@pytest.mark.slow
def test_the_morning_report_lands_in_the_campaigns_folder_and_on_the_board(prefect_api, drawn, db_url, smtp_server,
                                                                           tmp_path, monkeypatch):
    from flows.daily_report import daily_overdue_report

    monkeypatch.chdir(tmp_path)
    result = daily_overdue_report(CODE, now="2019-12-02T08:30", url=db_url)
    expected = (tmp_path / "files" / CODE / "报表" / "逾期部门报告_2019-12-02.xlsx").resolve()
    assert result["report"] == str(expected) and expected.exists()
    assert not (tmp_path / "报表").exists(), "never the working directory"
    card = artifact("daily-report")
    assert card.description.startswith("日报 12-02 ") and NAME in card.description
    assert f"逾期事项 **{result['overdue']}** 项" in card.data and expected.name in card.data
    link = artifact("daily-report-file")
    assert expected.as_uri() in link.data and link.description.startswith("日报文件 ")


def events_about(api: str, prefix: str, names: list[str]) -> list[dict]:
    """The events the Prefect API holds for resources under ``prefix`` (waits for the server to store them)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=30)
    body = {"filter": {"occurred": {"since": "2019-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
                       "event": {"name": names}, "any_resource": {"id_prefix": [prefix]}}, "limit": 50}
    deadline = time.monotonic() + 60
    while True:
        found = httpx.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


@pytest.mark.slow
def test_the_events_name_the_campaign_and_the_enterprises(prefect_api, drawn, db_url, smtp_server):
    from flows.tick import campaign_tick

    campaign_tick(CODE, now="2019-11-28T09:30", url=db_url)
    sampled = events_about(prefect_api, f"ssj.inspection.{CODE}.", ["ssj.inspection.sampled"])
    assert sampled, "the drawn enterprises announced"
    for event in sampled:
        resource = event["resource"]
        assert resource["prefect.resource.id"].startswith(f"ssj.inspection.{CODE}.")
        assert resource["prefect.resource.name"].startswith("石家庄"), "the enterprise's name"
        [campaign] = [r for r in event["related"] if r["prefect.resource.role"] == "campaign"]
        assert campaign["prefect.resource.id"] == f"ssj.campaign.{CODE}" and campaign["prefect.resource.name"] == NAME
        assert event["payload"]["新状态"] == "已抽取" and event["payload"]["事项"] == "抽取并派发"
    notices = events_about(prefect_api, "ssj.", ["ssj.task.remind"])
    assert notices, "the reminders of the morning"
    for event in notices:
        assert event["resource"]["prefect.resource.id"].startswith(("ssj.inspection.", "ssj.department.",
                                                                    "ssj.campaign."))
        assert "|" not in event["resource"]["prefect.resource.id"]
        assert event["payload"]["阶段"] == "提醒" and "截止" in event["payload"] and "事项" in event["payload"]
