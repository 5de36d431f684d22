"""Where a campaign's files go: ``SSJ_FILES_DIR`` (default ``./ssj-files``), one folder per campaign.

Dispatch lists (``派发/``), the 一企一表 (``一企一表/``) and the visit schedule are
written under ``<SSJ_FILES_DIR>/<campaign code>/``, so two campaigns never mix
files; ``ssj demo`` uses its ``--out`` folder as the campaign's folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def campaign_folder(code: str, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("SSJ_FILES_DIR") or "ssj-files") / code


def form_file_stem(uscc: str, enterprise: str) -> str:
    """An enterprise's 一企一表 file name without suffix: its USCC and (a file-safe part of) its name."""
    safe = "".join(c for c in enterprise if c not in '\\/:*?"<>|')[:40]
    return f"{uscc}-{safe}"
