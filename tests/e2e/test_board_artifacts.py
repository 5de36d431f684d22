"""The board as the office sees it in Prefect's UI: cards told apart (and saying when mail is off), events whose
resources read as the campaign, the departments and the enterprises (read back from the API), and the morning
report's file and cards."""

from __future__ import annotations

import pytest

from tests.conftest import draw_campaign
from tests.integration.test_board import events_about

CODE = "luquan-2019-h2"
NAME = "石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查"
# On PostgreSQL only, the backend ssj serve runs on: the board itself is tested on both in tests/integration/test_board.py.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


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
def test_the_cards_are_told_apart_and_the_events_read_as_the_office_names_things(prefect_api, drawn, db_url,
                                                                                 smtp_server):
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

    sampled = events_about(prefect_api, f"ssj.inspection.{CODE}.", ["ssj.inspection.sampled"])
    assert sampled, "the drawn enterprises announced"
    for event in sampled:
        resource = event["resource"]
        assert resource["prefect.resource.id"].startswith(f"ssj.inspection.{CODE}.")
        assert not resource["prefect.resource.name"].isascii(), "the enterprise's name, not its USCC"
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
    assert card.description.startswith("日报 12月2日 ") and NAME in card.description
    assert f"逾期事项 **{result['overdue']}** 项" in card.data and expected.name in card.data
    link = artifact("daily-report-file")
    assert expected.as_uri() in link.data and link.description.startswith("日报文件 ")
