"""Oversized and hostile spreadsheets given to the installed ``ssj`` (issue 14, case 5): each is refused with
a Chinese message naming the file (and the cell or row), exit 2, and the process's peak memory stays under
500 MB. The peak is the ``ssj`` process's own: it runs under a small launcher that reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` once it has ended (a child started straight from pytest would
inherit pytest's resident size in that figure)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.xlsx_files import Repeat, row, write_xlsx
from workflow.directory import DIRECTORIES

SSJ = str(Path(sys.executable).with_name("ssj"))
LIMIT_MB = 500
LAUNCHER = ("import resource, subprocess, sys\n"
            "code = subprocess.call(sys.argv[2:])\n"
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(code)\n")
HEADER = [c.header for c in DIRECTORIES["enterprises"].columns]
MiB = 1 << 20


pytestmark = [pytest.mark.slow, pytest.mark.stress]  # files at Excel's limits, tens of MB each: make stress, .ci/run


def _numbered_rows(first: int, last: int):
    """Rows of distinct text (a USCC-like key, a name), so the sheet compresses like a real one."""
    batch = []
    for n in range(first, last + 1):
        batch.append(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>9113011{n:011d}</t></is></c>'
                     f'<c r="B{n}" t="inlineStr"><is><t>石家庄某某{n}有限公司</t></is></c></row>')
        if len(batch) == 10_000:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


def zip_bomb(path: Path) -> Path:
    """A 2 GiB sheet of rows in a couple of megabytes."""
    rows = "".join(f'<row><c t="inlineStr"><is><t>{i % 10}</t></is></c></row>' for i in range(16 * MiB // 50))
    return write_xlsx(path, [("Sheet1", [row(1, HEADER), Repeat(rows.encode(), 128)])])


def huge_shared_string(path: Path, megabytes: int) -> Path:
    """One shared string of ``megabytes`` of text, used by the first data cell (the issue's 400 KB and 3 MB files)."""
    return write_xlsx(path, [("Sheet1", [row(1, HEADER), row(2, [("s", 0)])])],
                      shared=["<si><t>", Repeat(b"a" * 16 * MiB, megabytes // 16), "</t></si>"])


def million_rows(path: Path, *, declared: bool, sheets=("Sheet1",), mapping=None) -> Path:
    body = [row(1, HEADER), *_numbered_rows(2, 1_048_576)]
    extra = [("ssj", [row(n, kv) for n, kv in enumerate(mapping, start=1)])] if mapping else []
    return write_xlsx(path, [(sheets[0], body), *extra], dimension="A1:B1048576" if declared else None, level=1)


def _long_texts(count: int, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    return ["".join(chr(rng.randrange(0x4E00, 0x5A00)) for _ in range(32_767)) for _ in range(count)]


def long_shared_cells(path: Path) -> Path:
    """1,000 rows whose every cell is a 32,767-character shared string (Excel's limit)."""
    def body():
        yield row(1, HEADER)
        for n in range(2, 1_002):
            yield row(n, [("s", (n * 7 + c) % 50) for c in range(len(HEADER))])
    return write_xlsx(path, [("Sheet1", body())], shared=_long_texts(50), level=1)


def long_inline_cells(path: Path, length: int = 32_767, rows: int = 300) -> Path:
    texts = _long_texts(4)
    if length > 32_767:
        texts = [t + "溢" * (length - 32_767) for t in texts]
    body = (row(n, ["91130110MA0C00000X", texts[n % 4], "内资企业", None, None, None, None, None, texts[(n + 1) % 4]])
            for n in range(2, rows + 2))
    return write_xlsx(path, [("Sheet1", [row(1, HEADER), *body])], level=1)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("oversized-db")
    env = {**os.environ, "SSJ_DATABASE_URL": f"sqlite:///{folder / 'ssj.db'}", "SSJ_USER": "office@luquan.example"}
    subprocess.run([SSJ, "init", "--simulation"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([SSJ, "staff", "add", env["SSJ_USER"], "--name", "办公室", "--os-account", "office"], env=env,
                   check=True, capture_output=True, timeout=120)
    return env


def measured(env: dict[str, str], tmp_path: Path, *args) -> tuple[int, str, float]:
    """``ssj *args``: its exit code, its stderr and its peak resident memory in MB."""
    peak = tmp_path / "peak-kb"
    done = subprocess.run([sys.executable, "-c", LAUNCHER, str(peak), SSJ, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)
    return done.returncode, done.stderr, int(peak.read_text()) / 1024


def refused(env, tmp_path, path: Path, *words, command=("import", "enterprises")) -> str:
    code, err, peak_mb = measured(env, tmp_path, *command, path)
    print(f"{' '.join(command)} {path.name} ({path.stat().st_size / MiB:.1f} MB): exit {code}, peak {peak_mb:.0f} MB")
    assert code == 2, err[:1000]
    assert path.name in err and "Traceback" not in err and "内部错误" not in err, err[:1000]
    for word in words:
        assert word in err, (word, err[:1000])
    assert peak_mb < LIMIT_MB, f"peak memory {peak_mb:.0f} MB"
    return err


def test_a_zip_bomb_is_refused_before_it_is_decompressed(database, tmp_path):
    bomb = zip_bomb(tmp_path / "炸弹.xlsx")
    refused(database, tmp_path, bomb, "压缩比异常", "xl/worksheets/sheet1.xml", "疑似“压缩炸弹”")
    refused(database, tmp_path, bomb, "压缩比异常", command=("results", "import"))


def test_a_400_kb_file_with_one_huge_shared_string(database, tmp_path):
    path = huge_shared_string(tmp_path / "shared-400k.xlsx", 400)
    assert path.stat().st_size < 1 * MiB
    refused(database, tmp_path, path, "xl/sharedStrings.xml", "压缩比异常")
    refused(database, tmp_path, path, "压缩比异常", command=("results", "import"))


def test_a_3_mb_file_of_shared_strings(database, tmp_path):
    path = huge_shared_string(tmp_path / "shared-3m.xlsx", 3200)
    assert path.stat().st_size < 4 * MiB
    refused(database, tmp_path, path, "xl/sharedStrings.xml")
    refused(database, tmp_path, path, "xl/sharedStrings.xml", command=("results", "import"))


def test_a_sheet_declaring_1048576_rows_is_refused_before_its_rows_are_read(database, tmp_path):
    path = million_rows(tmp_path / "百万行.xlsx", declared=True)
    refused(database, tmp_path, path, "声明有 1,048,576 行（A1:B1048576），超过上限 200,000 行")
    refused(database, tmp_path, path, "不是本系统生成的一企一表", command=("results", "import"))


def test_1048576_rows_without_a_declaration_stop_at_the_limit(database, tmp_path):
    path = million_rows(tmp_path / "百万行-未声明.xlsx", declared=False)
    err = refused(database, tmp_path, path, "超过 200,000 行（第 200,001 行）")
    assert err.splitlines()[0].endswith("拒绝读取（请拆分文件，或另存为 CSV）"), "the whole-file problem comes first"


def test_a_form_of_ours_with_a_million_rows_below_is_read_only_as_far_as_its_cells(database, tmp_path):
    path = million_rows(tmp_path / "一企一表-百万行.xlsx", declared=False, sheets=("一企一表",),
                        mapping=[["key", "value"], ["campaign", "no-such-campaign"], ["uscc", "91130110MA0C00000X"],
                                 ["form", "ssj-form-v1"], ["date_cell", "B3"], ["officers_cell", "B4"],
                                 ["signature_cell", "B5"], ["note_cell", "B6"], ["questions_cell", "B7"]])
    refused(database, tmp_path, path, "ssj!B2", "no-such-campaign", command=("results", "import"))


def test_cells_at_excels_limit_are_each_reported_in_bounded_memory(database, tmp_path):
    shared = long_shared_cells(tmp_path / "长单元格-共享.xlsx")
    refused(database, tmp_path, shared, ":2: 企业名称: 内容过长", "个问题未列出")
    refused(database, tmp_path, shared, "不是本系统生成的一企一表", command=("results", "import"))
    inline = long_inline_cells(tmp_path / "长单元格.xlsx")
    refused(database, tmp_path, inline, ":2: 企业名称: 内容过长", ":2: 住所: 内容过长")


def test_a_cell_over_excels_limit_is_refused_by_name(database, tmp_path):
    path = long_inline_cells(tmp_path / "超长单元格.xlsx", length=32_768, rows=2)
    refused(database, tmp_path, path, "单元格 B2 超过 32,767 个字符（Excel 单元格的上限）")


def test_a_csv_line_of_50_mb_is_refused_as_it_is_read(database, tmp_path):
    path = tmp_path / "一行.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(HEADER) + "\n91130110MA0C00000X,")
        for _ in range(16):
            fh.write("名" * MiB)
        fh.write("\n")
    refused(database, tmp_path, path, "第 2 行超过 1,000,000 个字符")
