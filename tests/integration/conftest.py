"""A campaign carried to a given stage through the command line, shared by the integration tests: each stage is
built once per worker and backend and copied per test (``stage`` in tests/conftest.py)."""

from __future__ import annotations

import csv
import json

import pytest

from tests.conftest import EXAMPLE_CAMPAIGN, Parties, draw_campaign, stage, stage_facts

CODE = "luquan-2019-h2"
WITNESS = "见证人：区纪委监委 李某 2019-12-02"
DEPARTMENTS = ["SJ", "SW", "RS", "HB", "YJ", "XF", "TJ"]
HEADER = ["抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由"]
PARTIES = ("区市场监管局", "区纪委监委派驻纪检监察组")  # the example campaign's [draw] parties, in its order


def officer_draw(ssj, parties: Parties | None = None, *, commit_at="2019-12-02T09:00", run_at="2019-12-02T10:00",
                 user: tuple[str, ...] = ()):
    """``ssj match commit`` with every party's commitment, then ``ssj match run`` with every reveal: the teams."""
    parties = parties or Parties.fresh()
    committed = ssj("match", "commit", CODE, *parties.commitments(), "--now", commit_at, *user)
    assert committed.code == 0, committed.err
    run = ssj("match", "run", CODE, *parties.reveals(), "--witness", WITNESS, "--now", run_at, "--json", *user)
    assert run.code == 0, run.err
    return json.loads(run.out)


def confirmed_campaign(ssj, tmp_path, before_last=None, **matching):
    """The seed campaign at 5 %, drawn, every department answered (SJ and SW inspect): all confirmed."""
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace('ratio = "1%"', 'ratio = "5%"')
    for key, value in matching.items():
        source = source.replace(f"{key} = ", f"{key} = {value}  # ", 1)
    (tmp_path / "campaign.toml").write_text(source, encoding="utf-8")
    sampled = draw_campaign(ssj, tmp_path / "campaign.toml")["sampled"]
    for dept in DEPARTMENTS:
        if dept == DEPARTMENTS[-1] and before_last:
            before_last()
        path = tmp_path / f"{dept}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([HEADER] + [[CODE, dept, u, "是" if dept in ("SJ", "SW") else "否",
                                                  "" if dept in ("SJ", "SW") else "不涉及"] for u in sampled])
        result = ssj("confirm", "import", path, "--user", f"contact@{dept.lower()}.luquan.example",
                     "--now", "2019-11-28T15:00")
        assert result.code == 0, result.err
    return sampled


@stage("matched", after="loaded")
def _matched(ssj, folder, facts):
    def too_early():
        early = ssj("match", "commit", CODE, *Parties.fresh().commitments(), "--now", "2019-11-28T14:00")
        assert early.code == 2 and "未完成比对确认" in early.err

    sampled = confirmed_campaign(ssj, folder, too_early)
    return {**facts, "sampled": sampled, "teams": officer_draw(ssj)}


@pytest.fixture
def matched(loaded, db_url, request):
    """The seed campaign at 5 %, confirmed (a match commit before the last answer refused), its teams drawn
    (2019-12-02): ``confirmed_campaign``'s files in ``tmp_path``."""
    facts = stage_facts(request)
    return loaded, facts["sampled"], facts["teams"]


@stage("assigned", after="matched")
def _assigned(ssj, folder, facts):
    result = ssj("forms", CODE, "--out", folder / "forms", "--now", "2019-12-03T09:00")
    assert result.code == 0, result.err
    return facts


@pytest.fixture
def assigned(matched, tmp_path):
    """The matched campaign with its forms generated (2019-12-03) into ``tmp_path / "forms"``: every enterprise
    已分派."""
    ssj, sampled, teams = matched
    return ssj, sampled, teams, tmp_path / "forms"


@stage("reported", after="assigned")
def _reported(ssj, folder, facts):
    sampled, teams = facts["sampled"], facts["teams"]
    e0, e1, e2, withdrawn = sampled[:4]
    assert ssj("withdraw", CODE, withdrawn, "--reason", "企业已注销", "--now", "2019-12-05T09:00").code == 0
    entries = {
        e0: [("SJ-01", ["--result", "1", "--questions", "2"]),
             ("SJ-02", ["--result", "E", "--finding", "产品标识不全", "--handling", "2"]),
             ("SJ-03", ["--result", "1"]), ("SW-01", ["--result", "1"])],
        e1: [("SJ-01", ["--result", "B", "--finding", "未公示年报", "--handling", "3", "--questions", "1"]),
             ("SJ-02", ["--result", "1"]), ("SJ-03", ["--result", "1"]),
             ("SW-01", ["--result", "A,5", "--finding", "发票问题", "--handling", "4", "--handling", "5"])],
        e2: [(item, ["--result", "1"]) for item in ("SJ-01", "SJ-02", "SJ-03", "SW-01")],
    }
    for uscc, items in entries.items():
        team = ",".join(c for c, _ in teams["teams"][uscc])
        assert ssj("results", "visit", CODE, uscc, "--date", "2019-12-10", "--officers", team, "--signature", "签字",
                   "--now", "2019-12-10T17:00").code == 0
        for item, args in items:
            result = ssj("results", "record", CODE, uscc, "--item", item, *args, "--now", "2019-12-11T10:00")
            assert result.code == 0, result.err
    return {**facts, "done": (e0, e1, e2)}


@pytest.fixture
def reported(assigned, request):
    """Three enterprises visited and back-filled by hand, one withdrawn, the rest still assigned."""
    ssj, sampled, teams, _ = assigned
    return ssj, sampled, teams, stage_facts(request)["done"]

