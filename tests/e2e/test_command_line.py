"""The installed ``ssj`` as a clerk runs it: a real process, Chinese, exit codes."""

import csv
import email
import email.policy
import json
import os
import stat
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

SSJ = str(Path(sys.executable).with_name("ssj"))


# A guard against a hang, never a measure: the whole demo takes 80–140 s alone and twice that beside the other
# stress tests on two cores.
TIMEOUT = {"demo": 1200}


def run(*args, cwd, env=None):
    full_env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})}
    full_env.pop("SSJ_DATABASE_URL", None)
    return subprocess.run([SSJ, *map(str, args)], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=TIMEOUT.get(str(args[0]), 300))


def test_help_and_usage_errors_are_chinese(tmp_path):
    helped = run("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "用法：" in helped.stdout and "命令" in helped.stdout
    bad = run("import", "enterprises", "--bogus", cwd=tmp_path)
    assert bad.returncode == 2 and "没有选项" in bad.stderr and "用法：" in bad.stderr
    bad_now = run("campaign", "status", "x", "--now", "yesterday", cwd=tmp_path)
    assert bad_now.returncode == 2 and "不是 ISO 8601 时间" in bad_now.stderr


def test_default_database_is_ssj_db_in_the_working_directory_and_its_owners_alone(tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    assert stat.S_IMODE((tmp_path / "ssj.db").stat().st_mode) == 0o600  # people's data: nobody else reads it
    data = tmp_path / "d"
    assert run("example-data", "--enterprises", 100, "--out", data, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()} == {0o600}


@pytest.mark.slow
@pytest.mark.stress  # three districts written, 30,000 enterprises twice: make stress
def test_example_data_is_deterministic_and_realistic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert run("example-data", "--enterprises", 30000, "--seed", 5, "--out", a, cwd=tmp_path).returncode == 0
    assert run("example-data", "--enterprises", 30000, "--seed", 5, "--out", b, cwd=tmp_path).returncode == 0
    assert run("example-data", "--enterprises", 300, "--seed", 6, "--out", c, cwd=tmp_path).returncode == 0
    for name in ("departments", "officers", "items", "enterprises"):
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes()
    assert (a / "enterprises.csv").read_bytes()[:2000] != (c / "enterprises.csv").read_bytes()[:2000]
    with open(a / "enterprises.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30000 and all(r["统一社会信用代码"][2:8] == "130110" for r in rows)
    # the seed's criteria, computed here independently of the product's query
    matching = [r for r in rows if r["主体类别"] == "内资企业" and r["登记状态"] in ("存续", "在业")
                and r["注册资本（万元）"] and 500 <= Decimal(r["注册资本（万元）"]) <= 1000
                and date.fromisoformat(r["成立日期"]) <= date(2019, 11, 27)]
    assert 2000 <= len(matching) <= 3000
    assert {r["主体类别"] for r in rows} == {"内资企业", "外资企业", "个体工商户", "农民专业合作社"}
    assert {r["登记状态"] for r in rows} == {"存续", "在业", "吊销", "注销", "迁出"}
    with open(a / "officers.csv", encoding="utf-8-sig") as fh:
        officers = list(csv.DictReader(fh))
    assert 75 <= len(officers) <= 90 and len({o["部门代码"] for o in officers}) == 10


def _message_ids(demo: Path) -> list[str]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"]
            for p in sorted((demo / "邮件").glob("*.eml"))]


@pytest.mark.slow
@pytest.mark.stress  # two whole demos (~70 s each): make stress
def test_the_demo_replays_the_same_campaign_mail_for_mail(tmp_path, prefect_api):
    """A second run starts from a fresh database and replays the same campaign: the same account, the same mail."""
    prefect = {"PREFECT_API_URL": prefect_api}
    demo = tmp_path / "demo"
    first = run("demo", "--out", demo, cwd=tmp_path, env=prefect)
    assert first.returncode == 0, first.stderr
    ids = _message_ids(demo)
    again = run("demo", "--out", demo, cwd=tmp_path, env=prefect)
    assert again.returncode == 0, again.stderr
    assert again.stdout.replace(str(demo), "") == first.stdout.replace(str(demo), "")
    assert _message_ids(demo) == ids and len(ids) > 100


@pytest.mark.slow
@pytest.mark.stress  # a district built and a campaign drawn through separate processes: make stress
def test_campaign_status_json_is_one_document(tmp_path):
    env = {"SSJ_USER": "clerk@office.luquan.example"}
    assert run("init", "--simulation", cwd=tmp_path).returncode == 0
    for email, account in (("clerk@office.luquan.example", "clerk"), ("1qqj2463@163.com", "fengbo")):
        assert run("staff", "add", email, "--name", "办公室", "--os-account", account, cwd=tmp_path).returncode == 0
    data = tmp_path / "d"
    run("example-data", "--enterprises", 500, "--out", data, cwd=tmp_path)
    for kind in ("departments", "items", "officers", "enterprises"):
        assert run("import", kind, data / f"{kind}.csv", cwd=tmp_path, env=env).returncode == 0
    from tests.conftest import EXAMPLE_CAMPAIGN
    assert run("campaign", "create", EXAMPLE_CAMPAIGN, cwd=tmp_path, env=env).returncode == 0
    status = run("campaign", "status", "luquan-2019-h2", "--json", cwd=tmp_path)
    assert status.returncode == 0 and json.loads(status.stdout)["code"] == "luquan-2019-h2"


def test_machine_diagram_is_the_one_in_the_readme(tmp_path):
    import shutil

    from workflow.machine import mermaid

    result = run("machine", "diagram", "--out", tmp_path / "machine.mmd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    drawn = (tmp_path / "machine.mmd").read_text(encoding="utf-8")
    assert drawn == mermaid() and "sampled --> confirmed : confirm 完成比对确认" in drawn
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{drawn}```" in readme, "README's diagram is out of date: paste `ssj machine diagram`"
    if shutil.which("dot"):
        assert (tmp_path / "machine.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "未安装 Graphviz" in result.stderr and not (tmp_path / "machine.png").exists()
    assert not (tmp_path / "ssj.db").exists(), "drawing the machine needs no database"
