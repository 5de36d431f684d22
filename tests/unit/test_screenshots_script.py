"""``make screenshots`` on a machine without Chromium says in Chinese what to install, and changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_without_chromium_the_script_names_the_debian_packages_and_writes_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SSJ_CHROMIUM"}
    env["PATH"] = str(tmp_path)  # no chromium on it
    out = tmp_path / "pictures"
    done = subprocess.run([sys.executable, "-m", "docs.screenshots", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "未找到 Chromium" in done.stderr and "apt-get install chromium fonts-noto-cjk" in done.stderr
    assert not out.exists()
