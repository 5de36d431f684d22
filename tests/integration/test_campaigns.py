"""``ssj campaign create/status/check`` against the directories."""

import json

from tests.conftest import EXAMPLE_CAMPAIGN, snapshot

SEED = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")


def test_create_and_status(loaded):
    created = loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00")
    assert created.code == 0, created.err
    assert "已创建抽查任务" in created.out and "参加部门 7 个" in created.out
    status = loaded("campaign", "status", "luquan-2019-h2", "--json")
    assert status.code == 0
    doc = json.loads(status.out)
    assert doc["created_by"] == "clerk@office.luquan.example"
    assert doc["created_at"] == "2019-11-26T02:00:00+00:00", "stored in UTC"
    assert [d["code"] for d in doc["departments"]] == ["SJ", "SW", "RS", "HB", "YJ", "XF", "TJ"]
    assert doc["departments"][0]["name"] == "鹿泉区市场监督管理局"
    assert doc["sampling"]["eligible_now"] > 0 and doc["sampling"]["expected_sample_size"] > 0, "before the draw"
    text = loaded("campaign", "status", "luquan-2019-h2")
    assert f"当前名录中符合抽取条件的企业 {doc['sampling']['eligible_now']} 户" in text.out
    assert "SJ 鹿泉区市场监督管理局（牵头）" in text.out
    assert "部门比对确认（confirm）：派发后2个工作日内" in text.out, "the office's name for it, the file's key after"


def test_create_twice_is_refused(loaded, db_url):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN).code == 0
    before = snapshot(db_url)
    again = loaded("campaign", "create", EXAMPLE_CAMPAIGN)
    assert again.code == 2 and "抽查任务“luquan-2019-h2”已存在" in again.err
    assert snapshot(db_url) == before


def test_directory_references_are_checked(loaded, db_url, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(SEED.replace('items = ["SW-01"]', 'items = ["SW-01", "SJ-04", "SW-99"]'), encoding="utf-8")
    before = snapshot(db_url)
    result = loaded("campaign", "create", path)
    assert result.code == 2
    assert result.err_lines == [
        f"{path}: departments[1].items: 抽查事项“SJ-04”的检查主体是“SJ”，不是“SW”",
        f"{path}: departments[1].items: 抽查事项“SW-99”不在抽查事项清单中（请先导入清单）",
    ]
    assert snapshot(db_url) == before


def test_unknown_campaign(ready):
    result = ready("campaign", "status", "nope")
    assert result.code == 2 and "抽查任务“nope”不存在" in result.err


def test_check_needs_no_database(ready, tmp_path):
    ok = ready("campaign", "check", EXAMPLE_CAMPAIGN)
    assert ok.code == 0 and "警告 总结、统计表报送（deadlines.summary）：" in ok.out
    assert "结果回填（backfill）：2019年12月20日（星期五）前，即实地核查后5个工作日内" in ok.out
    assert "部门比对确认（confirm）：2019年11月29日（星期五）前" in ok.out, "the end of Friday, not Saturday 00:00"
    assert "盖章确认情况报送（confirmation_report）：2019年12月2日（星期一）17:00前" in ok.out
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(SEED.replace("summary = { on = 2019-12-17 }", "summary = { on = 2019-12-23 }"), encoding="utf-8")
    failed = ready("campaign", "check", wrong, "--json")
    assert failed.code == 1
    assert json.loads(failed.out)["findings"][0]["severity"] == "错误"
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.replace("vehicles = 4", "vehicles = \"四\""), encoding="utf-8")
    result = ready("campaign", "check", bad)
    assert result.code == 2
    assert result.err_lines == [f"{bad}: matching.vehicles: 应为正整数，实际为 “四”"]


def test_check_refuses_a_broken_calendar_file_of_the_campaign(ready, tmp_path):
    broken = tmp_path / "local.toml"
    broken.write_text('year = 2019\ncomplete = false\nsource = "区政府通知"\nworkdays = ["2019-12-09"]\n', encoding="utf-8")
    campaign = tmp_path / "c.toml"
    campaign.write_text(SEED.replace("calendar_files = []", 'calendar_files = ["local.toml"]'), encoding="utf-8")
    result = ready("campaign", "check", campaign)
    assert result.code == 2
    assert result.err_lines == [f"{campaign}: campaign.calendar_files: {broken}: workdays: 调休工作日应为周六或周日（'2019-12-09'）"]
    broken.write_text('year = 2019\ncomplete = false\nsource = "区政府通知"\nholidays = ["2019-12-09"]\n', encoding="utf-8")
    local = ready("campaign", "check", campaign)
    assert local.code == 0 and "（deadlines.visit）" not in local.out
    assert "结果回填（backfill）：2019年12月20日（星期五）前" in local.out
