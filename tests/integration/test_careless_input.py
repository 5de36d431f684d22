"""What a careless clerk types or sends, found after issue 14's round: each refused with what it is (exit 2),
nothing changed — never ``内部错误``, never a department's task closed by nothing."""

from __future__ import annotations

import pytest

from tests.conftest import draw_campaign, snapshot
from tests.integration.conftest import CODE


@pytest.mark.parametrize("now", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_an_instant_out_of_range_is_refused(loaded, db_url, now):
    draw_campaign(loaded)
    before = snapshot(db_url)
    for args in (("tick", CODE), ("campaign", "status", CODE)):
        result = loaded(*args, "--now", now)
        assert result.code == 2, result.err
        assert f"“{now}”的年份超出范围（1900–2999）" in result.err and "内部错误" not in result.err
    assert snapshot(db_url) == before


@pytest.mark.parametrize("kind", [("confirm", "report"), ("summary", "submit")])
def test_an_empty_file_is_not_a_report(loaded, db_url, tmp_path, kind):
    draw_campaign(loaded)
    empty = tmp_path / "盖章报告.pdf"
    empty.write_bytes(b"")
    before = snapshot(db_url)
    result = loaded(*kind, CODE, "SJ", empty, *(["--highlights", "亮点"] if kind[0] == "summary" else []),
                    "--user", "contact@sj.luquan.example", "--now", "2019-12-02T10:00")
    assert result.code == 2 and result.err_lines[-1] == f"{empty}: 文件是空的（0 字节），未报送", result.err
    after = snapshot(db_url)
    assert after["tasks"] == before["tasks"] and after["documents"] == before["documents"], "the task stays open"
    assert loaded("audit", "verify").code == 0
