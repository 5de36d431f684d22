"""Output files are written whole or not at all (issue 14, case 7): a real write refused by the OS, not a mock.

The refusal is a file-size limit (RLIMIT_FSIZE) in a child process: past it, ``write`` fails with EFBIG,
which is what a writer sees of a full disk.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from workflow.files.atomic import FileNotWritten, atomic_file, write_atomically, write_text_atomically

CHILD = """
import resource, sys
from pathlib import Path
from workflow.files.atomic import FileNotWritten, write_text_atomically
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    write_text_atomically(Path(sys.argv[1]), "新" * 5000)
except FileNotWritten as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_refused_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "公示信息.jsonl"
    target.write_text("旧内容\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", CHILD, str(target)], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith(f"磁盘空间不足或文件无法写入：{target}")
    assert target.read_text(encoding="utf-8") == "旧内容\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left behind
    write_text_atomically(target, "新" * 5000)  # once there is room, the same call completes
    assert target.read_text(encoding="utf-8") == "新" * 5000


def test_a_writer_that_fails_leaves_nothing(tmp_path):
    def half(handle):
        handle.write(b"PK\x03\x04 half a workbook")
        raise RuntimeError("the writer broke")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "表.xlsx", half)
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_is_its_owners_alone_and_a_replaced_one_keeps_its_own_permissions(tmp_path):
    with atomic_file(tmp_path / "a.csv", "w", encoding="utf-8-sig", newline="") as fh:
        fh.write("部门\r\n")
    assert (tmp_path / "a.csv").read_bytes() == "\ufeff部门\r\n".encode("utf-8")
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o600  # people's data: nobody else reads it
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "b.txt").chmod(0o640)
    write_text_atomically(tmp_path / "b.txt", "y")
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o640


def test_a_folder_that_does_not_exist_is_said_as_such(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_text_atomically(tmp_path / "missing" / "x.txt", "x")
